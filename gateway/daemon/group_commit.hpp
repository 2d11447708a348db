// SPDX-License-Identifier: GPL-2.0-or-later
// Group commit on the daemon's loop: every write of a loop turn goes into one SQLite
// transaction (SqliteStore::set_group_commit), committed once in the turn's check phase; what
// must not leave the process before those writes are durable (API answers, submit_sm, replies,
// provider calls) is queued with after_flush() and released after the commit. One fsync per
// turn instead of one per event.
#pragma once

#include <functional>
#include <vector>

#include <uv.h>

#include "otagw/common/uv.hpp"
#include "otagw/db/sqlite_store.hpp"
#include "otagw/http/http.hpp"

namespace otagw::gateway {

class GroupCommit {
public:
    GroupCommit(uv_loop_t* loop, db::SqliteStore& store);
    ~GroupCommit();
    GroupCommit(const GroupCommit&) = delete;
    GroupCommit& operator=(const GroupCommit&) = delete;

    // Runs `action` once every write made so far is committed (at once if none is pending). If
    // the commit fails, `failed` runs instead (with why), or nothing when it is not given: what
    // waits is told at once, never left hanging.
    void after_flush(std::function<void()> action,
                     std::function<void(const Error&)> failed = nullptr);
    // Commits now and releases the queue (at shutdown).
    Status flush();
    uint64_t flushes() const { return flushes_; }

private:
    static void on_prepare(uv_prepare_t* h);
    static void on_check(uv_check_t* h);

    db::SqliteStore& store_;
    uv::Handle<uv_prepare_t> prepare_;
    uv::Handle<uv_check_t> check_;
    uv::Handle<uv_idle_t> idle_; // keeps poll from blocking while something waits for a flush
    // Logs a storage failure once when it begins and once when writes succeed again.
    void watch_storage();

    struct Waiter {
        std::function<void()> action;
        std::function<void(const Error&)> failed;
    };
    std::vector<Waiter> waiting_;
    uint64_t flushes_ = 0;
    bool storage_failing_ = false;
};

// Holds back every API answer until the writes it reports are committed; if they cannot be, the
// caller gets a 503 saying why (the database's failure) instead of the answer.
class DurableHandler final : public http::Handler {
public:
    DurableHandler(http::Handler& inner, GroupCommit& group) : inner_(inner), group_(group) {}
    std::unique_ptr<http::BodySink> stream(const http::Request& request,
                                           std::optional<http::Response>& reject) override;
    void handle(http::Request&& request, http::Responder respond) override;
    bool authenticated(const http::Request& request) override {
        return inner_.authenticated(request);
    }

private:
    http::Responder hold(http::Responder respond);
    http::Handler& inner_;
    GroupCommit& group_;
};

} // namespace otagw::gateway
