// SPDX-License-Identifier: GPL-2.0-or-later
#include "otagw/ota/amd_b.hpp"

#include "otagw/common/tlv.hpp"

namespace otagw::ota::amdb {

namespace {

ByteView text_bytes(std::string_view s) {
    return ByteView(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

// One swapped-nibble BCD byte for 0..99 (TS 23.040 §9.2.3.11 style): units high, tens low.
uint8_t swapped_bcd(uint32_t v) {
    return static_cast<uint8_t>((v % 10) << 4 | (v / 10));
}

} // namespace

Result<Bytes> timer_value(uint32_t seconds) {
    const uint32_t hours = seconds / 3600;
    if (hours > 99)
        return make_error("timer value: " + std::to_string(seconds) +
                          " s is more than 99:59:59 (TS 102 223 §8.38)");
    return Bytes{0xa5, 0x03, swapped_bcd(hours), swapped_bcd(seconds / 60 % 60),
                 swapped_bcd(seconds % 60)};
}

Result<Bytes> apn_labels(std::string_view apn) {
    Bytes out;
    size_t start = 0;
    while (start <= apn.size()) {
        size_t dot = apn.find('.', start);
        if (dot == std::string_view::npos)
            dot = apn.size();
        const size_t n = dot - start;
        if (n == 0 || n > 63)
            return make_error("APN '" + std::string(apn) + "': labels are 1 to 63 characters");
        out.push_back(static_cast<uint8_t>(n));
        append(out, text_bytes(apn.substr(start, n)));
        start = dot + 1;
    }
    return out;
}

Result<Bytes> encode_trigger(const Trigger& t) {
    Bytes session;
    if (t.connection) {
        const RasConnection& c = *t.connection;
        Bytes open;
        tlv::append_ber_tlv(open, 0x35, Bytes{c.bearer});
        tlv::append_ber_tlv(
            open, 0x39,
            Bytes{static_cast<uint8_t>(c.buffer_size >> 8), static_cast<uint8_t>(c.buffer_size)});
        if (!c.apn.empty()) {
            auto labels = apn_labels(c.apn);
            if (!labels)
                return labels.take_error();
            tlv::append_ber_tlv(open, 0x47, *labels);
        }
        // '02': TCP, UICC in client mode, remote connection (TS 102 223 §8.59).
        tlv::append_ber_tlv(
            open, 0x3c,
            Bytes{0x02, static_cast<uint8_t>(c.port >> 8), static_cast<uint8_t>(c.port)});
        tlv::append_ber_tlv(open, 0x3e, Bytes{0x21, c.ipv4[0], c.ipv4[1], c.ipv4[2], c.ipv4[3]});
        tlv::append_ber_tlv(session, kTagRasConnection, open);
    }
    if (t.security) {
        const SecurityParameters& s = *t.security;
        if (s.identity.empty() || s.identity.size() > 255)
            return make_error("trigger: a PSK identity is 1 to 255 bytes");
        Bytes sec{static_cast<uint8_t>(s.identity.size())};
        append(sec, s.identity);
        append(sec, Bytes{0x02, s.kvn, s.kid});
        tlv::append_ber_tlv(session, kTagSecurity, sec);
    }
    if (t.retry) {
        Bytes retry{static_cast<uint8_t>(t.retry->counter >> 8),
                    static_cast<uint8_t>(t.retry->counter)};
        auto delay = timer_value(t.retry->delay_s);
        if (!delay)
            return delay.take_error();
        append(retry, *delay);
        tlv::append_ber_tlv(session, kTagRetryPolicy, retry);
    }
    if (t.http) {
        Bytes post;
        tlv::append_ber_tlv(post, kTagHost, text_bytes(t.http->host));
        tlv::append_ber_tlv(post, kTagAgentId, text_bytes(t.http->agent_id));
        tlv::append_ber_tlv(post, kTagUri, text_bytes(t.http->uri));
        tlv::append_ber_tlv(session, kTagHttpPost, post);
    }
    Bytes body;
    if (!session.empty())
        tlv::append_ber_tlv(body, kTagSessionParameters, session);
    return tlv::ber_tlv(kTagTrigger, body);
}

} // namespace otagw::ota::amdb
