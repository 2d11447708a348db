// SPDX-License-Identifier: GPL-2.0-or-later
#include "requests/card_app.hpp"

#include <initializer_list>

#include "otagw/ota/globalplatform.hpp"

namespace otagw::gateway {

namespace {

const char* app_state_name(AppState s) {
    switch (s) {
    case AppState::Absent:
        return "absent";
    case AppState::Installed:
        return "installed";
    case AppState::Active:
        return "active";
    case AppState::Suspended:
        return "suspended";
    case AppState::Terminated:
        return "terminated";
    case AppState::Unknown:
        return "unknown";
    case AppState::Pending:
        return "pending";
    }
    return "?";
}

} // namespace

const char* operation_name(Operation op) {
    switch (op) {
    case Operation::Activate:
        return "activate";
    case Operation::Suspend:
        return "suspend";
    case Operation::Resume:
        return "resume";
    case Operation::Terminate:
        return "terminate";
    case Operation::Query:
        return "query";
    case Operation::Install:
        return "install";
    }
    return "?";
}

std::optional<Operation> operation_named(std::string_view name) {
    for (auto op : {Operation::Activate, Operation::Suspend, Operation::Resume,
                    Operation::Terminate, Operation::Query, Operation::Install})
        if (name == operation_name(op))
            return op;
    return std::nullopt;
}

std::string CardAppState::name() const {
    if (state == AppState::Pending)
        return std::string("pending:") + operation_name(pending);
    return app_state_name(state);
}

std::optional<CardAppState> CardAppState::parse(std::string_view name) {
    if (name.starts_with("pending:")) {
        auto op = operation_named(name.substr(8));
        if (!op)
            return std::nullopt;
        return pending_of(*op);
    }
    for (auto s : {AppState::Absent, AppState::Installed, AppState::Active, AppState::Suspended,
                   AppState::Terminated, AppState::Unknown})
        if (name == app_state_name(s))
            return CardAppState{s, Operation::Query};
    return std::nullopt;
}

std::optional<std::string> transition_refusal(Operation op, CardAppState from) {
    const AppState s = from.state;
    bool ok = false;
    switch (op) {
    case Operation::Install:
        ok = s == AppState::Absent || s == AppState::Terminated;
        break;
    case Operation::Activate:
        ok = s == AppState::Installed;
        break;
    case Operation::Suspend:
        ok = s == AppState::Active;
        break;
    case Operation::Resume:
        ok = s == AppState::Suspended;
        break;
    case Operation::Terminate:
        ok = s == AppState::Installed || s == AppState::Active || s == AppState::Suspended;
        break;
    case Operation::Query:
        ok = true;
        break;
    }
    if (ok)
        return std::nullopt;
    return std::string(operation_name(op)) + " is not allowed: the application is " + from.name();
}

CardAppState state_from_registry(std::optional<uint8_t> life_cycle, Operation op) {
    if (!life_cycle)
        return {op == Operation::Terminate ? AppState::Terminated : AppState::Absent};
    if (*life_cycle & ota::gp::kAppLockedBit)
        return {AppState::Suspended};
    if (*life_cycle == ota::gp::kAppInstalled)
        return {AppState::Installed};
    return {AppState::Active};
}

CardAppState target_state(Operation op, CardAppState from) {
    switch (op) {
    case Operation::Install:
    case Operation::Activate:
    case Operation::Resume:
        return {AppState::Active};
    case Operation::Suspend:
        return {AppState::Suspended};
    case Operation::Terminate:
        return {AppState::Terminated};
    case Operation::Query:
        break;
    }
    return from;
}

bool reached(Operation op, CardAppState state) {
    return state == target_state(op, state) ||
           (op == Operation::Terminate && state.state == AppState::Absent);
}

} // namespace otagw::gateway
