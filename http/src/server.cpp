// SPDX-License-Identifier: GPL-2.0-or-later
#include "otagw/http/http.hpp"

#include <http_parser.h>

#include <algorithm>
#include <list>

#include "otagw/common/log.hpp"
#include "otagw/common/uv.hpp"

namespace otagw::http {

namespace {

constexpr size_t kMaxHeaderBytes = 16 * 1024; // request line + headers
constexpr size_t kMaxHeaders = 64;

// An answer on the wire, its Content-Length the body's size.
std::string wire(const Response& r, bool keep) {
    std::string out = "HTTP/1.1 " + std::to_string(r.status) + " " + status_text(r.status);
    out += "\r\nContent-Type: " + r.content_type;
    out += "\r\nContent-Length: " + std::to_string(r.body.size());
    for (const auto& [k, v] : r.headers)
        out.append("\r\n").append(k).append(": ").append(v);
    out += keep ? "\r\nConnection: keep-alive\r\n\r\n" : "\r\nConnection: close\r\n\r\n";
    return out + r.body;
}

std::string error_json(const std::string& message) {
    std::string out = "{\"error\":\"";
    for (char ch : message) {
        if (ch == '"' || ch == '\\')
            out.push_back('\\');
        if (static_cast<unsigned char>(ch) < 0x20)
            continue;
        out.push_back(ch);
    }
    return out + "\"}";
}

// "192.0.2.1:4000" -> "192.0.2.1", "[2001:db8::1]:4000" -> "[2001:db8::1]".
std::string address_of(const std::string& peer) {
    const size_t colon = peer.rfind(':');
    return colon == std::string::npos ? peer : peer.substr(0, colon);
}

std::string lower_ascii(std::string s) {
    for (char& c : s)
        if (c >= 'A' && c <= 'Z')
            c = static_cast<char>(c - 'A' + 'a');
    return s;
}

} // namespace

bool percent_decode(std::string_view in, std::string& out, bool plus_is_space) {
    out.clear();
    for (size_t i = 0; i < in.size(); i++) {
        if (in[i] == '%') {
            if (i + 2 >= in.size())
                return false;
            const int hi = hex_digit(in[i + 1]);
            const int lo = hex_digit(in[i + 2]);
            if (hi < 0 || lo < 0)
                return false;
            out.push_back(static_cast<char>(hi << 4 | lo));
            i += 2;
        } else if (in[i] == '+' && plus_is_space) {
            out.push_back(' ');
        } else {
            out.push_back(in[i]);
        }
    }
    return true;
}

const std::string* Request::header(std::string_view name) const {
    // Names are kept in lower case (RFC 9110 §5.1: case-insensitive).
    for (const auto& [k, v] : headers)
        if (k.size() == name.size() &&
            std::equal(k.begin(), k.end(), name.begin(), [](char a, char b) {
                return a == std::tolower(static_cast<unsigned char>(b));
            }))
            return &v;
    return nullptr;
}

const std::string* Request::param(std::string_view name) const {
    for (const auto& [k, v] : query)
        if (k == name)
            return &v;
    return nullptr;
}

std::string status_text(int status) {
    switch (status) {
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 202:
        return "Accepted";
    case 204:
        return "No Content";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 409:
        return "Conflict";
    case 413:
        return "Content Too Large";
    case 422:
        return "Unprocessable Content";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 503:
        return "Service Unavailable";
    default:
        return "Status";
    }
}

// ---- RequestParser ----------------------------------------------------------------------

struct RequestParser::State {
    http_parser parser;
    http_parser_settings settings;
    Events events;
    Request request;
    std::string field, value; // the header being read
    bool in_value = false;
    size_t header_bytes = 0;
    bool stopped = false; // a callback said stop
    bool complete = false;
    std::string error;

    static State* of(http_parser* p) { return static_cast<State*>(p->data); }

    bool count(size_t n) {
        header_bytes += n;
        if (header_bytes > kMaxHeaderBytes) {
            error = "request headers larger than " + std::to_string(kMaxHeaderBytes) + " bytes";
            return false;
        }
        return true;
    }

    void end_header() {
        if (!field.empty() || in_value)
            request.headers.emplace_back(lower_ascii(std::move(field)), std::move(value));
        field.clear();
        value.clear();
        in_value = false;
    }

    bool split_target() {
        const std::string& t = request.target;
        const size_t q = t.find('?');
        if (!percent_decode(std::string_view(t).substr(0, q), request.path, false)) {
            error = "bad percent-escape in the path";
            return false;
        }
        if (request.path.empty() || request.path[0] != '/') {
            error = "the request target must be a path starting with /";
            return false;
        }
        if (q == std::string::npos)
            return true;
        std::string_view rest = std::string_view(t).substr(q + 1);
        while (!rest.empty()) {
            const size_t amp = rest.find('&');
            const std::string_view pair = rest.substr(0, amp);
            const size_t eq = pair.find('=');
            std::string name, val;
            if (!percent_decode(pair.substr(0, eq), name, true) ||
                (eq != std::string_view::npos && !percent_decode(pair.substr(eq + 1), val, true))) {
                error = "bad percent-escape in the query";
                return false;
            }
            if (!name.empty())
                request.query.emplace_back(std::move(name), std::move(val));
            if (amp == std::string_view::npos)
                break;
            rest.remove_prefix(amp + 1);
        }
        return true;
    }
};

RequestParser::RequestParser(Events events) : s_(std::make_unique<State>()) {
    s_->events = std::move(events);
    http_parser_init(&s_->parser, HTTP_REQUEST);
    s_->parser.data = s_.get();
    http_parser_settings& st = s_->settings;
    http_parser_settings_init(&st);
    st.on_message_begin = [](http_parser* p) {
        State* s = State::of(p);
        s->request = Request{};
        s->header_bytes = 0;
        s->complete = false;
        return 0;
    };
    st.on_url = [](http_parser* p, const char* at, size_t n) {
        State* s = State::of(p);
        if (!s->count(n))
            return 1;
        s->request.target.append(at, n);
        return 0;
    };
    st.on_header_field = [](http_parser* p, const char* at, size_t n) {
        State* s = State::of(p);
        if (!s->count(n))
            return 1;
        if (s->in_value)
            s->end_header();
        if (s->request.headers.size() >= kMaxHeaders) {
            s->error = "more than " + std::to_string(kMaxHeaders) + " header fields";
            return 1;
        }
        s->field.append(at, n);
        return 0;
    };
    st.on_header_value = [](http_parser* p, const char* at, size_t n) {
        State* s = State::of(p);
        if (!s->count(n))
            return 1;
        s->in_value = true;
        s->value.append(at, n);
        return 0;
    };
    st.on_headers_complete = [](http_parser* p) {
        State* s = State::of(p);
        s->end_header();
        s->request.method = http_method_str(static_cast<http_method>(p->method));
        if (!s->split_target())
            return -1;
        if (s->events.headers && !s->events.headers(s->request)) {
            s->stopped = true;
            http_parser_pause(p, 1);
        }
        return 0;
    };
    st.on_body = [](http_parser* p, const char* at, size_t n) {
        State* s = State::of(p);
        if (s->stopped)
            return 0;
        if (s->events.body && !s->events.body(std::string_view(at, n))) {
            s->stopped = true;
            http_parser_pause(p, 1);
        }
        return 0;
    };
    st.on_message_complete = [](http_parser* p) {
        State* s = State::of(p);
        if (s->stopped)
            return 0;
        s->complete = true;
        if (s->events.complete)
            s->events.complete();
        http_parser_pause(p, 1); // one request at a time: the caller answers first
        return 0;
    };
}

RequestParser::~RequestParser() = default;

size_t RequestParser::feed(const char* data, size_t size) {
    if (failed() || s_->stopped)
        return 0;
    if (HTTP_PARSER_ERRNO(&s_->parser) == HPE_PAUSED)
        http_parser_pause(&s_->parser, 0);
    const size_t n = http_parser_execute(&s_->parser, &s_->settings, data, size);
    const auto err = HTTP_PARSER_ERRNO(&s_->parser);
    if (err != HPE_OK && err != HPE_PAUSED && s_->error.empty())
        s_->error = std::string(http_errno_name(err)) + ": " + http_errno_description(err);
    return n;
}

bool RequestParser::failed() const {
    const auto err = HTTP_PARSER_ERRNO(&s_->parser);
    return !s_->error.empty() || (err != HPE_OK && err != HPE_PAUSED);
}

std::string RequestParser::error() const {
    return s_->error;
}

bool RequestParser::keep_alive() const {
    return http_should_keep_alive(&s_->parser) != 0;
}

// ---- Server -----------------------------------------------------------------------------

struct Connection;

struct Server::Impl {
    uv_loop_t* loop;
    Handler& handler;
    ServerOptions options;
    uv::TcpServer listener;
    std::list<std::shared_ptr<Connection>> connections; // oldest first
    uv::Timer recheck; // when a young connection over its address's cap comes of age
    bool closing = false;

    Impl(uv_loop_t* l, Handler& h, ServerOptions o)
        : loop(l), handler(h), options(o), listener(l), recheck(l) {}
    void accept(std::unique_ptr<uv::TcpStream> stream);
    void remove(Connection* c);
    // Closes stalled connections from `address` beyond max_per_address, oldest first.
    void enforce_cap(const std::string& address);
    void evict(const std::shared_ptr<Connection>& c, const char* why);
};

struct Connection : std::enable_shared_from_this<Connection> {
    Server::Impl& server;
    std::unique_ptr<uv::TcpStream> stream;
    const std::string address; // the client's, without the port
    uv::Timer idle;
    uv::Timer deadline; // the request's head, then its buffered body, must be whole by then
    std::string inbox;  // bytes received and not yet parsed (while a request is answered)
    std::unique_ptr<RequestParser> parser;
    Request request;
    std::unique_ptr<BodySink> sink;
    std::optional<Response> early; // answered before the body (rejected, or a body error)
    bool busy = false;             // a request is being answered
    bool pumping = false;          // inside pump(): a synchronous answer must not recurse
    bool gone = false;
    bool completed = false; // the parser read a whole request (it pauses there)
    bool reading = false;   // a request's bytes have begun to come (its deadline runs)
    bool trusted = false;   // a request on it was authenticated: it keeps its slot
    bool served = false;    // it had an answer
    const uint64_t opened_at;

    Connection(Server::Impl& s, std::unique_ptr<uv::TcpStream> st)
        : server(s), stream(std::move(st)), address(address_of(stream->peer())), idle(s.loop),
          deadline(s.loop), opened_at(uv_now(s.loop)) {}

    // Unauthenticated and either past its grace without a request being answered, or idle
    // after an answer: it may be closed to give its slot to others.
    bool stalled() const {
        if (trusted || busy || gone)
            return false;
        return (served && !reading) ||
               uv_now(server.loop) - opened_at >= server.options.stall_grace_ms;
    }
    bool young() const {
        return !trusted && !gone && uv_now(server.loop) - opened_at < server.options.stall_grace_ms;
    }

    void start() {
        std::weak_ptr<Connection> weak = weak_from_this();
        RequestParser::Events ev;
        ev.headers = [this](Request& r) {
            request = std::move(r);
            request.peer = stream->peer();
            std::optional<Response> reject;
            sink = server.handler.stream(request, reject);
            if (reject) {
                early = std::move(reject);
                return false;
            }
            trusted = trusted || server.handler.authenticated(request);
            if (sink)
                deadline.stop(); // streamed: an authenticated client, the idle timeout only
            else
                arm_deadline(server.options.body_timeout_ms, "body");
            return true;
        };
        ev.body = [this](std::string_view chunk) {
            if (sink) {
                auto r = sink->data(chunk);
                if (!r) {
                    early = Response{400, "application/json", error_json(r.error().message), {}};
                    return false;
                }
                return true;
            }
            if (request.body.size() + chunk.size() > server.options.max_body) {
                early = Response{413,
                                 "application/json",
                                 error_json("request body larger than " +
                                            std::to_string(server.options.max_body) + " bytes"),
                                 {}};
                return false;
            }
            request.body.append(chunk);
            return true;
        };
        ev.complete = [this] {
            completed = true;
            reading = false;
            deadline.stop();
        };
        parser = std::make_unique<RequestParser>(std::move(ev));
        stream->start(
            [weak](ByteView data) {
                if (auto c = weak.lock()) {
                    c->inbox.append(reinterpret_cast<const char*>(data.data()), data.size());
                    c->touch();
                    c->pump();
                }
            },
            [weak](int) {
                if (auto c = weak.lock())
                    c->drop();
            });
        touch();
    }

    void touch() {
        std::weak_ptr<Connection> weak = weak_from_this();
        idle.start(server.options.idle_timeout_ms, [weak] {
            if (auto c = weak.lock())
                c->drop();
        });
    }

    // Not reset by the bytes that come: a client trickling its request is closed at the deadline.
    void arm_deadline(uint64_t ms, const char* part) {
        std::weak_ptr<Connection> weak = weak_from_this();
        deadline.start(ms, [weak, ms, part] {
            auto c = weak.lock();
            if (!c || c->busy || c->gone)
                return;
            c->busy = true;
            c->send(Response{408,
                             "application/json",
                             error_json(std::string("request ") + part + " not received within " +
                                        std::to_string(ms) + " ms"),
                             {}},
                    false);
        });
    }

    void pump() {
        if (pumping)
            return;
        pumping = true;
        auto self = shared_from_this();
        while (!gone && !busy && !inbox.empty()) {
            if (!reading) {
                reading = true;
                arm_deadline(server.options.head_timeout_ms, "head");
            }
            const size_t n = parser->feed(inbox.data(), inbox.size());
            inbox.erase(0, n);
            if (early) {
                busy = true;
                send(std::move(*early), false);
                early.reset();
                break;
            }
            if (parser->failed()) {
                busy = true;
                send(Response{400,
                              "application/json",
                              error_json("malformed HTTP request: " + parser->error()),
                              {}},
                     false);
                break;
            }
            if (n == 0)
                break;
            if (completed)
                dispatch();
        }
        pumping = false;
    }

    void dispatch() {
        completed = false;
        busy = true;
        std::weak_ptr<Connection> weak = weak_from_this();
        const bool keep = parser->keep_alive();
        Responder respond = [weak, keep](Response r) {
            if (auto c = weak.lock())
                c->answered(std::move(r), keep);
        };
        if (sink) {
            auto s = std::move(sink);
            s->end(std::move(respond));
        } else {
            server.handler.handle(std::move(request), std::move(respond));
        }
        request = Request{};
    }

    void answered(Response r, bool keep) {
        if (gone || !busy)
            return;
        send(std::move(r), keep && !server.closing);
        if (!gone) {
            busy = false;
            served = true;
            pump();
        }
    }

    void send(Response r, bool keep) {
        const std::string out = wire(r, keep);
        stream->write(ByteView(reinterpret_cast<const uint8_t*>(out.data()), out.size()));
        touch();
        if (!keep) {
            stream->close_when_written();
            drop();
        }
    }

    void drop() {
        if (gone)
            return;
        gone = true;
        idle.stop();
        deadline.stop();
        server.remove(this);
    }
};

void Server::Impl::evict(const std::shared_ptr<Connection>& c, const char* why) {
    // Debug: under a slowloris attack this is hundreds a second.
    log::debug("api",
               "closing a stalled unauthenticated connection from " + c->address + ": " + why);
    c->stream->close();
    c->drop();
}

void Server::Impl::enforce_cap(const std::string& address) {
    std::vector<std::shared_ptr<Connection>> untrusted;
    for (const auto& c : connections)
        if (!c->trusted && c->address == address)
            untrusted.push_back(c);
    size_t over =
        untrusted.size() > options.max_per_address ? untrusted.size() - options.max_per_address : 0;
    bool waiting = false;
    for (const auto& c : untrusted) {
        if (over == 0)
            break;
        if (c->stalled()) {
            evict(c, "too many from that address");
            over--;
        } else {
            waiting = waiting || c->young();
        }
    }
    if (over > 0 && waiting && !recheck.active()) {
        recheck.start(options.stall_grace_ms, [this] {
            std::vector<std::string> addresses;
            for (const auto& c : connections)
                if (!c->trusted &&
                    std::find(addresses.begin(), addresses.end(), c->address) == addresses.end())
                    addresses.push_back(c->address);
            for (const auto& a : addresses)
                enforce_cap(a);
        });
    }
}

void Server::Impl::accept(std::unique_ptr<uv::TcpStream> stream) {
    const std::string address = address_of(stream->peer());
    if (!closing && connections.size() >= options.max_connections) {
        // The oldest stalled connection gives its slot, from the newcomer's address first.
        std::shared_ptr<Connection> victim;
        for (const auto& c : connections)
            if (c->stalled() && (!victim || (c->address == address && victim->address != address)))
                victim = c;
        if (victim)
            evict(victim, "its slot is needed");
    }
    if (closing || connections.size() >= options.max_connections) {
        log::notice("api", "refusing a connection from " + stream->peer() + ": " +
                               (closing ? "shutting down" : "too many connections"));
        const std::string busy =
            wire(Response{503, "application/json", error_json("too many connections, retry"), {}},
                 false);
        stream->write(ByteView(reinterpret_cast<const uint8_t*>(busy.data()), busy.size()));
        stream->close_when_written();
        return;
    }
    auto c = std::make_shared<Connection>(*this, std::move(stream));
    connections.push_back(c);
    c->start();
    enforce_cap(address);
}

void Server::Impl::remove(Connection* c) {
    // Destroy outside the connection's own callback.
    auto it = std::find_if(connections.begin(), connections.end(),
                           [c](const auto& p) { return p.get() == c; });
    if (it == connections.end())
        return;
    std::shared_ptr<Connection> keep = *it;
    connections.erase(it);
    uv::defer(loop, [keep] {});
}

Server::Server(uv_loop_t* loop, Handler& handler, ServerOptions options)
    : impl_(std::make_unique<Impl>(loop, handler, options)) {}

Server::~Server() {
    close();
}

Status Server::listen(const std::string& ip, uint16_t port) {
    const int rc = impl_->listener.listen(
        ip, port, [this](std::unique_ptr<uv::TcpStream> s) { impl_->accept(std::move(s)); });
    if (rc < 0)
        return make_error("API: cannot listen on " + ip + ":" + std::to_string(port) + ": " +
                          uv::error_name(rc));
    return {};
}

uint16_t Server::port() const {
    return impl_->listener.port();
}

void Server::close() {
    if (impl_->closing)
        return;
    impl_->closing = true;
    impl_->listener.close();
    impl_->recheck.stop();
    auto copy = impl_->connections;
    for (auto& c : copy)
        if (!c->busy) {
            c->stream->close();
            c->drop();
        }
}

size_t Server::connections() const {
    return impl_->connections.size();
}

} // namespace otagw::http
