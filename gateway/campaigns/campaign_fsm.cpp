// SPDX-License-Identifier: GPL-2.0-or-later
#include "campaigns/campaign_fsm.hpp"

#include <algorithm>
#include <array>
#include <initializer_list>

namespace otagw::gateway {

namespace {

constexpr std::array<const char*, kCampaignStateCount> kCampaignStateNames = {
    "creating", "created", "scheduled", "running", "paused", "cancelled", "finished"};
constexpr std::array<const char*, kCampaignEventCount> kCampaignEventNames = {
    "created", "start", "pause", "resume", "cancel", "drained"};
constexpr std::array<const char*, kCampaignEventCount> kCampaignEventPast = {
    "created", "started", "paused", "resumed", "cancelled", "finished"};
constexpr std::array<const char*, kTargetStateCount> kTargetStateNames = {
    "pending", "running", "succeeded", "failed", "skipped", "cancelled"};
constexpr std::array<const char*, kTargetEventCount> kTargetEventNames = {
    "launch", "refused", "ended", "cancel", "orphaned"};

template <size_t N>
std::optional<size_t> index_of(const std::array<const char*, N>& names, std::string_view name) {
    for (size_t i = 0; i < N; i++)
        if (name == names[i])
            return i;
    return std::nullopt;
}

// ---- the campaign ----

using CS = CampaignState;
using CE = CampaignEvent;

CampaignStep to(CampaignState s) {
    CampaignStep step;
    step.to = s;
    return step;
}

CampaignStep on_created(const CampaignFacts& f) {
    CampaignStep s = to(f.wait_for_start_at ? CS::Scheduled : CS::Created);
    s.schedule = f.wait_for_start_at;
    return s;
}
CampaignStep on_start(const CampaignFacts&) {
    return to(CS::Running);
}
CampaignStep on_pause(const CampaignFacts&) {
    return to(CS::Paused);
}
CampaignStep on_resume(const CampaignFacts& f) {
    CampaignStep s = to(f.wait_for_start_at ? CS::Scheduled : CS::Running);
    s.schedule = f.wait_for_start_at;
    return s;
}
CampaignStep on_cancel(const CampaignFacts&) {
    CampaignStep s = to(CS::Cancelled);
    s.cancel_targets = true; // the pending ones; those in flight end as their requests do
    return s;
}
CampaignStep on_drained(const CampaignFacts&) {
    return to(CS::Finished);
}

template <typename State>
constexpr uint16_t mask(std::initializer_list<State> states) {
    uint16_t m = 0;
    for (State s : states)
        m = static_cast<uint16_t>(m | 1u << static_cast<unsigned>(s));
    return m;
}

const CampaignTransition kCampaignTable[] = {
    {CS::Creating, CE::Created, on_created, "created, or scheduled for start_at",
     mask({CS::Created, CS::Scheduled})},
    {CS::Created, CE::Start, on_start, "start its targets", mask({CS::Running})},
    {CS::Created, CE::Cancel, on_cancel, "cancel every target", mask({CS::Cancelled})},
    {CS::Scheduled, CE::Start, on_start, "start_at has come, or started early",
     mask({CS::Running})},
    {CS::Scheduled, CE::Pause, on_pause, "hold it", mask({CS::Paused})},
    {CS::Scheduled, CE::Cancel, on_cancel, "cancel every target", mask({CS::Cancelled})},
    {CS::Running, CE::Pause, on_pause, "start no more targets", mask({CS::Paused})},
    {CS::Running, CE::Cancel, on_cancel, "cancel the pending targets", mask({CS::Cancelled})},
    {CS::Running, CE::Drained, on_drained, "every target has ended", mask({CS::Finished})},
    {CS::Paused, CE::Resume, on_resume, "start targets again, or wait for start_at",
     mask({CS::Running, CS::Scheduled})},
    {CS::Paused, CE::Cancel, on_cancel, "cancel the pending targets", mask({CS::Cancelled})},
};

// ---- a target ----

using TS = TargetState;
using TE = TargetEvent;

TargetStep settle(TargetState state, std::string reason) {
    TargetStep s;
    s.to = state;
    s.action = TargetAction::Settle;
    s.reason = std::move(reason);
    return s;
}

// Tried again after a pause, while the campaign's retries last.
TargetStep retry(const TargetFacts& f, std::string reason, int attempts_delta = 0) {
    if (static_cast<int64_t>(f.attempts) + attempts_delta > static_cast<int64_t>(f.retries)) {
        TargetStep s = settle(TS::Failed, std::move(reason));
        s.attempts_delta = attempts_delta;
        return s;
    }
    TargetStep s;
    s.to = TS::Pending;
    s.action = TargetAction::RetryLater;
    s.reason = std::move(reason);
    s.attempts_delta = attempts_delta;
    return s;
}

// The request is the audit a campaign makes before trying (a query of a card whose state was
// not known).
bool is_audit(const TargetFacts& f) {
    if (!f.request)
        return f.audit;
    return f.request->operation == Operation::Query && f.op != Operation::Query;
}

TargetStep on_launch(const TargetFacts& f) {
    TargetStep s;
    s.to = TS::Running;
    s.attempts_delta = is_audit(f) ? 0 : 1;
    return s;
}

// Refusals that mean the operation makes no sense on this card: skipped, not failed.
bool skip_reason(ReasonCode reason) {
    return reason == ReasonCode::CardBarred || reason == ReasonCode::UnknownIccid ||
           reason == ReasonCode::UnknownMsisdn;
}

TargetStep on_refused(const TargetFacts& f) {
    const RequestContext& r = *f.request;
    const bool audit = is_audit(f);
    const CardAppState from = r.data.from_state;
    switch (r.reason.code) {
    case ReasonCode::InFlight: // waiting for another request is no try
        return retry(f, r.reason.name(), audit ? 0 : -1);
    case ReasonCode::NotAllowedInState:
        if ((from.state == AppState::Unknown || from.state == AppState::Pending) && !audit) {
            TargetStep s; // read the card first
            s.to = TS::Running;
            s.action = TargetAction::AuditFirst;
            s.attempts_delta = -1;
            return s;
        } else {
            TargetStep s =
                settle(TS::Skipped,
                       (reached(f.op, from) ? "already_" : "not_allowed_from_") + from.name());
            s.card_state = from.name();
            return s;
        }
    default:
        return settle(skip_reason(r.reason.code) ? TS::Skipped : TS::Failed, r.reason.name());
    }
}

TargetStep on_ended(const TargetFacts& f) {
    const RequestContext& r = *f.request;
    const bool done = r.state == RequestState::Done;
    const ReasonCode code = r.reason.code;
    const std::string reason = r.reason.empty() ? request_state_name(r.state) : r.reason.name();
    TargetStep s;
    if (is_audit(f)) {
        // The card was read before trying again: maybe it did it after all.
        const CardAppState state = r.data.card_state.value_or(CardAppState{AppState::Unknown});
        if (done && reached(f.op, state))
            s = settle(TS::Succeeded, "");
        else if (done && !transition_refusal(f.op, state))
            s = f.may_retry ? TargetStep{true, 0, TS::Pending, TargetAction::Requeue, "", 0, ""}
                            : settle(TS::Cancelled, "campaign_cancelled");
        else if (done)
            s = settle(TS::Failed, "card_state_" + state.name());
        else if (transient(code) && f.may_retry)
            s = retry(f, reason);
        else
            s = settle(TS::Failed, reason);
    } else if (done) {
        s = settle(TS::Succeeded, "");
    } else {
        // The card reports a state the operation still starts from: it never ran.
        const bool never_ran =
            code == ReasonCode::CardState && !transition_refusal(f.op, r.reason.state);
        s = (transient(code) || never_ran) && f.may_retry ? retry(f, reason)
                                                          : settle(TS::Failed, reason);
    }
    if (r.data.card_state)
        s.card_state = r.data.card_state->name();
    return s;
}

TargetStep on_cancel(const TargetFacts&) {
    return settle(TS::Cancelled, "campaign_cancelled");
}

TargetStep on_orphaned(const TargetFacts&) {
    TargetStep s;
    s.to = TS::Pending; // started again, read ahead like the others
    return s;
}

const TargetTransition kTargetTable[] = {
    {TS::Pending, TE::Launch, on_launch, "its request is submitted", mask({TS::Running})},
    {TS::Pending, TE::Cancel, on_cancel, "the campaign is cancelled", mask({TS::Cancelled})},
    {TS::Running, TE::Refused, on_refused,
     "retried later (in flight), audited first, skipped or failed",
     mask({TS::Pending, TS::Skipped, TS::Failed})},
    {TS::Running, TE::Ended, on_ended, "succeeded, retried, requeued or failed",
     mask({TS::Succeeded, TS::Pending, TS::Failed, TS::Cancelled})},
    {TS::Running, TE::Orphaned, on_orphaned, "its request never started: pending again",
     mask({TS::Pending})},
};

// The row of `table` for {from, event}, its handler's step marked handled; else unhandled.
template <typename Step, typename Table, typename State, typename Event, typename Facts>
Step step_of(const Table& table, State from, Event event, const Facts& facts) {
    for (size_t i = 0; i < std::size(table); i++)
        if (table[i].state == from && table[i].event == event) {
            Step s = table[i].handler(facts);
            s.handled = true;
            s.row = i;
            return s;
        }
    return Step{};
}

} // namespace

const char* campaign_state_name(CampaignState s) {
    return kCampaignStateNames.at(static_cast<size_t>(s));
}

std::optional<CampaignState> campaign_state_named(std::string_view name) {
    auto i = index_of(kCampaignStateNames, name);
    return i ? std::optional<CampaignState>(static_cast<CampaignState>(*i)) : std::nullopt;
}

const char* campaign_event_name(CampaignEvent e) {
    return kCampaignEventNames.at(static_cast<size_t>(e));
}

const char* campaign_event_past(CampaignEvent e) {
    return kCampaignEventPast.at(static_cast<size_t>(e));
}

std::span<const CampaignTransition> campaign_transitions() {
    return kCampaignTable;
}

CampaignStep campaign_step(CampaignState from, CampaignEvent event, const CampaignFacts& facts) {
    return step_of<CampaignStep>(kCampaignTable, from, event, facts);
}

const char* target_state_name(TargetState s) {
    return kTargetStateNames.at(static_cast<size_t>(s));
}

std::optional<TargetState> target_state_named(std::string_view name) {
    auto i = index_of(kTargetStateNames, name);
    return i ? std::optional<TargetState>(static_cast<TargetState>(*i)) : std::nullopt;
}

bool target_settled(TargetState s) {
    return s != TargetState::Pending && s != TargetState::Running;
}

const char* target_event_name(TargetEvent e) {
    return kTargetEventNames.at(static_cast<size_t>(e));
}

std::span<const TargetTransition> target_transitions() {
    return kTargetTable;
}

TargetStep target_step(TargetState from, TargetEvent event, const TargetFacts& facts) {
    return step_of<TargetStep>(kTargetTable, from, event, facts);
}

} // namespace otagw::gateway
