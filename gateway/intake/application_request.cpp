// SPDX-License-Identifier: GPL-2.0-or-later
#include "intake/application_request.hpp"

#include <algorithm>

#include "otagw/common/tlv.hpp"

namespace otagw::gateway {

namespace {

// 3GPP TS 23.038 §6.2.1: the GSM 7-bit default alphabet, as Unicode code points.
constexpr char32_t kGsmDefault[128] = {
    0x40,  0xA3, 0x24, 0xA5,  0xE8, 0xE9,  0xF9,  0xEC,  0xF2,  0xC7,  0x0A,  0xD8,  0xF8,
    0x0D,  0xC5, 0xE5, 0x394, 0x5F, 0x3A6, 0x393, 0x39B, 0x3A9, 0x3A0, 0x3A8, 0x3A3, 0x398,
    0x39E, 0x1B, 0xC6, 0xE6,  0xDF, 0xC9,  0x20,  0x21,  0x22,  0x23,  0xA4,  0x25,  0x26,
    0x27,  0x28, 0x29, 0x2A,  0x2B, 0x2C,  0x2D,  0x2E,  0x2F,  0x30,  0x31,  0x32,  0x33,
    0x34,  0x35, 0x36, 0x37,  0x38, 0x39,  0x3A,  0x3B,  0x3C,  0x3D,  0x3E,  0x3F,  0xA1,
    0x41,  0x42, 0x43, 0x44,  0x45, 0x46,  0x47,  0x48,  0x49,  0x4A,  0x4B,  0x4C,  0x4D,
    0x4E,  0x4F, 0x50, 0x51,  0x52, 0x53,  0x54,  0x55,  0x56,  0x57,  0x58,  0x59,  0x5A,
    0xC4,  0xD6, 0xD1, 0xDC,  0xA7, 0xBF,  0x61,  0x62,  0x63,  0x64,  0x65,  0x66,  0x67,
    0x68,  0x69, 0x6A, 0x6B,  0x6C, 0x6D,  0x6E,  0x6F,  0x70,  0x71,  0x72,  0x73,  0x74,
    0x75,  0x76, 0x77, 0x78,  0x79, 0x7A,  0xE4,  0xF6,  0xF1,  0xFC,  0xE0,
};

// §6.2.1.1: the extension table, after the escape septet 0x1B.
char32_t gsm_extension(uint8_t septet) {
    switch (septet) {
    case 0x0A:
        return 0x0C;
    case 0x14:
        return '^';
    case 0x28:
        return '{';
    case 0x29:
        return '}';
    case 0x2F:
        return '\\';
    case 0x3C:
        return '[';
    case 0x3D:
        return '~';
    case 0x3E:
        return ']';
    case 0x40:
        return '|';
    case 0x65:
        return 0x20AC;
    default:
        return 0; // not in the table
    }
}

void append_utf8(std::string& out, char32_t c) {
    if (c < 0x80) {
        out.push_back(static_cast<char>(c));
    } else if (c < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (c >> 6)));
        out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    } else if (c < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (c >> 12)));
        out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    } else {
        out.push_back(static_cast<char>(0xF0 | (c >> 18)));
        out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    }
}

// Full-width forms (U+FF01..U+FF5E) and the ideographic space count as their ASCII twins;
// ASCII letters fold to upper case.
char32_t fold(char32_t c) {
    if (c >= 0xFF01 && c <= 0xFF5E)
        c -= 0xFF01 - 0x21;
    if (c == 0x3000)
        c = ' ';
    if (c >= 'a' && c <= 'z')
        c -= 'a' - 'A';
    return c;
}

bool is_space(char32_t c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == 0xA0;
}

bool is_cjk(char32_t c) {
    return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF);
}

bool is_code_char(char32_t c) {
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z');
}

} // namespace

std::u32string code_points(std::string_view s) {
    std::u32string out;
    for (size_t i = 0; i < s.size();) {
        const auto b = static_cast<unsigned char>(s[i]);
        int extra = b < 0x80 ? 0 : (b >> 5) == 6 ? 1 : (b >> 4) == 14 ? 2 : (b >> 3) == 30 ? 3 : -1;
        if (extra < 0 || (extra > 0 && i + static_cast<size_t>(extra) >= s.size())) {
            out.push_back(0xFFFD);
            i++;
            continue;
        }
        char32_t c = extra == 0 ? b : b & (0x3F >> extra);
        bool ok = true;
        for (int k = 1; k <= extra; k++) {
            const auto n = static_cast<unsigned char>(s[i + static_cast<size_t>(k)]);
            if ((n & 0xC0) != 0x80) {
                ok = false;
                break;
            }
            c = (c << 6) | (n & 0x3F);
        }
        if (!ok) {
            out.push_back(0xFFFD);
            i++;
            continue;
        }
        out.push_back(c);
        i += static_cast<size_t>(extra) + 1;
    }
    return out;
}

std::vector<Keywords> default_keywords() {
    return {
        {"en",
         {{"ACT", Operation::Activate},
          {"SUS", Operation::Suspend},
          {"RES", Operation::Resume},
          {"END", Operation::Terminate},
          {"QRY", Operation::Query}}},
        {"zh",
         {{"开通", Operation::Activate},
          {"暂停", Operation::Suspend},
          {"恢复", Operation::Resume},
          {"注销", Operation::Terminate},
          {"查询", Operation::Query}}},
    };
}

const char* text_refusal_name(TextRefusal r) {
    switch (r) {
    case TextRefusal::Empty:
        return "empty";
    case TextRefusal::UnknownKeyword:
        return "unknown_keyword";
    case TextRefusal::NoAppCode:
        return "no_app_code";
    case TextRefusal::BadAppCode:
        return "bad_app_code";
    case TextRefusal::TrailingWords:
        return "trailing_words";
    }
    return "?";
}

TextParse parse_text_request(std::string_view text, const std::vector<Keywords>& keywords) {
    std::u32string t;
    for (char32_t c : code_points(text))
        t.push_back(fold(c));
    while (!t.empty() && is_space(t.back()))
        t.pop_back();
    size_t at = 0;
    while (at < t.size() && is_space(t[at]))
        at++;
    TextParse r;
    r.language = std::any_of(t.begin(), t.end(), is_cjk) ? "zh" : "en";
    if (at == t.size()) {
        r.refusal = TextRefusal::Empty;
        r.message = "the message is empty";
        return r;
    }
    // The longest keyword the text starts with.
    const Keywords* lang = nullptr;
    const std::pair<std::string, Operation>* best = nullptr;
    size_t best_len = 0;
    for (const Keywords& k : keywords)
        for (const auto& w : k.words) {
            std::u32string kw;
            for (char32_t c : code_points(w.first))
                kw.push_back(fold(c));
            if (kw.size() > best_len && t.compare(at, kw.size(), kw) == 0) {
                const bool latin = !is_cjk(kw.back());
                const size_t after = at + kw.size();
                // A Latin keyword ends at a space ("ACT 01"); a CJK one may touch the code.
                if (latin && after < t.size() && !is_space(t[after]))
                    continue;
                best = &w;
                best_len = kw.size();
                lang = &k;
            }
        }
    if (!best) {
        r.refusal = TextRefusal::UnknownKeyword;
        r.message = "the message does not start with a known keyword";
        return r;
    }
    r.language = lang->language;
    at += best_len;
    while (at < t.size() && is_space(t[at]))
        at++;
    if (at == t.size()) {
        r.refusal = TextRefusal::NoAppCode;
        r.message = std::string("no application code after the keyword ") + best->first;
        return r;
    }
    std::string code;
    while (at < t.size() && !is_space(t[at])) {
        if (!is_code_char(t[at]) || code.size() == 8) {
            r.refusal = TextRefusal::BadAppCode;
            r.message = "an application code is 1 to 8 letters or digits";
            return r;
        }
        code.push_back(static_cast<char>(t[at++]));
    }
    while (at < t.size() && is_space(t[at]))
        at++;
    if (at != t.size()) {
        r.refusal = TextRefusal::TrailingWords;
        r.message = "words after the application code " + code;
        return r;
    }
    r.request = TextRequest{best->second, code, lang->language};
    r.message = std::string(operation_name(best->second)) + " " + code;
    return r;
}

Result<std::string> decode_sms_text(uint8_t dcs, ByteView ud) {
    // TS 23.038 §4: general data coding (00xx xxxx) keeps the alphabet in bits 3..2 (compressed
    // text, bit 5, is not supported); SMPP's own 0x01 and 0x03 are Latin-1 (SMPP 3.4 §5.2.19).
    int alphabet;
    if (dcs == 0x01 || dcs == 0x03)
        alphabet = 3; // Latin-1 (SMPP)
    else if ((dcs & 0xC0) == 0x00 && !(dcs & 0x20))
        alphabet = (dcs >> 2) & 0x03; // 0 GSM 7-bit, 1 8-bit data, 2 UCS-2
    else if ((dcs & 0xF0) == 0xF0)
        alphabet = (dcs & 0x04) ? 1 : 0;
    else
        return make_error("data coding " + to_hex(ByteView(&dcs, 1)) + " is not a text coding");
    std::string out;
    switch (alphabet) {
    case 0:
        for (size_t i = 0; i < ud.size(); i++) {
            if (ud[i] > 0x7F)
                return make_error("byte " + std::to_string(i) + " is not a GSM 7-bit septet");
            if (ud[i] == 0x1B) {
                const char32_t ext = i + 1 < ud.size() ? gsm_extension(ud[i + 1]) : 0;
                if (!ext)
                    return make_error("byte " + std::to_string(i) +
                                      ": an escape not followed by an extension character");
                append_utf8(out, ext);
                i++;
                continue;
            }
            append_utf8(out, kGsmDefault[ud[i]]);
        }
        return out;
    case 2:
        if (ud.size() % 2)
            return make_error("UCS-2 text of an odd length");
        for (size_t i = 0; i < ud.size(); i += 2) {
            char32_t c = static_cast<char32_t>(ud[i] << 8 | ud[i + 1]);
            if (c >= 0xD800 && c <= 0xDBFF) {
                if (i + 3 >= ud.size())
                    return make_error("UCS-2 text ends inside a surrogate pair");
                const char32_t lo = static_cast<char32_t>(ud[i + 2] << 8 | ud[i + 3]);
                if (lo < 0xDC00 || lo > 0xDFFF)
                    return make_error("UCS-2 text has a lone surrogate");
                c = 0x10000 + ((c - 0xD800) << 10) + (lo - 0xDC00);
                i += 2;
            } else if (c >= 0xDC00 && c <= 0xDFFF) {
                return make_error("UCS-2 text has a lone surrogate");
            }
            append_utf8(out, c);
        }
        return out;
    case 3:
        for (uint8_t b : ud)
            append_utf8(out, b);
        return out;
    default:
        return make_error("data coding " + to_hex(ByteView(&dcs, 1)) + " is 8-bit data, not text");
    }
}

Result<BinaryRequest> parse_binary_request(ByteView data) {
    size_t pos = 0;
    auto top = tlv::parse_ber_tlv(data, pos);
    if (!top)
        return make_error("application request: " + top.error().message);
    if (top->tag != kRequestTemplateTag)
        return make_error("application request: the template tag must be E1");
    if (pos != data.size())
        return make_error("application request: bytes after the template");
    auto items = tlv::parse_ber_tlvs(top->value);
    if (!items)
        return make_error("application request: " + items.error().message);
    BinaryRequest r{};
    bool have_op = false;
    for (const auto& t : *items) {
        switch (t.tag) {
        case 0x80:
            if (t.value.size() != 1 || t.value[0] < 1 || t.value[0] > 6)
                return make_error("application request: operation (80) must be 1 byte, 01 to 06");
            r.operation = static_cast<Operation>(t.value[0]);
            have_op = true;
            break;
        case 0x4F:
            if (t.value.size() < 5 || t.value.size() > 16)
                return make_error("application request: AID (4F) must be 5 to 16 bytes");
            r.aid.assign(t.value.begin(), t.value.end());
            break;
        case 0x81:
            if (t.value.empty() || t.value.size() > 8 ||
                !std::all_of(t.value.begin(), t.value.end(), [](uint8_t c) {
                    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z');
                }))
                return make_error("application request: code (81) must be 1 to 8 characters "
                                  "0-9 A-Z");
            r.app_code.assign(t.value.begin(), t.value.end());
            break;
        case 0x82:
            if (t.value.size() > 8)
                return make_error("application request: reference (82) is at most 8 bytes");
            r.reference.assign(t.value.begin(), t.value.end());
            break;
        default:
            break; // unknown tags are skipped: later versions may add some
        }
    }
    if (!have_op)
        return make_error("application request: no operation (80)");
    if (r.aid.empty() == r.app_code.empty())
        return make_error("application request: give the application by AID (4F) or by code "
                          "(81), one of them");
    return r;
}

Bytes encode_binary_request(const BinaryRequest& r) {
    Bytes inner;
    const uint8_t op = static_cast<uint8_t>(r.operation);
    tlv::append_ber_tlv(inner, 0x80, ByteView(&op, 1));
    if (!r.aid.empty())
        tlv::append_ber_tlv(inner, 0x4F, r.aid);
    if (!r.app_code.empty())
        tlv::append_ber_tlv(
            inner, 0x81,
            ByteView(reinterpret_cast<const uint8_t*>(r.app_code.data()), r.app_code.size()));
    if (!r.reference.empty())
        tlv::append_ber_tlv(inner, 0x82, r.reference);
    return tlv::ber_tlv(kRequestTemplateTag, inner);
}

} // namespace otagw::gateway
