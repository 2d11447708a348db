// SPDX-License-Identifier: GPL-2.0-or-later
// The life of a campaign and of each of its targets (doc/campaigns.md) as two explicit state
// machines, one transition table each, in the manner of request_fsm.hpp. Pure: the campaign
// engine (campaign_engine.cpp) is their shell, which writes the states and paces the targets.
//
// A campaign:
//   creating   its targets are being written, a slice per turn of the loop
//   created    ready; started by the operator        scheduled  starts by itself at start_at
//   running    its targets are started, paced         paused     none is started
//   cancelled  no target starts again                 finished   every target has ended
//
// A target (one card):
//   pending    waiting to start (or to be tried again at next_at)
//   running    its request is in flight
//   succeeded  the card reports the state the operation leads to
//   skipped    the operation makes no sense on the card (barred, not allowed, already there)
//   failed     the request failed for good, or transient failures used up the retries
//   cancelled  the campaign was cancelled before it started
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "requests/request_fsm.hpp"

namespace otagw::gateway {

// ---- the campaign -----------------------------------------------------------------------------

enum class CampaignState : uint8_t {
    Creating,
    Created,
    Scheduled,
    Running,
    Paused,
    Cancelled,
    Finished
};
constexpr size_t kCampaignStateCount = 7;
const char* campaign_state_name(CampaignState s);
std::optional<CampaignState> campaign_state_named(std::string_view name);

enum class CampaignEvent : uint8_t {
    Created, // its targets are written
    Start,   // the operator starts it, or its start_at has come
    Pause,
    Resume,
    Cancel,
    Drained, // every target has ended
};
constexpr size_t kCampaignEventCount = 6;
const char* campaign_event_name(CampaignEvent e); // "start", ...
// "started", "paused", ...: the audit log's campaign.<past tense>
const char* campaign_event_past(CampaignEvent e);

// What the machine needs to know of the campaign besides its state.
struct CampaignFacts {
    // Created: start_at is set; Resume: start_at is in the future and it never started.
    bool wait_for_start_at = false;
};

struct CampaignStep {
    bool handled = false; // false: not from this state (the operator is told why not)
    size_t row = 0;
    CampaignState to = CampaignState::Created;
    bool cancel_targets = false; // its pending targets are cancelled
    bool schedule = false;       // a timer starts it at start_at
};

struct CampaignTransition {
    CampaignState state;
    CampaignEvent event;
    CampaignStep (*handler)(const CampaignFacts&);
    const char* summary;
    uint16_t to; // the states it may move to (a mask by state number, for the diagram)
};
std::span<const CampaignTransition> campaign_transitions();
CampaignStep campaign_step(CampaignState from, CampaignEvent event, const CampaignFacts& facts);

// ---- a target ---------------------------------------------------------------------------------

enum class TargetState : uint8_t { Pending, Running, Succeeded, Failed, Skipped, Cancelled };
constexpr size_t kTargetStateCount = 6;
const char* target_state_name(TargetState s);
std::optional<TargetState> target_state_named(std::string_view name);
bool target_settled(TargetState s); // succeeded, failed, skipped, cancelled: never undone

enum class TargetEvent : uint8_t {
    Launch,   // its request is submitted (an audit first when its state is not known)
    Refused,  // the request was refused at intake
    Ended,    // the request ended (done or failed)
    Cancel,   // the campaign is cancelled
    Orphaned, // after a restart: running, but its request never started
};
constexpr size_t kTargetEventCount = 5;
const char* target_event_name(TargetEvent e);

// What the machine needs to know when the event comes.
struct TargetFacts {
    Operation op = Operation::Query; // the campaign's operation
    bool may_retry = false;          // the campaign runs here and is not cancelled
    uint32_t attempts = 0;           // tries of the operation so far (after this launch)
    uint32_t retries = 0;            // the campaign's further tries for transient failures
    bool audit = false;              // Launch: the request is the audit before trying (a query)
    const RequestContext* request = nullptr; // Refused, Ended: the request as it ended
};

enum class TargetAction : uint8_t {
    None,
    Settle,     // the target ends: `to` with `reason`
    RetryLater, // pending again, tried after a doubling pause (next_at)
    Requeue,    // pending again, started next (the audit found the operation still to do)
    AuditFirst, // submitted again at once, as an audit of the card
};

struct TargetStep {
    bool handled = false;
    size_t row = 0;
    TargetState to = TargetState::Pending;
    TargetAction action = TargetAction::None;
    std::string reason;
    int attempts_delta = 0; // a wait for another request, or an audit, is no try
    std::string card_state; // as the card reported it (empty: unchanged)
};

struct TargetTransition {
    TargetState state;
    TargetEvent event;
    TargetStep (*handler)(const TargetFacts&);
    const char* summary;
    uint16_t to; // the states it may move to, besides staying (a mask, for the diagram)
};
std::span<const TargetTransition> target_transitions();
TargetStep target_step(TargetState from, TargetEvent event, const TargetFacts& facts);

} // namespace otagw::gateway
