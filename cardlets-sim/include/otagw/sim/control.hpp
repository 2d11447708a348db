// SPDX-License-Identifier: GPL-2.0-or-later
// The simulator's control port (--control 127.0.0.1:PORT): a line protocol for tests, demos and
// operators. One request per line, one JSON object per line back ({"ok":true,...} or
// {"ok":false,"error":"..."}). Requests (doc/cardlets-sim.md):
//   card MSISDN|ICCID                      identity, keysets (KVN, algorithm, counter; never
//                                          keys), SCP81 keysets (KVN, KID, PSK identity), TARs,
//                                          load files, applications with cardlet data
//   inbox MSISDN                           SMS the handset received that were not for its card
//   mo-text MSISDN TO TEXT...              the handset sends TEXT (UTF-8) to TO
//   mo-binary MSISDN TO HEX [udhi]         the handset sends binary user data to TO
//   local MSISDN AID APDU-HEX              a terminal talks to an application (SELECT rules apply)
//   stats                                  counters
//   fault NAME=VALUE                       changes a fault at run time (see parse_fault)
//   export PATH                            writes the card inventory file now
//   card-memory MSISDN|ICCID BYTES         the card's non-volatile memory for load files
//   script MSISDN|ICCID HEX                runs a remote APDU script on the card's ISD (as an
//                                          admin session does); answers its response script
//   tar-msl MSISDN|ICCID TAR MSL           sets the minimum security level of one of its TARs
#pragma once

#include <functional>
#include <list>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "otagw/common/result.hpp"
#include "otagw/common/uv.hpp"
#include "otagw/sim/network.hpp"

namespace otagw::sim {

constexpr size_t kMaxControlLine = 4096;

struct ControlRequest {
    std::string verb;
    std::vector<std::string> args; // mo-text: MSISDN, TO, then the whole text as one argument
};
// Strict: known verbs with their argument counts, printable text; errors say what was wrong.
Result<ControlRequest> parse_control_line(std::string_view line);

// A fault setting "name=value" applied to the network's faults or its SMSC's: latency=MS,
// jitter=MS, mt-loss=P, mo-loss=P, mt-duplicate=P (P a probability 0..1, or a percentage "5%"),
// throttle-every=N, queue-full-every=N, drop-response-every=N, delay-response=MS,
// disconnect-after=N, duplicate-deliver-every=N, tps=N, constant-message-id=0|1,
// ignore-enquire-link=0|1, fail=MSISDN:STATUS (hex command_status).
Status apply_fault(std::string_view setting, NetworkFaults& net, smpp::SmscFaults& smsc);

class ControlServer {
public:
    using ExportFn = std::function<Status(const std::string& path)>;
    using ReplyFn = std::function<void(const std::string& json_line)>;

    ControlServer(uv_loop_t* loop, Network& network, ExportFn export_fn);
    ~ControlServer();
    int listen(const std::string& ip, uint16_t port);
    uint16_t port() const { return server_.port(); }
    void close();

    // One request line; `reply` runs once with the JSON answer (later for mo-*).
    void handle(std::string_view line, ReplyFn reply);

private:
    struct Session;
    void on_data(Session& s, ByteView data);
    void remove(Session* s);

    uv_loop_t* loop_;
    Network& net_;
    ExportFn export_;
    uv::TcpServer server_;
    std::list<std::unique_ptr<Session>> sessions_;
    std::shared_ptr<bool> alive_;
};

} // namespace otagw::sim
