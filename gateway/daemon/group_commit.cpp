// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/group_commit.hpp"

#include "api/api.hpp"
#include "otagw/common/log.hpp"

namespace otagw::gateway {

GroupCommit::GroupCommit(uv_loop_t* loop, db::SqliteStore& store)
    : store_(store), prepare_(uv::Handle<uv_prepare_t>::make(
                         {}, [&](auto* h) { return uv_prepare_init(loop, h); })),
      check_(uv::Handle<uv_check_t>::make({}, [&](auto* h) { return uv_check_init(loop, h); })),
      idle_(uv::Handle<uv_idle_t>::make({}, [&](auto* h) { return uv_idle_init(loop, h); })) {
    store_.set_group_commit(true);
    prepare_->data = check_->data = idle_->data = this;
    uv_prepare_start(prepare_.get(), on_prepare);
    uv_check_start(check_.get(), on_check);
}

GroupCommit::~GroupCommit() {
    if (Status st = flush(); !st)
        log::error("db", st.error().message);
    store_.set_group_commit(false);
    // The handles close with their owners; no callback of theirs runs any more.
    prepare_->data = check_->data = idle_->data = nullptr;
}

void GroupCommit::after_flush(std::function<void()> action,
                              std::function<void(const Error&)> failed) {
    if (!store_.unflushed() && waiting_.empty()) {
        action();
        return;
    }
    waiting_.push_back({std::move(action), std::move(failed)});
}

void GroupCommit::watch_storage() {
    const auto& failure = store_.storage_failure();
    if (failure && !storage_failing_)
        log::error("db", "writes failing, health degraded: " + *failure);
    else if (!failure && storage_failing_)
        log::notice("db", "writes succeed again, health ok");
    storage_failing_ = failure.has_value();
}

Status GroupCommit::flush() {
    Status st;
    if (store_.unflushed()) {
        st = store_.flush();
        flushes_++;
    }
    // Actions may write and queue more: those wait for the next flush.
    auto ready = std::move(waiting_);
    waiting_.clear();
    if (!st) {
        // The turn's writes are gone: nothing that depended on them may leave; who waits for
        // an answer is told. Logged once per episode (watch_storage), not once per turn.
        if (!store_.storage_failure())
            log::error("db", "group commit failed, " + std::to_string(ready.size()) +
                                 " answers and messages held back: " + st.error().message);
        for (auto& w : ready)
            if (w.failed)
                w.failed(st.error());
    } else {
        for (auto& w : ready)
            w.action();
    }
    watch_storage();
    return st;
}

void GroupCommit::on_prepare(uv_prepare_t* h) {
    auto* self = static_cast<GroupCommit*>(h->data);
    if (!self)
        return;
    // Something written or waiting: poll must not block before the check phase flushes it.
    if (self->store_.unflushed() || !self->waiting_.empty())
        uv_idle_start(self->idle_.get(), [](uv_idle_t*) {});
    else
        uv_idle_stop(self->idle_.get());
}

void GroupCommit::on_check(uv_check_t* h) {
    auto* self = static_cast<GroupCommit*>(h->data);
    if (self)
        (void)self->flush();
}

http::Responder DurableHandler::hold(http::Responder respond) {
    return [this, respond = std::move(respond)](http::Response r) mutable {
        auto shared = std::make_shared<http::Responder>(std::move(respond));
        group_.after_flush([shared, r = std::move(r)]() mutable { (*shared)(std::move(r)); },
                           [shared](const Error& e) {
                               log::info("api", "an answer held for a commit that failed: 503");
                               (*shared)(storage_error_response(e));
                           });
    };
}

namespace {

class HeldSink final : public http::BodySink {
public:
    HeldSink(std::unique_ptr<http::BodySink> inner,
             std::function<http::Responder(http::Responder)> hold)
        : inner_(std::move(inner)), hold_(std::move(hold)) {}
    Result<bool> data(std::string_view chunk) override { return inner_->data(chunk); }
    void end(http::Responder respond) override { inner_->end(hold_(std::move(respond))); }

private:
    std::unique_ptr<http::BodySink> inner_;
    std::function<http::Responder(http::Responder)> hold_;
};

} // namespace

std::unique_ptr<http::BodySink> DurableHandler::stream(const http::Request& request,
                                                       std::optional<http::Response>& reject) {
    auto sink = inner_.stream(request, reject);
    if (!sink)
        return sink;
    return std::make_unique<HeldSink>(std::move(sink),
                                      [this](http::Responder r) { return hold(std::move(r)); });
}

void DurableHandler::handle(http::Request&& request, http::Responder respond) {
    inner_.handle(std::move(request), hold(std::move(respond)));
}

} // namespace otagw::gateway
