// SPDX-License-Identifier: GPL-2.0-or-later
// otactl: the operator's command line. Offline packet and APDU tools for now.
#include <cstdio>
#include <iostream>

#include "cli.hpp"

namespace otactl {

void usage_error(const std::string& option, const std::string& message) {
    throw UsageError(option.empty() ? message : option + ": " + message);
}

otagw::Bytes hex_option(const std::string& option, const std::string& value) {
    auto r = otagw::parse_hex(value, option);
    if (!r)
        throw UsageError(r.error().message);
    return std::move(r).value();
}

otagw::Bytes hex_option_exact(const std::string& option, const std::string& value, size_t size) {
    auto r = otagw::parse_hex_exact(value, size, option);
    if (!r)
        throw UsageError(r.error().message);
    return std::move(r).value();
}

uint8_t byte_option(const std::string& option, const std::string& value) {
    return hex_option_exact(option, value, 1)[0];
}

void print_json(const Json& j) {
    std::cout << j.dump() << '\n';
}

} // namespace otactl

int main(int argc, char** argv) {
    CLI::App app{"otactl: ota-gateway operator tool"};
    app.require_subcommand(1);
    int exit_code = 0;
    otactl::add_packet_commands(app);
    otactl::add_apdu_commands(app);
    otactl::add_smpp_commands(app, exit_code);
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        // CLI11 quotes unexpected arguments: a mistyped option could put a key there.
        std::cerr << "otactl: " << otagw::redact_hex(e.what()) << '\n';
        return 2;
    } catch (const otactl::UsageError& e) {
        std::cerr << "otactl: " << e.what() << '\n';
        return 2;
    }
    return exit_code;
}
