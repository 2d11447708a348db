// SPDX-License-Identifier: GPL-2.0-or-later
// An SMPP 3.4 SMSC on the loop, for tests, benchmarks and the card simulator: it accepts binds
// with credentials, answers submit_sm, routes each MT message by destination to a registered
// handler, sends delivery receipts when asked (registered_delivery), and sends deliver_sm (MO
// messages, PoRs) to bound receivers. Faults can be injected: throttling, queue full, dropped
// and delayed responses, disconnects, duplicate deliveries, per-destination errors, a TPS limit.
#pragma once

#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "otagw/common/counters.hpp"
#include "otagw/common/uv.hpp"
#include "otagw/smpp/link.hpp"
#include "otagw/smpp/pdu.hpp"

namespace otagw::smpp {

struct SmscAccount {
    std::string system_id;
    std::string password;
};

struct SmscFaults {
    uint32_t throttle_every = 0;          // every n-th submit_sm answered ESME_RTHROTTLED
    uint32_t queue_full_every = 0;        // every n-th submit_sm answered ESME_RMSGQFUL
    uint32_t drop_response_every = 0;     // every n-th submit_sm never answered
    uint32_t delay_response_ms = 0;       // submit_sm answered this late
    uint32_t disconnect_after = 0;        // the connection is cut after n submit_sm, unanswered
    uint32_t duplicate_deliver_every = 0; // every n-th deliver_sm sent twice
    uint32_t tps_limit = 0;               // per bind; beyond it, ESME_RTHROTTLED
    bool constant_message_id = false;     // "msg_id_not_implemented", as osmo-msc answers
    bool ignore_enquire_link = false;     // never answer enquire_link (a half-dead SMSC)
    std::map<std::string, uint32_t> fail_destinations; // destination -> command_status
};

struct SmscConfig {
    std::string ip = "127.0.0.1";
    uint16_t port = 0;
    std::string system_id = "OTAGW-SMSC";
    std::vector<SmscAccount> accounts;
    SmscFaults faults;
    uint32_t deliver_timeout_ms = 5000; // deliver_sm_resp deadline
    // Receipts come from the MT handler (send_receipt, once it knows the fate of the message)
    // instead of right after submit_sm_resp.
    bool handler_sends_receipts = false;
};

// SMPP 3.4 §5.2.28 message_state values a receipt carries.
enum MessageState : uint8_t {
    kStateDelivered = 2,
    kStateExpired = 3,
    kStateUndeliverable = 5,
    kStateRejected = 8,
};

struct MtMessage {
    std::string system_id; // the ESME that submitted it
    SubmitSm sm;
    std::string message_id;
};

class Smsc {
public:
    using MtHandler = std::function<void(const MtMessage&)>;
    using DoneCb = std::function<void(uint32_t command_status)>;

    Smsc(uv_loop_t* loop, SmscConfig config, Counters* counters = nullptr);
    ~Smsc();

    int start(); // a negative libuv error when it cannot listen
    uint16_t port() const;
    void stop();

    // MT routing: the longest matching destination prefix wins; "" is the default route.
    void route(const std::string& dest_prefix, MtHandler handler);
    // deliver_sm to a bound receiver (receiver or transceiver) of `system_id`, or of any ESME if
    // empty. `done` gets the deliver_sm_resp status, or ESME_RSYSERR when no receiver is bound
    // or none answers in time.
    void deliver(DeliverSm sm, DoneCb done = {}, const std::string& system_id = {});

    // A delivery receipt for `mt` to its ESME, if the submit asked for one (registered_delivery).
    void send_receipt(const MtMessage& mt, uint8_t message_state = kStateDelivered);

    SmscFaults& faults() { return config_.faults; }
    void disconnect_all();
    size_t bound(const std::string& system_id = {}) const;
    uint64_t submits() const { return submits_; }

private:
    struct Session;
    void on_accept(std::unique_ptr<uv::TcpStream> stream);
    void on_request(Session& s, Pdu pdu);
    void on_bind(Session& s, const Pdu& pdu);
    void on_submit(Session& s, const Pdu& pdu);
    void answer_submit(Session& s, uint32_t seq, uint32_t status, const std::string& message_id);
    void accept_submit(Session& s, uint32_t seq, const MtMessage& mt);
    bool alive(const Session* s) const;
    void remove(Session* s);
    Session* receiver(const std::string& system_id);

    uv_loop_t* loop_;
    SmscConfig config_;
    Counters* counters_;
    Counters own_counters_;
    uv::TcpServer server_;
    std::list<std::unique_ptr<Session>> sessions_;
    std::map<std::string, MtHandler> routes_;
    uint64_t submits_ = 0;
    uint64_t delivers_ = 0;
    uint64_t next_message_id_ = 1;
    size_t next_receiver_ = 0;
    std::list<std::unique_ptr<uv::Timer>> delayed_; // late submit_sm answers
    std::shared_ptr<bool> alive_;
};

} // namespace otagw::smpp
