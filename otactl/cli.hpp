// SPDX-License-Identifier: GPL-2.0-or-later
// otactl: shared pieces of the command line (usage errors, JSON output, hex options).
#pragma once

#include <stdexcept>
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "otagw/common/bytes.hpp"

namespace otactl {

using Json = nlohmann::ordered_json;

// Bad input from the user: main() prints "otactl: <message>" and exits 2.
struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};
[[noreturn]] void usage_error(const std::string& option, const std::string& message);

// Parses a hex option value; the message names the option, never the value.
otagw::Bytes hex_option(const std::string& option, const std::string& value);
otagw::Bytes hex_option_exact(const std::string& option, const std::string& value, size_t size);
uint8_t byte_option(const std::string& option, const std::string& value);

// Unwraps a Result or reports its error against `option`.
template <typename T>
T take(otagw::Result<T> r, const std::string& option) {
    if (!r)
        usage_error(option, r.error().message);
    return std::move(r).value();
}

void print_json(const Json& j);

void add_packet_commands(CLI::App& app);
void add_apdu_commands(CLI::App& app);
// Online tools set `exit_code` (0 done, 1 failed).
void add_smpp_commands(CLI::App& app, int& exit_code);

} // namespace otactl
