// SPDX-License-Identifier: GPL-2.0-or-later
#include "requests/operations.hpp"

#include "otagw/ota/globalplatform.hpp"
#include "otagw/ota/ts_102_226.hpp"

namespace otagw::gateway {

namespace {

using ota::Aid;
using ota::Apdu;
namespace gp = ota::gp;

bool one_of(std::string_view s, std::initializer_list<std::string_view> states) {
    for (auto x : states)
        if (s == x)
            return true;
    return false;
}

constexpr uint16_t kSwOk = 0x9000;
constexpr uint16_t kSwNotFound = 0x6a88; // GP §11.4.3: no registry entry matches

Result<Aid> aid_of(const std::string& hex, const char* what) {
    auto aid = Aid::parse(hex);
    if (!aid)
        return make_error(std::string("catalog: ") + what + " '" + hex +
                          "': " + aid.error().message);
    return aid;
}

// UICC toolkit application specific parameters (ETSI TS 102 226 §8.2.1.3.2.2): priority 01,
// no timers, no menu entries, no channels, then the minimum security level ('02' 01 MSL) and
// the TAR list ('03' n TAR...) the application answers on.
Result<Bytes> toolkit_parameters(const db::Application& app) {
    auto tar = parse_hex(app.tar, "tar");
    if (!tar)
        return tar.take_error();
    if (tar->size() != 3)
        return make_error("catalog: application " + app.name + ": a TAR is 3 bytes");
    Bytes p = {0x01, 0x00, 0x00, 0x00, 0x00, 0x02, 0x01, app.msl, 0x03};
    append(p, *tar);
    return p;
}

} // namespace

std::optional<std::string> transition_refusal(Operation op, std::string_view state) {
    bool ok = false;
    switch (op) {
    case Operation::Install:
        ok = one_of(state, {kStateAbsent, kStateTerminated});
        break;
    case Operation::Activate:
        ok = state == kStateInstalled;
        break;
    case Operation::Suspend:
        ok = state == kStateActive;
        break;
    case Operation::Resume:
        ok = state == kStateSuspended;
        break;
    case Operation::Terminate:
        ok = one_of(state, {kStateInstalled, kStateActive, kStateSuspended});
        break;
    case Operation::Query:
        ok = true;
        break;
    }
    if (ok)
        return std::nullopt;
    std::string why = std::string(operation_name(op)) + " is not allowed: the application is ";
    why.append(state);
    return why;
}

Result<std::vector<Apdu>> operation_script(Operation op, const db::Application& app,
                                           const OperationInput& input) {
    auto instance = aid_of(app.aid, "aid");
    if (!instance)
        return instance.take_error();
    std::vector<Apdu> script;
    switch (op) {
    case Operation::Install: {
        if (app.load_file_aid.empty() || app.module_aid.empty())
            return make_error("catalog: application " + app.name +
                              " has no load file or module to install from");
        gp::InstallForInstall ins;
        OTAGW_TRY_ASSIGN(ins.load_file, aid_of(app.load_file_aid, "load-file"));
        OTAGW_TRY_ASSIGN(ins.module, aid_of(app.module_aid, "module"));
        ins.instance = *instance;
        ins.make_selectable = true;
        gp::InstallParameters params;
        if (!app.install_params.empty())
            OTAGW_TRY_ASSIGN(params.c9, parse_hex(app.install_params, "install-params"));
        OTAGW_TRY_ASSIGN(params.uicc_toolkit, toolkit_parameters(app));
        OTAGW_TRY_ASSIGN(ins.install_parameters, params.encode());
        Apdu install;
        OTAGW_TRY_ASSIGN(install, gp::install_for_install(ins));
        script.push_back(std::move(install));
        break;
    }
    case Operation::Activate: {
        if (!input.personalisation.empty()) {
            Apdu perso;
            OTAGW_TRY_ASSIGN(perso, gp::install_for_personalization(*instance));
            script.push_back(std::move(perso));
            std::vector<Apdu> blocks;
            OTAGW_TRY_ASSIGN(blocks, gp::store_data(input.personalisation, 200, gp::kStoreDataDgi));
            for (auto& b : blocks)
                script.push_back(std::move(b));
        }
        Apdu selectable;
        OTAGW_TRY_ASSIGN(selectable, gp::install_for_make_selectable(*instance, {}));
        script.push_back(std::move(selectable));
        break;
    }
    case Operation::Suspend:
    case Operation::Resume:
        script.push_back(gp::set_application_lock(*instance, op == Operation::Suspend));
        break;
    case Operation::Terminate:
        script.push_back(gp::delete_object(*instance, false));
        break;
    case Operation::Query:
        break;
    }
    gp::GetStatusRequest status;
    status.scope = gp::StatusScope::Applications;
    status.aid_filter.assign(instance->bytes().begin(), instance->bytes().end());
    Apdu get;
    OTAGW_TRY_ASSIGN(get, gp::get_status(status));
    script.push_back(std::move(get));
    return script;
}

Result<CardAnswer> read_card_answer(ByteView por_data, size_t script_length, const Apdu& last,
                                    std::string_view aid_hex) {
    auto compact = ota::ram::parse_compact_response(por_data);
    if (!compact)
        return make_error("PoR response data: " + compact.error().message);
    CardAnswer a;
    a.executed = compact->executed;
    if (a.executed == 0 || a.executed > script_length)
        return make_error("PoR response data: the card says it ran " + std::to_string(a.executed) +
                          " of " + std::to_string(script_length) + " commands");
    const bool last_ran = a.executed == script_length;
    const uint16_t sw = compact->last_sw;
    if (last_ran && (sw == kSwOk || sw == kSwNotFound)) {
        a.completed = true;
        a.registry_known = true;
        if (sw == kSwNotFound)
            return a;
        gp::StatusScope scope = gp::StatusScope::Applications;
        auto entries = gp::parse_get_status_response(compact->last_data, scope,
                                                     last.p2 & 0x02 /* TLV format */);
        if (!entries)
            return make_error("GET STATUS answer: " + entries.error().message);
        for (const auto& e : *entries)
            if (e.aid.hex() == aid_hex)
                a.life_cycle = e.life_cycle;
        if (!a.life_cycle)
            return make_error("GET STATUS answer does not list " + std::string(aid_hex));
        return a;
    }
    a.failed_command = a.executed - 1;
    a.failed_sw = sw;
    return a;
}

std::string state_from_registry(std::optional<uint8_t> life_cycle, Operation op) {
    if (!life_cycle)
        return op == Operation::Terminate ? kStateTerminated : kStateAbsent;
    if (*life_cycle & gp::kAppLockedBit)
        return kStateSuspended;
    if (*life_cycle == gp::kAppInstalled)
        return kStateInstalled;
    return kStateActive;
}

std::string target_state(Operation op, std::string_view current) {
    switch (op) {
    case Operation::Install:
    case Operation::Activate:
    case Operation::Resume:
        return kStateActive;
    case Operation::Suspend:
        return kStateSuspended;
    case Operation::Terminate:
        return kStateTerminated;
    case Operation::Query:
        break;
    }
    return std::string(current);
}

} // namespace otagw::gateway
