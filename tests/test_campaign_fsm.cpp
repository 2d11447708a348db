// SPDX-License-Identifier: GPL-2.0-or-later
// The campaign's and the target's state machines (campaigns/campaign_fsm.hpp), in-process: every
// row of both tables, on the typed outcomes of the request machine. The last test fails when a
// row was exercised by none.
#include <set>

#include "campaigns/campaign_fsm.hpp"
#include "test_support.hpp"

using namespace otagw;
using namespace otagw::gateway;

namespace {

std::set<size_t> g_campaign_rows, g_target_rows;

// Each step lands in a state its row names (the diagram is drawn from them).
CampaignStep campaign(CampaignState from, CampaignEvent e, bool wait = false) {
    const CampaignStep s = campaign_step(from, e, CampaignFacts{wait});
    if (s.handled) {
        g_campaign_rows.insert(s.row);
        assert_true(campaign_transitions()[s.row].to & 1u << static_cast<unsigned>(s.to));
    }
    return s;
}

TargetStep target(TargetState from, TargetEvent e, const TargetFacts& f) {
    const TargetStep s = target_step(from, e, f);
    if (s.handled) {
        g_target_rows.insert(s.row);
        assert_true(s.to == from ||
                    (target_transitions()[s.row].to & 1u << static_cast<unsigned>(s.to)));
    }
    return s;
}

std::string name(CampaignState s) {
    return campaign_state_name(s);
}

void test_campaign_life(void**) {
    using S = CampaignState;
    using E = CampaignEvent;
    assert_string_equal(name(campaign(S::Creating, E::Created).to).c_str(), "created");
    CampaignStep scheduled = campaign(S::Creating, E::Created, true);
    assert_string_equal(name(scheduled.to).c_str(), "scheduled");
    assert_true(scheduled.schedule);
    assert_string_equal(name(campaign(S::Created, E::Start).to).c_str(), "running");
    assert_string_equal(name(campaign(S::Scheduled, E::Start).to).c_str(), "running");
    assert_string_equal(name(campaign(S::Scheduled, E::Pause).to).c_str(), "paused");
    assert_string_equal(name(campaign(S::Running, E::Pause).to).c_str(), "paused");
    assert_string_equal(name(campaign(S::Paused, E::Resume).to).c_str(), "running");
    CampaignStep later = campaign(S::Paused, E::Resume, true); // before start_at: scheduled again
    assert_string_equal(name(later.to).c_str(), "scheduled");
    assert_true(later.schedule);
    for (S from : {S::Created, S::Scheduled, S::Running, S::Paused}) {
        CampaignStep c = campaign(from, E::Cancel);
        assert_string_equal(name(c.to).c_str(), "cancelled");
        assert_true(c.cancel_targets);
    }
    assert_string_equal(name(campaign(S::Running, E::Drained).to).c_str(), "finished");
    // What the operator cannot do is refused, not guessed.
    assert_false(campaign(S::Creating, E::Start).handled);
    assert_false(campaign(S::Finished, E::Cancel).handled);
    assert_false(campaign(S::Cancelled, E::Resume).handled);
    assert_false(campaign(S::Paused, E::Drained).handled); // a paused campaign does not finish
    assert_false(campaign(S::Running, E::Start).handled);
    assert_string_equal(campaign_event_past(E::Cancel), "cancelled");
}

RequestContext ended(RequestState state, Reason reason, Operation op = Operation::Suspend) {
    RequestContext r;
    r.operation = op;
    r.state = state;
    r.reason = std::move(reason);
    return r;
}

TargetFacts facts(const RequestContext* r, uint32_t attempts = 1, bool may_retry = true) {
    TargetFacts f;
    f.op = Operation::Suspend;
    f.may_retry = may_retry;
    f.attempts = attempts;
    f.retries = 3;
    f.request = r;
    return f;
}

void test_target_launch_and_cancel(void**) {
    TargetFacts f = facts(nullptr, 0);
    TargetStep s = target(TargetState::Pending, TargetEvent::Launch, f);
    assert_string_equal(target_state_name(s.to), "running");
    assert_int_equal(s.attempts_delta, 1);
    f.audit = true; // an audit is no try
    assert_int_equal(target(TargetState::Pending, TargetEvent::Launch, f).attempts_delta, 0);
    s = target(TargetState::Pending, TargetEvent::Cancel, f);
    assert_string_equal(target_state_name(s.to), "cancelled");
    assert_string_equal(s.reason.c_str(), "campaign_cancelled");
    assert_false(target(TargetState::Running, TargetEvent::Cancel, f).handled); // ends as it ends
    s = target(TargetState::Running, TargetEvent::Orphaned, f);
    assert_string_equal(target_state_name(s.to), "pending");
    assert_false(target(TargetState::Succeeded, TargetEvent::Ended, f).handled);
}

void test_target_refusals(void**) {
    // Another request in flight: tried later, and the wait is no try.
    RequestContext busy = ended(RequestState::Refused, Reason::of(ReasonCode::InFlight));
    TargetStep s = target(TargetState::Running, TargetEvent::Refused, facts(&busy));
    assert_int_equal(static_cast<int>(s.action), static_cast<int>(TargetAction::RetryLater));
    assert_int_equal(s.attempts_delta, -1);
    // Its state not known (or an operation pending): the card is read first.
    RequestContext unknown =
        ended(RequestState::Refused, Reason::of(ReasonCode::NotAllowedInState));
    unknown.data.from_state = {AppState::Unknown};
    s = target(TargetState::Running, TargetEvent::Refused, facts(&unknown));
    assert_int_equal(static_cast<int>(s.action), static_cast<int>(TargetAction::AuditFirst));
    // Already where the operation leads, or not allowed from where it is: skipped.
    RequestContext already =
        ended(RequestState::Refused, Reason::of(ReasonCode::NotAllowedInState));
    already.data.from_state = {AppState::Suspended};
    s = target(TargetState::Running, TargetEvent::Refused, facts(&already));
    assert_string_equal(target_state_name(s.to), "skipped");
    assert_string_equal(s.reason.c_str(), "already_suspended");
    assert_string_equal(s.card_state.c_str(), "suspended");
    already.data.from_state = {AppState::Installed};
    assert_string_equal(
        target(TargetState::Running, TargetEvent::Refused, facts(&already)).reason.c_str(),
        "not_allowed_from_installed");
    RequestContext barred = ended(RequestState::Refused, Reason::of(ReasonCode::CardBarred));
    s = target(TargetState::Running, TargetEvent::Refused, facts(&barred));
    assert_string_equal(target_state_name(s.to), "skipped");
    RequestContext app = ended(RequestState::Refused, Reason::of(ReasonCode::UnknownApp));
    s = target(TargetState::Running, TargetEvent::Refused, facts(&app));
    assert_string_equal(target_state_name(s.to), "failed");
    assert_string_equal(s.reason.c_str(), "unknown_app");
}

void test_target_ends(void**) {
    RequestContext done = ended(RequestState::Done, {});
    done.data.card_state = CardAppState{AppState::Suspended};
    TargetStep s = target(TargetState::Running, TargetEvent::Ended, facts(&done));
    assert_string_equal(target_state_name(s.to), "succeeded");
    assert_string_equal(s.card_state.c_str(), "suspended");
    // Transient failures are tried again while the retries last.
    RequestContext lost = ended(RequestState::Failed, Reason::of(ReasonCode::PorLost));
    s = target(TargetState::Running, TargetEvent::Ended, facts(&lost, 3));
    assert_int_equal(static_cast<int>(s.action), static_cast<int>(TargetAction::RetryLater));
    s = target(TargetState::Running, TargetEvent::Ended, facts(&lost, 4));
    assert_string_equal(target_state_name(s.to), "failed");
    assert_string_equal(s.reason.c_str(), "por_lost");
    s = target(TargetState::Running, TargetEvent::Ended, facts(&lost, 1, false)); // cancelled
    assert_string_equal(target_state_name(s.to), "failed");
    // The card still in the state the operation starts from: it never ran; again.
    RequestContext never = ended(RequestState::Failed, Reason::card_state({AppState::Active}));
    s = target(TargetState::Running, TargetEvent::Ended, facts(&never));
    assert_int_equal(static_cast<int>(s.action), static_cast<int>(TargetAction::RetryLater));
    RequestContext refused = ended(RequestState::Failed, Reason::card_refused(0x6985));
    s = target(TargetState::Running, TargetEvent::Ended, facts(&refused));
    assert_string_equal(s.reason.c_str(), "card_refused_6985");
}

void test_target_after_an_audit(void**) {
    // The audit read the card before trying again.
    RequestContext audit = ended(RequestState::Done, {}, Operation::Query);
    audit.data.card_state = CardAppState{AppState::Suspended};
    TargetStep s = target(TargetState::Running, TargetEvent::Ended, facts(&audit));
    assert_string_equal(target_state_name(s.to), "succeeded"); // it did it after all
    audit.data.card_state = CardAppState{AppState::Active};
    s = target(TargetState::Running, TargetEvent::Ended, facts(&audit));
    assert_int_equal(static_cast<int>(s.action), static_cast<int>(TargetAction::Requeue));
    s = target(TargetState::Running, TargetEvent::Ended, facts(&audit, 1, false));
    assert_string_equal(target_state_name(s.to), "cancelled");
    audit.data.card_state = CardAppState{AppState::Installed};
    s = target(TargetState::Running, TargetEvent::Ended, facts(&audit));
    assert_string_equal(s.reason.c_str(), "card_state_installed");
    RequestContext lost =
        ended(RequestState::Failed, Reason::of(ReasonCode::PorLost), Operation::Query);
    s = target(TargetState::Running, TargetEvent::Ended, facts(&lost));
    assert_int_equal(static_cast<int>(s.action), static_cast<int>(TargetAction::RetryLater));
    // A refused audit is no try either.
    RequestContext busy =
        ended(RequestState::Refused, Reason::of(ReasonCode::InFlight), Operation::Query);
    assert_int_equal(
        target(TargetState::Running, TargetEvent::Refused, facts(&busy)).attempts_delta, 0);
}

void test_names_round_trip(void**) {
    for (size_t i = 0; i < kCampaignStateCount; i++) {
        const auto s = static_cast<CampaignState>(i);
        assert_true(campaign_state_named(campaign_state_name(s)) == s);
    }
    for (size_t i = 0; i < kTargetStateCount; i++) {
        const auto s = static_cast<TargetState>(i);
        assert_true(target_state_named(target_state_name(s)) == s);
    }
    assert_false(campaign_state_named("sleeping").has_value());
}

void test_every_row_is_exercised(void**) {
    std::string missing;
    const auto ct = campaign_transitions();
    for (size_t i = 0; i < ct.size(); i++)
        if (!g_campaign_rows.count(i))
            missing += std::string("\n  campaign {") + campaign_state_name(ct[i].state) + ", " +
                       campaign_event_name(ct[i].event) + "}";
    const auto tt = target_transitions();
    for (size_t i = 0; i < tt.size(); i++)
        if (!g_target_rows.count(i))
            missing += std::string("\n  target {") + target_state_name(tt[i].state) + ", " +
                       target_event_name(tt[i].event) + "}";
    if (!missing.empty())
        fail_msg("rows no test exercises:%s", missing.c_str());
}

} // namespace

int main() {
    const CMUnitTest tests[] = {
        cmocka_unit_test(test_campaign_life),
        cmocka_unit_test(test_target_launch_and_cancel),
        cmocka_unit_test(test_target_refusals),
        cmocka_unit_test(test_target_ends),
        cmocka_unit_test(test_target_after_an_audit),
        cmocka_unit_test(test_names_round_trip),
        cmocka_unit_test(test_every_row_is_exercised),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
