// SPDX-License-Identifier: GPL-2.0-or-later
#include "requests/latency.hpp"

#include <algorithm>
#include <string>

namespace otagw::gateway {

LatencyStats::LatencyStats(uv_loop_t* loop, Counters& counters)
    : counters_(counters), timer_(std::make_unique<uv::Timer>(loop)) {
    timer_->start(
        1000, [this] { publish(); }, 1000);
}

void LatencyStats::intake(int64_t request_id) {
    intake_ns_[request_id] = uv_hrtime();
}

void LatencyStats::record(int64_t request_id, bool acknowledged) {
    auto it = intake_ns_.find(request_id);
    if (it == intake_ns_.end())
        return;
    const uint64_t us = (uv_hrtime() - it->second) / 1000;
    if (acknowledged)
        intake_ns_.erase(it);
    constexpr size_t kSamples = 100000;
    Samples& samples = acknowledged ? ack_us_ : handoff_us_;
    const uint32_t v = static_cast<uint32_t>(std::min<uint64_t>(us, UINT32_MAX));
    if (samples.values.size() < kSamples)
        samples.values.push_back(v);
    else
        samples.values[samples.next++ % kSamples] = v;
    samples.fresh = true;
}

void LatencyStats::publish() {
    for (auto [samples, name] : {std::pair{&handoff_us_, "request:submit_latency"},
                                 std::pair{&ack_us_, "request:submit_ack_latency"}}) {
        if (!samples->fresh)
            continue; // nothing new: the figures stand
        samples->fresh = false;
        std::vector<uint32_t> v = samples->values;
        auto at = [&](double q) {
            const size_t k =
                std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())));
            std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
            return v[k];
        };
        const std::string n = name;
        counters_.set(n + "_samples", v.size());
        counters_.set(n + "_p50_us", at(0.50));
        counters_.set(n + "_p99_us", at(0.99));
        counters_.set(n + "_max_us", *std::max_element(v.begin(), v.end()));
    }
}

} // namespace otagw::gateway
