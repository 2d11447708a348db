// SPDX-License-Identifier: GPL-2.0-or-later
#include "otagw/common/text.hpp"

#include <cstdint>

namespace otagw {

namespace {

// The length of the well-formed sequence at s[i] (RFC 3629 §4), or 0.
size_t sequence_length(std::string_view s, size_t i) {
    const auto b = [&](size_t k) {
        return static_cast<uint8_t>(s[i + k]);
    };
    const uint8_t c = b(0);
    if (c < 0x80)
        return 1;
    auto cont = [&](size_t k, uint8_t lo = 0x80, uint8_t hi = 0xbf) {
        return i + k < s.size() && b(k) >= lo && b(k) <= hi;
    };
    if (c >= 0xc2 && c <= 0xdf)
        return cont(1) ? 2 : 0;
    if (c == 0xe0)
        return cont(1, 0xa0) && cont(2) ? 3 : 0;
    if ((c >= 0xe1 && c <= 0xec) || c == 0xee || c == 0xef)
        return cont(1) && cont(2) ? 3 : 0;
    if (c == 0xed) // not the surrogates U+D800..U+DFFF
        return cont(1, 0x80, 0x9f) && cont(2) ? 3 : 0;
    if (c == 0xf0)
        return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
    if (c >= 0xf1 && c <= 0xf3)
        return cont(1) && cont(2) && cont(3) ? 4 : 0;
    if (c == 0xf4)
        return cont(1, 0x80, 0x8f) && cont(2) && cont(3) ? 4 : 0;
    return 0;
}

constexpr std::string_view kReplacement = "\xef\xbf\xbd"; // U+FFFD

} // namespace

bool is_valid_utf8(std::string_view s) {
    for (size_t i = 0; i < s.size();) {
        const size_t n = sequence_length(s, i);
        if (!n)
            return false;
        i += n;
    }
    return true;
}

std::string to_valid_utf8(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size();) {
        const size_t n = sequence_length(s, i);
        if (n) {
            out.append(s.substr(i, n));
            i += n;
        } else {
            out.append(kReplacement);
            i++;
        }
    }
    return out;
}

void append_json_string(std::string& out, std::string_view s) {
    static const char* hex = "0123456789abcdef";
    out.push_back('"');
    for (size_t i = 0; i < s.size();) {
        const size_t n = sequence_length(s, i);
        if (!n) {
            out.append(kReplacement);
            i++;
            continue;
        }
        const char c = s[i];
        if (n > 1) {
            out.append(s.substr(i, n));
        } else if (c == '"' || c == '\\') {
            out.push_back('\\');
            out.push_back(c);
        } else if (static_cast<uint8_t>(c) < 0x20) {
            out.append("\\u00");
            out.push_back(hex[static_cast<uint8_t>(c) >> 4]);
            out.push_back(hex[c & 0xf]);
        } else {
            out.push_back(c);
        }
        i += n;
    }
    out.push_back('"');
}

} // namespace otagw
