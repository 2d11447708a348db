// SPDX-License-Identifier: GPL-2.0-or-later
#include "config/timers.hpp"

#include <algorithm>
#include <charconv>

namespace otagw::gateway {

namespace {

#define OTAGW_MS_TIMER(field)                                                                      \
    [](const OtaConfig& c) -> int64_t { return c.field / 1000; }, [](OtaConfig& c, int64_t v) {    \
        c.field = v * 1000;                                                                        \
    }
#define OTAGW_VALUE(field)                                                                         \
    [](const OtaConfig& c) -> int64_t { return static_cast<int64_t>(c.field); },                   \
        [](OtaConfig& c, int64_t v) {                                                              \
            c.field = static_cast<decltype(c.field)>(v);                                           \
        }

const TimerDef kTimers[] = {
    {"por-timeout", "s", "Wait for a PoR (from the SMSC's acknowledgement) before reading the card",
     60, 1, 86400, OTAGW_MS_TIMER(limits.por_timeout_ms)},
    {"provider-timeout", "s", "Wait for the provider's decision (its client's own retries within)",
     120, 1, 86400, OTAGW_MS_TIMER(limits.provider_timeout_ms)},
    {"max-resyncs", "count", "Counter resynchronisations of one request before it fails", 2, 0, 100,
     OTAGW_VALUE(limits.max_resyncs)},
    {"max-sends", "count", "Sends of a request's operation (again after an audit found it not run)",
     3, 1, 100, OTAGW_VALUE(limits.max_sends)},
    {"max-audits", "count", "Audits (GET STATUS) without an answer before a request fails por_lost",
     3, 1, 100, OTAGW_VALUE(limits.max_audits)},
    {"max-load-restarts", "count",
     "Loads of a CAP file started again (after an interruption) before the install fails", 3, 0,
     100, OTAGW_VALUE(limits.max_load_restarts)},
    {"max-resync-jump", "count",
     "How far a counter-low PoR (sent in clear) may raise a keyset's counter", 1000000, 1,
     1099511627775, OTAGW_VALUE(limits.max_resync_jump)},
    {"bip-connect", "s", "Wait for the card's admin session after a push (BIP), then push again",
     90, 1, 86400, OTAGW_MS_TIMER(bip.connect_timeout_ms)},
    {"bip-results", "s", "Wait for the results of a script handed to the card over BIP", 120, 1,
     86400, OTAGW_MS_TIMER(bip.results_timeout_ms)},
    {"bip-hold", "s", "Hold a card's POST while its next script is written, then end the session",
     10, 1, 600, OTAGW_MS_TIMER(bip.hold_timeout_ms)},
    {"max-pushes", "count", "Pushes without the card coming before its scripts fail bip_no_session",
     3, 1, 100, OTAGW_VALUE(bip.max_pushes)},
    {"campaign-retry-delay", "s",
     "First pause before a campaign target is tried again after a transient failure (doubled "
     "at each further try)",
     30, 1, 3600, OTAGW_VALUE(campaign_retry_delay_s)},
    {"campaign-retry-max", "s", "Longest pause before a campaign target is tried again", 600, 1,
     86400, OTAGW_VALUE(campaign_retry_max_s)},
    {"callback-retry", "s",
     "First pause before a provider's result not acknowledged is sent again (doubled)", 5, 1, 3600,
     OTAGW_VALUE(callback_retry_s)},
    {"callback-retry-max", "s", "Longest pause before a provider's result is sent again", 300, 1,
     86400, OTAGW_VALUE(callback_retry_max_s)},
    {"callback-tries", "count",
     "Tries of a provider's result before it is given up (logged and audited)", 20, 1, 1000,
     OTAGW_VALUE(callback_tries)},
};

#undef OTAGW_MS_TIMER
#undef OTAGW_VALUE

} // namespace

std::span<const TimerDef> timer_defs() {
    return kTimers;
}

const TimerDef* timer_named(std::string_view name) {
    for (const auto& t : kTimers)
        if (name == t.name)
            return &t;
    return nullptr;
}

std::string timer_name_choice() {
    std::string s = "(";
    for (const auto& t : kTimers)
        s.append(s.size() > 1 ? "|" : "").append(t.name);
    return s + ")";
}

Status set_timer(OtaConfig& config, std::string_view name, std::string_view value) {
    const TimerDef* t = timer_named(name);
    if (!t)
        return make_error("timer " + std::string(name) + ": no such timer (see show timer)",
                          Errc::NotFound);
    int64_t v = t->default_value;
    if (value != "default") {
        const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
        if (ec != std::errc() || end != value.data() + value.size() || v < t->min || v > t->max)
            return make_error("timer " + std::string(name) + ": " + std::to_string(t->min) +
                                  " to " + std::to_string(t->max) + " " + t->unit + ", or default",
                              Errc::OutOfRange);
    }
    t->set(config, v);
    if (std::find(config.timers_given.begin(), config.timers_given.end(), t->name) ==
        config.timers_given.end())
        config.timers_given.emplace_back(t->name);
    return {};
}

bool timer_written(const OtaConfig& config, const TimerDef& t) {
    return t.get(config) != t.default_value ||
           std::find(config.timers_given.begin(), config.timers_given.end(), t.name) !=
               config.timers_given.end();
}

std::vector<std::string> show_timers(const OtaConfig& config) {
    std::vector<std::string> out;
    for (const auto& t : kTimers)
        out.push_back(std::string(t.name) + " = " + std::to_string(t.get(config)) + " " + t.unit +
                      " (default " + std::to_string(t.default_value) + "): " + t.description);
    return out;
}

} // namespace otagw::gateway
