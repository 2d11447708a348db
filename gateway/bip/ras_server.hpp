// SPDX-License-Identifier: GPL-2.0-or-later
// The Remote Administration Server (GP Card Spec 2.3 Amendment B §3.3): cards open a BIP
// channel through their handset to it, run PSK-TLS (common/tls_psk.hpp, the PSK found in the
// store by the identity the card sends) and speak the HTTP admin protocol (bip/admin_http.hpp):
// each POST carries the results of the last script and gets the next one, 204 ends.
//
// On the daemon's one libuv loop, no thread: a connection is a TCP stream, a TLS memory pipe
// and an HTTP request parser. What the server does with a card's session is its handler's
// business (the admin sessions of the request pipeline, a test's script). Bad TLS or HTTP from
// a client closes that connection, is logged (never a key) and counted; nothing else is
// disturbed. Connections beyond max-sessions are refused at accept.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "bip/admin_http.hpp"
#include "config/config.hpp"
#include "otagw/common/counters.hpp"
#include "otagw/common/tls_psk.hpp"
#include "otagw/common/uv.hpp"
#include "otagw/db/store.hpp"

namespace otagw::gateway::bip {

using ConnectionId = uint64_t;

// Who is on a connection: the card its PSK identity belongs to, and the keyset.
struct RasCard {
    int64_t card_id = 0;
    std::string iccid;
    uint8_t kvn = 0, kid = 0;
    Bytes identity;
};

// What the server answers a POST: the next script (with the URI the card posts its results
// to) or, without one, 204 and the end of the session.
struct AdminReply {
    std::optional<Bytes> script;
    std::string next_uri;
};

class RasHandler {
public:
    virtual ~RasHandler() = default;
    // The card's TLS session is up. False refuses it (the connection is closed).
    virtual bool opened(ConnectionId id, const RasCard& card) = 0;
    // A POST the protocol accepts; `answer` once (now or later) with the reply.
    virtual void posted(ConnectionId id, const RasCard& card, AdminPost&& post,
                        std::function<void(AdminReply)> answer) = 0;
    // The connection of an opened session is gone: `why` says how ("ended" after 204 and the
    // card's close, "peer closed", "timeout", "TLS: ...", "bad HTTP: ...").
    virtual void closed(ConnectionId id, const RasCard& card, const std::string& why) = 0;
    // A handshake failed; `card` when the identity was known (the card will not retry: Amd B
    // §3.3.1.1 makes a TLS failure fatal to the session).
    virtual void tls_failed(const std::optional<RasCard>& card, const std::string& why) = 0;
};

class RasServer {
public:
    RasServer(uv_loop_t* loop, db::Store& store, const RasConfig& config, RasHandler& handler);
    ~RasServer();
    RasServer(const RasServer&) = delete;
    RasServer& operator=(const RasServer&) = delete;

    Status listen();
    uint16_t port() const;
    void close(); // stops accepting and closes every connection
    // Ends a session from the server side (its card's request was cancelled, ...).
    void drop(ConnectionId id, const std::string& why);

    size_t sessions() const { return connections_.size(); }
    const Counters& counters() const { return counters_; }
    std::vector<std::string> show() const; // `show ras`

    struct Connection;

private:
    void accept(std::unique_ptr<uv::TcpStream> stream);
    void on_bytes(Connection& c, ByteView bytes);
    void on_open(Connection& c);
    void arm_session_timer(Connection& c); // session-timeout, from now
    void on_plain(Connection& c);
    void on_request(Connection& c, http::Request&& request);
    void send(Connection& c, const std::string& http_message);
    void flush(Connection& c);
    void finish(Connection& c, const std::string& why, bool tls_failure = false);

    uv_loop_t* loop_;
    db::Store& store_;
    const RasConfig& config_;
    RasHandler& handler_;
    std::shared_ptr<tls::Config> tls_;
    uv::TcpServer listener_;
    std::unordered_map<ConnectionId, std::unique_ptr<Connection>> connections_;
    ConnectionId next_id_ = 1;
    Counters counters_;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

} // namespace otagw::gateway::bip
