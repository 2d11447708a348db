// SPDX-License-Identifier: GPL-2.0-or-later
// Requests to outside HTTP(S) services (the providers) with libcurl's multi interface, driven
// by the libuv loop: curl's sockets are watched with uv_poll handles and its timeout with a uv
// timer (curl_multi_socket_action), so no call blocks and no thread is added. TLS, redirects
// off, certificate checks on by default.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include <uv.h>

#include "otagw/common/result.hpp"
#include "otagw/common/uv.hpp"

namespace otagw::http {

class CurlClient {
public:
    struct Request {
        std::string method = "POST";
        std::string url;
        std::vector<std::pair<std::string, std::string>> headers;
        std::string body;
        uint64_t timeout_ms = 10000; // the whole exchange
        std::string ca_file;         // trust this CA bundle instead of the system's
        size_t max_body = 0;         // a longer answer is an Errc::Invalid error; 0: no limit
    };
    struct Response {
        long status = 0;
        std::string body;
        std::vector<std::pair<std::string, std::string>> headers; // names in lower case
    };
    using Done = std::function<void(Result<Response>)>;

    explicit CurlClient(uv_loop_t* loop);
    ~CurlClient(); // abandons transfers in flight: their callbacks do not run
    CurlClient(const CurlClient&) = delete;
    CurlClient& operator=(const CurlClient&) = delete;

    // `done` runs once, later (never from inside perform), with the response or an error
    // naming what failed (connect, TLS, timeout: Errc::Io; an answer over max_body:
    // Errc::Invalid, the transfer cut as soon as it is).
    void perform(Request request, Done done);
    size_t in_flight() const { return transfers_.size(); }

    struct Transfer;
    struct Socket;

private:
    static int on_socket(void* easy, int fd, int what, void* self, void* socket);
    static int on_timer(void* multi, long timeout_ms, void* self);
    void act(int fd, int flags);
    void reap();

    uv_loop_t* loop_;
    void* multi_;
    uv::Handle<uv_timer_t> timer_;
    std::unordered_set<Transfer*> transfers_;
    std::map<int, uv::Handle<Socket>> sockets_; // the sockets curl asks to watch, by fd
    bool closing_ = false;
};

} // namespace otagw::http
