// SPDX-License-Identifier: GPL-2.0-or-later
// A request's working data (RequestData) as the store keeps it: the one place it is written and
// read (requests.detail, JSON, version 2; db/sql/006 converts version 1). Reading checks every
// field's type: stored text that is not what this writes is an error naming the field, never a
// default nor an abort. Personalisation data is written only sealed (the shell seals it).
#pragma once

#include <string>
#include <string_view>

#include "otagw/common/result.hpp"
#include "requests/request_fsm.hpp"

namespace otagw::gateway {

std::string encode_request_data(const RequestData& data);
Result<RequestData> decode_request_data(std::string_view text);

} // namespace otagw::gateway
