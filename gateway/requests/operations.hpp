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

namespace otagw::gateway {

// What an operation needs besides the catalog entry.
struct OperationInput {
    // activate: the personalisation data for STORE DATA, DGI-formatted (GP §11.11.2.1), as the
    // provider returned it; empty sends no STORE DATA.
    Bytes personalisation;
};

// The script for `op` on `app`, GET STATUS of the application last.
Result<std::vector<ota::Apdu>> operation_script(Operation op, const db::Application& app,
                                                const OperationInput& input);

} // namespace otagw::gateway
