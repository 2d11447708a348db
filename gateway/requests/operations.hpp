// SPDX-License-Identifier: GPL-2.0-or-later
// The GlobalPlatform script of each operation on a card application (GP Card Spec 2.3 §11).
//
// Every script ends with GET STATUS on the application's AID (GP §11.4), so the PoR carries the
// card's own registry entry (card_answer.hpp): the state the gateway records is the one the
// card reports, never the one it hoped for. Pure functions: no I/O.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "otagw/db/store.hpp"
#include "otagw/ota/apdu.hpp"
#include "requests/card_app.hpp"
#include "requests/request_fsm.hpp"

namespace otagw::gateway {

// What an operation needs besides the catalog entry.
struct OperationInput {
    // activate: the personalisation data for STORE DATA, DGI-formatted (GP §11.11.2.1), as the
    // provider returned it; empty sends no STORE DATA.
    Bytes personalisation;
    // terminate: DELETE of the load file with its related objects instead of the instance.
    bool related = false;
};

// The script for `op` on `app`, GET STATUS of the application last.
Result<std::vector<ota::Apdu>> operation_script(Operation op, const db::Application& app,
                                                const OperationInput& input);

struct CapLoad;

// The script a packet of `phase` carries for the request `ctx`: the operation's; the audit's
// GET STATUS (of the load file first when the install loads `cap`: the compact answer stops at
// its 6A88 when there is none); packet `index` of the load; the clean-up's DELETE of an
// unfinished load (GP 2.3 §11.2).
Result<std::vector<ota::Apdu>> packet_script(const RequestContext& ctx, const db::Application& app,
                                             const CapLoad* cap, Phase phase, uint32_t index);

} // namespace otagw::gateway
