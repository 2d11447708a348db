// SPDX-License-Identifier: GPL-2.0-or-later
// Text from outside is UTF-8 only after a check: what a peer, a file or a caller sends may hold
// any byte. These keep stored and printed text valid (RFC 3629) and JSON strings well escaped
// (RFC 8259 §7) without throwing.
#pragma once

#include <string>
#include <string_view>

namespace otagw {

// Well-formed UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF.
bool is_valid_utf8(std::string_view s);
// `s` with every byte that is not part of a well-formed sequence replaced by U+FFFD.
std::string to_valid_utf8(std::string_view s);
// Appends `s` as a JSON string literal, quotes included; invalid UTF-8 becomes U+FFFD.
void append_json_string(std::string& out, std::string_view s);

} // namespace otagw
