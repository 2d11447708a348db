// SPDX-License-Identifier: GPL-2.0-or-later
// Named event counters ("smpp:submit_sm:sent"), the rate counters of a module. The daemon
// exports them (VTY, metrics); tests read them.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace otagw {

class Counters {
public:
    void inc(std::string_view name, uint64_t by = 1) { values_[std::string(name)] += by; }
    // A gauge (a value measured now, e.g. a latency percentile) kept with the counters.
    void set(std::string_view name, uint64_t value) { values_[std::string(name)] = value; }
    uint64_t get(std::string_view name) const {
        auto it = values_.find(std::string(name));
        return it == values_.end() ? 0 : it->second;
    }
    const std::map<std::string, uint64_t>& all() const { return values_; }

private:
    std::map<std::string, uint64_t> values_;
};

} // namespace otagw
