// SPDX-License-Identifier: GPL-2.0-or-later
// otactl: the operator's command line. Offline packet and APDU tools for now.
#include "cli.hpp"

int main(int argc, char** argv) {
    CLI::App app{"otactl: ota-gateway operator tool"};
    app.require_subcommand(1);
    int exit_code = 0;
    otactl::add_packet_commands(app);
    otactl::add_apdu_commands(app);
    otactl::add_smpp_commands(app, exit_code);
    return otagw::cli::run(app, argc, argv, "otactl", exit_code);
}
