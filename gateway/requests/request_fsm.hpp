// SPDX-License-Identifier: GPL-2.0-or-later
// The life of an application request as one explicit state machine (DESIGN.md §1, §4), in the
// manner of Osmocom's osmo_fsm: typed states and events, one transition table
// {state, event} -> handler, named timers set from config, an injected clock. Pure: no I/O, no
// store, no loop. A handler changes the request (its state and typed working data) and returns
// actions; the shell (request_pipeline.cpp) carries them out (store, SMSC, provider, timers)
// and feeds their results back as events. doc/request-states.md draws the table.
//
// States (written to the store by name):
//   accepted     checked and recorded; nothing asked or sent yet
//   provider     the application's provider is asked for its decision (timer provider-timeout)
//   approved     the provider approved (with personalisation data): the operation is to be sent
//   loading      an install that loads its CAP file first: the load's packets go one at a time,
//                each confirmed by its PoR before the next (progress: blocks confirmed / total);
//                a load found interrupted is deleted from the card and started again
//   sent         the operation's packet is on its way or at the card, the application
//                pending:<op>; its PoR is awaited (timer por-timeout, from the SMSC's ack)
//   reconciling  the card is read (GET STATUS): a PoR was lost, or a refusal is in doubt
//   done         the card reports the operation done (a query: answered)
//   refused      refused at intake or vetoed by the provider; nothing reached the card
//   failed       not done; the reason says why
//
// PoRs are applied in counter order: each packet sent is kept until answered, a PoR is applied
// only to the packet whose counter it answers, and never over what was learnt from a newer
// counter. A PoR that comes after por-timeout but before the audit ends is still the card's
// word: the request ends with what the card did.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "otagw/common/bytes.hpp"
#include "otagw/common/clock.hpp"
#include "otagw/ota/ts_102_225.hpp"
#include "requests/card_answer.hpp"
#include "requests/card_app.hpp"

namespace otagw::gateway {

// ---- States ---------------------------------------------------------------------------------

enum class RequestState : uint8_t {
    Accepted,
    Provider,
    Approved,
    Sent,
    Reconciling,
    Done,
    Refused,
    Failed,
    Loading,
};
constexpr size_t kRequestStateCount = 9;
const char* request_state_name(RequestState s); // "accepted", ...
std::optional<RequestState> request_state_named(std::string_view name);
bool is_final(RequestState s);

// How a request ended: its final state.
enum class Outcome : uint8_t { Done, Refused, Failed };
const char* outcome_name(Outcome o); // "done", "refused", "failed"
RequestState final_state(Outcome o);

// ---- Reasons --------------------------------------------------------------------------------

// Why a request was refused or failed (doc/api.yaml lists them by name).
enum class ReasonCode : uint8_t {
    None,
    // intake (refused)
    UnknownMsisdn,
    MsisdnOutOfRange,
    BadMsisdn,
    UnknownIccid,
    MsisdnCardMismatch,
    CardBarred,
    UnknownApp,
    NotAllowedInState,
    InFlight,
    BadRequest,
    EmptyText,
    UnknownKeyword,
    NoAppCode,
    BadAppCode,
    TrailingWords,
    ReplayedCounter,
    TarMismatch,
    // the provider
    ProviderVeto,
    ProviderTimeout,
    ProviderError,
    ProviderUnavailable,
    // sending
    NoSmsc,
    NoKeyset,
    CannotSend,
    BadCatalogEntry,
    SmscRefused,
    // the card
    CardIntegrityFailed,
    TarUnknown,
    InsufficientSecurityLevel,
    CounterResyncFailed,
    PorStatus,   // another PoR status: por_<status name>
    CardRefused, // the card stopped the script: card_refused_<SW>
    CardState,   // the card reports another state than the one aimed at: card_state_<state>
    BadCardAnswer,
    PorLost,
    LoadInterrupted, // a CAP's load was interrupted more often than max-load-restarts
    // the BIP bearer
    BipNoSession, // the card opened no admin session after max-pushes pushes
    BipTlsFailed, // the card's PSK-TLS handshake failed (a wrong key: no retry)
    // the operator
    Cancelled,
};

struct Reason {
    Reason() = default;
    explicit Reason(ReasonCode c) : code(c) {}

    ReasonCode code = ReasonCode::None;
    uint16_t sw = 0;        // CardRefused
    CardAppState state;     // CardState
    uint8_t por_status = 0; // PorStatus

    static Reason of(ReasonCode c) { return Reason(c); }
    static Reason card_refused(uint16_t sw);
    static Reason card_state(CardAppState s);
    static Reason por(uint8_t status);
    std::string name() const; // "", "in_flight", "card_refused_6985", "card_state_active", ...
    static std::optional<Reason> parse(std::string_view name);
    bool empty() const { return code == ReasonCode::None; }
};
// Failures worth another try later: the card or the network may well do it next time.
bool transient(ReasonCode code);

// ---- Working data ---------------------------------------------------------------------------

// What a packet carries: the operation's script; the audit (GET STATUS: of the load file, then
// of the application, when the install loads a CAP); one packet of a CAP's load (INSTALL
// [for load] and LOAD blocks); the clean-up (DELETE of an unfinished load).
enum class Phase : uint8_t { Operation, Audit, Load, Clean };

// A packet sent for the request, until its PoR comes.
struct SentPacket {
    int64_t message_id = 0;
    uint64_t counter = 0;
    Phase phase = Phase::Operation;
    int64_t sent_at = 0; // Unix ms, when it was committed
    uint32_t index = 0;  // Phase::Load: which packet of the load
};

// How far an install that loads a CAP file got (GP 2.3 §11.6: INSTALL [for load], LOAD...).
struct LoadProgress {
    uint32_t next = 0;        // the load packet to send next
    uint32_t blocks_done = 0; // LOAD blocks the card confirmed...
    uint32_t blocks = 0;      // ...of these (the shell's plan)
    uint32_t restarts = 0;    // loads started again from the first packet
    bool started = false;     // an INSTALL [for load] may have reached the card
    bool loaded = false;      // the card holds the load file (it said so, or the last block ran)
};

// What a request needs to go on, after a restart too (serialised in request_data.cpp).
struct RequestData {
    // Fixed at intake.
    std::string iccid; // the card, when one was found
    std::string app_code, app_name;
    CardAppState from_state; // the application's state when the request was accepted
    int64_t campaign_id = 0, campaign_seq = 0;
    // terminate: DELETE of the application's load file with its related objects (GP 2.3
    // §11.2.2.1, P2 b8): every instance of the package goes, and the package.
    bool related = false;
    // The request's scripts go over BIP (a push, then the card's SCP81 session), not SMS-PP.
    bool bip = false;
    // From the provider: DGI-coded personalisation for STORE DATA (activate). Secret: kept in
    // memory, stored only sealed (the shell seals it under the master key), dropped when the
    // request ends.
    Bytes personalisation;
    Bytes sealed_personalisation;
    // Progress.
    uint32_t sends = 0;                      // packets of the operation sent
    uint32_t resyncs = 0;                    // counter resynchronisations
    uint32_t audits = 0;                     // audits (GET STATUS) sent
    std::vector<SentPacket> outstanding;     // sent and not answered; the last is the current one
    uint64_t sent_counter = 0;               // the counter of the last packet sent
    uint64_t learned_counter = 0;            // the newest packet whose PoR was applied
    CardAppState known_state;                // what the gateway knows true of the application...
    std::optional<uint8_t> known_life_cycle; // ...and its life cycle byte
    bool pending_recorded = false;           // pending:<op> is written for the application
    // What the card said.
    std::optional<CardAppState> card_state; // as the card last reported it
    std::optional<uint8_t> por_status;      // of the last PoR applied
    std::optional<uint16_t> card_refusal;   // the SW that stopped the operation (in doubt)
    std::string message;                    // the reason in words
    std::optional<LoadProgress> load;       // an install that loads its CAP file
};

// One request as the state machine sees it.
struct RequestContext {
    int64_t id = 0;
    Operation operation = Operation::Query;
    uint8_t kvn = 1;            // the keyset its packets use
    bool asks_provider = false; // the application has a provider and the operation is no query
    // An install that loads a CAP file: LOAD blocks in each of the load's packets (the shell's
    // plan, the same at every start); empty otherwise.
    std::vector<uint16_t> load_plan;
    bool loads() const { return !load_plan.empty(); }
    uint32_t load_blocks() const;
    RequestState state = RequestState::Accepted;
    Reason reason;
    RequestData data;
};

// ---- Events ---------------------------------------------------------------------------------

enum class EventKind : uint8_t {
    Start,            // recorded at intake: move on
    Resume,           // the daemon restarted with the request unfinished
    ProviderApproved, // with personalisation data (maybe none)
    ProviderVetoed,
    ProviderFailed,  // the provider's call failed (no answer, or an answer that is no decision)
    ProviderTimeout, // timer provider-timeout
    Queued,          // a packet asked for is written with its counter (it leaves after the commit)
    NotSent,         // a packet asked for could not be made (no keyset, no SMSC, ...)
    Submitted,       // the SMSC took a packet
    SubmitFailed,    // the SMSC refused a packet for good: the card never saw it
    Por,             // a verified PoR answering one of the operation's packets
    AuditAnswer,     // a verified PoR answering one of the audit's packets
    PorTimeout,      // timer por-timeout
    Cancel,          // the operator withdraws the request
};
constexpr size_t kEventKindCount = 14;
const char* event_name(EventKind e); // "start", ...

// A PoR as the shell verified and read it: which packet it answers and what the card said.
struct CardPor {
    int64_t message_id = 0;
    ota::PorStatus status = ota::PorStatus::Ok;
    std::optional<uint64_t> card_counter; // the PoR's counter (the card's own on 02/03)
    // The script's answer (status 00): read against the script of the packet's phase.
    std::optional<CardAnswer> answer;
    std::string answer_error; // why the answer could not be read (status 00, no answer)
};

struct Event {
    Event() = default;
    explicit Event(EventKind k) : kind(k) {}

    EventKind kind = EventKind::Start;
    Bytes personalisation;  // ProviderApproved
    Reason reason;          // NotSent, ProviderFailed
    std::string message;    // ProviderVetoed, ProviderFailed, NotSent, SubmitFailed
    SentPacket packet;      // Queued
    int64_t message_id = 0; // Submitted, SubmitFailed
    CardPor por;            // Por, AuditAnswer

    static Event of(EventKind k) { return Event(k); }
};

// ---- Actions --------------------------------------------------------------------------------

enum class RequestTimer : uint8_t { Provider, Por };
const char* timer_name(RequestTimer t); // "provider-timeout", "por-timeout"

enum class ActionKind : uint8_t {
    AskProvider,     // ask the application's provider for its decision
    SendPacket,      // secure a packet of `phase` with a fresh counter; answer Queued or NotSent
    StartTimer,      // `timer` in `ms` (replaces a running one)
    StopTimer,       // `timer`
    RecordCardState, // the application is `card_state` (`life_cycle` when the card said it),
                     // learnt from the packet with `counter` (0: none)
    RaiseCounter,    // the keyset's counter up to `counter` (resynchronisation)
    AuditLog,        // an audit log entry: `name` (action), `text`
    Count,           // the rate counter `name`
    Finish,          // the request ended with `outcome` (its state and reason are set): tell
                     // the subscriber, the provider and a campaign
};

struct Action {
    Action() = default;
    explicit Action(ActionKind k) : kind(k) {}

    ActionKind kind = ActionKind::Count;
    Phase phase = Phase::Operation;
    uint32_t index = 0; // SendPacket of Phase::Load: which packet
    RequestTimer timer = RequestTimer::Por;
    int64_t ms = 0;
    CardAppState card_state;
    std::optional<uint8_t> life_cycle;
    uint64_t counter = 0;
    const char* name = "";
    std::string text;
    Outcome outcome = Outcome::Failed;
};

// ---- Limits (named timers and counts, set from config: `ota / timer NAME VALUE`) -----------

struct RequestLimits {
    int64_t por_timeout_ms = 60000;
    int64_t provider_timeout_ms = 120000;
    uint32_t max_resyncs = 2;           // counter resynchronisations per request
    uint32_t max_sends = 3;             // sends of the operation itself (after audits)
    uint32_t max_audits = 3;            // audits without an answer before giving up
    uint32_t max_load_restarts = 3;     // loads of a CAP started again after an interruption
    uint64_t max_resync_jump = 1000000; // how far a clear counter-low PoR may move our counter
};

// ---- The machine ----------------------------------------------------------------------------

struct Step; // a handler's view: the request, the event, the limits, the clock, the actions
using Handler = void (*)(Step& step, const Event& event);

struct Transition {
    RequestState state;
    EventKind event;
    Handler handler;
    const char* summary; // for the diagram and traces
    uint16_t to; // the states the handler may move to, besides staying (a mask, for the diagram)
};
constexpr uint16_t states_mask(std::initializer_list<RequestState> states) {
    uint16_t m = 0;
    for (RequestState s : states)
        m = static_cast<uint16_t>(m | 1u << static_cast<unsigned>(s));
    return m;
}
// The table, in order. Every {state, event} pair appears at most once.
std::span<const Transition> request_transitions();

struct Handled {
    bool handled = false; // false: no row for {state, event}; nothing changed
    size_t row = 0;       // the row that handled it
    RequestState from = RequestState::Accepted;
    bool changed = false; // state, reason or working data changed: to be saved
    std::vector<Action> actions;
};

class RequestFsm {
public:
    RequestFsm(const RequestLimits& limits, const Clock& clock) : limits_(limits), clock_(clock) {}
    // Handles `event` for `ctx` (changed in place). A pair without a row changes nothing.
    Handled handle(RequestContext& ctx, const Event& event) const;
    // Whether a row exists for the pair (e.g. whether a request can still be cancelled).
    static bool accepts(RequestState state, EventKind event);

private:
    const RequestLimits& limits_;
    const Clock& clock_;
};

} // namespace otagw::gateway
