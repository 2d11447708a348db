// SPDX-License-Identifier: GPL-2.0-or-later
// RAII over libuv handles: timers, TCP streams, TCP listener.
#include "otagw/common/uv.hpp"

#include <cstring>

namespace otagw::uv {

std::string error_name(int uv_error) {
    return std::string(uv_err_name(uv_error)) + " (" + uv_strerror(uv_error) + ")";
}

// ---- Timer ------------------------------------------------------------------------------------

struct Timer::Holder {
    uv_timer_t timer;
    Timer* owner = nullptr;
    std::function<void()> cb;
};

Timer::Timer(uv_loop_t* loop) : h_(new Holder) {
    uv_timer_init(loop, &h_->timer);
    h_->timer.data = h_;
    h_->owner = this;
}

Timer::~Timer() {
    h_->owner = nullptr;
    h_->cb = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(&h_->timer),
             [](uv_handle_t* h) { delete static_cast<Holder*>(h->data); });
}

void Timer::start(uint64_t timeout_ms, std::function<void()> cb, uint64_t repeat_ms) {
    h_->cb = std::move(cb);
    uv_timer_start(
        &h_->timer,
        [](uv_timer_t* t) {
            auto* h = static_cast<Holder*>(t->data);
            if (h->owner && h->cb) {
                auto fire = h->cb; // the callback may restart or destroy the timer
                fire();
            }
        },
        timeout_ms, repeat_ms);
}

void Timer::stop() {
    uv_timer_stop(&h_->timer);
}

bool Timer::active() const {
    return uv_is_active(reinterpret_cast<const uv_handle_t*>(&h_->timer));
}

// ---- TcpStream ------------------------------------------------------------------------------

struct TcpStream::Holder {
    uv_tcp_t tcp;
    uv_connect_t connect_req;
    uv_write_t write_req;
    TcpStream* owner = nullptr;
    bool closing = false;       // uv_close called
    bool handle_closed = false; // its close callback ran; whoever goes last frees the holder
    bool writing = false;
    bool close_when_written = false;
    Bytes pending;   // queued while a write is in flight
    Bytes in_flight; // the buffer uv_write is sending
    DataCb on_data;
    ClosedCb on_closed;
    // Callbacks taken away by a close, kept until the holder goes: the close may come from
    // inside one of them, which must not be destroyed while it runs.
    DataCb retired_data;
    ClosedCb retired_closed;
    std::function<void()> on_drained;
    std::function<void(int)> on_connect;
    char read_buffer[64 * 1024];

    void flush() {
        if (!writing && pending.empty() && close_when_written) {
            retired_closed = std::move(on_closed);
            on_closed = nullptr;
            begin_close();
            return;
        }
        if (writing || pending.empty() || closing)
            return;
        in_flight.swap(pending);
        pending.clear();
        uv_buf_t buf = uv_buf_init(reinterpret_cast<char*>(in_flight.data()),
                                   static_cast<unsigned>(in_flight.size()));
        writing = true;
        int rc = uv_write(&write_req, reinterpret_cast<uv_stream_t*>(&tcp), &buf, 1,
                          [](uv_write_t* req, int status) {
                              auto* h = static_cast<Holder*>(req->data);
                              h->writing = false;
                              h->in_flight.clear();
                              if (status < 0) {
                                  h->fail(status);
                                  return;
                              }
                              h->flush();
                              if (!h->writing && !h->closing && h->on_drained)
                                  h->on_drained(); // may write more, or destroy the owner
                          });
        if (rc < 0) {
            writing = false;
            fail(rc);
        }
    }

    // The connection broke: tell the owner once, then close.
    void fail(int error) {
        if (closing)
            return;
        ClosedCb cb = std::move(on_closed);
        begin_close();
        if (owner && cb)
            cb(error);
    }

    void begin_close() {
        if (closing)
            return;
        closing = true;
        retired_data = std::move(on_data);
        on_data = nullptr;
        uv_close(reinterpret_cast<uv_handle_t*>(&tcp), [](uv_handle_t* handle) {
            auto* h = static_cast<Holder*>(handle->data);
            h->handle_closed = true;
            if (!h->owner)
                delete h;
        });
    }
};

TcpStream::TcpStream(uv_loop_t* loop) : h_(new Holder), alive_(std::make_shared<bool>(true)) {
    uv_tcp_init(loop, &h_->tcp);
    h_->tcp.data = h_;
    h_->connect_req.data = h_;
    h_->write_req.data = h_;
    h_->owner = this;
}

TcpStream::~TcpStream() {
    *alive_ = false;
    h_->owner = nullptr;
    h_->on_closed = nullptr;
    h_->on_connect = nullptr;
    h_->on_drained = nullptr;
    if (h_->handle_closed)
        delete h_;
    else if (h_->close_when_written && !h_->closing && (h_->writing || !h_->pending.empty()))
        h_->on_data = nullptr; // the holder finishes writing, then closes and frees itself
    else
        h_->begin_close();
}

namespace {

struct Resolve {
    uv_getaddrinfo_t req;
    std::weak_ptr<bool> alive;
    TcpStream* stream;
    uint16_t port;
};

} // namespace

void TcpStream::on_connected(uv_connect_t* req, int status) {
    auto* h = static_cast<Holder*>(req->data);
    if (!h->owner)
        return;
    if (status == 0)
        uv_tcp_nodelay(&h->tcp, 1);
    auto done = std::move(h->on_connect);
    if (done)
        done(status);
}

int TcpStream::connect_to(const sockaddr* addr) {
    return uv_tcp_connect(&h_->connect_req, &h_->tcp, addr, &TcpStream::on_connected);
}

int TcpStream::connect(const std::string& host, uint16_t port, std::function<void(int)> cb) {
    if (h_->closing)
        return UV_EINVAL;
    h_->on_connect = std::move(cb);
    sockaddr_in a4;
    sockaddr_in6 a6;
    if (uv_ip4_addr(host.c_str(), port, &a4) == 0)
        return connect_to(reinterpret_cast<const sockaddr*>(&a4));
    if (uv_ip6_addr(host.c_str(), port, &a6) == 0)
        return connect_to(reinterpret_cast<const sockaddr*>(&a6));
    // A host name: resolve on libuv's thread pool, then connect on the loop.
    auto* resolve = new Resolve{{}, alive_, this, port};
    resolve->req.data = resolve;
    addrinfo hints;
    std::memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    int rc = uv_getaddrinfo(
        h_->tcp.loop, &resolve->req,
        [](uv_getaddrinfo_t* req, int status, addrinfo* res) {
            std::unique_ptr<Resolve> r(static_cast<Resolve*>(req->data));
            auto alive = r->alive.lock();
            int result = status;
            if (alive && *alive && result == 0 && res) {
                const addrinfo* pick = res; // IPv4 first: "localhost" often lists ::1 too
                for (const addrinfo* a = res; a; a = a->ai_next)
                    if (a->ai_family == AF_INET) {
                        pick = a;
                        break;
                    }
                sockaddr_storage addr;
                std::memcpy(&addr, pick->ai_addr, pick->ai_addrlen);
                // sin_port and sin6_port sit at the same offset
                reinterpret_cast<sockaddr_in*>(&addr)->sin_port = htons(r->port);
                result = r->stream->connect_to(reinterpret_cast<sockaddr*>(&addr));
            }
            uv_freeaddrinfo(res);
            if (alive && *alive && result < 0) {
                auto done = std::move(r->stream->h_->on_connect);
                if (done)
                    done(result);
            }
        },
        host.c_str(), nullptr, &hints);
    if (rc < 0)
        delete resolve;
    return rc;
}

int TcpStream::start(DataCb on_data, ClosedCb on_closed) {
    if (h_->closing)
        return UV_EINVAL;
    h_->on_data = std::move(on_data);
    h_->on_closed = std::move(on_closed);
    return uv_read_start(
        reinterpret_cast<uv_stream_t*>(&h_->tcp),
        [](uv_handle_t* handle, size_t, uv_buf_t* buf) {
            auto* h = static_cast<Holder*>(handle->data);
            *buf = uv_buf_init(h->read_buffer, sizeof h->read_buffer);
        },
        [](uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
            auto* h = static_cast<Holder*>(stream->data);
            if (nread > 0) {
                if (h->owner && h->on_data)
                    h->on_data(ByteView(reinterpret_cast<const uint8_t*>(buf->base),
                                        static_cast<size_t>(nread)));
            } else if (nread < 0) {
                h->fail(static_cast<int>(nread));
            }
        });
}

void TcpStream::write(ByteView data) {
    if (h_->closing || data.empty())
        return;
    append(h_->pending, data);
    h_->flush();
}

void TcpStream::set_drained_callback(std::function<void()> cb) {
    h_->on_drained = std::move(cb);
}

void TcpStream::close_when_written() {
    h_->close_when_written = true;
    h_->flush();
}

size_t TcpStream::pending_write_bytes() const {
    return h_->pending.size() + h_->in_flight.size();
}

void TcpStream::close() {
    h_->retired_closed = std::move(h_->on_closed);
    h_->on_closed = nullptr;
    h_->begin_close();
}

bool TcpStream::is_open() const {
    return !h_->closing;
}

std::string TcpStream::peer() const {
    if (h_->closing)
        return "?";
    sockaddr_storage addr;
    int len = sizeof addr;
    if (uv_tcp_getpeername(&h_->tcp, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
        return "?";
    char ip[64] = "?";
    uint16_t port = 0;
    if (addr.ss_family == AF_INET) {
        auto* a = reinterpret_cast<sockaddr_in*>(&addr);
        uv_ip4_name(a, ip, sizeof ip);
        port = ntohs(a->sin_port);
    } else if (addr.ss_family == AF_INET6) {
        auto* a = reinterpret_cast<sockaddr_in6*>(&addr);
        uv_ip6_name(a, ip, sizeof ip);
        port = ntohs(a->sin6_port);
    }
    return std::string(ip) + ":" + std::to_string(port);
}

// ---- TcpServer ------------------------------------------------------------------------------

struct TcpServer::Holder {
    uv_tcp_t tcp;
    TcpServer* owner = nullptr;
    AcceptCb on_accept;
    bool closing = false;
    bool handle_closed = false;
};

TcpServer::TcpServer(uv_loop_t* loop) : h_(new Holder), loop_(loop) {
    uv_tcp_init(loop, &h_->tcp);
    h_->tcp.data = h_;
    h_->owner = this;
}

TcpServer::~TcpServer() {
    h_->owner = nullptr;
    if (h_->handle_closed)
        delete h_;
    else
        close();
}

int TcpServer::listen(const std::string& ip, uint16_t port, AcceptCb on_accept) {
    sockaddr_in a4;
    sockaddr_in6 a6;
    const sockaddr* addr;
    if (uv_ip4_addr(ip.c_str(), port, &a4) == 0)
        addr = reinterpret_cast<const sockaddr*>(&a4);
    else if (uv_ip6_addr(ip.c_str(), port, &a6) == 0)
        addr = reinterpret_cast<const sockaddr*>(&a6);
    else
        return UV_EINVAL;
    int rc = uv_tcp_bind(&h_->tcp, addr, 0);
    if (rc < 0)
        return rc;
    h_->on_accept = std::move(on_accept);
    return uv_listen(
        reinterpret_cast<uv_stream_t*>(&h_->tcp), 128, [](uv_stream_t* server, int status) {
            auto* h = static_cast<Holder*>(server->data);
            if (status < 0 || !h->owner || h->closing)
                return;
            auto stream = std::make_unique<TcpStream>(h->owner->loop_);
            if (uv_accept(server, reinterpret_cast<uv_stream_t*>(&stream->h_->tcp)) != 0)
                return;
            uv_tcp_nodelay(&stream->h_->tcp, 1);
            if (h->on_accept)
                h->on_accept(std::move(stream));
        });
}

uint16_t TcpServer::port() const {
    if (h_->closing)
        return 0;
    sockaddr_storage addr;
    int len = sizeof addr;
    if (uv_tcp_getsockname(&h_->tcp, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
        return 0;
    if (addr.ss_family == AF_INET)
        return ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
    return ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port);
}

void TcpServer::close() {
    if (h_->closing)
        return;
    h_->closing = true;
    h_->on_accept = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(&h_->tcp), [](uv_handle_t* handle) {
        auto* h = static_cast<Holder*>(handle->data);
        h->handle_closed = true;
        if (!h->owner)
            delete h;
    });
}

// ---- defer -------------------------------------------------------------------------------------

void defer(uv_loop_t* loop, std::function<void()> fn) {
    struct Deferred {
        uv_timer_t timer;
        std::function<void()> fn;
    };
    auto* d = new Deferred{{}, std::move(fn)};
    uv_timer_init(loop, &d->timer);
    d->timer.data = d;
    uv_timer_start(
        &d->timer,
        [](uv_timer_t* t) {
            auto* dd = static_cast<Deferred*>(t->data);
            auto run = std::move(dd->fn);
            uv_close(reinterpret_cast<uv_handle_t*>(&dd->timer),
                     [](uv_handle_t* h) { delete static_cast<Deferred*>(h->data); });
            if (run)
                run();
        },
        0, 0);
}

// ---- run_for ----------------------------------------------------------------------------------

void after_io(uv_loop_t* loop, std::function<void()> fn) {
    struct Pending {
        uv_idle_t idle;
        uv_check_t check;
        std::function<void()> fn;
        int open = 2;
    };
    auto* p = new Pending{{}, {}, std::move(fn)};
    uv_idle_init(loop, &p->idle);
    uv_check_init(loop, &p->check);
    p->idle.data = p->check.data = p;
    uv_idle_start(&p->idle, [](uv_idle_t*) {});
    uv_check_start(&p->check, [](uv_check_t* c) {
        auto* pp = static_cast<Pending*>(c->data);
        auto run = std::move(pp->fn);
        auto closed = [](uv_handle_t* h) {
            auto* q = static_cast<Pending*>(h->data);
            if (--q->open == 0)
                delete q;
        };
        uv_close(reinterpret_cast<uv_handle_t*>(&pp->idle), closed);
        uv_close(reinterpret_cast<uv_handle_t*>(&pp->check), closed);
        if (run)
            run();
    });
}

bool run_for(uv_loop_t* loop, uint64_t timeout_ms) {
    bool timed_out = false;
    uv_timer_t guard;
    uv_timer_init(loop, &guard);
    guard.data = &timed_out;
    uv_timer_start(
        &guard,
        [](uv_timer_t* t) {
            *static_cast<bool*>(t->data) = true;
            uv_stop(t->loop);
        },
        timeout_ms, 0);
    uv_unref(reinterpret_cast<uv_handle_t*>(&guard)); // the guard alone does not keep the loop
    uv_run(loop, UV_RUN_DEFAULT);
    uv_timer_stop(&guard);
    uv_close(reinterpret_cast<uv_handle_t*>(&guard), nullptr);
    uv_run(loop, UV_RUN_NOWAIT); // let the guard's close finish
    return !timed_out;
}

} // namespace otagw::uv
