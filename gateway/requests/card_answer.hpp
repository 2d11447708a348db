// SPDX-License-Identifier: GPL-2.0-or-later
// The card's answer to a script, read from a PoR's response data (the compact remote APDU
// response, ETSI TS 102 226 §5.1.2): how far the script ran, the status word that stopped it,
// and the application's life cycle from the closing GET STATUS (GP Card Spec 2.3 §11.4). Pure.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "otagw/common/bytes.hpp"
#include "otagw/common/result.hpp"
#include "otagw/ota/apdu.hpp"

namespace otagw::gateway {

struct CardAnswer {
    bool completed = false;    // every command ran, the last GET STATUS answered
    size_t script_length = 0;  // commands in the script
    size_t executed = 0;       // commands the card ran (the last one may have failed)
    uint16_t failed_sw = 0;    // SW of the command that stopped the script (when !completed)
    size_t failed_command = 0; // its index, 0-based
    // From the closing GET STATUS: the life cycle byte, or nullopt when the card says the
    // application is not there (6A88).
    std::optional<uint8_t> life_cycle;
    bool registry_known = false; // the closing GET STATUS answered
};
// `script_length` commands, the last of them `last`: a GET STATUS of `aid_hex`, whose answer is
// read; or another command (a load's packet): completed when it ran with 9000.
Result<CardAnswer> read_card_answer(ByteView por_data, size_t script_length, const ota::Apdu& last,
                                    std::string_view aid_hex);

} // namespace otagw::gateway
