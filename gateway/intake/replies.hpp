// SPDX-License-Identifier: GPL-2.0-or-later
// The result SMS a subscriber gets, in the language of the request (English or Chinese), and
// its SMS coding: the GSM 7-bit default alphabet when every character is in its ASCII subset
// (SMPP carries one septet per octet, data_coding 0), else UCS-2 (data_coding 8).
#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include "intake/application_request.hpp"
#include "otagw/common/bytes.hpp"

namespace otagw::gateway {

// `outcome`: done, refused or failed; `reason`: the request's reason code; `state`: the
// application's state as the card reported it (may be empty); `id`: the request's reference.
std::string reply_text(const std::string& language, Operation op, const std::string& app,
                       const std::string& outcome, const std::string& reason,
                       const std::string& state, int64_t id);

// User data and data_coding for a text that fits one SMS (longer texts are cut).
std::pair<Bytes, uint8_t> encode_reply(const std::string& utf8);

} // namespace otagw::gateway
