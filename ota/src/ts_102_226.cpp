// SPDX-License-Identifier: GPL-2.0-or-later
// ETSI TS 102 226 compact and expanded remote APDU formats.
#include "otagw/ota/ts_102_226.hpp"

#include <map>

#include "otagw/common/tlv.hpp"

namespace otagw::ota::ram {

// ---- Compact format -----------------------------------------------------------------------------

Bytes compact_script(const std::vector<Apdu>& apdus) {
    size_t size = 0;
    for (const auto& a : apdus)
        size += a.encoded_size();
    Bytes out;
    out.reserve(size);
    for (const auto& a : apdus)
        a.encode_to(out);
    return out;
}

namespace {

enum class Shape : uint8_t { P3Only, Data, DataLe };

// Readings of a command by instruction, preferred first. Every command carries P3 (T=0 TPDU
// form): Lc for cases 3/4, Le for case 2, '00' for case 1.
enum class Case : uint8_t { Two, Three, Four, Unknown };

Case case_of(uint8_t ins) {
    switch (ins) {
    case 0xc0: // GET RESPONSE
    case 0xb0: // READ BINARY
    case 0xb2: // READ RECORD
    case 0x84: // GET CHALLENGE
        return Case::Two;
    case 0xf0: // SET STATUS
    case 0xd6: // UPDATE BINARY
    case 0xdc: // UPDATE RECORD
    case 0x20: // VERIFY PIN
        return Case::Three;
    case 0xa4: // SELECT
    case 0xe6: // INSTALL
    case 0xe8: // LOAD
    case 0xe4: // DELETE
    case 0xf2: // GET STATUS
    case 0xe2: // STORE DATA
    case 0xd8: // PUT KEY
        return Case::Four;
    default:
        return Case::Unknown;
    }
}

const std::vector<Shape>& shapes_for(uint8_t ins) {
    static const std::vector<Shape> two{Shape::P3Only};
    static const std::vector<Shape> three{Shape::Data, Shape::P3Only};
    static const std::vector<Shape> four{Shape::DataLe, Shape::Data, Shape::P3Only};
    static const std::vector<Shape> unknown{Shape::Data, Shape::DataLe, Shape::P3Only};
    switch (case_of(ins)) {
    case Case::Two:
        return two;
    case Case::Three:
        return three;
    case Case::Four:
        return four;
    case Case::Unknown:
        break;
    }
    return unknown;
}

struct CompactParser {
    ByteView in;
    std::map<size_t, bool> memo; // position -> the rest parses
    std::vector<Apdu> out;

    // Length of the APDU at `pos` read with `shape`, or 0 when it cannot be read so.
    size_t length(size_t pos, Shape shape) const {
        const size_t left = in.size() - pos;
        if (left < 5)
            return 0;
        const size_t p3 = in[pos + 4];
        switch (shape) {
        case Shape::P3Only: { // a case 3/4 instruction with P3 > 0 must carry its data
            const Case c = case_of(in[pos + 1]);
            return p3 == 0 || (c != Case::Three && c != Case::Four) ? 5 : 0;
        }
        case Shape::Data:
            return p3 > 0 && left >= 5 + p3 ? 5 + p3 : 0;
        case Shape::DataLe:
            return p3 > 0 && left >= 6 + p3 ? 6 + p3 : 0;
        }
        return 0;
    }

    bool parses_from(size_t pos) {
        if (pos == in.size())
            return true;
        if (auto it = memo.find(pos); it != memo.end())
            return it->second;
        bool ok = false;
        if (in.size() - pos >= 5) {
            for (Shape s : shapes_for(in[pos + 1])) {
                size_t n = length(pos, s);
                if (n && parses_from(pos + n)) {
                    ok = true;
                    break;
                }
            }
        }
        memo[pos] = ok;
        return ok;
    }

    void collect(size_t pos) {
        while (pos < in.size()) {
            Apdu a;
            a.cla = in[pos];
            a.ins = in[pos + 1];
            a.p1 = in[pos + 2];
            a.p2 = in[pos + 3];
            for (Shape s : shapes_for(a.ins)) {
                size_t n = length(pos, s);
                if (!n || !parses_from(pos + n))
                    continue;
                const size_t p3 = in[pos + 4];
                if (s == Shape::P3Only) {
                    a.le = static_cast<uint8_t>(p3);
                } else {
                    a.data.assign(in.begin() + static_cast<long>(pos) + 5,
                                  in.begin() + static_cast<long>(pos + 5 + p3));
                    if (s == Shape::DataLe)
                        a.le = in[pos + 5 + p3];
                }
                out.push_back(std::move(a));
                pos += n;
                break;
            }
        }
    }
};

} // namespace

Result<std::vector<Apdu>> parse_compact_script(ByteView script) {
    if (script.empty())
        return make_error("compact script: empty");
    CompactParser p{script, {}, {}};
    if (!p.parses_from(0))
        return make_error("compact script: the " + std::to_string(script.size()) +
                          " bytes do not split into whole C-APDUs");
    p.collect(0);
    return std::move(p.out);
}

Result<CompactResponse> parse_compact_response(ByteView data) {
    if (data.size() < 3)
        return make_error("compact response: " + std::to_string(data.size()) +
                          " bytes, needs the executed count and a status word");
    CompactResponse r;
    r.executed = data[0];
    r.last_sw = load_be16(&data[1]);
    r.last_data.assign(data.begin() + 3, data.end());
    return r;
}

Bytes encode_compact_response(const CompactResponse& r) {
    Bytes out{r.executed};
    append_be16(out, r.last_sw);
    append(out, r.last_data);
    return out;
}

// ---- Expanded format ----------------------------------------------------------------------------

namespace {

Bytes wrap_template(uint8_t definite_tag, uint8_t indefinite_tag, const Bytes& body,
                    bool indefinite) {
    Bytes out;
    if (indefinite) {
        out.reserve(body.size() + 4);
        append_bytes(out, {indefinite_tag, 0x80});
        append(out, body);
        append_bytes(out, {0x00, 0x00}); // end-of-contents
    } else {
        tlv::append_ber_tlv(out, definite_tag, body);
    }
    return out;
}

// The body of a template that must fill `data`: '<tag> L body' or '<tag> 80 body 00 00'.
Result<ByteView> template_body(ByteView data, uint8_t definite_tag, uint8_t indefinite_tag,
                               bool& indefinite, const char* what) {
    if (data.size() < 2)
        return make_error(std::string(what) + ": truncated template");
    if (data[0] == indefinite_tag && data[1] == 0x80) {
        indefinite = true;
        ByteView body = data.subspan(2);
        // Items use definite lengths; walk them to find the end-of-contents octets.
        size_t pos = 0;
        while (pos < body.size()) {
            if (body.size() - pos >= 2 && body[pos] == 0x00 && body[pos + 1] == 0x00) {
                if (pos + 2 != body.size())
                    return make_error(std::string(what) + ": " +
                                      std::to_string(body.size() - pos - 2) +
                                      " bytes after the end-of-contents octets");
                return body.first(pos);
            }
            auto item = tlv::parse_ber_tlv(body, pos);
            if (!item)
                return make_error(std::string(what) + ": " + item.error().message);
        }
        return make_error(std::string(what) + ": indefinite template without end-of-contents");
    }
    if (data[0] != definite_tag)
        return make_error(std::string(what) + ": first byte must be a template tag");
    indefinite = false;
    size_t pos = 0;
    auto t = tlv::parse_ber_tlv(data, pos);
    if (!t)
        return make_error(std::string(what) + ": " + t.error().message);
    if (pos != data.size())
        return make_error(std::string(what) + ": " + std::to_string(data.size() - pos) +
                          " bytes after the template");
    return t->value;
}

// The items of a template that fills `data` (definite or indefinite form).
Result<std::vector<tlv::BerTlv>> template_items(ByteView data, uint8_t definite_tag,
                                                uint8_t indefinite_tag, bool& indefinite,
                                                const char* what) {
    auto body = template_body(data, definite_tag, indefinite_tag, indefinite, what);
    if (!body)
        return body.take_error();
    auto items = tlv::parse_ber_tlvs(*body);
    if (!items)
        return make_error(std::string(what) + ": " + items.error().message);
    return items;
}

} // namespace

Bytes expanded_script(const std::vector<Apdu>& apdus, bool indefinite_length) {
    Bytes body;
    for (const auto& a : apdus)
        tlv::append_ber_tlv(body, kTagCApdu, a.encode());
    return wrap_template(kTagCommandDefinite, kTagCommandIndefinite, body, indefinite_length);
}

std::vector<Apdu> ExpandedScript::apdus() const {
    std::vector<Apdu> out;
    for (const auto& item : items)
        if (item.tag == kTagCApdu)
            out.push_back(*Apdu::parse(item.value)); // validated by parse_expanded_script
    return out;
}

Result<ExpandedScript> parse_expanded_script(ByteView data) {
    ExpandedScript s;
    auto items = template_items(data, kTagCommandDefinite, kTagCommandIndefinite, s.indefinite,
                                "expanded script");
    if (!items)
        return items.take_error();
    for (const auto& t : *items) {
        if (t.tag > 0xff)
            return make_error("expanded script: unexpected tag " + to_hex(t.encoded.first(2)));
        if (t.tag == kTagCApdu) {
            auto apdu = Apdu::parse(t.value);
            if (!apdu)
                return make_error("expanded script: C-APDU " + std::to_string(s.items.size() + 1) +
                                  ": " + apdu.error().message);
        }
        s.items.push_back({static_cast<uint8_t>(t.tag), Bytes(t.value.begin(), t.value.end())});
    }
    return s;
}

Result<ExpandedResponse> parse_expanded_response(ByteView data) {
    ExpandedResponse r;
    auto items = template_items(data, kTagResponseDefinite, kTagResponseIndefinite, r.indefinite,
                                "expanded response");
    if (!items)
        return items.take_error();
    for (const auto& t : *items) {
        switch (t.tag) {
        case kTagExecutedCount:
            if (t.value.size() != 1)
                return make_error("expanded response: executed count ('80') must be 1 byte");
            r.executed = t.value[0];
            break;
        case kTagRApdu: {
            auto rapdu = ResponseApdu::parse(t.value);
            if (!rapdu)
                return make_error("expanded response: " + rapdu.error().message);
            r.r_apdus.push_back(std::move(*rapdu));
            break;
        }
        case kTagBadFormat:
            r.bad_format = Bytes(t.value.begin(), t.value.end());
            break;
        default:
            if (t.tag > 0xff)
                return make_error("expanded response: unexpected tag " +
                                  to_hex(t.encoded.first(2)));
            r.other.push_back({static_cast<uint8_t>(t.tag), Bytes(t.value.begin(), t.value.end())});
        }
    }
    return r;
}

Bytes encode_expanded_response(const ExpandedResponse& r) {
    Bytes body;
    if (r.executed) {
        uint8_t n = *r.executed;
        tlv::append_ber_tlv(body, kTagExecutedCount, ByteView(&n, 1));
    }
    for (const auto& rapdu : r.r_apdus)
        tlv::append_ber_tlv(body, kTagRApdu, rapdu.encode());
    if (r.bad_format)
        tlv::append_ber_tlv(body, kTagBadFormat, *r.bad_format);
    for (const auto& item : r.other)
        tlv::append_ber_tlv(body, item.tag, item.value);
    return wrap_template(kTagResponseDefinite, kTagResponseIndefinite, body, r.indefinite);
}

bool is_expanded_command(ByteView data) {
    return !data.empty() && (data[0] == kTagCommandDefinite || data[0] == kTagCommandIndefinite);
}

bool is_expanded_response(ByteView data) {
    return !data.empty() && (data[0] == kTagResponseDefinite || data[0] == kTagResponseIndefinite);
}

} // namespace otagw::ota::ram
