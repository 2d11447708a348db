// SPDX-License-Identifier: GPL-2.0-or-later
// Handsets with BIP (ETSI TS 102 223 OPEN CHANNEL, TCP client mode) and the card's side of
// remote administration over HTTP (GP Card Spec 2.3 Amendment B, SCP81): on a trigger that
// reached the ISD, the handset opens a TCP channel to the server the trigger names, the card
// runs PSK-TLS as the client with the keyset the trigger names (mbedTLS), posts as the
// admin agent, runs each expanded script it gets on its card manager and posts the results,
// until 204. Written for the card on its own: it reads the trigger and speaks HTTP with its own
// code (only TLS and TLV helpers are shared). Faults: a TLS failure (the card uses a wrong key),
// the connection dropped after a script (its results never posted; the card resumes per the
// trigger's retry policy), a slow link, RFC 6066 maximum fragment length 512.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>

#include "otagw/common/counters.hpp"
#include "otagw/common/result.hpp"
#include "otagw/common/uv.hpp"
#include "otagw/sim/population.hpp"

namespace otagw::sim {

// What the card takes from a trigger ('81' template, Amendment B Table 3-3). The parts the
// simulated security domain does not hold in itself must be there: the address (84), the
// security parameters (85) and the HTTP POST parameters (89).
struct AdminTrigger {
    std::string ip;
    uint16_t port = 0;
    Bytes identity;
    uint8_t kvn = 0, kid = 0;
    uint16_t retries = 0;
    uint32_t retry_delay_s = 0;
    std::string host, agent_id, uri;
};
Result<AdminTrigger> parse_admin_trigger(ByteView trigger);

// One answer of the server (Amd B §3.4.2): its status, X-Admin-Next-URI and body.
struct AdminResponse {
    int status = 0;
    std::string next_uri;
    Bytes body;
};
// Takes one whole response off the front of `in` (status line, headers, a Content-Length
// body): nullopt while it is not whole yet, an error for what is no HTTP/1.1 response or one
// larger than max_bytes.
Result<std::optional<AdminResponse>> take_admin_response(std::string& in, size_t max_bytes);

struct BipFaults {
    double tls_fail = 0;     // probability a session's handshake uses a wrong key
    double drop = 0;         // probability the channel drops after a script, before its results
    uint32_t latency_ms = 0; // added to each write (a slow link)
    uint16_t mfl = 0;        // RFC 6066 maximum fragment length asked (0, 512, 1024, ...)
    bool ignore = false;     // handsets take no trigger (another client plays the card's side)
};

class BipHandsets {
public:
    using ChangedFn = std::function<void(uint32_t card)>; // the card's state changed
    using ChanceFn = std::function<bool(double p)>;

    BipHandsets(uv_loop_t* loop, Population& cards, const BipFaults& faults, Counters& counters,
                ChangedFn changed, ChanceFn chance);
    ~BipHandsets();
    BipHandsets(const BipHandsets&) = delete;
    BipHandsets& operator=(const BipHandsets&) = delete;

    // The ISD of `card` got a trigger: its handset opens a session (or queues the trigger
    // behind the running one, Amd B §3.7).
    void trigger(uint32_t card, ByteView trigger);
    size_t sessions() const { return sessions_.size(); }
    void stop();

    struct Session;

private:
    void start(uint32_t card);
    void connected(Session& s);
    void on_bytes(Session& s, ByteView bytes);
    void on_response(Session& s, int status, const std::string& next_uri, Bytes body);
    void post(Session& s, const Bytes& results, bool first);
    void write_tls(Session& s);
    void broken(Session& s, const std::string& why, bool retry);
    void end(uint32_t card);

    uv_loop_t* loop_;
    Population& cards_;
    const BipFaults& faults_;
    Counters& counters_;
    ChangedFn changed_;
    ChanceFn chance_;
    std::unordered_map<uint32_t, std::unique_ptr<Session>> sessions_;
    std::unordered_map<uint32_t, Bytes> queued_; // one trigger waiting per card
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

} // namespace otagw::sim
