// SPDX-License-Identifier: GPL-2.0-or-later
#include "otagw/common/osmo_loop.hpp"

#include <sys/select.h>

#include "otagw/common/log.hpp"
#include "otagw/common/osmo.hpp"

namespace otagw::osmo {

LoopBridge::LoopBridge(uv_loop_t* loop)
    : loop_(loop), prepare_(uv::Handle<uv_prepare_t>::make(
                       {}, [&](auto* h) { return uv_prepare_init(loop, h); })),
      timer_(uv::Handle<uv_timer_t>::make({}, [&](auto* h) { return uv_timer_init(loop, h); })) {
    prepare_->data = this;
    uv_prepare_start(prepare_.get(), on_prepare);
    // The prepare handle alone must not keep the loop alive: only mirrored fds and a pending osmo
    // timer do, as they would keep osmo_select_main() running.
    uv_unref(prepare_.handle());
    timer_->data = this;
    sync();
}

LoopBridge::~LoopBridge() {
    close();
}

void LoopBridge::close() {
    if (closed_)
        return;
    closed_ = true;
    polls_.clear(); // each closes with its Handle
    prepare_.close();
    timer_.close();
}

void LoopBridge::on_prepare(uv_prepare_t* h) {
    static_cast<LoopBridge*>(h->data)->sync();
}

void LoopBridge::on_timer(uv_timer_t* h) {
    static_cast<LoopBridge*>(h->data)->sync(); // runs the expired timers, re-arms for the next
}

void LoopBridge::run_timers() {
    osmo_timers_prepare();
    osmo_timers_update();
}

void LoopBridge::drop_poll(int fd) {
    polls_.erase(fd);
}

// Mirrors the osmo fds and the nearest osmo timer. Runs before every poll of the loop (so fds
// that other code registered since are picked up before libuv waits) and after every osmo
// callback.
void LoopBridge::sync() {
    if (closed_)
        return;
    run_timers(); // timers that expired while other handles ran
    fd_set rd, wr, ex;
    FD_ZERO(&rd);
    FD_ZERO(&wr);
    FD_ZERO(&ex);
    const int max_fd = osmo_fd_fill_fds(&rd, &wr, &ex);
    // Drop the polls of fds that osmo no longer watches.
    for (auto it = polls_.begin(); it != polls_.end();) {
        const int fd = it->first;
        if (fd > max_fd || (!FD_ISSET(fd, &rd) && !FD_ISSET(fd, &wr) && !FD_ISSET(fd, &ex)) ||
            osmo_fd_get_by_fd(fd) != it->second->ofd) {
            it = polls_.erase(it);
        } else {
            ++it;
        }
    }
    for (int fd = 0; fd <= max_fd && fd < FD_SETSIZE; fd++) {
        int events = 0;
        if (FD_ISSET(fd, &rd))
            events |= UV_READABLE;
        if (FD_ISSET(fd, &wr))
            events |= UV_WRITABLE;
        if (FD_ISSET(fd, &ex))
            events |= UV_PRIORITIZED;
        if (!events)
            continue;
        auto it = polls_.find(fd);
        if (it == polls_.end()) {
            auto p = uv::Handle<Poll>::make({{}, this, fd, osmo_fd_get_by_fd(fd), 0}, [&](Poll* q) {
                return uv_poll_init(loop_, &q->handle, fd);
            });
            if (!p)
                continue;
            p->handle.data = p.get();
            it = polls_.emplace(fd, std::move(p)).first;
        }
        Poll* p = it->second.get();
        if (p->events != events) {
            p->events = events;
            uv_poll_start(&p->handle, events, on_poll);
        }
    }
    if (max_fd >= FD_SETSIZE && !warned_fd_setsize_) {
        warned_fd_setsize_ = true;
        log::error("osmo", "an osmo fd is at or above FD_SETSIZE; it is not served");
    }
    const int ms = osmo_timers_nearest_ms();
    if (ms < 0)
        uv_timer_stop(timer_.get());
    else
        uv_timer_start(timer_.get(), on_timer, static_cast<uint64_t>(ms), 0);
}

void LoopBridge::on_poll(uv_poll_t* h, int status, int events) {
    auto* p = static_cast<Poll*>(h->data);
    LoopBridge* self = p->owner;
    if (self->closed_)
        return;
    fd_set rd, wr, ex;
    FD_ZERO(&rd);
    FD_ZERO(&wr);
    FD_ZERO(&ex);
    // An error on the fd (status < 0) is reported as readable: the osmo callback's read sees it.
    if (status < 0 || (events & UV_READABLE))
        FD_SET(p->fd, &rd);
    if (events & UV_WRITABLE)
        FD_SET(p->fd, &wr);
    if (events & UV_PRIORITIZED)
        FD_SET(p->fd, &ex);
    const int fd = p->fd;
    osmo_fd_disp_fds(&rd, &wr, &ex);
    // The callback may have unregistered and closed the fd, and another callback of this same
    // iteration may get the number again (accept): stop polling the old one now.
    if (self->closed_)
        return;
    if (osmo_fd_get_by_fd(fd) != p->ofd)
        self->drop_poll(fd);
    // Mirror what the callback registered now: the loop checks whether it is still alive before
    // the next prepare, and a new fd must count.
    self->sync();
}

} // namespace otagw::osmo
