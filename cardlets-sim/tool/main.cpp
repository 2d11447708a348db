// SPDX-License-Identifier: GPL-2.0-or-later
// cardlets-sim: a network of simulated SIM cards and handsets behind an SMPP SMSC.
//   cardlets-sim --smpp-listen 127.0.0.1:PORT --system-id ID --password PW --cards N --seed S
//                [--profile P] [--inventory FILE] [--export FILE] [--state FILE]
//                [--control 127.0.0.1:PORT] [--fault NAME=VALUE]... [--duration SECONDS]
//   cardlets-sim packet decode-command | encode-por ...   (offline, JSON)
//   cardlets-sim ctl --control HOST:PORT REQUEST...       (one control request, JSON)
#include <csignal>

#include "cli.hpp"

int main(int argc, char** argv) {
    // A peer that goes away mid-write must be an error on that connection (EPIPE), not the
    // end of the process.
    std::signal(SIGPIPE, SIG_IGN);
    CLI::App app{"cardlets-sim: simulated SIM cards, handsets and an SMSC"};
    int exit_code = 0;
    sim_cli::add_run(app, exit_code);
    sim_cli::add_packet_commands(app);
    sim_cli::add_ctl(app, exit_code);
    return otagw::cli::run(app, argc, argv, "cardlets-sim", exit_code);
}
