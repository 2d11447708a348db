// SPDX-License-Identifier: GPL-2.0-or-later
#include "bip/ras_server.hpp"

#include "otagw/common/log.hpp"

namespace otagw::gateway::bip {

namespace {

constexpr const char* kLog = "ras";
// A card's results: the R-APDUs of one script (a GET STATUS answer is the largest part).
constexpr size_t kMaxBody = 256 * 1024;

} // namespace

struct RasServer::Connection {
    ConnectionId id = 0;
    std::unique_ptr<uv::TcpStream> stream;
    std::string peer;
    tls::Session tls;
    std::unique_ptr<http::RequestParser> parser;
    uv::Timer timer;
    std::optional<RasCard> card; // its PSK identity's, from the handshake's lookup
    bool opened = false;         // the handler took the session
    bool answering = false;      // a POST waits for its reply
    bool ending = false;         // 204 sent: the card is to close
    http::Request request;       // the one being read
    bool request_complete = false;
    std::string body_error; // a body over kMaxBody
    std::string plain;      // decrypted bytes not yet given to the parser

    Connection(uv_loop_t* loop, std::shared_ptr<tls::Config> config)
        : tls(std::move(config)), timer(loop) {
        http::RequestParser::Events e;
        e.headers = [this](http::Request& r) {
            request = std::move(r);
            return true;
        };
        e.body = [this](std::string_view chunk) {
            if (request.body.size() + chunk.size() > kMaxBody) {
                body_error = "a response script larger than " + std::to_string(kMaxBody) + " bytes";
                return false;
            }
            request.body.append(chunk);
            return true;
        };
        e.complete = [this] {
            request_complete = true;
        };
        parser = std::make_unique<http::RequestParser>(std::move(e));
    }
};

RasServer::RasServer(uv_loop_t* loop, db::Store& store, const RasConfig& config,
                     RasHandler& handler)
    : loop_(loop), store_(store), config_(config), handler_(handler), listener_(loop) {}

RasServer::~RasServer() {
    close();
}

Status RasServer::listen() {
    tls::PskOptions o;
    o.suites = config_.suites;
    o.min_version = config_.min_version;
    o.max_version = tls::kTls12;
    // One lookup per handshake: the key for mbedTLS, the card for the connection.
    auto cfg = tls::Config::server(
        o, [this](ByteView identity, tls::Session& session) -> std::optional<Bytes> {
            auto owner = store_.psk_owner(identity);
            if (!owner) {
                log::error(kLog, "looking up a PSK identity: " + owner.error().message);
                return std::nullopt;
            }
            if (!*owner)
                return std::nullopt;
            auto& found = **owner;
            if (auto* c = static_cast<Connection*>(session.context()))
                c->card = RasCard{found.card_id, found.iccid, found.keyset.kvn, found.keyset.kid,
                                  Bytes(identity.begin(), identity.end())};
            return std::move(found.keyset.psk);
        });
    if (!cfg)
        return make_error("ras: " + cfg.error().message);
    tls_ = *cfg;
    const int rc = listener_.listen(config_.ip, config_.port,
                                    [this](auto stream) { accept(std::move(stream)); });
    if (rc != 0)
        return make_error("ras: cannot listen on " + config_.ip + ":" +
                          std::to_string(config_.port) + ": " + uv::error_name(rc));
    log::notice(kLog, "listening on " + config_.ip + ":" + std::to_string(port()));
    return {};
}

uint16_t RasServer::port() const {
    return listener_.port();
}

void RasServer::close() {
    listener_.close();
    while (!connections_.empty())
        finish(*connections_.begin()->second, "the server stops");
}

void RasServer::drop(ConnectionId id, const std::string& why) {
    if (auto it = connections_.find(id); it != connections_.end())
        finish(*it->second, why);
}

void RasServer::accept(std::unique_ptr<uv::TcpStream> stream) {
    if (connections_.size() >= config_.max_sessions) {
        counters_.inc("ras:refused_busy");
        log::notice(kLog, stream->peer() + ": refused, " + std::to_string(connections_.size()) +
                              " sessions open (max-sessions)");
        stream->close();
        return;
    }
    auto conn = std::make_unique<Connection>(loop_, tls_);
    Connection& c = *conn;
    c.id = next_id_++;
    c.peer = stream->peer();
    c.stream = std::move(stream);
    connections_.emplace(c.id, std::move(conn));
    counters_.inc("ras:connections");
    const ConnectionId id = c.id;
    std::weak_ptr<bool> alive = alive_;
    auto find = [this, alive, id]() -> Connection* {
        if (alive.expired())
            return nullptr;
        auto it = connections_.find(id);
        return it == connections_.end() ? nullptr : it->second.get();
    };
    c.stream->start(
        [this, find](ByteView bytes) {
            if (Connection* x = find())
                on_bytes(*x, bytes);
        },
        [this, find](int err) {
            if (Connection* x = find())
                finish(*x,
                       err == UV_EOF ? "peer closed" : "connection lost: " + uv::error_name(err));
        });
    c.timer.start(uint64_t{config_.handshake_timeout_s} * 1000, [this, find] {
        if (Connection* x = find())
            finish(*x, "timeout: no TLS session within " +
                           std::to_string(config_.handshake_timeout_s) + " s");
    });
    c.tls.set_context(&c); // the PSK lookup names the connection's card
    if (Status st = c.tls.start(); !st)
        finish(c, st.error().message, true);
}

void RasServer::flush(Connection& c) {
    Bytes out = c.tls.take_output();
    if (!out.empty() && c.stream)
        c.stream->write(out);
}

void RasServer::on_bytes(Connection& c, ByteView bytes) {
    const bool was_open = c.tls.state() == tls::Session::State::Open;
    Status st = c.tls.feed(bytes);
    flush(c); // handshake messages, or an alert
    if (!st)
        return finish(c, st.error().message, true);
    if (!was_open && c.tls.state() == tls::Session::State::Open)
        on_open(c);
    if (!connections_.count(c.id))
        return;
    Bytes plain = c.tls.take_plain();
    c.plain.append(plain.begin(), plain.end());
    if (c.tls.state() == tls::Session::State::Closed)
        return finish(c, c.ending ? "ended" : "peer closed");
    on_plain(c);
}

void RasServer::on_open(Connection& c) {
    if (!c.card) // the handshake's lookup found the card: cannot happen
        return finish(c, "TLS: no card for the PSK identity", true);
    counters_.inc("ras:handshakes");
    log::info(kLog, c.peer + ": card " + c.card->iccid + " (identity " + to_hex(c.card->identity) +
                        ") " + c.tls.version() + " " + tls::suite_name(c.tls.suite()) +
                        ", fragments of " + std::to_string(c.tls.max_fragment()));
    if (!handler_.opened(c.id, *c.card)) {
        counters_.inc("ras:refused_card");
        c.card.reset(); // not a session of the handler's: no closed() for it
        return finish(c, "session refused");
    }
    c.opened = true;
    arm_session_timer(c);
}

void RasServer::arm_session_timer(Connection& c) {
    const ConnectionId id = c.id;
    std::weak_ptr<bool> alive = alive_;
    c.timer.start(uint64_t{config_.session_timeout_s} * 1000, [this, alive, id] {
        if (alive.expired())
            return;
        if (auto it = connections_.find(id); it != connections_.end())
            finish(*it->second,
                   "timeout: no POST within " + std::to_string(config_.session_timeout_s) + " s");
    });
}

void RasServer::on_plain(Connection& c) {
    while (!c.answering && !c.plain.empty()) {
        if (!c.opened)
            return finish(c, "bad HTTP: data before the session is open");
        const size_t used = c.parser->feed(c.plain.data(), c.plain.size());
        c.plain.erase(0, used);
        if (!c.body_error.empty() || c.parser->failed()) {
            const std::string why = c.body_error.empty() ? c.parser->error() : c.body_error;
            counters_.inc("ras:bad_http");
            send(c, admin_error(400, why));
            return finish(c, "bad HTTP: " + why);
        }
        if (!c.request_complete)
            return; // more bytes to come
        c.request_complete = false;
        c.request.peer = c.peer;
        const ConnectionId id = c.id;
        on_request(c, std::move(c.request));
        if (!connections_.count(id))
            return;
    }
}

void RasServer::on_request(Connection& c, http::Request&& request) {
    auto post = read_admin_post(request);
    if (!post) {
        counters_.inc("ras:bad_http");
        send(c, admin_error(400, post.error().message));
        return finish(c, "bad HTTP: " + post.error().message);
    }
    counters_.inc("ras:posts");
    c.answering = true;
    arm_session_timer(c);
    const ConnectionId id = c.id;
    std::weak_ptr<bool> alive = alive_;
    handler_.posted(c.id, *c.card, std::move(*post), [this, alive, id](AdminReply reply) {
        if (alive.expired())
            return;
        auto it = connections_.find(id);
        if (it == connections_.end())
            return;
        Connection& x = *it->second;
        x.answering = false;
        if (!reply.script) {
            x.ending = true;
            counters_.inc("ras:sessions_ended");
        } else {
            counters_.inc("ras:scripts");
        }
        send(x, admin_response(reply.script, reply.next_uri));
        if (x.ending) // the card closes too; close_notify after the 204 ends it sooner
            return finish(x, "ended");
        on_plain(x);
    });
}

void RasServer::send(Connection& c, const std::string& message) {
    if (c.tls.state() != tls::Session::State::Open)
        return;
    if (Status st =
            c.tls.write(ByteView(reinterpret_cast<const uint8_t*>(message.data()), message.size()));
        !st)
        log::notice(kLog, c.peer + ": " + st.error().message);
    flush(c);
}

void RasServer::finish(Connection& c, const std::string& why, bool tls_failure) {
    auto it = connections_.find(c.id);
    if (it == connections_.end())
        return;
    std::unique_ptr<Connection> conn = std::move(it->second);
    connections_.erase(it);
    conn->timer.stop();
    if (tls_failure) {
        counters_.inc("ras:tls_failed");
        const Bytes& identity = conn->tls.identity();
        log::notice(kLog, conn->peer + ": " + why +
                              (identity.empty() ? "" : " (identity " + to_hex(identity) + ")"));
        handler_.tls_failed(conn->card, why); // the card when its identity was known
    } else if (conn->opened) {
        log::info(kLog, conn->peer + ": card " + conn->card->iccid + ": session closed, " + why);
    }
    if (conn->tls.state() == tls::Session::State::Open)
        conn->tls.close();
    flush(*conn);
    if (conn->stream)
        conn->stream->close_when_written();
    if (conn->opened && !tls_failure)
        handler_.closed(conn->id, *conn->card, why);
    uv::defer(loop_, [conn = std::shared_ptr<Connection>(std::move(conn))] {});
}

std::vector<std::string> RasServer::show() const {
    std::vector<std::string> out;
    out.push_back("RAS listening on " + config_.ip + ":" + std::to_string(port()) +
                  ", cards told " + (config_.card_ip.empty() ? config_.ip : config_.card_ip) + ":" +
                  std::to_string(config_.card_port ? config_.card_port : port()) + " URI " +
                  config_.uri);
    out.push_back(" sessions open: " + std::to_string(connections_.size()) + " of " +
                  std::to_string(config_.max_sessions));
    for (const auto& [name, value] : counters_.all())
        out.push_back(" " + name + " " + std::to_string(value));
    return out;
}

} // namespace otagw::gateway::bip
