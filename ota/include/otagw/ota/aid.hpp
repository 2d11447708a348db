// SPDX-License-Identifier: GPL-2.0-or-later
// ISO/IEC 7816-5 application identifier: a 5-byte registered application provider
// identifier (RID) followed by up to 11 bytes of proprietary extension (PIX), 5..16 bytes.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "otagw/common/bytes.hpp"

namespace otagw::ota {

class Aid {
public:
    static constexpr size_t kMinSize = 5;
    static constexpr size_t kMaxSize = 16;
    static constexpr size_t kRidSize = 5;

    static Result<Aid> from_bytes(ByteView bytes);
    static Result<Aid> parse(std::string_view hex); // case-insensitive hex, no separators

    ByteView bytes() const { return {data_.data(), size_}; }
    ByteView rid() const { return {data_.data(), kRidSize}; }
    ByteView pix() const { return {data_.data() + kRidSize, size_ - kRidSize}; }
    size_t size() const { return size_; }
    std::string hex() const { return to_hex(bytes()); }
    // True when `prefix` (e.g. a RID or a load file AID) starts this AID.
    bool starts_with(ByteView prefix) const;

    friend bool operator==(const Aid& a, const Aid& b) {
        return a.size_ == b.size_ && a.data_ == b.data_;
    }
    friend std::strong_ordering operator<=>(const Aid& a, const Aid& b);

private:
    std::array<uint8_t, kMaxSize> data_{};
    uint8_t size_ = 0;
};

} // namespace otagw::ota
