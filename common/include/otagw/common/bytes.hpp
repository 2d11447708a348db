// SPDX-License-Identifier: GPL-2.0-or-later
// Byte buffers, views and big-endian helpers shared by every codec.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "otagw/common/result.hpp"

namespace otagw {

using Bytes = std::vector<uint8_t>;
using ByteView = std::span<const uint8_t>;

// Out of line: GCC 12's -Warray-bounds/-Wstringop-overflow misfire on some inlined
// vector::insert calls at -O3.
void append(Bytes& out, ByteView data);
// Literal bytes; push_back keeps GCC 12's -Wstringop-overflow false positive on
// vector::insert(initializer_list) away.
inline void append_bytes(Bytes& out, std::initializer_list<uint8_t> bytes) {
    for (uint8_t b : bytes)
        out.push_back(b);
}
inline void append_be16(Bytes& out, uint16_t v) {
    out.push_back(static_cast<uint8_t>(v >> 8));
    out.push_back(static_cast<uint8_t>(v));
}
inline uint16_t load_be16(const uint8_t* p) {
    return static_cast<uint16_t>(p[0] << 8 | p[1]);
}
inline uint32_t load_be32(const uint8_t* p) {
    return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3];
}
inline void store_be16(uint8_t* p, uint16_t v) {
    p[0] = static_cast<uint8_t>(v >> 8);
    p[1] = static_cast<uint8_t>(v);
}

// Lowercase hex, no separators.
std::string to_hex(ByteView data);
// Strict hex: an even number of [0-9a-fA-F] digits, nothing else. `what` names the field in
// the error message (e.g. "--tar").
Result<Bytes> parse_hex(std::string_view text, std::string_view what = "hex string");
// Same, and the decoded value must be exactly `size` bytes long.
// The value of one hex digit (either case), or -1.
int hex_digit(char c);
Result<Bytes> parse_hex_exact(std::string_view text, size_t size, std::string_view what);
// `text` with every run of 16 or more hex digits replaced by "<hex redacted>": for messages
// that may quote user input (a key typed in the wrong place) before they reach a log or stderr.
std::string redact_hex(std::string_view text);

// Constant-time comparison for MACs and checksums.
bool equal_ct(ByteView a, ByteView b);

} // namespace otagw
