// SPDX-License-Identifier: GPL-2.0-or-later
// A card's remote administration channel over BIP (GP Card Spec 2.3 Amendment B, "SCP81") as
// one explicit state machine, in the manner of request_fsm.hpp: typed states and events, one
// transition table, named timers from config, an injected clock. Pure: the admin sessions
// (admin_sessions.cpp) are its shell, which sends the push, answers the card's POSTs on the RAS
// and tells the request pipeline what became of each script. doc/bip.md draws the table.
//
// The requests of a card queue scripts (each one packet of a request: its counter taken and
// written, like an SMS's). The channel pushes a trigger to the card by SMS-PP, waits for the
// card to open its TLS session, hands out the scripts one per POST and takes the results from
// the next POST, and ends the session with 204 once nothing is left. States (per card, cyclic):
//   idle      nothing queued, no session
//   pushing   a push is on its way or was sent: waiting for the card (timer bip-connect);
//             without a connection in time the push goes again, up to max-pushes
//   open      the card's TLS session is up: its first POST is awaited
//   serving   a script is out: its results are awaited (timer bip-results)
//   holding   a POST waits: for the requests to take the results it brought, then for a
//             script queued but not yet written (timer bip-hold)
//   closing   204 sent: the card closes
// A script reaches its request as delivered (in a 200), answered (the card's results: the
// source of truth, as a PoR), lost (delivered, and the session broke before its results), or
// failed (never delivered: the push was refused, the card never came, its TLS failed).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "otagw/common/bytes.hpp"
#include "otagw/common/clock.hpp"
#include "otagw/ota/ts_102_226.hpp"
#include "requests/request_fsm.hpp"

namespace otagw::gateway::bip {

enum class SessionState : uint8_t { Idle, Pushing, Open, Serving, Holding, Closing };
constexpr size_t kSessionStateCount = 6;
const char* session_state_name(SessionState s);

enum class SessionEvent : uint8_t {
    Queued,        // a request queued a script (its record not written yet)
    Ready,         // the script is written: it may go
    Withdrawn,     // a queued script is no longer wanted (its request ended)
    PushSubmitted, // the SMSC took the push
    PushFailed,    // the push could not be sent (no keyset, SMSC refused...)
    PushPor,       // the card's PoR for the push: an error (PoR on error only)
    Opened,        // the card's TLS session is up
    TlsFailed,     // a handshake with the card's identity failed
    Post,          // a POST from the card
    Closed,        // the card's connection is gone
    ConnectTimeout,
    ResultsTimeout,
    HoldTimeout,
    Settled, // the requests took what a POST brought (results, lost): what they queue is queued
};
constexpr size_t kSessionEventCount = 14;
const char* session_event_name(SessionEvent e);

enum class SessionTimer : uint8_t { Connect, Results, Hold };
const char* session_timer_name(SessionTimer t); // "bip-connect", "bip-results", "bip-hold"

struct SessionLimits {
    int64_t connect_timeout_ms = 90000;  // a push to the card's TLS session
    int64_t results_timeout_ms = 120000; // a script out to its results
    int64_t hold_timeout_ms = 10000;     // a POST held for a script being written
    uint32_t max_pushes = 3;             // pushes per wait for the card
};

struct QueuedScript {
    int64_t message_id = 0;
    bool ready = false;
    Bytes script; // the expanded-format command script ('AA'), once ready
};

// One card's channel.
struct SessionContext {
    int64_t card_id = 0;
    SessionState state = SessionState::Idle;
    std::deque<QueuedScript> queue; // in the order the requests queued them
    std::optional<int64_t> out;     // the script delivered, its results awaited
    uint64_t connection = 0;        // the RAS connection of the session, 0: none
    uint32_t pushes = 0;            // pushes in this wait for the card
    int64_t push_message_id = 0;    // the last push's message
};

// What a POST says, as the shell read it (bip/admin_http.hpp).
struct PostInfo {
    enum class Kind : uint8_t { First, Resume, Results, NoResults } kind = Kind::First;
    int64_t for_message = 0; // the script the results answer (from the URI), 0: unknown
    std::optional<ota::ram::ExpandedResponse> results; // Results
    std::string status; // NoResults: the X-Admin-Script-Status the card gave
};

struct SessionEventData {
    SessionEventData() = default;
    explicit SessionEventData(SessionEvent k) : kind(k) {}
    SessionEvent kind = SessionEvent::Queued;
    int64_t message_id = 0;  // Queued, Ready, Withdrawn
    Bytes script;            // Ready
    Reason reason;           // PushFailed, PushPor
    std::string message;     // PushFailed, TlsFailed, Closed: why
    uint64_t connection = 0; // Opened, Closed, Post
    PostInfo post;           // Post
};

enum class SessionActionKind : uint8_t {
    SendPush,   // secure and send the trigger to the card's ISD (answer PushSubmitted/Failed)
    Answer,     // 200 on `connection` with script `message_id` (the request: delivered)
    AnswerEnd,  // 204 on `connection`: the session ends
    Close,      // close `connection` (another one took its place, or the card is silent)
    Results,    // the request of `message_id` gets the card's `results`
    Lost,       // the script `message_id` was delivered; its results will not come
    Fail,       // the script `message_id` never reached the card: `reason`
    StartTimer, // `timer` in `ms`
    StopTimer,
    Count, // counter `name`
};

struct SessionAction {
    SessionAction() = default;
    explicit SessionAction(SessionActionKind k) : kind(k) {}
    SessionActionKind kind = SessionActionKind::Count;
    int64_t message_id = 0;
    uint64_t connection = 0;
    std::optional<ota::ram::ExpandedResponse> results;
    Reason reason;
    std::string text;
    SessionTimer timer = SessionTimer::Connect;
    int64_t ms = 0;
    const char* name = "";
};

struct SessionStep;
using SessionHandler = void (*)(SessionStep& step, const SessionEventData& event);

struct SessionTransition {
    SessionState state;
    SessionEvent event;
    SessionHandler handler;
    const char* summary;
    uint16_t to; // states the handler may move to, besides staying
};
std::span<const SessionTransition> session_transitions();

struct SessionHandled {
    bool handled = false;
    size_t row = 0;
    SessionState from = SessionState::Idle;
    std::vector<SessionAction> actions;
};

class SessionFsm {
public:
    explicit SessionFsm(const SessionLimits& limits) : limits_(limits) {}
    SessionHandled handle(SessionContext& ctx, const SessionEventData& event) const;

private:
    const SessionLimits& limits_;
};

} // namespace otagw::gateway::bip
