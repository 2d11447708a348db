// SPDX-License-Identifier: GPL-2.0-or-later
// How long requests take from intake to the SMSC, per request accepted by this process: to the
// submit_sm handed to the ESME (after the commit) and to its submit_sm_resp. The last 100 000
// samples of each give percentiles, published as gauges once a second
// ("request:submit_latency_p99_us", ...).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <vector>

#include "otagw/common/counters.hpp"
#include "otagw/common/uv.hpp"

namespace otagw::gateway {

class LatencyStats {
public:
    LatencyStats(uv_loop_t* loop, Counters& counters);
    void intake(int64_t request_id); // now
    void handed_off(int64_t request_id) { record(request_id, false); }
    void acknowledged(int64_t request_id) { record(request_id, true); }
    void forget(int64_t request_id) { intake_ns_.erase(request_id); }
    void stop() { timer_.reset(); }

private:
    struct Samples {
        std::vector<uint32_t> values; // microseconds
        size_t next = 0;
        bool fresh = false; // samples since the last publish
    };
    void record(int64_t request_id, bool acknowledged);
    void publish();

    Counters& counters_;
    std::map<int64_t, uint64_t> intake_ns_;
    Samples handoff_us_, ack_us_;
    std::unique_ptr<uv::Timer> timer_;
};

} // namespace otagw::gateway
