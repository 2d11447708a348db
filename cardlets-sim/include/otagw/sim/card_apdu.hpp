// SPDX-License-Identifier: GPL-2.0-or-later
// Command and response APDUs as the simulated card sees them (ISO/IEC 7816-4 §5.1), on their
// own: the card side shares only crypto and TLV helpers with the gateway (CONVENTIONS.md).
#pragma once

#include <cstdint>
#include <optional>

#include "otagw/common/bytes.hpp"

namespace otagw::sim {

struct CApdu {
    uint8_t cla = 0, ins = 0, p1 = 0, p2 = 0;
    Bytes data;
    std::optional<uint8_t> le;
};

struct RApdu {
    Bytes data;
    uint16_t sw = 0x9000;
    static RApdu status(uint16_t sw) { return RApdu{{}, sw}; }
    bool ok() const { return sw == 0x9000 || (sw >> 8) == 0x61; }
};

// One short C-APDU filling `in` exactly (ISO/IEC 7816-4 §5.1 cases 1-4); false otherwise.
bool parse_capdu(ByteView in, CApdu& out);

// Status words the card answers with (ISO/IEC 7816-4 §5.6, GlobalPlatform §11).
enum Sw : uint16_t {
    kSwOk = 0x9000,
    kSwMoreData = 0x6310,
    kSwMemoryFailure = 0x6581,
    kSwWrongLength = 0x6700,
    kSwSecurityStatus = 0x6982,
    kSwConditions = 0x6985,
    kSwSelectFailed = 0x6999,
    kSwIncorrectData = 0x6a80,
    kSwFunctionNotSupported = 0x6a81,
    kSwNotFound = 0x6a82,
    kSwNotEnoughMemory = 0x6a84,
    kSwIncorrectP1P2 = 0x6a86,
    kSwReferencedDataNotFound = 0x6a88,
    kSwInsNotSupported = 0x6d00,
    kSwClaNotSupported = 0x6e00,
    kSwInvalidKcv = 0x9485,
};

} // namespace otagw::sim
