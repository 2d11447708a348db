// SPDX-License-Identifier: GPL-2.0-or-later
// Logging sink: stderr by default, level from OTAGW_LOG.
#include "otagw/common/log.hpp"

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace otagw::log {

namespace {

const char* name(Level l) {
    switch (l) {
    case Level::Debug:
        return "DEBUG";
    case Level::Info:
        return "INFO";
    case Level::Notice:
        return "NOTICE";
    case Level::Error:
        return "ERROR";
    }
    return "?";
}

Level threshold() {
    const char* env = std::getenv("OTAGW_LOG");
    if (!env)
        return Level::Notice;
    if (!std::strcmp(env, "debug"))
        return Level::Debug;
    if (!std::strcmp(env, "info"))
        return Level::Info;
    if (!std::strcmp(env, "error"))
        return Level::Error;
    return Level::Notice;
}

Filter& filter() {
    static Filter f = [min = threshold()](Level l, std::string_view) {
        return l >= min;
    };
    return f;
}

Sink& sink() {
    static Sink s = [](Level l, std::string_view cat, std::string_view msg) {
        if (!enabled(l, cat))
            return;
        std::fprintf(stderr, "%s %.*s: %.*s\n", name(l), static_cast<int>(cat.size()), cat.data(),
                     static_cast<int>(msg.size()), msg.data());
    };
    return s;
}

} // namespace

void set_sink(Sink s) {
    sink() = std::move(s);
}

void set_filter(Filter f) {
    filter() = std::move(f);
}

bool enabled(Level level, std::string_view category) {
    return !filter() || filter()(level, category);
}

void write(Level level, std::string_view category, std::string_view message) {
    if (sink())
        sink()(level, category, message);
}

} // namespace otagw::log
