// SPDX-License-Identifier: GPL-2.0-or-later
// The request pipeline (DESIGN.md §1): request -> checks -> provider -> secured commands ->
// card -> PoR -> state, on the daemon's one loop.
//
//  intake     MO SMS to the short code (text or binary request), the API, otactl
//  checks     MSISDN (E.164, ranges), card in the inventory and not barred, application in the
//             catalog, operation allowed from the current state, nothing else in flight on the
//             card application (a second request is refused, not queued)
//  provider   the application's provider approves (with personalisation data) or vetoes
//  commands   the operation's GP script in a secured packet; the counter and the packet are
//             committed before the submit_sm leaves
//  PoR        verified and matched by card/KVN/counter; the state is what the card's closing
//             GET STATUS reports; counter low -> resynchronise and send again with a fresh
//             counter; CC failure -> keyset alarm, no retry; no PoR in time -> state unknown
//             and an audit (GET STATUS) that reconciles
//  results    reply SMS in the request's language, provider callback (kept until
//             acknowledged), an audit entry for every transition
//
// Request states: accepted, provider, approved, sent, reconciling, then done, refused or
// failed. Every state is committed before anything leaves, so a restart resumes each
// unfinished request (resume()) without reusing a counter: a request that may have reached
// the card is reconciled by reading the card, never sent blindly again.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/config.hpp"
#include "otagw/common/counters.hpp"
#include "otagw/common/uv.hpp"
#include "otagw/db/store.hpp"
#include "otagw/ota/ts_102_225.hpp"
#include "otagw/smpp/esme.hpp"
#include "provider/provider_client.hpp"
#include "requests/operations.hpp"

namespace otagw::gateway {

// A request as it comes in, before any check.
struct NewRequest {
    std::string source; // sms, api, otactl, provider
    std::string actor;  // who: "api:ops", "sms:4479...", ...
    std::string idempotency_key;
    std::string msisdn; // as given; the card is found by it
    uint8_t msisdn_ton = 1;
    std::string iccid;    // optional: the card the caller means (checked against the MSISDN)
    std::string app_code; // the catalog's code, or
    std::string app_aid;  // the instance AID
    std::string operation;
    std::string language = "en"; // of the reply SMS
    std::string refusal;         // already refused at intake (an SMS that is no request)
    std::string refusal_message;
    int64_t campaign_id = 0; // a campaign's target (source "campaign"): no reply SMS, bulk lane
    int64_t campaign_seq = 0;
};

struct Submitted {
    db::Request request;
    bool created = false; // false: the idempotency key named an earlier request
};

class RequestPipeline {
public:
    RequestPipeline(uv_loop_t* loop, db::Store& store, const GatewayConfig& config,
                    http::CurlClient* curl);
    ~RequestPipeline();

    void set_esme(smpp::Esme* esme) { esme_ = esme; }
    // With group commit: how to hold an action until the writes before it are durable.
    void set_durable(std::function<void(std::function<void()>)> durable) {
        durable_ = std::move(durable);
    }
    // Resumes every unfinished request and owed callback (at start).
    Status resume();
    // Stops timers; requests stay in the database as they are.
    void stop();

    // Checks and records a request, then moves it on. Errors are for malformed calls (the
    // API answers 400); a refusal is a recorded request in state "refused".
    Result<Submitted> submit(const NewRequest& request);
    // An MO SMS: a PoR, or a request to the short code.
    void on_mo(const smpp::Mo& mo);

    // Called inside the transaction that finishes a request (done, failed, or refused after
    // intake), with its working data: what follows the request (a campaign's target) changes
    // in the same commit.
    using FinishedHook = std::function<void(const db::Request&, const nlohmann::ordered_json&)>;
    void set_on_finished(FinishedHook hook) { on_finished_ = std::move(hook); }

    // Runs `writes` in one transaction (joining the one open, if any); after_commit actions
    // queued meanwhile run once it is committed, and are dropped if it is not.
    Status atomically(const std::function<Status()>& writes);
    // The same for work that reports its own failures; a failed commit is logged.
    void in_one_transaction(const char* what, const std::function<void()>& work);

    Counters& counters() { return counters_; }
    std::vector<std::string> show() const;

private:
    struct Active;
    using Json = nlohmann::ordered_json;

    struct Loaded {
        db::Request request;
        Json detail;
        Operation op;
        db::Application app;
    };
    Result<Loaded> load(int64_t id);
    // The catalog entry (the catalog is fixed while the daemon runs: read once).
    Result<std::optional<db::Application>> application(std::string_view aid);
    // The card's keyset the gateway uses (`ota / kvn`), its KIc/KID byte and its keys ready;
    // nullopt when the card has no such keyset.
    struct CardKeys {
        uint8_t kvn;
        uint8_t algorithm; // KIc = KID byte (TS 102 225 §5.1.2-3)
        ota::OtaKeys keys;
    };
    Result<std::optional<CardKeys>> card_keys(int64_t card_id);
    static CardKeys keys_of(const db::Keyset& keyset);
    ota::Spi configured_spi() const;
    void advance(int64_t id);
    void on_secured_request(const smpp::Mo& mo);
    void ask_provider(Loaded l);
    void on_provider_answer(int64_t id, Result<ProviderClient::Answer> answer);
    void after_commit(std::function<void()> action);
    void dispatch(Loaded l, bool audit);
    // A command packet made ready inside the caller's transaction: the card's counter taken,
    // the packet secured; its message row (`message`, no id yet) is the caller's to write.
    struct Packet {
        CardKeys keys;
        db::OtaMessage message;
    };
    // For `request` (its id may be 0: not written yet); nullopt when the card has no keyset
    // (nothing written).
    Result<std::optional<Packet>> prepare_packet(const db::Request& request,
                                                 const std::vector<ota::Apdu>& script);
    // The request's working data once `message_id` is its packet on the way.
    static void mark_sent(Json& detail, int64_t message_id, bool audit);
    // Its rows written: waits for the packet's PoR, sends it once they are committed.
    void send_packet(Loaded l, Packet p, bool audit);
    void on_submitted(int64_t request_id, int64_t message_id, const smpp::SubmitResult& r);
    void on_por(const db::Card& card, const smpp::Mo& mo);
    void on_card_answer(Loaded l, const db::OtaMessage& message, uint8_t status, const Bytes& data,
                        std::optional<uint64_t> card_counter);
    void on_por_timeout(int64_t request_id);
    void after_audit(Loaded l, const std::string& card_state);
    void finish(Loaded l, const std::string& state, const std::string& reason);
    void record_card_state(const Loaded& l, const std::string& state,
                           std::optional<uint8_t> life_cycle);
    void reply(const Loaded& l, const std::string& text);
    void owe_callback(const Loaded& l);
    void send_callback(db::ProviderCallback cb);
    void audit(const std::string& actor, const std::string& action, const std::string& subject,
               const std::string& detail);
    // Matches PoRs of the card to the request; `timeout_ms` 0: the timer starts later.
    void wait_for_por(int64_t request_id, int64_t card_id, uint64_t timeout_ms);
    void forget(int64_t request_id);
    // The request's new state and its working data, in one write.
    Status save(const Loaded& l, std::string_view state, std::string_view reason);
    void fail_quietly(const std::string& where, const Error& e);
    ProviderClient* provider(const std::string& name);

    uv_loop_t* loop_;
    db::Store& store_;
    const GatewayConfig& config_;
    http::CurlClient* curl_;
    smpp::Esme* esme_ = nullptr;
    Counters counters_;
    std::map<std::string, std::unique_ptr<ProviderClient>> providers_;
    std::map<int64_t, std::unique_ptr<Active>> active_; // requests waiting for a PoR
    std::map<int64_t, std::vector<int64_t>> awaiting_by_card_;
    // The numbers packets went to, while their cards have requests waiting for a PoR: a PoR
    // from one of them is matched without reading the card from the store.
    struct Sender {
        int64_t card_id = 0;
        std::string iccid;
    };
    std::unordered_map<std::string, Sender> senders_;
    std::map<std::string, db::Application, std::less<>> catalog_;
    struct CallbackRetry {
        int failures = 0;
        std::unique_ptr<uv::Timer> timer;
    };
    std::map<int64_t, CallbackRetry> callback_retries_; // by request id
    // Intake -> submit_sm handed to the ESME, and -> its submit_sm_resp, per request accepted
    // by this process; the last 100 000 samples give percentiles once a second.
    struct Samples {
        std::vector<uint32_t> values; // microseconds
        size_t next = 0;
        bool fresh = false; // samples since the last publish
    };
    std::map<int64_t, uint64_t> intake_ns_;
    Samples handoff_us_, ack_us_;
    std::unique_ptr<uv::Timer> latency_timer_;
    void record_latency(int64_t request_id, bool acknowledged);
    void publish_latency();
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
    bool stopped_ = false;
    int depth_ = 0;
    std::function<void(std::function<void()>)> durable_;
    FinishedHook on_finished_;
    std::vector<std::function<void()>> after_commit_;
};

} // namespace otagw::gateway
