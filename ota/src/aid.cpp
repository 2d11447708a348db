// SPDX-License-Identifier: GPL-2.0-or-later
// ISO/IEC 7816-5 AID value type.
#include "otagw/ota/aid.hpp"

#include <algorithm>
#include <cstring>

namespace otagw::ota {

Result<Aid> Aid::from_bytes(ByteView bytes) {
    if (bytes.size() < kMinSize || bytes.size() > kMaxSize)
        return make_error("AID must be 5 to 16 bytes (ISO/IEC 7816-5), got " +
                          std::to_string(bytes.size()));
    Aid aid;
    std::memcpy(aid.data_.data(), bytes.data(), bytes.size());
    aid.size_ = static_cast<uint8_t>(bytes.size());
    return aid;
}

Result<Aid> Aid::parse(std::string_view hex) {
    auto bytes = parse_hex(hex, "AID");
    if (!bytes)
        return bytes.take_error();
    return from_bytes(*bytes);
}

bool Aid::starts_with(ByteView prefix) const {
    return prefix.size() <= size_ && std::equal(prefix.begin(), prefix.end(), data_.begin());
}

std::strong_ordering operator<=>(const Aid& a, const Aid& b) {
    return std::lexicographical_compare_three_way(a.data_.begin(), a.data_.begin() + a.size_,
                                                  b.data_.begin(), b.data_.begin() + b.size_);
}

} // namespace otagw::ota
