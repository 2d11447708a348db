// SPDX-License-Identifier: GPL-2.0-or-later
// The gateway's SMPP client (ESME) on the shared loop. It keeps one or more binds up (a
// transceiver, or a transmitter + receiver pair, per configured SMSC link): bind, enquire_link
// with a reply timeout, reconnect with exponential backoff and jitter, unbind on stop. It submits
// SMS-PP messages (esm_class UDHI, PID 7F, DCS F6) as one submit_sm per segment, or one
// submit_sm with message_payload, within a window of outstanding requests and a TPS budget per
// bind; bulk messages wait
// until no other message does; throttling (ESME_RTHROTTLED, ESME_RMSGQFUL) backs the bind off and
// the segment is sent again; a bind that goes down gives its unacknowledged segments back to the
// queue. Every submit_sm carries a user_message_reference, which receipts echo (osmo-msc's
// message_id is a constant). It answers deliver_sm at once, reassembles concatenated MO messages
// and PoRs, and reports delivery receipts correlated to their submission.
//
// Guarantee: each submitted message gets its callback exactly once, after every segment was
// acknowledged or failed with a reason; a segment is never sent again after its submit_sm was
// acknowledged (it may be sent twice when a response is lost: at least once, as SMPP allows).
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "otagw/common/counters.hpp"
#include "otagw/common/uv.hpp"
#include "otagw/ota/ts_31_115.hpp"
#include "otagw/smpp/link.hpp"
#include "otagw/smpp/pdu.hpp"

namespace otagw::smpp {

enum class BindMode : uint8_t { Transceiver, TransmitterReceiver };

struct BindConfig {
    std::string name = "smsc";
    std::string host = "127.0.0.1";
    uint16_t port = 2775;
    BindMode mode = BindMode::Transceiver;
    std::string system_id;
    std::string password;
    std::string system_type;
    Address address_range;
    uint32_t window = 10; // outstanding submit_sm per session
    double tps = 0;       // submit_sm per second on this bind; 0: no limit
    uint32_t enquire_link_ms = 30000;
    uint32_t response_timeout_ms = 10000;
    uint32_t reconnect_min_ms = 1000;
    uint32_t reconnect_max_ms = 60000;
    bool message_payload = false; // long user data as one submit_sm with message_payload
};

struct EsmeConfig {
    std::vector<BindConfig> binds;
    uint32_t max_attempts = 5;              // per segment, for failures worth another try
    uint32_t throttle_backoff_min_ms = 100; // doubled while throttling lasts
    uint32_t throttle_backoff_max_ms = 10000;
    uint32_t retry_delay_ms = 1000; // before another try after a transient failure
    uint32_t reassembly_timeout_ms = 60000;
    uint32_t unbind_timeout_ms = 2000;
};

// One SMS-PP message: TP-UD with its UDH ('027000' || command packet, for instance). Longer
// than one SMS, it is sent as concatenated segments (or as message_payload if the bind says so).
struct SmsPp {
    Address source;
    Address dest;
    Bytes user_data;
    bool registered_delivery = true;
    bool ordered = false;       // wait for the previous ordered message to this destination
    uint8_t protocol_id = 0x7f; // SIM data download
    uint8_t data_coding = 0xf6; // class 2, 8-bit
    // The user data starts with a UDH (esm_class UDHI). False for a plain text SMS to a
    // subscriber, which must then fit one SMS.
    bool udhi = true;
    // Bulk traffic (campaigns): sent only when no other message waits, so that a campaign never
    // delays a subscriber's own request behind it.
    bool bulk = false;
};

struct SegmentResult {
    uint32_t command_status = 0;
    std::string message_id;
    uint16_t user_message_reference = 0;
    std::string bind;
    uint32_t attempts = 0;
    std::string error; // why it failed, when it did
};

struct SubmitResult {
    uint64_t id = 0;
    bool ok = false;
    std::vector<SegmentResult> segments;
    std::string error;
};

struct Mo {
    std::string bind;
    Address source;
    Address dest;
    uint8_t esm_class = 0;
    uint8_t protocol_id = 0;
    uint8_t data_coding = 0;
    bool udhi = false;
    Bytes user_data; // reassembled; with UDHI, a UDH without the concatenation IE leads it
};

struct Receipt {
    std::string bind;
    Address source;
    Address dest;
    std::string message_id;
    std::string stat; // DELIVRD, UNDELIV, ...
    std::optional<uint8_t> message_state;
    std::optional<uint16_t> user_message_reference;
    std::optional<uint64_t> submission_id; // when it could be correlated
};

// What became of an MO message: taken (answered ESME_ROK once durable), or not kept for a
// reason that passes (the database locked or failing): answered ESME_RX_T_APPN so that the SMSC
// delivers it again.
enum class MoVerdict { Taken, RetryLater };

class Esme {
public:
    struct Handlers {
        std::function<MoVerdict(const Mo&)> on_mo;
        std::function<void(const Receipt&)> on_receipt;
        std::function<void(const std::string& bind, bool up)> on_bind_state;
        // A connection or bind attempt failed (it is tried again later): why, for tools that
        // give up at once.
        std::function<void(const std::string& bind, const std::string& why)> on_bind_error;
        // When set, a deliver_sm is answered only after on_mo/on_receipt returned and the
        // answer passed through this (e.g. held until the writes they made are committed; false
        // when they could not be: ESME_RX_T_APPN then); unset, it is answered at once.
        std::function<void(std::function<void(bool durable)>)> durable;
    };
    using SubmitCallback = std::function<void(const SubmitResult&)>;

    Esme(uv_loop_t* loop, EsmeConfig config, Handlers handlers, Counters* counters = nullptr);
    ~Esme();
    Esme(const Esme&) = delete;
    Esme& operator=(const Esme&) = delete;

    void start();
    // Unbinds every session (waiting for unbind_resp up to unbind_timeout_ms) and closes; queued
    // messages fail with "stopped". `done` runs when all sessions are closed.
    void stop(std::function<void()> done = {});

    // Queues a message; returns its id. `cb` runs exactly once.
    uint64_t submit(SmsPp message, SubmitCallback cb);

    size_t queued() const { return ready_.size() + bulk_ready_.size(); }
    size_t bulk_queued() const { return bulk_ready_.size(); }
    size_t in_flight() const;
    size_t bound_sessions() const;
    Counters& counters() { return *counters_; }

private:
    struct Message;
    struct Segment;
    class Session;
    friend class Session;

    void pump();
    void send(Session& s, Segment* seg);
    void on_submit_resp(Session& s, Segment* seg, const Response& r);
    void retry_later(Segment* seg, uint32_t delay_ms);
    void requeue_front(Segment* seg);
    void enqueue(Segment* seg); // at the back of its lane
    void finish_segment(Segment* seg, uint32_t status, const std::string& error);
    void finish_message(Message* m);
    MoVerdict on_deliver(Session& s, const DeliverSm& sm);
    void on_session_state(Session& s, bool up);
    void on_bind_error(Session& s, const std::string& why);
    void schedule_pump_at(uint64_t delay_ms);
    uint16_t next_reference();

    uv_loop_t* loop_;
    EsmeConfig config_;
    Handlers handlers_;
    Counters* counters_;
    Counters own_counters_;
    std::vector<std::unique_ptr<Session>> sessions_;
    size_t next_session_ = 0;
    std::map<uint64_t, std::unique_ptr<Message>> messages_;
    std::deque<Segment*> ready_;                                  // sent first
    std::deque<Segment*> bulk_ready_;                             // sent when ready_ is empty
    std::map<std::string, std::deque<Message*>> ordered_waiting_; // destination -> waiting
    std::set<std::string> ordered_busy_;
    uint64_t next_id_ = 1;
    uint16_t next_ref_ = 0;
    uint8_t next_concat_ref_ = 0;
    // Acknowledged segments by user_message_reference, for receipts (a 16-bit space).
    std::map<uint16_t, uint64_t> by_reference_;
    std::deque<uint16_t> reference_order_;
    std::map<std::string, uint64_t> by_message_id_;
    std::deque<std::string> message_id_order_;
    ota::sms::Reassembler reassembler_;
    // Reassembled messages refused with RetryLater, by originator and last segment's user
    // data: the SMSC delivers that segment again and gets the whole message, its other parts
    // having been answered already. Oldest dropped beyond a bound.
    struct Held {
        Bytes whole;
        uint64_t since = 0;
    };
    std::map<std::pair<std::string, Bytes>, Held> held_;
    uv::Timer pump_timer_;
    uv::Timer housekeeping_;
    std::list<std::pair<std::unique_ptr<uv::Timer>, Segment*>> retry_timers_;
    std::minstd_rand rng_;
    bool stopping_ = false;
    std::shared_ptr<bool> alive_;
};

} // namespace otagw::smpp
