// SPDX-License-Identifier: GPL-2.0-or-later
#include "otagw/cli/command_line.hpp"

#include <iostream>

namespace otagw::cli {

void usage_error(const std::string& option, const std::string& message) {
    throw UsageError(option.empty() ? message : option + ": " + message);
}

Bytes hex_option(const std::string& option, const std::string& value, size_t exact) {
    auto r = exact ? parse_hex_exact(value, exact, option) : parse_hex(value, option);
    if (!r)
        throw UsageError(r.error().message);
    return std::move(r).value();
}

uint8_t byte_option(const std::string& option, const std::string& value) {
    return hex_option(option, value, 1)[0];
}

void print_json(const Json& j) {
    std::cout << j.dump() << '\n';
}

int run(CLI::App& app, int argc, char** argv, const char* program, const int& exit_code) {
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        // CLI11 quotes unexpected arguments: a mistyped option could put a key there.
        std::cerr << program << ": " << redact_hex(e.what()) << '\n';
        return 2;
    } catch (const UsageError& e) {
        std::cerr << program << ": " << e.what() << '\n';
        return 2;
    }
    return exit_code;
}

} // namespace otagw::cli
