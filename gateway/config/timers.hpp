// SPDX-License-Identifier: GPL-2.0-or-later
// The named timers and limits of the life cycles, in the manner of Osmocom's osmo_tdef: one
// table naming each, its unit, default and bounds, and where its value lives in the config.
// Set with `ota / timer NAME VALUE` (or `timer NAME default`), shown with `show timer`; the
// config writes back those it named and those that differ from their default.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"

namespace otagw::gateway {

struct TimerDef {
    const char* name;        // "por-timeout"
    const char* unit;        // "s" or "count"
    const char* description; // for `show timer` and the VTY help
    int64_t default_value;
    int64_t min, max;
    int64_t (*get)(const OtaConfig&);
    void (*set)(OtaConfig&, int64_t);
};

std::span<const TimerDef> timer_defs();
const TimerDef* timer_named(std::string_view name);
// "(por-timeout|provider-timeout|...)": the VTY's choice of names.
std::string timer_name_choice();
// `timer NAME VALUE`: an error (for the VTY) when NAME is unknown or VALUE out of its bounds.
Status set_timer(OtaConfig& config, std::string_view name, std::string_view value);
// Whether `write terminal` writes it: named by the config, or not at its default.
bool timer_written(const OtaConfig& config, const TimerDef& t);
// One line each: "por-timeout = 60 s (default 60): Seconds to wait ...".
std::vector<std::string> show_timers(const OtaConfig& config);

} // namespace otagw::gateway
