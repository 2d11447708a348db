// SPDX-License-Identifier: GPL-2.0-or-later
// otactl apdu set-status | delete | install | install-for-load | load | get-status:
// GlobalPlatform command builders.
#include <fstream>
#include <iterator>
#include <memory>

#include "cli.hpp"
#include "otagw/common/tlv.hpp"
#include "otagw/ota/cap_file.hpp"
#include "otagw/ota/globalplatform.hpp"

namespace otactl {

using namespace otagw;
using namespace otagw::ota;

namespace {

Aid aid_option(const std::string& option, const std::string& value) {
    return take(Aid::parse(value), option);
}

void print_apdu(const Apdu& a) {
    print_json(Json{{"apdu", a.hex()}});
}

} // namespace

void add_apdu_commands(CLI::App& app) {
    CLI::App* apdu = app.add_subcommand("apdu", "GlobalPlatform command APDU builders");
    apdu->require_subcommand(1);

    // ---- set-status -----------------------------------------------------------------------------
    struct SetStatus {
        std::string aid;
        bool lock = false, unlock = false;
    };
    auto ss = std::make_shared<SetStatus>();
    CLI::App* set_status =
        apdu->add_subcommand("set-status", "SET STATUS: lock or unlock an application");
    set_status->add_option("--aid", ss->aid, "application AID, hex")->required();
    auto* lock = set_status->add_flag("--lock", ss->lock, "lock the application");
    auto* unlock = set_status->add_flag("--unlock", ss->unlock, "unlock the application");
    lock->excludes(unlock);
    set_status->callback([ss] {
        if (!ss->lock && !ss->unlock)
            usage_error("--lock/--unlock", "one of them is required");
        print_apdu(gp::set_application_lock(aid_option("--aid", ss->aid), ss->lock));
    });

    // ---- delete ---------------------------------------------------------------------------------
    struct Delete {
        std::string aid;
        bool related = false;
    };
    auto del = std::make_shared<Delete>();
    CLI::App* delete_cmd = apdu->add_subcommand("delete", "DELETE an application or load file");
    delete_cmd->add_option("--aid", del->aid, "AID to delete, hex")->required();
    delete_cmd->add_flag("--related", del->related, "delete related objects too");
    delete_cmd->callback(
        [del] { print_apdu(gp::delete_object(aid_option("--aid", del->aid), del->related)); });

    // ---- install --------------------------------------------------------------------------------
    struct Install {
        std::string package, module, instance, privileges = "00", params, c9, toolkit;
        bool selectable = false;
    };
    auto in = std::make_shared<Install>();
    CLI::App* install =
        apdu->add_subcommand("install", "INSTALL [for install (and make selectable)]");
    install->add_option("--package", in->package, "executable load file AID, hex")->required();
    install->add_option("--module", in->module, "executable module AID, hex")->required();
    install->add_option("--instance", in->instance, "application instance AID, hex")->required();
    install->add_option("--privileges", in->privileges,
                        "privileges, 1 or 3 bytes hex (default 00)");
    auto* params = install->add_option("--params", in->params,
                                       "whole install parameters field (C9/EF/EA TLVs), hex");
    auto* c9 =
        install->add_option("--c9", in->c9, "application specific parameters (C9 value), hex");
    auto* toolkit = install->add_option(
        "--toolkit", in->toolkit, "UICC toolkit application parameters (TS 102 226 EA value), hex");
    params->excludes(c9)->excludes(toolkit);
    install->add_flag("--selectable", in->selectable, "[for install and make selectable]");
    install->callback([in, params, c9, toolkit] {
        gp::InstallForInstall p;
        p.load_file = aid_option("--package", in->package);
        p.module = aid_option("--module", in->module);
        p.instance = aid_option("--instance", in->instance);
        p.privileges = take(gp::Privileges::from_bytes(hex_option("--privileges", in->privileges)),
                            "--privileges");
        if (params->count() > 0) {
            p.install_parameters = hex_option("--params", in->params);
        } else {
            gp::InstallParameters ip;
            if (c9->count() > 0)
                ip.c9 = hex_option("--c9", in->c9);
            if (toolkit->count() > 0)
                ip.uicc_toolkit = hex_option("--toolkit", in->toolkit);
            p.install_parameters = take(ip.encode(), "--c9/--toolkit");
        }
        p.make_selectable = in->selectable;
        print_apdu(take(gp::install_for_install(p), params->count() ? "--params" : ""));
    });

    // ---- install-for-load -----------------------------------------------------------------------
    struct InstallForLoad {
        std::string package, sd, hash, params;
    };
    auto ifl = std::make_shared<InstallForLoad>();
    CLI::App* for_load =
        apdu->add_subcommand("install-for-load", "INSTALL [for load] (GP 2.3 §11.5.2.3.1)");
    for_load->add_option("--package", ifl->package, "load file (package) AID, hex")->required();
    for_load->add_option("--sd", ifl->sd, "security domain AID, hex (default: none, empty field)");
    for_load->add_option("--hash", ifl->hash, "load file data block hash, hex (default: none)");
    for_load->add_option("--params", ifl->params, "load parameters field, hex (default: none)");
    for_load->callback([ifl] {
        gp::InstallForLoad p;
        p.load_file = aid_option("--package", ifl->package);
        if (!ifl->sd.empty())
            p.security_domain = aid_option("--sd", ifl->sd);
        p.load_file_hash = hex_option("--hash", ifl->hash);
        p.load_parameters = hex_option("--params", ifl->params);
        if (p.load_file_hash.size() > 64)
            usage_error("--hash", "at most 64 bytes (SHA-512)");
        if (!p.load_parameters.empty() && !tlv::parse_ber_tlvs(p.load_parameters))
            usage_error("--params", "not well-formed BER-TLV");
        print_apdu(take(gp::install_for_load(p), "--package"));
    });

    // ---- load -----------------------------------------------------------------------------------
    struct Load {
        std::string cap;
        size_t block_size = 255;
        bool with_descriptor = false;
    };
    auto ld = std::make_shared<Load>();
    CLI::App* load = apdu->add_subcommand(
        "load", "LOAD commands for a CAP file's load file data block (GP 2.3 §11.6)");
    load->add_option("--cap", ld->cap, "CAP file (a ZIP archive)")->required();
    load->add_option("--block-size", ld->block_size, "bytes of the block per LOAD (1-255)");
    load->add_flag("--with-descriptor", ld->with_descriptor,
                   "append the Descriptor component (left out by default)");
    load->callback([ld] {
        std::ifstream file_in(ld->cap, std::ios::binary);
        if (!file_in)
            usage_error("--cap", ld->cap + ": cannot open");
        const Bytes zip((std::istreambuf_iterator<char>(file_in)),
                        std::istreambuf_iterator<char>());
        const cap::CapFile file = take(cap::read(zip), "--cap");
        const Bytes block = file.load_file_data_block(ld->with_descriptor);
        const auto apdus = take(gp::load_commands(block, ld->block_size), "--block-size");
        Json applets = Json::array(), imports = Json::array(), hex = Json::array();
        for (const Aid& a : file.applets)
            applets.push_back(a.hex());
        for (const cap::PackageRef& p : file.imports)
            imports.push_back(
                {{"aid", p.aid.hex()},
                 {"version", std::to_string(p.major) + "." + std::to_string(p.minor)}});
        for (const Apdu& a : apdus)
            hex.push_back(a.hex());
        print_json(Json{{"package_aid", file.package.aid.hex()},
                        {"package_version", std::to_string(file.package.major) + "." +
                                                std::to_string(file.package.minor)},
                        {"applets", applets},
                        {"imports", imports},
                        {"load_file_size", block.size()},
                        {"apdus", hex}});
    });

    // ---- get-status -----------------------------------------------------------------------------
    struct GetStatus {
        std::string scope, aid_filter;
    };
    auto gs = std::make_shared<GetStatus>();
    CLI::App* get_status = apdu->add_subcommand("get-status", "GET STATUS (TLV response format)");
    get_status->add_option("--scope", gs->scope, "isd | apps | loadfiles | modules")
        ->required()
        ->check(CLI::IsMember({"isd", "apps", "loadfiles", "modules"}));
    get_status->add_option("--aid-filter", gs->aid_filter, "AID prefix to match (default: all)");
    get_status->callback([gs] {
        gp::GetStatusRequest req;
        if (gs->scope == "isd")
            req.scope = gp::StatusScope::Isd;
        else if (gs->scope == "apps")
            req.scope = gp::StatusScope::Applications;
        else if (gs->scope == "loadfiles")
            req.scope = gp::StatusScope::LoadFiles;
        else
            req.scope = gp::StatusScope::LoadFilesAndModules;
        if (!gs->aid_filter.empty())
            req.aid_filter = hex_option("--aid-filter", gs->aid_filter);
        print_apdu(take(gp::get_status(req), "--aid-filter"));
    });
}

} // namespace otactl
