// SPDX-License-Identifier: GPL-2.0-or-later
#include "provider/result_callbacks.hpp"

#include "otagw/common/log.hpp"

namespace otagw::gateway {

namespace {
constexpr const char* kLog = "provider";
} // namespace

ResultCallbacks::ResultCallbacks(uv_loop_t* loop, db::Store& store, Providers& providers,
                                 const OtaConfig& timers, Counters& counters)
    : loop_(loop), store_(store), providers_(providers), timers_(timers), counters_(counters) {}

ResultCallbacks::~ResultCallbacks() {
    *alive_ = false;
}

void ResultCallbacks::stop() {
    stopped_ = true;
    retries_.clear();
}

Result<size_t> ResultCallbacks::resume() {
    std::vector<db::ProviderCallback> owed;
    OTAGW_TRY_ASSIGN(owed, store_.pending_callbacks(100000));
    for (auto& cb : owed)
        send(std::move(cb));
    return owed.size();
}

void ResultCallbacks::send(db::ProviderCallback cb) {
    ProviderClient* p = providers_.find(cb.provider);
    if (!p || stopped_)
        return;
    auto body = nlohmann::json::parse(cb.body, nullptr, false);
    if (body.is_discarded())
        return;
    counters_.inc("provider:callback");
    std::weak_ptr<bool> alive = alive_;
    p->call("/result", body, [this, alive, cb](Result<ProviderClient::Answer> a) {
        if (alive.expired() || stopped_)
            return;
        if (a && a->status / 100 == 2) {
            if (Status st = store_.delete_callback(cb.request_id); !st)
                log::error(kLog, "provider callback: " + st.error().message);
            counters_.inc("provider:callback_acked");
            retries_.erase(cb.request_id);
            return;
        }
        // Not acknowledged: kept in the store, tried again later (and after a restart), up to
        // callback-tries times.
        auto& retry = retries_[cb.request_id];
        if (static_cast<uint32_t>(retry.failures + 1) >= timers_.callback_tries) {
            give_up(cb, a ? "HTTP " + std::to_string(a->status) : a.error().message);
            return;
        }
        counters_.inc("provider:callback_retry");
        const uint64_t delay = std::min<uint64_t>(uint64_t{timers_.callback_retry_s} * 1000
                                                      << std::min(retry.failures, 6),
                                                  uint64_t{timers_.callback_retry_max_s} * 1000);
        retry.failures++;
        log::notice(kLog, "provider " + cb.provider + ": result of request " +
                              std::to_string(cb.request_id) + " not acknowledged (" +
                              std::to_string(retry.failures) + " times); again in " +
                              std::to_string(delay / 1000) + " s");
        if (retry.timer) { // the previous one has fired; it may still be on the stack
            std::shared_ptr<uv::Timer> fired(std::move(retry.timer));
            uv::defer(loop_, [fired] {});
        }
        retry.timer = std::make_unique<uv::Timer>(loop_);
        retry.timer->start(delay, [this, alive, cb] {
            if (!alive.expired() && !stopped_)
                send(cb);
        });
    });
}

void ResultCallbacks::give_up(const db::ProviderCallback& cb, const std::string& last) {
    const std::string what = "the result of request " + std::to_string(cb.request_id) +
                             " given up after " + std::to_string(timers_.callback_tries) +
                             " tries (last: " + last + ")";
    log::error(kLog, "provider " + cb.provider + ": " + what);
    counters_.inc("provider:callback_given_up");
    if (auto r =
            store_.append_audit({0, 0, "daemon", "provider.result_given_up", cb.provider, what});
        !r)
        log::error(kLog, "audit log: " + r.error().message);
    if (Status st = store_.delete_callback(cb.request_id); !st)
        log::error(kLog, "provider " + cb.provider + ": " + st.error().message);
    retries_.erase(cb.request_id);
}

} // namespace otagw::gateway
