// SPDX-License-Identifier: GPL-2.0-or-later
// ISO/IEC 7816-4 §5.1 short command APDUs (cases 1-4): build, encode, parse.
#pragma once

#include <cstdint>
#include <optional>

#include "otagw/common/bytes.hpp"

namespace otagw::ota {

struct Apdu {
    uint8_t cla = 0, ins = 0, p1 = 0, p2 = 0;
    Bytes data;                // Lc is data.size(), 1..255; empty means no Lc
    std::optional<uint8_t> le; // present for cases 2 and 4 ('00' asks for up to 256 bytes)

    size_t encoded_size() const { return 4 + (data.empty() ? 0 : 1 + data.size()) + (le ? 1 : 0); }
    void encode_to(Bytes& out) const;
    Bytes encode() const;
    std::string hex() const { return to_hex(encode()); }

    // One short APDU filling `in` exactly: CLA INS P1 P2 [Lc data] [Le].
    static Result<Apdu> parse(ByteView in);
};

// A response APDU: data followed by SW1 SW2.
struct ResponseApdu {
    Bytes data;
    uint16_t sw = 0;
    static Result<ResponseApdu> parse(ByteView in);
    Bytes encode() const;
};

} // namespace otagw::ota
