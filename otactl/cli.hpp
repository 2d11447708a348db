// SPDX-License-Identifier: GPL-2.0-or-later
// otactl: its subcommands, and the shared command-line pieces it uses.
#pragma once

#include "otagw/cli/command_line.hpp"

namespace otactl {

using otagw::cli::byte_option;
using otagw::cli::hex_option;
using otagw::cli::Json;
using otagw::cli::print_json;
using otagw::cli::take;
using otagw::cli::usage_error;
using otagw::cli::UsageError;

void add_packet_commands(CLI::App& app);
void add_apdu_commands(CLI::App& app);
// Online tools set `exit_code` (0 done, 1 failed).
void add_smpp_commands(CLI::App& app, int& exit_code);
// Online commands through the daemon's admin API.
void add_api_commands(CLI::App& app, int& exit_code);

} // namespace otactl
