// SPDX-License-Identifier: GPL-2.0-or-later
// Small RAII layer over libuv for the one event loop: timers, TCP streams and a TCP listener.
// Following libuv's rules (docs/src/design.rst), a handle's memory is freed only in its close
// callback: each object owns a heap "holder" that outlives it until libuv is done with it, and
// callbacks that arrive after the owner is gone are dropped. A function that fails returns an
// error and does not call its callback.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>

#include <uv.h>

#include "otagw/common/bytes.hpp"

namespace otagw::uv {

std::string error_name(int uv_error); // "ECONNREFUSED (connection refused)"

// A raw libuv handle owned by RAII (uvw's idea): made on the heap and initialised by make();
// destroying the Handle (or close()) calls uv_close, and the memory is freed in the close
// callback, as libuv requires. T is the handle type, or a struct that starts with the handle
// (standard layout) and carries what its callbacks need; the handle's `data` is the user's.
template <typename T>
class Handle {
    static_assert(std::is_standard_layout_v<T>, "the uv handle must be the first member");

public:
    Handle() = default;
    ~Handle() { close(); }
    Handle(Handle&& o) noexcept : h_(std::exchange(o.h_, nullptr)) {}
    Handle& operator=(Handle&& o) noexcept {
        if (this != &o) {
            close();
            h_ = std::exchange(o.h_, nullptr);
        }
        return *this;
    }
    Handle(const Handle&) = delete;
    Handle& operator=(const Handle&) = delete;

    // A new T (its other members from `value`), initialised by `init(T*)` (uv_timer_init, ...);
    // empty when init fails: the T is freed at once, never having been a handle.
    template <typename Init>
    static Handle make(T value, Init init) {
        T* t = new T(std::move(value));
        if (init(t) != 0) {
            delete t;
            return Handle();
        }
        Handle h;
        h.h_ = t;
        return h;
    }

    T* get() const { return h_; }
    T* operator->() const { return h_; }
    explicit operator bool() const { return h_ != nullptr; }
    uv_handle_t* handle() const { return reinterpret_cast<uv_handle_t*>(h_); }

    // Closes now; idempotent. Callbacks stop (libuv calls none after uv_close but the close
    // callback), the memory goes with the close callback.
    void close() {
        if (!h_)
            return;
        uv_handle_t* h = handle();
        h_ = nullptr;
        uv_close(h, [](uv_handle_t* x) { delete reinterpret_cast<T*>(x); });
    }

private:
    T* h_ = nullptr;
};

class Timer {
public:
    explicit Timer(uv_loop_t* loop);
    ~Timer();
    Timer(const Timer&) = delete;
    Timer& operator=(const Timer&) = delete;

    // Calls `cb` after `timeout_ms`, then every `repeat_ms` if non-zero. Restarting replaces.
    void start(uint64_t timeout_ms, std::function<void()> cb, uint64_t repeat_ms = 0);
    void stop();
    bool active() const;

private:
    struct Holder;
    Holder* h_;
};

class TcpStream {
public:
    using DataCb = std::function<void(ByteView)>;
    using ClosedCb = std::function<void(int uv_error)>; // UV_EOF when the peer closed

    explicit TcpStream(uv_loop_t* loop);
    ~TcpStream(); // closes the socket; no callback runs afterwards
    TcpStream(const TcpStream&) = delete;
    TcpStream& operator=(const TcpStream&) = delete;

    // Resolves `host` (without blocking the loop) and connects. `cb(0)` once connected, or a
    // negative libuv error; a synchronous failure is returned instead.
    int connect(const std::string& host, uint16_t port, std::function<void(int)> cb);
    // Starts reading: `on_data` for every chunk, `on_closed` once when the peer closes or the
    // connection fails (not after close()).
    int start(DataCb on_data, ClosedCb on_closed);
    // Queues bytes (copied); writes issued while one is in flight go out together after it.
    void write(ByteView data);
    size_t pending_write_bytes() const;
    // Called each time every queued byte has been written: the time to queue more (uploads).
    void set_drained_callback(std::function<void()> cb);
    // Closes now (queued bytes are dropped); idempotent.
    void close();
    // Closes once every queued byte is written; no callback runs for this close. The object may
    // be destroyed meanwhile: the bytes still go out.
    void close_when_written();
    bool is_open() const;
    std::string peer() const; // "127.0.0.1:2775"

private:
    friend class TcpServer;
    struct Holder;
    static void on_connected(uv_connect_t* req, int status);
    int connect_to(const sockaddr* addr);
    Holder* h_;
    std::shared_ptr<bool> alive_;
};

class TcpServer {
public:
    using AcceptCb = std::function<void(std::unique_ptr<TcpStream>)>;

    explicit TcpServer(uv_loop_t* loop);
    ~TcpServer();
    TcpServer(const TcpServer&) = delete;
    TcpServer& operator=(const TcpServer&) = delete;

    // Listens on a numeric address; port 0 picks a free one (see port()).
    int listen(const std::string& ip, uint16_t port, AcceptCb on_accept);
    uint16_t port() const;
    void close();

private:
    struct Holder;
    Holder* h_;
    uv_loop_t* loop_;
};

// Runs `fn` soon, outside whatever callback is running now: the way to destroy an object from
// its own callback. (A zero timer: from a timer callback, it runs in the same pass of timers.)
void defer(uv_loop_t* loop, std::function<void()> fn);

// Runs `fn` once the loop has polled for I/O (a check handle, the poll kept from blocking by an
// idle one). Work that goes on in steps chains them so, not with defer(): libuv runs a zero
// timer started from a timer callback in the same pass, so a chain of defer()s holds the loop.
void after_io(uv_loop_t* loop, std::function<void()> fn);

// Runs `loop` until it has nothing left to do or `timeout_ms` passes (then stops it and returns
// false). For tests and tools: the daemon runs its loop forever.
bool run_for(uv_loop_t* loop, uint64_t timeout_ms);

} // namespace otagw::uv
