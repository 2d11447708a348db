// SPDX-License-Identifier: GPL-2.0-or-later
// Minimal logging with one category per module and a replaceable sink (the daemon routes it to
// libosmocore logging). Lines that follow a card carry its ICCID and TAR; key material never
// goes into a log line.
#pragma once

#include <functional>
#include <string>
#include <string_view>

namespace otagw::log {

enum class Level { Debug, Info, Notice, Error };

using Sink = std::function<void(Level, std::string_view category, std::string_view message)>;
// Default: lines at or above the level of OTAGW_LOG (debug|info|notice|error, default notice)
// go to stderr.
void set_sink(Sink sink);
void write(Level level, std::string_view category, std::string_view message);
// Whether a line of `level` in `category` would be written: callers check it before they build
// a costly line (debug traces on the hot path). By default the OTAGW_LOG level; the daemon asks
// libosmocore's per-category levels.
using Filter = std::function<bool(Level, std::string_view category)>;
void set_filter(Filter filter);
bool enabled(Level level, std::string_view category);

inline void debug(std::string_view cat, std::string_view msg) {
    write(Level::Debug, cat, msg);
}
inline void info(std::string_view cat, std::string_view msg) {
    write(Level::Info, cat, msg);
}
inline void notice(std::string_view cat, std::string_view msg) {
    write(Level::Notice, cat, msg);
}
inline void error(std::string_view cat, std::string_view msg) {
    write(Level::Error, cat, msg);
}

} // namespace otagw::log
