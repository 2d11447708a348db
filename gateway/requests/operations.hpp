// SPDX-License-Identifier: GPL-2.0-or-later
// What each operation on a card application means: from which states it is allowed, the
// GlobalPlatform script that does it (GP Card Spec 2.3 §11), and how the card's answer (the
// PoR's compact response, ETSI TS 102 226 §5.1.2) becomes the application's new state.
//
// Every script ends with GET STATUS on the application's AID (GP §11.4), so the PoR carries the
// card's own registry entry: the state the gateway records is the one the card reports, never
// the one it hoped for. Pure functions: no I/O.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "intake/application_request.hpp"
#include "otagw/db/store.hpp"
#include "otagw/ota/apdu.hpp"

namespace otagw::gateway {

// Application states as the gateway keeps them (db card_apps.state).
constexpr const char* kStateAbsent = "absent";
constexpr const char* kStateInstalled = "installed";
constexpr const char* kStateActive = "active";
constexpr const char* kStateSuspended = "suspended";
constexpr const char* kStateTerminated = "terminated";
constexpr const char* kStateUnknown = "unknown";

// Empty when `op` is allowed from `state`; else why not (for the refusal's message):
//   install   from absent, terminated      activate  from installed
//   suspend   from active                  resume    from suspended
//   terminate from installed, active, suspended
//   query     from any state (it is how an unknown state is resolved)
std::optional<std::string> transition_refusal(Operation op, std::string_view state);

// What an operation needs besides the catalog entry.
struct OperationInput {
    // activate: the personalisation data for STORE DATA, DGI-formatted (GP §11.11.2.1), as the
    // provider returned it; empty sends no STORE DATA.
    Bytes personalisation;
};

// The script for `op` on `app`, GET STATUS of the application last.
Result<std::vector<ota::Apdu>> operation_script(Operation op, const db::Application& app,
                                                const OperationInput& input);

// The card's answer to a script, read from the PoR's response data.
struct CardAnswer {
    bool completed = false;    // every command ran, the last GET STATUS answered
    size_t executed = 0;       // commands the card ran (the last one may have failed)
    uint16_t failed_sw = 0;    // SW of the command that stopped the script (when !completed)
    size_t failed_command = 0; // its index, 0-based
    // From the closing GET STATUS: the life cycle byte, or nullopt when the card says the
    // application is not there (6A88).
    std::optional<uint8_t> life_cycle;
    bool registry_known = false; // the closing GET STATUS answered
};
Result<CardAnswer> read_card_answer(ByteView por_data, size_t script_length, const ota::Apdu& last,
                                    std::string_view aid_hex);

// The gateway's state for what the card reports: life cycle '03' installed, b8 set suspended,
// otherwise active; absent after a terminate is "terminated", else "absent".
std::string state_from_registry(std::optional<uint8_t> life_cycle, Operation op);

// The state an operation aims at (for the reply and the audit): activate/resume "active", ...
std::string target_state(Operation op, std::string_view current);

} // namespace otagw::gateway
