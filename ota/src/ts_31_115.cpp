// SPDX-License-Identifier: GPL-2.0-or-later
// SMS user data headers, concatenation and reassembly for SMS-PP secured packets.
#include "otagw/ota/ts_31_115.hpp"

namespace otagw::ota::sms {

const InformationElement* UserData::find(uint8_t iei) const {
    for (const auto& ie : ies)
        if (ie.iei == iei)
            return &ie;
    return nullptr;
}

Result<UserData> parse_user_data(ByteView tp_ud, size_t max_octets) {
    if (tp_ud.empty())
        return make_error("user data: empty, UDHL missing");
    if (tp_ud.size() > max_octets)
        return make_error("user data: " + std::to_string(tp_ud.size()) + " octets exceed the " +
                          std::to_string(max_octets) + " of one SMS");
    const size_t udhl = tp_ud[0];
    if (1 + udhl > tp_ud.size())
        return make_error("user data: UDHL " + std::to_string(udhl) + " exceeds the " +
                          std::to_string(tp_ud.size() - 1) + " octets that follow");
    UserData ud;
    ud.header = tp_ud.first(1 + udhl);
    ud.payload = tp_ud.subspan(1 + udhl);
    size_t pos = 1;
    while (pos < 1 + udhl) {
        if (pos + 2 > 1 + udhl)
            return make_error("user data: truncated information element at offset " +
                              std::to_string(pos));
        const uint8_t iei = tp_ud[pos];
        const size_t len = tp_ud[pos + 1];
        if (pos + 2 + len > 1 + udhl)
            return make_error("user data: information element " + to_hex(tp_ud.subspan(pos, 1)) +
                              " of length " + std::to_string(len) + " overruns the UDH");
        ud.ies.push_back({iei, tp_ud.subspan(pos + 2, len)});
        pos += 2 + len;
    }
    return ud;
}

Result<std::optional<Concatenation>> find_concatenation(const UserData& ud) {
    for (const auto& ie : ud.ies) {
        Concatenation c;
        if (ie.iei == kIeiConcat8) {
            if (ie.value.size() != 3)
                return make_error("user data: concatenation IE 00 must have 3 octets");
            c = {ie.value[0], ie.value[1], ie.value[2]};
        } else if (ie.iei == kIeiConcat16) {
            if (ie.value.size() != 4)
                return make_error("user data: concatenation IE 08 must have 4 octets");
            c = {load_be16(ie.value.data()), ie.value[2], ie.value[3]};
        } else {
            continue;
        }
        if (c.total == 0 || c.sequence == 0 || c.sequence > c.total)
            return make_error("user data: concatenation segment " + std::to_string(c.sequence) +
                              " of " + std::to_string(c.total) + " is invalid");
        return std::optional<Concatenation>(c);
    }
    return std::optional<Concatenation>();
}

Bytes command_user_data(ByteView command_packet) {
    Bytes out{0x02, kIeiCommandPacket, 0x00};
    out.reserve(3 + command_packet.size());
    append(out, command_packet);
    return out;
}

Result<std::vector<Bytes>> segment_packet(ByteView packet, uint8_t iei, uint8_t reference) {
    constexpr size_t kSingle = kMaxUserData - 3; // behind UDH 02 iei 00
    constexpr size_t kFirst = kMaxUserData - 8;  // behind 07 iei 00 00 03 ref n 1
    constexpr size_t kOther = kMaxUserData - 6;  // behind 05 00 03 ref n i
    std::vector<Bytes> out;
    if (packet.size() <= kSingle) {
        Bytes ud{0x02, iei, 0x00};
        append(ud, packet);
        out.push_back(std::move(ud));
        return out;
    }
    const size_t total = 1 + (packet.size() - kFirst + kOther - 1) / kOther;
    if (total > 255)
        return make_error("packet of " + std::to_string(packet.size()) +
                          " bytes needs more than 255 concatenated SMS");
    size_t off = 0;
    for (size_t seq = 1; seq <= total; seq++) {
        const size_t room = seq == 1 ? kFirst : kOther;
        const size_t n = std::min(room, packet.size() - off);
        Bytes ud;
        ud.reserve(kMaxUserData);
        if (seq == 1)
            append_bytes(ud, {0x07, iei, 0x00});
        else
            ud.push_back(0x05);
        append_bytes(ud, {kIeiConcat8, 0x03, reference, static_cast<uint8_t>(total),
                          static_cast<uint8_t>(seq)});
        append(ud, packet.subspan(off, n));
        off += n;
        out.push_back(std::move(ud));
    }
    return out;
}

static void append_ies_except_concat(Bytes& out, const UserData& ud) {
    for (const auto& ie : ud.ies) {
        if (ie.iei == kIeiConcat8 || ie.iei == kIeiConcat16)
            continue;
        out.push_back(ie.iei);
        out.push_back(static_cast<uint8_t>(ie.value.size()));
        append(out, ie.value);
    }
}

// The UDH stays (UDHL '00' when no IE is left): the reader knows a header is there, and no
// text is taken for one.
static Bytes with_header(const Bytes& ies, size_t payload_size) {
    Bytes out;
    out.reserve(1 + ies.size() + payload_size);
    out.push_back(static_cast<uint8_t>(ies.size()));
    append(out, ies);
    return out;
}

Result<std::optional<Bytes>> Reassembler::add(std::string_view originator, ByteView tp_ud,
                                              uint64_t now, size_t max_octets) {
    auto ud = parse_user_data(tp_ud, max_octets);
    if (!ud)
        return ud.take_error();
    auto concat = find_concatenation(*ud);
    if (!concat)
        return concat.take_error();
    if (!*concat) { // a single SMS
        Bytes ies;
        append_ies_except_concat(ies, *ud);
        Bytes out = with_header(ies, ud->payload.size());
        append(out, ud->payload);
        return std::optional<Bytes>(std::move(out));
    }
    const Concatenation& c = **concat;
    Key key{std::string(originator), c.reference, c.total};
    auto it = pending_.find(key);
    if (it == pending_.end()) {
        if (pending_.size() >= max_pending_)
            return make_error("reassembly: " + std::to_string(max_pending_) +
                              " partial messages pending, segment dropped");
        Partial p;
        p.first_seen = now;
        p.parts.resize(c.total);
        p.have.resize(c.total);
        it = pending_.emplace(std::move(key), std::move(p)).first;
    }
    Partial& p = it->second;
    if (p.have[c.sequence - 1])
        return std::optional<Bytes>(); // a duplicate: the first copy stands
    p.have[c.sequence - 1] = true;
    p.parts[c.sequence - 1].assign(ud->payload.begin(), ud->payload.end());
    p.received++;
    if (c.sequence == 1)
        append_ies_except_concat(p.first_ies, *ud);
    if (p.received < c.total)
        return std::optional<Bytes>();
    size_t size = 0;
    for (const auto& part : p.parts)
        size += part.size();
    Bytes out = with_header(p.first_ies, size);
    for (const auto& part : p.parts)
        append(out, part);
    pending_.erase(it);
    return std::optional<Bytes>(std::move(out));
}

size_t Reassembler::expire(uint64_t cutoff) {
    size_t dropped = 0;
    for (auto it = pending_.begin(); it != pending_.end();) {
        if (it->second.first_seen < cutoff) {
            it = pending_.erase(it);
            dropped++;
        } else {
            ++it;
        }
    }
    return dropped;
}

} // namespace otagw::ota::sms
