// SPDX-License-Identifier: GPL-2.0-or-later
// The results the gateway owes providers (doc/provider-api.md, `POST .../result`): each kept in
// the store until the provider acknowledges it (2xx), tried again after a failure (timer
// callback-retry, 5 s by default, the pause doubling up to callback-retry-max) and after a
// restart; after callback-tries failures it is given up, with a log line and an audit entry
// (provider.result_given_up).
#pragma once

#include <map>
#include <memory>

#include "otagw/common/counters.hpp"
#include "otagw/common/uv.hpp"
#include "otagw/db/store.hpp"
#include "provider/providers.hpp"

namespace otagw::gateway {

class ResultCallbacks {
public:
    ResultCallbacks(uv_loop_t* loop, db::Store& store, Providers& providers,
                    const OtaConfig& timers, Counters& counters);
    ~ResultCallbacks();
    // Sends a result owed (already in the store).
    void send(db::ProviderCallback callback);
    // Sends every result still owed (at start); how many.
    Result<size_t> resume();
    void stop();

private:
    void give_up(const db::ProviderCallback& callback, const std::string& last_failure);
    struct Retry {
        int failures = 0;
        std::unique_ptr<uv::Timer> timer;
    };
    uv_loop_t* loop_;
    db::Store& store_;
    Providers& providers_;
    const OtaConfig& timers_;
    Counters& counters_;
    std::map<int64_t, Retry> retries_; // by request id
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
    bool stopped_ = false;
};

} // namespace otagw::gateway
