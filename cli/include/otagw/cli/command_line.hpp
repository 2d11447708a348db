// SPDX-License-Identifier: GPL-2.0-or-later
// What every ota-gateway program's command line shares: usage errors (exit 2, naming the option,
// never echoing a secret), hex options, JSON output and the CLI11 main loop.
#pragma once

#include <stdexcept>
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "otagw/common/bytes.hpp"
#include "otagw/common/result.hpp"

namespace otagw::cli {

using Json = nlohmann::ordered_json;

// Bad input from the user: run() prints "<program>: <message>" and exits 2.
struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};
[[noreturn]] void usage_error(const std::string& option, const std::string& message);

// Parses a hex option value (of exactly `exact` bytes unless 0); the message names the option,
// never the value.
Bytes hex_option(const std::string& option, const std::string& value, size_t exact = 0);
uint8_t byte_option(const std::string& option, const std::string& value);

// Unwraps a Result or reports its error against `option`.
template <typename T>
T take(Result<T> r, const std::string& option) {
    if (!r)
        usage_error(option, r.error().message);
    return std::move(r).value();
}

// One JSON document per line on stdout.
void print_json(const Json& j);

// Parses the command line and runs the chosen subcommand's callback. Returns the exit status:
// `exit_code` as the callback left it, 0 for --help, 2 for a usage error.
int run(CLI::App& app, int argc, char** argv, const char* program, const int& exit_code);

} // namespace otagw::cli
