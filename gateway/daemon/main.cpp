// SPDX-License-Identifier: GPL-2.0-or-later
// ota-gatewayd -c ota-gateway.cfg: the OTA gateway daemon. Reads the config (Osmocom VTY
// syntax), opens the store, serves the admin API and the telnet VTY, binds to the SMSC, and
// runs until SIGTERM.
#include <csignal>
#include <fstream>
#include <iterator>
#include <unistd.h>

#include <cstdio>
#include <string>

#include <CLI/CLI.hpp>

#include "config/vty.hpp"
#include "config/vty_auth.hpp"
#include "daemon/daemon.hpp"
#include "otagw/common/log.hpp"
#include "otagw/common/osmo.hpp"

namespace {

// One libosmocore log category per module (CONVENTIONS.md); otagw::log lines go through it.
enum Category { DDAEMON, DDB, DAPI, DSMPP, DVTY, DOSMO, DREQ, DCAMP, DPROV, DINTAKE, kCategories };

log_info_cat make_cat(const char* name, const char* description) {
    log_info_cat c{};
    c.name = name;
    c.color = nullptr;
    c.description = description;
    c.loglevel = LOGL_NOTICE;
    c.enabled = 1;
    return c;
}

const log_info_cat g_categories[kCategories] = {
    make_cat("DDAEMON", "Daemon start, stop and wiring"),
    make_cat("DDB", "State store"),
    make_cat("DAPI", "Admin HTTP API"),
    make_cat("DSMPP", "SMPP links to the SMSC"),
    make_cat("DVTY", "VTY and config"),
    make_cat("DOSMO", "libosmocore bridge"),
    make_cat("DREQ", "Requests: every transition of their state machine (debug), outcomes"),
    make_cat("DCAMP", "Campaigns and their targets' transitions (debug)"),
    make_cat("DPROV", "Application providers: calls, retries, results owed"),
    make_cat("DINTAKE", "MO SMS and requests as they come in"),
};

log_info g_log_info = [] {
    log_info i{};
    i.cat = g_categories;
    i.num_cat = kCategories;
    return i;
}();

int category_of(std::string_view name) {
    if (name == "db")
        return DDB;
    if (name == "api")
        return DAPI;
    if (name == "smpp")
        return DSMPP;
    if (name == "vty")
        return DVTY;
    if (name == "osmo")
        return DOSMO;
    if (name == "request")
        return DREQ;
    if (name == "campaign")
        return DCAMP;
    if (name == "provider")
        return DPROV;
    if (name == "intake")
        return DINTAKE;
    return DDAEMON;
}

int level_of(otagw::log::Level l) {
    switch (l) {
    case otagw::log::Level::Debug:
        return LOGL_DEBUG;
    case otagw::log::Level::Info:
        return LOGL_INFO;
    case otagw::log::Level::Notice:
        return LOGL_NOTICE;
    case otagw::log::Level::Error:
        return LOGL_ERROR;
    }
    return LOGL_NOTICE;
}

otagw::gateway::GatewayConfig g_config;

vty_app_info g_vty_info = [] {
    vty_app_info i{};
    i.name = "ota-gatewayd";
    i.version = "0.1.0";
    i.copyright = "ota-gateway contributors, GPL-2.0-or-later\r\n";
    return i;
}();

} // namespace

int main(int argc, char** argv) {
    // A peer that goes away mid-write must be an error on that connection (EPIPE), not the
    // end of the process.
    std::signal(SIGPIPE, SIG_IGN);
    // A file size limit reached is a write error (EFBIG), handled like a full disk: the daemon
    // goes degraded instead of being killed.
    std::signal(SIGXFSZ, SIG_IGN);
    CLI::App app{"ota-gatewayd: OTA SMS-PP gateway daemon"};
    std::string config_file;
    bool check_only = false;
    app.add_option("-c,--config-file", config_file, "Config file (Osmocom VTY syntax)")->required();
    app.add_flag("--check", check_only, "Read and check the config, then exit");
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }

    void* ctx = talloc_named_const(nullptr, 0, "ota-gatewayd");
    osmo_init_logging2(ctx, &g_log_info);
    log_set_print_category(osmo_stderr_target, 1);
    log_set_print_category_hex(osmo_stderr_target, 0);
    log_set_print_filename2(osmo_stderr_target, LOG_FILENAME_NONE);
    log_set_print_level(osmo_stderr_target, 1);
    log_set_use_color(osmo_stderr_target, 0);
    otagw::log::set_sink([](otagw::log::Level level, std::string_view cat, std::string_view msg) {
        LOGP(category_of(cat), level_of(level), "%.*s\n", static_cast<int>(msg.size()), msg.data());
    });
    // Lines below a category's level are not even built (the request traces).
    otagw::log::set_filter([](otagw::log::Level level, std::string_view cat) {
        return log_check_level(category_of(cat), static_cast<unsigned>(level_of(level))) != 0;
    });

    g_vty_info.tall_ctx = ctx;
    vty_init(&g_vty_info);
    logging_vty_add_cmds();
    otagw::gateway::install_vty(&g_config);

    if (vty_read_config_file(config_file.c_str(), nullptr) < 0) {
        std::fprintf(stderr,
                     "ota-gatewayd: config file %s: cannot read it, or a line above is "
                     "wrong\n",
                     config_file.c_str());
        return 1;
    }
    std::ifstream config_in(config_file);
    const std::string config_text((std::istreambuf_iterator<char>(config_in)),
                                  std::istreambuf_iterator<char>());
    if (otagw::Status st = otagw::gateway::vty_auth::arm(config_text); !st) {
        std::fprintf(stderr, "ota-gatewayd: config file %s: %s\n", config_file.c_str(),
                     st.error().message.c_str());
        return 1;
    }
    if (otagw::Status st = otagw::gateway::validate_config(g_config); !st) {
        std::fprintf(stderr, "ota-gatewayd: config file %s: %s\n", config_file.c_str(),
                     st.error().message.c_str());
        return 1;
    }
    if (check_only) {
        std::printf("config %s is valid\n", config_file.c_str());
        return 0;
    }

    uv_loop_t loop;
    uv_loop_init(&loop);
    int rc = 0;
    {
        otagw::gateway::Daemon daemon(&loop, g_config);
        if (otagw::Status st = daemon.start(ctx); !st) {
            std::fprintf(stderr, "ota-gatewayd: %s\n", st.error().message.c_str());
            daemon.shutdown("start failed");
            rc = 1;
        }
        uv_run(&loop, UV_RUN_DEFAULT);
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    return rc;
}
