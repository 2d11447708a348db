// SPDX-License-Identifier: GPL-2.0-or-later
// Delayed work for the simulated network: many pending events (an SMS in flight to each of
// thousands of handsets) behind one libuv timer armed for the earliest.
#pragma once

#include <cstdint>
#include <functional>
#include <queue>
#include <vector>

#include "otagw/common/uv.hpp"

namespace otagw::sim {

class Scheduler {
public:
    explicit Scheduler(uv_loop_t* loop);
    // Runs `fn` on the loop after `delay_ms` (0: on the next timer pass, never inline); events
    // due at the same time run in the order they were scheduled.
    void after(uint64_t delay_ms, std::function<void()> fn);
    size_t pending() const { return queue_.size(); }
    void clear();

private:
    struct Event {
        uint64_t due;
        uint64_t seq;
        std::function<void()> fn;
        bool operator>(const Event& o) const { return due != o.due ? due > o.due : seq > o.seq; }
    };
    void arm();
    void fire();

    uv_loop_t* loop_;
    uv::Timer timer_;
    std::priority_queue<Event, std::vector<Event>, std::greater<>> queue_;
    uint64_t next_seq_ = 0;
    uint64_t armed_for_ = UINT64_MAX;
};

} // namespace otagw::sim
