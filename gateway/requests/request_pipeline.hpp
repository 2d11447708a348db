// SPDX-License-Identifier: GPL-2.0-or-later
// The request pipeline (DESIGN.md §1): the shell around the request state machine
// (request_fsm.hpp) on the daemon's one loop. It checks and records each request (intake/),
// feeds the machine its events (a provider's answer, an SMSC's acknowledgement, a PoR, a timer)
// and carries out the actions it returns: packets secured with a fresh counter and written
// before they leave, the provider asked, the application's state recorded, timers, the audit
// log, and at the end the reply SMS, the provider's result and the campaign's target.
//
// Every change of a request is written in the transaction of the event that caused it, once;
// what leaves the process (submit_sm, reply, provider call) goes after the commit. A restart
// resumes every unfinished request (resume()) without reusing a counter: one that may have
// reached the card is reconciled by reading the card, never sent blindly again.
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "bip/admin_sessions.hpp"
#include "config/config.hpp"
#include "intake/request_intake.hpp"
#include "otagw/common/clock.hpp"
#include "otagw/common/counters.hpp"
#include "otagw/common/uv.hpp"
#include "otagw/db/key_vault.hpp"
#include "otagw/db/store.hpp"
#include "otagw/smpp/esme.hpp"
#include "provider/providers.hpp"
#include "provider/result_callbacks.hpp"
#include "requests/cap_loads.hpp"
#include "requests/card_keys.hpp"
#include "requests/catalog.hpp"
#include "requests/latency.hpp"
#include "requests/request_fsm.hpp"
#include "requests/transactions.hpp"

namespace otagw::gateway {

// A stored request as its state machine's context (kvn and asks_provider are the shell's).
Result<RequestContext> request_context(const db::Request& row);

struct Submitted {
    db::Request request;
    bool created = false; // false: the idempotency key named an earlier request
    // Its state machine after intake. In a final state when it ended inside submit() (refused,
    // or nothing could be sent): then the finished hook is not called for it.
    RequestContext ctx;
};

class RequestPipeline final : public bip::BipScripts {
public:
    // `vault` seals the provider's personalisation data in the stored working data.
    RequestPipeline(uv_loop_t* loop, db::Store& store, Transactions& transactions, Catalog& catalog,
                    const GatewayConfig& config, Providers& providers, ResultCallbacks& callbacks,
                    const db::KeyVault& vault, const CapLoads& caps,
                    const Clock& clock = SystemClock::instance());
    ~RequestPipeline() override;

    void set_esme(smpp::Esme* esme) { esme_ = esme; }
    // The BIP bearer's admin channels (null: no RAS, every request goes by SMS-PP).
    void set_bip(bip::AdminSessions* sessions) { bip_ = sessions; }

    // bip::BipScripts: what the cards' admin channels tell the requests.
    void send_push(int64_t card_id, Bytes trigger, int64_t for_message,
                   std::function<void(int64_t message_id)> written,
                   std::function<void(std::string error)> submitted) override;
    void delivered(int64_t message_id) override;
    void answered(int64_t message_id, const ota::ram::ExpandedResponse& results) override;
    void lost(int64_t message_id) override;
    void failed(int64_t message_id, const Reason& reason, const std::string& why) override;
    // Resumes every unfinished request (at start).
    Status resume();
    // Stops timers; requests stay in the store as they are.
    void stop();

    // Checks and records a request, then moves it on. Errors are for malformed calls (the API
    // answers 400); a refusal is a recorded request in state refused.
    Result<Submitted> submit(const NewRequest& request);
    // An MO SMS carrying a PoR (UDH IE '71').
    void on_por(const smpp::Mo& mo);
    // Withdraws a request not sent to the card yet; an error says why not (Errc::NotFound: no
    // such request; Errc::Conflict: too late).
    Result<db::Request> cancel(int64_t id, const std::string& actor);

    // Called inside the transaction that finishes a request (done, failed, or refused after
    // intake): what follows the request (a campaign's target) changes in the same commit.
    using FinishedHook = std::function<void(const db::Request&, const RequestContext&)>;
    void set_on_finished(FinishedHook hook) { on_finished_ = std::move(hook); }

    Transactions& transactions() { return transactions_; }
    Counters& counters() { return counters_; }
    void audit(const std::string& actor, const std::string& action, const std::string& subject,
               const std::string& detail);
    std::vector<std::string> show() const;

private:
    struct Live; // an unfinished request in memory: its machine, its packets, its timers

    Live* live(int64_t id);
    // Loads an unfinished request from the store into memory.
    Result<Live*> load(const db::Request& row);
    // Feeds `event` to the machine and carries out the actions (and the events they cause) in
    // order; then writes the request once and retires it if it ended.
    void run(Live& l, Event event);
    void process(Live& l);
    void settle(Live& l);
    void execute(Live& l, const Action& a);
    void ask_provider(Live& l);
    void send_packet(Live& l, Phase phase, uint32_t index);
    // Writes a packet's message (or reserves its id for a request written at its end) and
    // queues the Queued event; false when it could not (the NotSent event is queued instead).
    bool record_packet(Live& l, db::OtaMessage& m, Phase phase, uint32_t index, const char* bearer);
    // The packet as a script for the card's admin channel (the BIP bearer).
    void send_bip(Live& l, Phase phase, uint32_t index, std::vector<ota::Apdu> script);
    // The bearer of a new request: its own choice, else the config's; auto decides by the SMS
    // its scripts would take.
    bool choose_bip(const Live& l, const std::string& asked) const;
    Live* bip_owner(int64_t message_id);
    void bip_event(int64_t message_id, const char* what, std::function<void(Live&)> fn);
    // An install of an application with a CAP file loads it first unless the card holds it.
    void plan_load(Live& l);
    void record_load_file(Live& l);
    // A terminate with related objects done: the load file and its other instances are gone.
    void forget_load_file(Live& l);
    void start_timer(Live& l, RequestTimer timer, int64_t ms);
    void record_card_state(Live& l, const Action& a);
    void finish(Live& l, Outcome outcome);
    void row_of_machine(Live& l);
    // Writes a request made in submit() for the first time, with its packets.
    Status store_row(Live& l);
    void save(Live& l);
    void retire(Live& l);
    void trace(const Live& l, const Event& e, const Handled& h) const;

    void por_from(const db::Card& card, const smpp::Mo& mo);
    // A PoR no live request waits for: late (its request has ended), replayed, or unknown.
    void late_por(const db::Card& card, const ota::DecodedResponse& por);
    void on_submitted(int64_t request_id, int64_t message_id, const smpp::SubmitResult& r);
    void reply(const std::string& msisdn, const std::string& text);
    ota::Spi configured_spi() const;
    std::string subject(const Live& l) const;
    void fail_quietly(const std::string& where, const Error& e);

    uv_loop_t* loop_;
    db::Store& store_;
    Transactions& transactions_;
    Catalog& catalog_;
    const GatewayConfig& config_;
    Providers& providers_;
    ResultCallbacks& callbacks_;
    const db::KeyVault& vault_;
    const CapLoads& caps_;
    const Clock& clock_;
    RequestFsm fsm_;
    smpp::Esme* esme_ = nullptr;
    bip::AdminSessions* bip_ = nullptr;
    // The scripts of live requests queued on the cards' admin channels: message id -> request.
    std::unordered_map<int64_t, int64_t> bip_scripts_;
    Counters counters_;
    LatencyStats latency_;
    std::map<int64_t, std::unique_ptr<Live>> live_;
    std::unordered_map<int64_t, std::vector<int64_t>> live_by_card_;
    // The numbers packets went to, while their cards have live requests: a PoR from one of
    // them is matched without reading the card from the store.
    struct Sender {
        int64_t card_id = 0;
        std::string iccid;
    };
    std::unordered_map<std::string, Sender> senders_;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
    bool stopped_ = false;
    FinishedHook on_finished_;
};

} // namespace otagw::gateway
