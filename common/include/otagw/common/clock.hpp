// SPDX-License-Identifier: GPL-2.0-or-later
// Wall-clock time (Unix milliseconds, UTC) behind a small interface: records are stamped with
// it, and the state machines read it through a Clock so that scenario tests run them on a fake
// one (CONVENTIONS.md: the domain reaches the clock through an interface). Durations on the loop
// are libuv timers; this is the time of day.
#pragma once

#include <cstdint>

namespace otagw {

// The system's wall clock, Unix ms: the one place it is read.
int64_t unix_ms();

class Clock {
public:
    virtual ~Clock() = default;
    virtual int64_t now_ms() const = 0; // Unix ms
};

class SystemClock final : public Clock {
public:
    int64_t now_ms() const override { return unix_ms(); }
    static const SystemClock& instance();
};

// For tests: time moves only when told.
class FakeClock final : public Clock {
public:
    explicit FakeClock(int64_t start_ms = 1'700'000'000'000) : now_(start_ms) {}
    int64_t now_ms() const override { return now_; }
    void advance(int64_t ms) { now_ += ms; }

private:
    int64_t now_;
};

} // namespace otagw
