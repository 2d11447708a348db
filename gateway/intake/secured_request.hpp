// SPDX-License-Identifier: GPL-2.0-or-later
// A request the card's toolkit client secured itself (doc/application-requests.md): a command
// packet behind IE '70' (TS 31.115 §4.2) to the short code, under the card's keyset, with its
// own counter (higher than the last it sent: else a replay), a cryptographic checksum, and the
// TAR of the application it speaks for. Read into a NewRequest, refused with its reason when a
// check fails.
#pragma once

#include <functional>

#include "config/config.hpp"
#include "intake/request_intake.hpp"
#include "otagw/common/counters.hpp"
#include "otagw/smpp/esme.hpp"

namespace otagw::gateway {

// `audit(action, iccid, text)` records what the checks found (a failed checksum, a replay).
using AuditFn =
    std::function<void(const char* action, const std::string& subject, const std::string& text)>;

// An error only for a store failure; refusals come back as the request's refusal.
Result<NewRequest> read_secured_request(const smpp::Mo& mo, db::Store& store, Catalog& catalog,
                                        const GatewayConfig& config, Counters& counters,
                                        const AuditFn& audit);

} // namespace otagw::gateway
