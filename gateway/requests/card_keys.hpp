// SPDX-License-Identifier: GPL-2.0-or-later
// A card's OTA keyset ready for the 03.48 codec: its KIc/KID byte (ETSI TS 102 225 §5.1.2-3) and
// its keys with their schedules.
#pragma once

#include "otagw/db/store.hpp"
#include "otagw/ota/ts_102_225.hpp"

namespace otagw::gateway {

struct CardKeys {
    uint8_t kvn = 0;
    uint8_t algorithm = 0; // the KIc = KID byte
    ota::OtaKeys keys;
};

// The store holds only known algorithm names; an unknown one leaves the algorithm bits 0
// ("known implicitly"), which the codec refuses with a clear error.
inline CardKeys card_keys_of(const db::Keyset& k) {
    const ota::KeysetAlgorithm* a = ota::keyset_algorithm(k.algorithm);
    const uint8_t byte = a ? ota::kic_kid_byte(k.kvn, *a) : static_cast<uint8_t>(k.kvn << 4);
    return CardKeys{k.kvn, byte, ota::OtaKeys::create(byte, k.kic, byte, k.kid)};
}

} // namespace otagw::gateway
