// SPDX-License-Identifier: GPL-2.0-or-later
// The vocabulary of a request's life: the operations on a card application and the states an
// application has on a card (DESIGN.md §4), typed. Pure: no I/O.
//
//   absent -> installed -> active <-> suspended -> terminated
//   pending:<op>  while an operation's packet is in flight (written when it is sent)
//   unknown       when a PoR was lost: an audit (GET STATUS) reads the card
//
// Only a verified PoR moves an application to a state the card reports; the gateway writes
// pending:<op> and unknown itself, and puts back what it knew when an operation never reached
// the card.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace otagw::gateway {

enum class Operation : uint8_t {
    Activate = 1,
    Suspend = 2,
    Resume = 3,
    Terminate = 4,
    Query = 5,
    Install = 6,
};
const char* operation_name(Operation op); // "activate"
std::optional<Operation> operation_named(std::string_view name);

enum class AppState : uint8_t {
    Absent,
    Installed,
    Active,
    Suspended,
    Terminated,
    Unknown,
    Pending, // with the operation in flight
};

// An application's state as the gateway keeps it (db card_apps.state): "active",
// "pending:suspend", ...
struct CardAppState {
    AppState state = AppState::Absent;
    Operation pending = Operation::Query; // the operation in flight, for AppState::Pending

    static CardAppState pending_of(Operation op) { return {AppState::Pending, op}; }
    std::string name() const;
    static std::optional<CardAppState> parse(std::string_view name);
    bool operator==(const CardAppState& o) const {
        return state == o.state && (state != AppState::Pending || pending == o.pending);
    }
};
// Whether `op` is allowed from `from`: nullopt when it is, else why not (for the refusal):
//   install   from absent, terminated      activate  from installed
//   suspend   from active                  resume    from suspended
//   terminate from installed, active, suspended
//   query     from any state (it is how an unknown state is resolved)
std::optional<std::string> transition_refusal(Operation op, CardAppState from);

// The state for what the card reports (GP 2.3 §5.3.1): life cycle '03' installed, b8 set (locked)
// suspended, otherwise active; not in the registry: "terminated" after a terminate, else absent.
CardAppState state_from_registry(std::optional<uint8_t> life_cycle, Operation op);

// The state an operation aims at: install, activate and resume active, suspend suspended,
// terminate terminated; a query keeps `from`.
CardAppState target_state(Operation op, CardAppState from);
// Whether the card is where `op` leads (a deleted application also reads back as absent).
bool reached(Operation op, CardAppState state);

} // namespace otagw::gateway
