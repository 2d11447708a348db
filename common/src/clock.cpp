// SPDX-License-Identifier: GPL-2.0-or-later
#include "otagw/common/clock.hpp"

#include <chrono>

namespace otagw {

int64_t unix_ms() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

const SystemClock& SystemClock::instance() {
    static const SystemClock clock;
    return clock;
}

} // namespace otagw
