// SPDX-License-Identifier: GPL-2.0-or-later
#include "requests/transactions.hpp"

namespace otagw::gateway {

Status Transactions::atomically(const std::function<Status()>& writes) {
    const bool outer = depth_ == 0;
    if (outer)
        OTAGW_TRY_STATUS(store_.begin());
    depth_++;
    Status st = writes();
    depth_--;
    if (!outer)
        return st;
    if (st)
        st = store_.commit();
    if (!st) {
        (void)store_.rollback();
        after_commit_.clear();
        return st;
    }
    // What leaves the process goes after the commit, and with group commit after the turn's
    // flush.
    auto actions = std::move(after_commit_);
    after_commit_.clear();
    for (auto& a : actions)
        if (durable_)
            durable_(std::move(a));
        else
            a();
    return st;
}

Status Transactions::in_one(const std::function<void()>& work) {
    return atomically([&]() -> Status {
        work();
        return {};
    });
}

void Transactions::after_commit(std::function<void()> action) {
    if (depth_ == 0)
        action();
    else
        after_commit_.push_back(std::move(action));
}

} // namespace otagw::gateway
