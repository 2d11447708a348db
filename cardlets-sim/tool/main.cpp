// SPDX-License-Identifier: GPL-2.0-or-later
// cardlets-sim: a network of simulated SIM cards and handsets behind an SMPP SMSC.
//   cardlets-sim --smpp-listen 127.0.0.1:PORT --system-id ID --password PW --cards N --seed S
//                [--profile P] [--inventory FILE] [--export FILE] [--state FILE]
//                [--control 127.0.0.1:PORT] [--fault NAME=VALUE]... [--duration SECONDS]
//   cardlets-sim packet decode-command | encode-por ...   (offline, JSON)
//   cardlets-sim ctl --control HOST:PORT REQUEST...       (one control request, JSON)
#include <iostream>

#include "cli.hpp"

namespace sim_cli {

void usage_error(const std::string& option, const std::string& message) {
    throw UsageError(option.empty() ? message : option + ": " + message);
}

otagw::Bytes hex_option(const std::string& option, const std::string& value, size_t exact) {
    auto r = exact ? otagw::parse_hex_exact(value, exact, option) : otagw::parse_hex(value, option);
    if (!r)
        throw UsageError(r.error().message);
    return std::move(r).value();
}

} // namespace sim_cli

int main(int argc, char** argv) {
    CLI::App app{"cardlets-sim: simulated SIM cards, handsets and an SMSC"};
    int exit_code = 0;
    sim_cli::add_run(app, exit_code);
    sim_cli::add_packet_commands(app);
    sim_cli::add_ctl(app, exit_code);
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        // CLI11 quotes unexpected arguments: a mistyped option could put a key there.
        std::cerr << "cardlets-sim: " << otagw::redact_hex(e.what()) << '\n';
        return 2;
    } catch (const sim_cli::UsageError& e) {
        std::cerr << "cardlets-sim: " << e.what() << '\n';
        return 2;
    }
    return exit_code;
}
