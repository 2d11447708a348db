// SPDX-License-Identifier: GPL-2.0-or-later
// A small HTTP/1.1 server for the admin API, on the one libuv loop: libhttp-parser reads the
// requests (RFC 9112 framing, chunked bodies decoded), our code does the rest. One request at
// a time per connection (keep-alive, pipelined requests wait their turn); bodies are buffered
// up to a limit or streamed to a route that asks for it (inventory import); idle connections
// time out; the number of connections is capped.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <uv.h>

#include "otagw/common/result.hpp"

namespace otagw::http {

struct Request {
    std::string method;                                       // "GET"
    std::string target;                                       // as sent: "/v1/cards?limit=10"
    std::string path;                                         // decoded path: "/v1/cards"
    std::vector<std::pair<std::string, std::string>> query;   // decoded name=value pairs
    std::vector<std::pair<std::string, std::string>> headers; // names in lower case
    std::string body;
    std::string peer; // "127.0.0.1:40312"

    const std::string* header(std::string_view name) const;
    const std::string* param(std::string_view name) const;
};

struct Response {
    int status = 200;
    std::string content_type = "application/json";
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
};

using Responder = std::function<void(Response)>;

// Receives a streamed body. A failed data() ends the exchange with the response it carries.
class BodySink {
public:
    virtual ~BodySink() = default;
    virtual Result<bool> data(std::string_view chunk) = 0; // error: respond with it (400)
    virtual void end(Responder respond) = 0;
};

class Handler {
public:
    virtual ~Handler() = default;
    // Headers are in (no body yet): return a sink to stream the body, or null to have it
    // buffered and handle() called. `reject` set instead refuses at once (e.g. 401).
    virtual std::unique_ptr<BodySink> stream(const Request& request,
                                             std::optional<Response>& reject) = 0;
    virtual void handle(Request&& request, Responder respond) = 0;
    // The request's client proved who it is (a valid token): its connection then keeps its slot
    // when newcomers need one; connections that never did are the first to go.
    virtual bool authenticated(const Request&) { return false; }
};

// The parsing core, no I/O (also the fuzz target's entry): bytes in, events out.
class RequestParser {
public:
    struct Events {
        // Headers complete; return false to stop (the caller answers).
        std::function<bool(Request&)> headers;
        std::function<bool(std::string_view)> body; // false stops
        std::function<void()> complete;             // one request fully read
    };
    explicit RequestParser(Events events);
    ~RequestParser();
    RequestParser(const RequestParser&) = delete;
    RequestParser& operator=(const RequestParser&) = delete;

    // Feeds bytes; returns how many were consumed. Stops after each complete request (so the
    // caller can answer before reading the next) and on error.
    size_t feed(const char* data, size_t size);
    bool failed() const;
    std::string error() const; // "HPE_INVALID_METHOD: invalid HTTP method"
    bool keep_alive() const;

    struct State;

private:
    std::unique_ptr<State> s_;
};

std::string status_text(int status);
// "a%20b" -> "a b"; false on a bad escape.
bool percent_decode(std::string_view in, std::string& out, bool plus_is_space);

// Slow or idle clients cannot hold the server: a request's head must be whole within
// head_timeout_ms of its first byte and a buffered body within body_timeout_ms of the head (not
// reset by each byte; a streamed body, which only an authenticated client gets, has the idle
// timeout alone). A connection is stalled when it has had stall_grace_ms and still sends no
// whole request, or waits idle after an answer without having authenticated: stalled
// connections beyond max_per_address from one address are closed, oldest first, and a newcomer
// finding every slot taken takes the slot of the oldest stalled one (from its own address
// first). A connection is never closed while it is answered, nor before its grace is over: a
// burst of clients from one address (a proxy) is served, and 503 comes only when every slot is
// busy, young or authenticated.
struct ServerOptions {
    size_t max_connections = 64;
    size_t max_per_address = 16;      // stalled unauthenticated connections kept per address
    size_t max_body = 1 << 20;        // buffered bodies; streamed bodies have no limit here
    uint64_t idle_timeout_ms = 60000; // no byte in or out for this long: closed
    uint64_t head_timeout_ms = 10000; // request line and headers, from their first byte
    uint64_t body_timeout_ms = 60000; // a buffered body, from the end of the head
    uint64_t stall_grace_ms = 250;    // a new connection's time to send a whole request head
};

class Server {
public:
    Server(uv_loop_t* loop, Handler& handler, ServerOptions options = {});
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    Status listen(const std::string& ip, uint16_t port);
    uint16_t port() const;
    // Stops accepting and closes idle connections; busy ones close after their response.
    void close();
    size_t connections() const;

    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

// ---- client ----------------------------------------------------------------------------

struct ClientRequest {
    std::string method = "GET";
    std::string target = "/";
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    // A body too large to hold: sent with the chunked transfer coding, asked for piece by
    // piece as the socket drains; an empty string ends it, an error aborts the request.
    std::function<Result<std::string>()> next_chunk;
};

struct ClientResponse {
    int status = 0;
    std::vector<std::pair<std::string, std::string>> headers; // names in lower case
    std::string body;
};

// One request on its own connection to host:port (numeric or resolved without blocking); `done`
// runs once, with the response or an error naming what failed (connect, timeout, malformed).
void fetch(uv_loop_t* loop, const std::string& host, uint16_t port, ClientRequest request,
           uint64_t timeout_ms, std::function<void(Result<ClientResponse>)> done);

} // namespace otagw::http
