// SPDX-License-Identifier: GPL-2.0-or-later
// otactl: the operator's command line: offline packet and APDU tools, SMPP link tests, and
// the online commands through the daemon's admin API.
#include <csignal>

#include "cli.hpp"

int main(int argc, char** argv) {
    // A peer that goes away mid-write must be an error on that connection (EPIPE), not the
    // end of the process.
    std::signal(SIGPIPE, SIG_IGN);
    CLI::App app{"otactl: ota-gateway operator tool"};
    app.require_subcommand(1);
    int exit_code = 0;
    otactl::add_packet_commands(app);
    otactl::add_apdu_commands(app);
    otactl::add_smpp_commands(app, exit_code);
    otactl::add_api_commands(app, exit_code);
    return otagw::cli::run(app, argc, argv, "otactl", exit_code);
}
