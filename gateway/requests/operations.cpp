// SPDX-License-Identifier: GPL-2.0-or-later
#include "requests/operations.hpp"

#include "otagw/ota/globalplatform.hpp"
#include "otagw/ota/ts_102_226.hpp"
#include "requests/cap_loads.hpp"

namespace otagw::gateway {

namespace {

using ota::Aid;
using ota::Apdu;
namespace gp = ota::gp;

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
        if (input.related) { // the package and every instance of it (GP 2.3 §11.2.2.1)
            if (app.load_file_aid.empty())
                return make_error("catalog: application " + app.name +
                                  " names no load file to delete");
            Aid load_file;
            OTAGW_TRY_ASSIGN(load_file, aid_of(app.load_file_aid, "load-file"));
            script.push_back(gp::delete_object(load_file, true));
        } else {
            script.push_back(gp::delete_object(*instance, false));
        }
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

// The script a packet carries: the operation's; the audit's GET STATUS (of the load file first,
// when the install loads a CAP: the compact answer stops at its 6A88 when there is none); packet
// `index` of the load; the clean-up's DELETE of an unfinished load (GP 2.3 §11.2).
Result<std::vector<ota::Apdu>> packet_script(const RequestContext& ctx, const db::Application& app,
                                             const CapLoad* cap, Phase phase, uint32_t index) {
    if ((phase == Phase::Load || phase == Phase::Clean) && !cap)
        return make_error("application " + app.name + " has no CAP file to load");
    switch (phase) {
    case Phase::Load:
        if (index >= cap->packets_for(ctx.data.bip).size())
            return make_error("the load of " + cap->path + " has no packet " +
                              std::to_string(index + 1));
        return cap->packets_for(ctx.data.bip)[index].script;
    case Phase::Clean:
        return std::vector<ota::Apdu>{ota::gp::delete_object(cap->cap.package.aid, false)};
    case Phase::Audit: {
        std::vector<ota::Apdu> script;
        OTAGW_TRY_ASSIGN(script, operation_script(Operation::Query, app, {}));
        if (ctx.loads() && cap) {
            ota::gp::GetStatusRequest elf;
            elf.scope = ota::gp::StatusScope::LoadFiles;
            elf.aid_filter.assign(cap->cap.package.aid.bytes().begin(),
                                  cap->cap.package.aid.bytes().end());
            ota::Apdu get;
            OTAGW_TRY_ASSIGN(get, ota::gp::get_status(elf));
            script.insert(script.begin(), std::move(get));
        }
        return script;
    }
    case Phase::Operation:
        break;
    }
    return operation_script(ctx.operation, app,
                            OperationInput{ctx.data.personalisation, ctx.data.related});
}

} // namespace otagw::gateway
