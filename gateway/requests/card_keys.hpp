// SPDX-License-Identifier: GPL-2.0-or-later
// A card's OTA keyset ready for the 03.48 codec: its KIc and KID bytes (ETSI TS 102 225
// §5.1.2-3) and its keys with their schedules.
#pragma once

#include <optional>

#include "otagw/db/store.hpp"
#include "otagw/ota/ts_102_225.hpp"

namespace otagw::gateway {

// The redundancy check a KID names when the SPI asks for RC instead of a cryptographic checksum
// (§5.1.3: b2b1 '01' CRC, b4b3 '00' CRC-16, '01' CRC-32).
enum class RcType : uint8_t { Crc16 = 0x01, Crc32 = 0x05 };

struct CardKeys {
    uint8_t kvn = 0;
    uint8_t kic = 0; // b8..b5 the key version, b4..b1 the keyset's cipher
    uint8_t kid = 0; // the same, or the CRC when the SPI asks for RC (no KID key is used then)
    ota::OtaKeys keys;
};

// The store holds only known algorithm names; an unknown one leaves the algorithm bits 0
// ("known implicitly"), which the codec refuses with a clear error. `rc`: the packets' integrity
// is a redundancy check of that type.
inline CardKeys card_keys_of(const db::Keyset& k, std::optional<RcType> rc = std::nullopt) {
    const ota::KeysetAlgorithm* a = ota::keyset_algorithm(k.algorithm);
    const uint8_t kic = a ? ota::kic_kid_byte(k.kvn, *a) : static_cast<uint8_t>(k.kvn << 4);
    const uint8_t kid = rc ? static_cast<uint8_t>(k.kvn << 4 | static_cast<uint8_t>(*rc)) : kic;
    return CardKeys{k.kvn, kic, kid, ota::OtaKeys::create(kic, k.kic, kid, rc ? Bytes() : k.kid)};
}

} // namespace otagw::gateway
