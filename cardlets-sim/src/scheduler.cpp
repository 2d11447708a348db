// SPDX-License-Identifier: GPL-2.0-or-later
#include "otagw/sim/scheduler.hpp"

namespace otagw::sim {

Scheduler::Scheduler(uv_loop_t* loop) : loop_(loop), timer_(loop) {}

void Scheduler::after(uint64_t delay_ms, std::function<void()> fn) {
    queue_.push({uv_now(loop_) + delay_ms, next_seq_++, std::move(fn)});
    if (queue_.top().due < armed_for_)
        arm();
}

void Scheduler::clear() {
    queue_ = {};
    timer_.stop();
    armed_for_ = UINT64_MAX;
}

void Scheduler::arm() {
    if (queue_.empty()) {
        timer_.stop();
        armed_for_ = UINT64_MAX;
        return;
    }
    const uint64_t due = queue_.top().due;
    const uint64_t now = uv_now(loop_);
    armed_for_ = due;
    timer_.start(due > now ? due - now : 0, [this] { fire(); });
}

void Scheduler::fire() {
    armed_for_ = UINT64_MAX;
    const uint64_t now = uv_now(loop_);
    // Only what is due now: events scheduled by these callbacks wait for the next pass.
    const uint64_t last_seq = next_seq_;
    while (!queue_.empty() && queue_.top().due <= now && queue_.top().seq < last_seq) {
        auto fn = std::move(const_cast<Event&>(queue_.top()).fn);
        queue_.pop();
        fn();
    }
    arm();
}

} // namespace otagw::sim
