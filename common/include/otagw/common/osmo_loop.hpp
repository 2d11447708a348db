// SPDX-License-Identifier: GPL-2.0-or-later
// Runs libosmocore's select-based parts (telnet VTY, CTRL, osmo timers) inside the libuv loop,
// through libosmocore's foreign-loop API: before libuv polls, the osmo fds
// (osmo_fd_fill_fds) are mirrored as uv_poll handles and the nearest osmo timer as a uv timer;
// a ready fd is dispatched with osmo_fd_disp_fds, an expired timer with osmo_timers_update.
// No second thread, no second poll.
//
// Limits: osmo_fd_fill_fds works on fd_set, so osmo fds must stay below FD_SETSIZE (1024); a
// larger fd is refused (logged once, never dispatched) instead of overflowing the set.
#pragma once

#include <cstdint>
#include <map>

#include <uv.h>

#include "otagw/common/uv.hpp"

namespace otagw::osmo {

class LoopBridge {
public:
    explicit LoopBridge(uv_loop_t* loop);
    ~LoopBridge(); // stops mirroring; handles close through the loop
    LoopBridge(const LoopBridge&) = delete;
    LoopBridge& operator=(const LoopBridge&) = delete;

    // Stops mirroring osmo fds and timers so the loop can end; idempotent.
    void close();

    size_t mirrored_fds() const { return polls_.size(); }

    // One mirrored osmo fd.
    struct Poll {
        uv_poll_t handle;
        LoopBridge* owner;
        int fd;
        const void* ofd; // the osmo_fd mirrored: a closed and reused fd number differs here
        int events;      // UV_READABLE | UV_WRITABLE | UV_PRIORITIZED as last started
    };

private:
    static void on_prepare(uv_prepare_t* h);
    static void on_timer(uv_timer_t* h);
    static void on_poll(uv_poll_t* h, int status, int events);
    void sync();
    void run_timers();
    void drop_poll(int fd);

    uv_loop_t* loop_;
    uv::Handle<uv_prepare_t> prepare_;
    uv::Handle<uv_timer_t> timer_;
    std::map<int, uv::Handle<Poll>> polls_;
    bool closed_ = false;
    bool warned_fd_setsize_ = false;
};

} // namespace otagw::osmo
