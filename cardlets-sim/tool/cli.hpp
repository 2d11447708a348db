// SPDX-License-Identifier: GPL-2.0-or-later
// cardlets-sim command line: its subcommands, and the shared command-line pieces it uses.
#pragma once

#include "otagw/cli/command_line.hpp"

namespace sim_cli {

using otagw::cli::hex_option;
using otagw::cli::Json;
using otagw::cli::usage_error;
using otagw::cli::UsageError;

void add_packet_commands(CLI::App& app);
void add_run(CLI::App& app, int& exit_code);
void add_ctl(CLI::App& app, int& exit_code);

} // namespace sim_cli
