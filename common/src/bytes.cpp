// SPDX-License-Identifier: GPL-2.0-or-later
// Hex conversion and constant-time comparison.
#include "otagw/common/bytes.hpp"

#include <cctype>
#include <cstring>

namespace otagw {

void append(Bytes& out, ByteView data) {
    if (data.empty())
        return;
    const size_t at = out.size();
    out.resize(at + data.size());
    std::memcpy(out.data() + at, data.data(), data.size());
}

std::string to_hex(ByteView data) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string s(data.size() * 2, '\0');
    for (size_t i = 0; i < data.size(); i++) {
        s[2 * i] = digits[data[i] >> 4];
        s[2 * i + 1] = digits[data[i] & 0x0f];
    }
    return s;
}

int hex_digit(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

Result<Bytes> parse_hex(std::string_view text, std::string_view what) {
    if (text.size() % 2 != 0)
        return make_error(std::string(what) + ": odd number of hex digits (" +
                          std::to_string(text.size()) + ")");
    Bytes out(text.size() / 2);
    for (size_t i = 0; i < out.size(); i++) {
        int hi = hex_digit(text[2 * i]), lo = hex_digit(text[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return make_error(std::string(what) + ": not a hex digit at position " +
                              std::to_string(hi < 0 ? 2 * i : 2 * i + 1));
        out[i] = static_cast<uint8_t>(hi << 4 | lo);
    }
    return out;
}

Result<Bytes> parse_hex_exact(std::string_view text, size_t size, std::string_view what) {
    auto r = parse_hex(text, what);
    if (r.ok() && r->size() != size)
        return make_error(std::string(what) + ": expected " + std::to_string(size) +
                          " bytes, got " + std::to_string(r->size()));
    return r;
}

bool equal_ct(ByteView a, ByteView b) {
    if (a.size() != b.size())
        return false;
    uint8_t diff = 0;
    for (size_t i = 0; i < a.size(); i++)
        diff |= static_cast<uint8_t>(a[i] ^ b[i]);
    return diff == 0;
}

std::string redact_hex(std::string_view text) {
    std::string out;
    size_t i = 0;
    while (i < text.size()) {
        size_t j = i;
        while (j < text.size() && std::isxdigit(static_cast<unsigned char>(text[j])))
            j++;
        if (j - i >= 16)
            out.append("<hex redacted>");
        else if (j > i)
            out.append(text, i, j - i);
        else
            out.push_back(text[j++]);
        i = j;
    }
    return out;
}

} // namespace otagw
