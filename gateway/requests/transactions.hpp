// SPDX-License-Identifier: GPL-2.0-or-later
// Units of work on the store: writes that land together or not at all, and what leaves the
// process because of them (a submit_sm, a reply, a provider call) only once they are committed
// (DESIGN.md §4: the counter and the packet are durable before the packet leaves). With group
// commit (daemon/group_commit.hpp) "committed" means flushed at the end of the loop's turn.
#pragma once

#include <functional>
#include <vector>

#include "otagw/db/store.hpp"

namespace otagw::gateway {

class Transactions {
public:
    explicit Transactions(db::Store& store) : store_(store) {}

    // With group commit: how to hold an action until the writes before it are durable.
    void set_durable(std::function<void(std::function<void()>)> durable) {
        durable_ = std::move(durable);
    }
    // Runs `writes` in one transaction (joining the one open, if any); after_commit() actions
    // queued meanwhile run once it is committed, and are dropped if it is not.
    Status atomically(const std::function<Status()>& writes);
    // The same for work that reports its own failures; a failed commit is returned.
    Status in_one(const std::function<void()>& work);
    // Runs `action` once the open transaction is committed (at once outside one).
    void after_commit(std::function<void()> action);
    bool open() const { return depth_ > 0; }

private:
    db::Store& store_;
    std::function<void(std::function<void()>)> durable_;
    std::vector<std::function<void()>> after_commit_;
    int depth_ = 0;
};

} // namespace otagw::gateway
