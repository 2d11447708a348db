// SPDX-License-Identifier: GPL-2.0-or-later
// MSISDNs as they come from the SMSC (SMPP source_addr with its TON, SMPP 3.4 §5.2.5) or from
// an API call, normalised to E.164 digits (ITU-T E.164, without '+') with libphonenumber, and
// checked against the operator's number ranges.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "otagw/common/result.hpp"

namespace otagw::gateway {

struct MsisdnPolicy {
    // ISO 3166-1 region for numbers written nationally ("07911 123456" in "GB"); empty: only
    // international numbers are accepted.
    std::string region;
    // E.164 prefixes the operator serves ("44791", "999"); empty: every number.
    std::vector<std::string> ranges;
};

// TON: 0 unknown, 1 international, 2 national (SMPP 3.4 §5.2.5). "+" always means
// international. The error says what is wrong with the number; a well-formed number outside
// the policy's ranges is Errc::OutOfRange.
Result<std::string> normalize_msisdn(std::string_view address, uint8_t ton,
                                     const MsisdnPolicy& policy);

// Not empty, ASCII digits only (MSISDNs, ICCIDs, ids in paths).
bool all_digits(std::string_view s);

} // namespace otagw::gateway
