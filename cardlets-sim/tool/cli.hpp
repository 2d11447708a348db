// SPDX-License-Identifier: GPL-2.0-or-later
// cardlets-sim command line: shared pieces (usage errors, JSON output, hex options).
#pragma once

#include <stdexcept>
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "otagw/common/bytes.hpp"

namespace sim_cli {

using Json = nlohmann::ordered_json;

// Bad input from the user: main() prints "cardlets-sim: <message>" and exits 2.
struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};
[[noreturn]] void usage_error(const std::string& option, const std::string& message);
otagw::Bytes hex_option(const std::string& option, const std::string& value, size_t exact = 0);

void add_packet_commands(CLI::App& app);
void add_run(CLI::App& app, int& exit_code);
void add_ctl(CLI::App& app, int& exit_code);

} // namespace sim_cli
