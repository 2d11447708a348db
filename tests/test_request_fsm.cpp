// SPDX-License-Identifier: GPL-2.0-or-later
// The request state machine in-process (requests/request_fsm.hpp): events in, actions out, a
// fake clock, no process and no socket. Packets are secured with the gateway's codec (ota/) and
// run on an in-process simulated card (cardlets-sim's card side, written apart from ota/); its
// PoR bytes come back through the same reading as in the daemon (por_reader.hpp). Each scenario
// checks the actions the machine asks for, as a narrative; the last test fails when a row of the
// transition table was exercised by none.
#include <map>
#include <set>

#include "cap_builder.hpp"
#include "otagw/common/tlv.hpp"
#include "otagw/ota/cap_file.hpp"
#include "otagw/ota/globalplatform.hpp"
#include "otagw/ota/ts_102_225.hpp"
#include "otagw/ota/ts_102_226.hpp"
#include "otagw/ota/ts_31_115.hpp"
#include "otagw/sim/ota_card.hpp"
#include "otagw/sim/population.hpp"
#include "requests/cap_loads.hpp"
#include "requests/operations.hpp"
#include "requests/por_reader.hpp"
#include "requests/request_data.hpp"
#include "requests/request_fsm.hpp"
#include "test_support.hpp"

using namespace otagw;
using namespace otagw::gateway;
using test::hex;

namespace {

std::set<size_t> g_rows_hit;

const char* kCanteen = "f04f5441470101010001"; // INSTALLED on a standard card, with a provider
const char* kTransit = "f04f5441470102010001"; // SELECTABLE

db::Application application(const char* aid) {
    db::Application a;
    a.aid = aid;
    a.name = aid == std::string(kCanteen) ? "canteen" : "transit";
    a.code = aid == std::string(kCanteen) ? "01" : "02";
    a.tar = aid == std::string(kCanteen) ? "c00001" : "c00002";
    a.msl = 0x12;
    if (aid == std::string(kCanteen))
        a.provider = "campus";
    return a;
}

std::string describe(const Action& a) {
    switch (a.kind) {
    case ActionKind::AskProvider:
        return "ask provider";
    case ActionKind::SendPacket:
        switch (a.phase) {
        case Phase::Audit:
            return "send audit";
        case Phase::Load:
            return "send load " + std::to_string(a.index);
        case Phase::Clean:
            return "send clean";
        case Phase::Operation:
            break;
        }
        return "send operation";
    case ActionKind::StartTimer:
        return std::string("start ") + timer_name(a.timer) + " " + std::to_string(a.ms);
    case ActionKind::StopTimer:
        return std::string("stop ") + timer_name(a.timer);
    case ActionKind::RecordCardState:
        return "record " + a.card_state.name() + " @" + std::to_string(a.counter);
    case ActionKind::RaiseCounter:
        return "raise counter " + std::to_string(a.counter);
    case ActionKind::AuditLog:
        return std::string("audit ") + a.name;
    case ActionKind::Count:
        return std::string("count ") + a.name;
    case ActionKind::Finish:
        return std::string("finish ") + outcome_name(a.outcome);
    }
    return "?";
}

// A mini shell: carries out the machine's actions the way the daemon does, with a counter of its
// own for the card's keyset, a simulated card, and timers on the fake clock.
struct Harness {
    FakeClock clock;
    RequestLimits limits;
    RequestFsm fsm{limits, clock};
    sim::Population population;
    sim::Uicc* card = nullptr;
    ota::OtaKeys keys;
    ota::Spi spi = *ota::Spi::parse("1639");
    ota::Tar tar{0, 0, 0};
    uint64_t counter = 0; // the gateway's counter for keyset 1
    db::Application app;
    const CapLoad* cap = nullptr; // an install that loads this CAP
    RequestContext ctx;
    struct Packet {
        int64_t id;
        uint64_t counter;
        Phase phase;
        Bytes packet; // CPL..end
        uint32_t index = 0;
    };
    std::vector<Packet> packets;
    int64_t next_message_id = 100;
    std::map<RequestTimer, int64_t> timers; // due, Unix ms
    std::vector<std::string> narrative;     // every action, described
    std::vector<std::string> card_states;   // what RecordCardState wrote
    std::optional<Outcome> finished;
    std::optional<Reason> not_sent; // the next SendPacket fails with this
    size_t unhandled = 0;

    Harness(Operation op, const char* aid, bool asks_provider = false) {
        sim::PopulationSpec spec;
        spec.seed = 7;
        population = std::move(sim::Population::generate(spec).value());
        card = &population.at(0);
        const sim::Keyset& k = card->keysets.at(0); // KVN 1, AES-128
        keys = ota::OtaKeys::create(0x12, k.kic, 0x12, k.kid);
        app = application(aid);
        limits.por_timeout_ms = 3000;
        limits.provider_timeout_ms = 5000;
        ctx.id = 42;
        ctx.operation = op;
        ctx.asks_provider = asks_provider;
        ctx.data.iccid = card->iccid;
        ctx.data.app_code = app.code;
        ctx.data.app_name = app.name;
        for (const auto& a : card->apps)
            if (to_hex(a.aid) == aid)
                ctx.data.from_state = state_from_registry(a.life_cycle, op);
        ctx.data.known_state = ctx.data.from_state;
    }

    Handled feed(const Event& e) {
        Handled h = fsm.handle(ctx, e);
        if (!h.handled) {
            unhandled++;
            return h;
        }
        g_rows_hit.insert(h.row);
        // The diagram is drawn from the rows' targets: every move must be one of them.
        const Transition& row = request_transitions()[h.row];
        if (ctx.state != h.from && !(row.to & 1u << static_cast<unsigned>(ctx.state)))
            fail_msg("{%s, %s} moved to %s, which its row does not name",
                     request_state_name(h.from), event_name(e.kind), request_state_name(ctx.state));
        for (const auto& a : h.actions)
            execute(a);
        return h;
    }

    void execute(const Action& a) {
        narrative.push_back(describe(a));
        switch (a.kind) {
        case ActionKind::SendPacket:
            return send(a.phase, a.index);
        case ActionKind::StartTimer:
            timers[a.timer] = clock.now_ms() + a.ms;
            return;
        case ActionKind::StopTimer:
            timers.erase(a.timer);
            return;
        case ActionKind::RecordCardState:
            card_states.push_back(a.card_state.name());
            return;
        case ActionKind::RaiseCounter:
            counter = std::max(counter, a.counter);
            return;
        case ActionKind::Finish:
            timers.clear();
            finished = a.outcome;
            return;
        default:
            return;
        }
    }

    std::vector<ota::Apdu> script(Phase phase, uint32_t index = 0) {
        return packet_script(ctx, app, cap, phase, index).value();
    }

    void send(Phase phase, uint32_t index = 0) {
        if (not_sent) {
            Event e(EventKind::NotSent);
            e.reason = *not_sent;
            e.message = "as the test asks";
            not_sent.reset();
            feed(e);
            return;
        }
        ota::CommandHeader h;
        h.spi = spi;
        h.kic = h.kid = 0x12;
        h.tar = tar;
        h.counter = ++counter;
        Packet p{next_message_id++, h.counter, phase, {}, index};
        assert_ok(ota::build_command_packet(h, keys, ota::ram::compact_script(script(phase, index)),
                                            p.packet));
        packets.push_back(p);
        Event e(EventKind::Queued);
        e.packet = {p.id, p.counter, phase, clock.now_ms(), index};
        feed(e);
    }

    const Packet& last() const { return packets.back(); }

    void submitted(const Packet& p) {
        Event e(EventKind::Submitted);
        e.message_id = p.id;
        feed(e);
    }

    // The card runs the packet; its PoR's user data ('027100...').
    Bytes run_on_card(const Packet& p) {
        sim::PorOutcome out = sim::process_command_packet(*card, p.packet);
        assert_true(out.por_wanted);
        return out.por;
    }

    // A PoR in: verified and read as the daemon does; false when it answers no packet waiting.
    bool por(const Bytes& user_data) {
        auto decoded = ota::decode_response_packet(user_data, spi, keys);
        assert_ok(decoded);
        const SentPacket* p = answered_packet(ctx.data, *decoded);
        if (!p)
            return false;
        feed(por_event(*p, *decoded, script(p->phase, p->index), app.aid));
        return true;
    }

    // The packet to the card and its PoR back at once.
    void round_trip(const Packet& p) {
        submitted(p);
        assert_true(por(run_on_card(p)));
    }

    // Time passes; timers that fall due fire.
    void advance(int64_t ms) {
        clock.advance(ms);
        for (bool fired = true; fired;) {
            fired = false;
            for (auto [t, due] : timers)
                if (due <= clock.now_ms()) {
                    timers.erase(t);
                    feed(Event(t == RequestTimer::Por ? EventKind::PorTimeout
                                                      : EventKind::ProviderTimeout));
                    fired = true;
                    break;
                }
        }
    }

    std::string told() {
        std::string s;
        for (const auto& n : narrative)
            s += (s.empty() ? "" : "; ") + n;
        narrative.clear();
        return s;
    }
};

#define assert_told(h, expected)                                                                   \
    do {                                                                                           \
        const std::string told_ = (h).told(), expected_ = (expected);                              \
        if (told_ != expected_)                                                                    \
            fail_msg("actions:\n  %s\nexpected:\n  %s", told_.c_str(), expected_.c_str());         \
    } while (0)

sim::Application& sim_app(Harness& h, const char* aid) {
    for (auto& a : h.card->apps)
        if (to_hex(a.aid) == aid)
            return a;
    fail_msg("the card has no %s", aid);
    return h.card->apps.front();
}

std::string card_app_state(Harness& h, const char* aid) {
    for (const auto& a : h.card->apps)
        if (to_hex(a.aid) == aid)
            return a.locked() ? "locked" : a.selectable() ? "selectable" : "installed";
    return "absent";
}

// ---- the ordinary life ----------------------------------------------------------------------

void test_suspend_without_provider(void**) {
    Harness h(Operation::Suspend, kTransit);
    h.feed(Event(EventKind::Start));
    assert_told(h, "send operation; record pending:suspend @1");
    assert_int_equal(static_cast<int>(h.ctx.state), static_cast<int>(RequestState::Sent));
    h.submitted(h.last());
    assert_told(h, "start por-timeout 3000");
    assert_true(h.por(h.run_on_card(h.last())));
    assert_told(h, "record suspended @1; stop por-timeout; finish done");
    assert_string_equal(request_state_name(h.ctx.state), "done");
    assert_string_equal(card_app_state(h, kTransit).c_str(), "locked");
    assert_true(h.ctx.data.outstanding.empty());
    assert_int_equal(h.ctx.data.learned_counter, 1);
}

void test_activate_with_provider(void**) {
    Harness h(Operation::Activate, kCanteen, true);
    h.feed(Event(EventKind::Start));
    assert_told(h, "ask provider; start provider-timeout 5000");
    assert_string_equal(request_state_name(h.ctx.state), "provider");
    Bytes dgis;
    assert_ok(tlv::append_dgi_tlv(dgis, 0x0101, hex("00000042")));
    assert_ok(tlv::append_dgi_tlv(dgis, 0x0103, hex("00000064")));
    Event approved(EventKind::ProviderApproved);
    approved.personalisation = dgis;
    h.feed(approved);
    assert_told(h, "stop provider-timeout; send operation; record pending:activate @1");
    h.round_trip(h.last());
    assert_told(h, "start por-timeout 3000; record active @1; stop por-timeout; finish done");
    assert_string_equal(card_app_state(h, kCanteen).c_str(), "selectable");
}

void test_query_reports_the_card(void**) {
    Harness h(Operation::Query, kTransit);
    h.feed(Event(EventKind::Start));
    assert_told(h, "send operation"); // a query writes no pending state
    h.round_trip(h.last());
    assert_told(h, "start por-timeout 3000; record active @1; stop por-timeout; finish done");
}

// ---- the provider ----------------------------------------------------------------------------

void test_provider_veto_failure_and_timeout(void**) {
    Harness veto(Operation::Activate, kCanteen, true);
    veto.feed(Event(EventKind::Start));
    veto.told();
    Event v(EventKind::ProviderVetoed);
    v.message = "overdue balance";
    veto.feed(v);
    assert_told(veto, "stop provider-timeout; count provider:veto; finish refused");
    assert_string_equal(veto.ctx.reason.name().c_str(), "provider_veto");
    assert_string_equal(veto.ctx.data.message.c_str(), "overdue balance");
    assert_true(veto.packets.empty());

    Harness error(Operation::Activate, kCanteen, true);
    error.feed(Event(EventKind::Start));
    error.told();
    Event f(EventKind::ProviderFailed);
    f.reason = Reason::of(ReasonCode::ProviderError);
    f.message = "decision: not approve or veto";
    error.feed(f);
    assert_told(error, "stop provider-timeout; finish failed");
    assert_string_equal(error.ctx.reason.name().c_str(), "provider_error");

    // No decision in time; the answer that comes afterwards changes nothing.
    Harness late(Operation::Activate, kCanteen, true);
    late.feed(Event(EventKind::Start));
    late.told();
    late.advance(4999);
    assert_string_equal(request_state_name(late.ctx.state), "provider");
    late.advance(1);
    assert_told(late, "count provider:timeout; finish failed");
    assert_string_equal(late.ctx.reason.name().c_str(), "provider_timeout");
    const Handled after = late.feed(Event(EventKind::ProviderApproved));
    assert_false(after.handled);
    assert_int_equal(late.unhandled, 1);
    assert_string_equal(request_state_name(late.ctx.state), "failed");
    assert_true(late.packets.empty());
}

void test_cancel_before_the_card(void**) {
    for (const RequestState at :
         {RequestState::Accepted, RequestState::Provider, RequestState::Approved}) {
        Harness h(Operation::Activate, kCanteen, true);
        if (at != RequestState::Accepted)
            h.feed(Event(EventKind::Start));
        if (at == RequestState::Approved) {
            h.ctx.state = RequestState::Approved; // as resumed after a restart
        }
        h.told();
        h.feed(Event(EventKind::Cancel));
        const std::string want =
            at == RequestState::Provider ? "stop provider-timeout; finish failed" : "finish failed";
        assert_told(h, want.c_str());
        assert_string_equal(h.ctx.reason.name().c_str(), "cancelled");
    }
    // Once the packet may be at the card, it ends as the card answers.
    Harness h(Operation::Suspend, kTransit);
    h.feed(Event(EventKind::Start));
    assert_false(RequestFsm::accepts(RequestState::Sent, EventKind::Cancel));
    assert_false(h.feed(Event(EventKind::Cancel)).handled);
    assert_string_equal(request_state_name(h.ctx.state), "sent");
}

// ---- sending ----------------------------------------------------------------------------------

void test_not_sent(void**) {
    Harness h(Operation::Suspend, kTransit);
    h.not_sent = Reason::of(ReasonCode::NoKeyset);
    h.feed(Event(EventKind::Start));
    assert_told(h, "send operation; finish failed");
    assert_string_equal(h.ctx.reason.name().c_str(), "no_keyset");
    assert_true(h.card_states.empty()); // nothing was pending

    Harness a(Operation::Activate, kCanteen, true);
    a.feed(Event(EventKind::Start));
    a.not_sent = Reason::of(ReasonCode::NoSmsc);
    a.feed(Event(EventKind::ProviderApproved));
    assert_string_equal(a.ctx.reason.name().c_str(), "no_smsc");
}

void test_smsc_refuses(void**) {
    Harness h(Operation::Suspend, kTransit);
    h.feed(Event(EventKind::Start));
    h.told();
    Event refused(EventKind::SubmitFailed);
    refused.message_id = h.last().id;
    refused.message = "ESME_RSUBMITFAIL";
    h.feed(refused);
    // The card never saw it: the application goes back to what it was.
    assert_told(h, "count ota:submit_failed; record active @1; finish failed");
    assert_string_equal(h.ctx.reason.name().c_str(), "smsc_refused");
    assert_string_equal(h.ctx.data.message.c_str(), "submit_sm: ESME_RSUBMITFAIL");
}

// ---- the card's refusals ------------------------------------------------------------------------

void test_card_refuses_the_script(void**) {
    // Suspending an application the card has locked already (the gateway believed it active).
    Harness h(Operation::Suspend, kTransit);
    sim_app(h, kTransit).life_cycle |= 0x80;
    assert_string_equal(card_app_state(h, kTransit).c_str(), "locked");
    h.feed(Event(EventKind::Start));
    h.round_trip(h.last());
    assert_told(h, "send operation; record pending:suspend @1; start por-timeout 3000; record "
                   "active @1; finish failed");
    assert_string_equal(h.ctx.reason.name().c_str(), "card_refused_6985");
    assert_string_equal(h.ctx.data.message.c_str(), "the card answered 6985 to command 1 of 2");
}

void test_card_security_errors(void**) {
    // The gateway's KID key is not the card's: 01 in clear, a keyset alarm, no retry.
    Harness bad_key(Operation::Suspend, kTransit);
    Bytes wrong_kid = bad_key.card->keysets.at(0).kid;
    wrong_kid[0] ^= 1;
    bad_key.keys = ota::OtaKeys::create(0x12, bad_key.card->keysets.at(0).kic, 0x12, wrong_kid);
    bad_key.feed(Event(EventKind::Start));
    bad_key.told();
    bad_key.round_trip(bad_key.last());
    assert_told(bad_key,
                "start por-timeout 3000; count keyset:alarm; audit keyset.alarm; record active @1; "
                "finish failed");
    assert_string_equal(bad_key.ctx.reason.name().c_str(), "card_integrity_failed");

    Harness bad_tar(Operation::Suspend, kTransit);
    bad_tar.tar = {0x00, 0xf0, 0xf0};
    bad_tar.feed(Event(EventKind::Start));
    bad_tar.round_trip(bad_tar.last());
    assert_string_equal(bad_tar.ctx.reason.name().c_str(), "tar_unknown");

    Harness weak(Operation::Suspend, kTransit);
    weak.spi = *ota::Spi::parse("0239"); // CC, no counter: below the ISD's MSL 12
    weak.feed(Event(EventKind::Start));
    weak.round_trip(weak.last());
    assert_string_equal(weak.ctx.reason.name().c_str(), "insufficient_security_level");

    Harness blocked(Operation::Suspend, kTransit);
    blocked.card->keysets.at(0).counter = ota::kMaxCounter;
    blocked.counter = ota::kMaxCounter - 2;
    blocked.feed(Event(EventKind::Start));
    blocked.round_trip(blocked.last());
    assert_string_equal(blocked.ctx.reason.name().c_str(), "por_cntr_blocked");
}

// ---- counters -----------------------------------------------------------------------------------

void test_counter_low_is_resynchronised(void**) {
    Harness h(Operation::Suspend, kTransit);
    h.card->keysets.at(0).counter = 7; // the card is ahead (a database restored from a backup)
    h.feed(Event(EventKind::Start));
    h.round_trip(h.last());
    assert_told(h, "send operation; record pending:suspend @1; start por-timeout 3000; audit "
                   "keyset.counter_resync; raise counter 7; count ota:counter_resync; stop "
                   "por-timeout; send operation; record pending:suspend @8");
    assert_int_equal(h.last().counter, 8);
    h.round_trip(h.last());
    assert_string_equal(request_state_name(h.ctx.state), "done");
    assert_int_equal(h.ctx.data.resyncs, 1);
}

void test_counter_too_high_gives_up(void**) {
    // Counter mode "exactly one higher" (SPI b5b4 = 11) and the card at 3 behind ours: every
    // packet is refused with 03; a fresh counter is only higher, so the request gives up after
    // max-resyncs, and no counter was used twice.
    Harness h(Operation::Suspend, kTransit);
    h.spi = *ota::Spi::parse("1e39");
    h.counter = 3;
    h.feed(Event(EventKind::Start));
    h.round_trip(h.last());
    h.round_trip(h.last());
    h.round_trip(h.last());
    assert_told(h, "send operation; record pending:suspend @4; start por-timeout 3000; audit "
                   "keyset.counter_resync; count ota:counter_resync; stop por-timeout; send "
                   "operation; record pending:suspend @5; start por-timeout 3000; audit "
                   "keyset.counter_resync; count ota:counter_resync; stop por-timeout; send "
                   "operation; record pending:suspend @6; start por-timeout 3000; audit "
                   "keyset.counter_resync; record active @6; finish failed");
    assert_string_equal(h.ctx.reason.name().c_str(), "counter_resync_failed");
    std::set<uint64_t> used;
    for (const auto& p : h.packets)
        assert_true(used.insert(p.counter).second);
    assert_string_equal(card_app_state(h, kTransit).c_str(), "selectable");
}

void test_counter_low_far_ahead_is_an_alarm(void**) {
    Harness h(Operation::Suspend, kTransit);
    h.card->keysets.at(0).counter = 5000000; // a clear 02 PoR could be forged: not followed
    h.feed(Event(EventKind::Start));
    h.round_trip(h.last());
    assert_string_equal(h.ctx.reason.name().c_str(), "counter_resync_failed");
    assert_true(h.ctx.data.message.find("far beyond ours") != std::string::npos);
    assert_int_equal(h.counter, 1);
}

void test_copy_delivered_twice(void**) {
    // The network delivers the packet twice; the second copy's "counter low" names the packet's
    // own counter and comes first: wait for the first copy's PoR, do not send again.
    Harness h(Operation::Suspend, kTransit);
    h.feed(Event(EventKind::Start));
    h.submitted(h.last());
    h.told();
    const Bytes first = h.run_on_card(h.last());
    const Bytes second = h.run_on_card(h.last());
    assert_true(h.por(second));
    assert_told(h, "count por:duplicate_delivery");
    assert_string_equal(request_state_name(h.ctx.state), "sent");
    assert_true(h.por(first));
    assert_told(h, "record suspended @1; stop por-timeout; finish done");
    assert_int_equal(h.packets.size(), 1);
}

// ---- lost, late, replayed and unknown PoRs
// -------------------------------------------------------

void test_lost_por_is_reconciled(void**) {
    Harness h(Operation::Suspend, kTransit);
    h.feed(Event(EventKind::Start));
    h.submitted(h.last());
    (void)h.run_on_card(h.last()); // the card did it; its PoR is lost
    h.told();
    h.advance(3000);
    assert_told(h, "count por:timeout; audit por.timeout; record unknown @1; send audit");
    assert_string_equal(request_state_name(h.ctx.state), "reconciling");
    h.round_trip(h.last());
    assert_told(h, "start por-timeout 3000; record suspended @2; stop por-timeout; finish done");
}

void test_audit_finds_it_never_ran(void**) {
    Harness h(Operation::Suspend, kTransit);
    h.feed(Event(EventKind::Start));
    h.submitted(h.last()); // the packet is lost before the card
    h.advance(3000);
    h.told();
    h.round_trip(h.last());
    assert_told(h, "start por-timeout 3000; record active @2; stop por-timeout; count "
                   "ota:resent_after_audit; send operation; record pending:suspend @3");
    assert_string_equal(request_state_name(h.ctx.state), "sent");
    h.round_trip(h.last());
    assert_string_equal(request_state_name(h.ctx.state), "done");
    assert_int_equal(h.ctx.data.sends, 2);
}

void test_por_lost_after_audits(void**) {
    Harness h(Operation::Suspend, kTransit);
    h.feed(Event(EventKind::Start));
    h.submitted(h.last());
    for (int i = 0; i < 3; i++) {
        h.advance(3000);
        h.submitted(h.last()); // the audits are lost too
    }
    h.told();
    h.advance(3000);
    assert_told(h, "count por:timeout; audit por.timeout; finish failed");
    assert_string_equal(h.ctx.reason.name().c_str(), "por_lost");
    assert_int_equal(h.ctx.data.audits, 3);
}

void test_late_por_during_the_audit_is_applied(void**) {
    // The PoR comes after por-timeout, while the audit is out: the card's word on the operation,
    // applied; the request ends with what the card did.
    Harness h(Operation::Suspend, kTransit);
    h.feed(Event(EventKind::Start));
    h.submitted(h.last());
    const Bytes late = h.run_on_card(h.last());
    h.advance(3000);
    const auto audit = h.last();
    h.submitted(audit);
    h.told();
    assert_true(h.por(late));
    assert_told(h, "record suspended @1; stop por-timeout; finish done");
    assert_string_equal(h.ctx.data.card_state->name().c_str(), "suspended");
    // The audit's answer afterwards matches no waiting packet of a finished request here: the
    // daemon applies it as a late PoR, in counter order (test_request_late.cpp, end to end).
    assert_false(h.feed(Event(EventKind::AuditAnswer)).handled);
}

void test_stale_and_duplicate_pors_change_nothing(void**) {
    // Timed out, audited (the audit, counter 2, reads "active": it never ran), sent again
    // (counter 3). The first packet then reaches the card, which refuses it (counter low): older
    // than what counter 2 taught, stale.
    Harness h(Operation::Suspend, kTransit);
    h.feed(Event(EventKind::Start));
    const auto first = h.last();
    h.submitted(first);
    h.advance(3000);
    h.round_trip(h.last());
    assert_string_equal(request_state_name(h.ctx.state), "sent");
    const Bytes old = h.run_on_card(first);
    h.told();
    assert_true(h.por(old));
    assert_told(h, "count por:stale; audit por.stale");
    assert_string_equal(request_state_name(h.ctx.state), "sent");
    // The operation's PoR, then the same PoR again: the second changes nothing.
    const Bytes answer = h.run_on_card(h.last());
    assert_true(h.por(answer));
    assert_string_equal(request_state_name(h.ctx.state), "done");
    assert_false(h.por(answer)); // no waiting packet
    Event again(EventKind::Por);
    again.por.message_id = h.last().id;
    assert_false(h.feed(again).handled); // and the request is over
}

void test_por_for_no_packet_of_ours(void**) {
    Harness h(Operation::Suspend, kTransit);
    h.feed(Event(EventKind::Start));
    h.submitted(h.last());
    h.told();
    Event unknown(EventKind::Por);
    unknown.por.message_id = 999; // an unknown request's packet
    h.feed(unknown);
    assert_told(h, "count por:unmatched");
    assert_string_equal(request_state_name(h.ctx.state), "sent");
    assert_int_equal(h.ctx.data.outstanding.size(), 1);
}

void test_older_audit_answer_while_sent(void**) {
    // Two audits out (the first timed out), the second answers "never ran", the operation goes
    // again; then the first audit's answer comes: newer than nothing learnt since, it is learnt,
    // but the operation's own PoR decides.
    Harness h(Operation::Suspend, kTransit);
    h.feed(Event(EventKind::Start));
    h.submitted(h.last());
    h.advance(3000);
    const auto audit1 = h.last();
    h.submitted(audit1);
    h.advance(3000);
    const Bytes answer1 = h.run_on_card(audit1);
    h.round_trip(h.last()); // audit 2: active, never ran -> sent again
    assert_string_equal(request_state_name(h.ctx.state), "sent");
    h.told();
    assert_true(h.por(answer1));
    assert_told(h, "count por:stale; audit por.stale"); // counter 2 < 3 learnt
    Event older(EventKind::AuditAnswer);
    h.ctx.data.outstanding.insert(h.ctx.data.outstanding.begin(),
                                  SentPacket{5, h.ctx.data.learned_counter + 1, Phase::Audit, 0});
    older.por.message_id = 5;
    older.por.answer = CardAnswer{};
    older.por.answer->registry_known = true;
    older.por.answer->life_cycle = 0x07;
    h.feed(older);
    assert_told(h, "record active @4");
    assert_string_equal(request_state_name(h.ctx.state), "sent");
}

void test_refusal_in_doubt_is_audited(void**) {
    // Sent twice (the first timed out, the audit read "active"): the second copy is refused at
    // its first command, and an earlier copy may have run: the card is read.
    Harness h(Operation::Suspend, kTransit);
    h.feed(Event(EventKind::Start));
    h.submitted(h.last());
    h.advance(3000);
    h.round_trip(h.last());                  // audit: active -> sent again
    sim_app(h, kTransit).life_cycle |= 0x80; // meanwhile locked (the first copy, say)
    h.told();
    h.round_trip(h.last());
    assert_told(h, "start por-timeout 3000; stop por-timeout; send audit");
    assert_string_equal(request_state_name(h.ctx.state), "reconciling");
    h.round_trip(h.last());
    assert_string_equal(request_state_name(h.ctx.state), "done");
    assert_true(h.ctx.data.message.starts_with("done by an earlier copy"));
}

void test_unreadable_answer_is_audited(void**) {
    Harness h(Operation::Suspend, kTransit);
    h.feed(Event(EventKind::Start));
    h.submitted(h.last());
    h.told();
    Event garbled(EventKind::Por);
    garbled.por.message_id = h.last().id;
    garbled.por.answer_error = "PoR response data: truncated";
    h.feed(garbled);
    assert_told(h, "record unknown @1; stop por-timeout; send audit");
    h.round_trip(h.last()); // the card never got that packet: still active, so sent again
    assert_string_equal(request_state_name(h.ctx.state), "sent");
    h.round_trip(h.last());
    assert_string_equal(request_state_name(h.ctx.state), "done");
}

// ---- failures while reconciling
// -------------------------------------------------------------------

void test_failures_while_reconciling(void**) {
    Harness refused(Operation::Suspend, kTransit);
    refused.feed(Event(EventKind::Start));
    refused.submitted(refused.last());
    refused.advance(3000);
    Event smsc(EventKind::SubmitFailed);
    smsc.message_id = refused.last().id;
    smsc.message = "ESME_RTHROTTLED";
    refused.feed(smsc);
    assert_string_equal(refused.ctx.reason.name().c_str(), "smsc_refused");
    assert_string_equal(refused.card_states.back().c_str(), "unknown");

    Harness unsent(Operation::Suspend, kTransit);
    unsent.feed(Event(EventKind::Start));
    unsent.submitted(unsent.last());
    unsent.not_sent = Reason::of(ReasonCode::CannotSend);
    unsent.advance(3000);
    assert_string_equal(unsent.ctx.reason.name().c_str(), "cannot_send");

    // A resend that cannot be made once the audit read "never ran".
    Harness resend(Operation::Suspend, kTransit);
    resend.feed(Event(EventKind::Start));
    resend.submitted(resend.last());
    resend.advance(3000);
    resend.submitted(resend.last());
    resend.not_sent = Reason::of(ReasonCode::NoSmsc);
    assert_true(resend.por(resend.run_on_card(resend.last())));
    assert_string_equal(resend.ctx.reason.name().c_str(), "no_smsc");
    assert_string_equal(resend.card_states.back().c_str(), "active");

    // The operation's resend after a counter resynchronisation cannot be made.
    Harness resync(Operation::Suspend, kTransit);
    resync.card->keysets.at(0).counter = 7;
    resync.feed(Event(EventKind::Start));
    resync.submitted(resync.last());
    resync.not_sent = Reason::of(ReasonCode::NoKeyset);
    assert_true(resync.por(resync.run_on_card(resync.last())));
    assert_string_equal(resync.ctx.reason.name().c_str(), "no_keyset");
}

void test_audit_refused_and_resynchronised(void**) {
    Harness h(Operation::Suspend, kTransit);
    h.feed(Event(EventKind::Start));
    h.submitted(h.last());
    h.card->keysets.at(0).counter = 10; // meanwhile ahead
    h.advance(3000);
    h.submitted(h.last());
    assert_true(h.por(h.run_on_card(h.last()))); // the audit: counter low
    assert_string_equal(request_state_name(h.ctx.state), "reconciling");
    assert_int_equal(h.last().counter, 11);
    assert_int_equal(h.last().phase == Phase::Audit, 1);
    h.round_trip(h.last());
    // The first packet never ran (its counter was low by then): sent again and done.
    h.round_trip(h.last());
    assert_string_equal(request_state_name(h.ctx.state), "done");

    // The card cannot verify the audit: keys out of step.
    Harness alarm(Operation::Suspend, kTransit);
    alarm.feed(Event(EventKind::Start));
    alarm.submitted(alarm.last());
    alarm.advance(3000);
    alarm.submitted(alarm.last());
    Event integrity(EventKind::AuditAnswer);
    integrity.por.message_id = alarm.last().id;
    integrity.por.status = ota::PorStatus::IntegrityFailed;
    alarm.feed(integrity);
    assert_string_equal(alarm.ctx.reason.name().c_str(), "card_integrity_failed");
}

// ---- restart ------------------------------------------------------------------------------------

void test_resume_in_every_unfinished_state(void**) {
    Harness accepted(Operation::Suspend, kTransit);
    accepted.feed(Event(EventKind::Resume));
    assert_told(accepted, "send operation; record pending:suspend @1");

    Harness provider(Operation::Activate, kCanteen, true);
    provider.feed(Event(EventKind::Start));
    provider.told();
    provider.feed(Event(EventKind::Resume));
    assert_told(provider, "ask provider; start provider-timeout 5000");

    Harness approved(Operation::Activate, kCanteen, true);
    approved.ctx.state = RequestState::Approved;
    approved.feed(Event(EventKind::Resume));
    assert_told(approved, "send operation; record pending:activate @1");

    // Sent 1 s before the restart: 2 s of its PoR's time are left.
    Harness sent(Operation::Suspend, kTransit);
    sent.feed(Event(EventKind::Start));
    sent.clock.advance(1000);
    sent.told();
    sent.feed(Event(EventKind::Resume));
    assert_told(sent, "start por-timeout 2000");
    // Long ago: a second at least.
    Harness reconciling(Operation::Suspend, kTransit);
    reconciling.feed(Event(EventKind::Start));
    reconciling.submitted(reconciling.last());
    reconciling.advance(3000);
    reconciling.clock.advance(3600000);
    reconciling.told();
    reconciling.feed(Event(EventKind::Resume));
    assert_told(reconciling, "start por-timeout 1000");
    reconciling.submitted(reconciling.last());
}

// The working data survives the store: every field, through the one codec.
void test_working_data_round_trip(void**) {
    RequestData d;
    d.iccid = "8988299000000000017";
    d.app_code = "01";
    d.app_name = "can\"teen\n";
    d.from_state = CardAppState::pending_of(Operation::Suspend);
    d.campaign_id = 3;
    d.campaign_seq = 9;
    d.personalisation = hex("0101040000004201"); // in clear: never written
    d.sealed_personalisation = hex("01aabbccdd");
    d.sends = 2;
    d.resyncs = 1;
    d.audits = 3;
    d.outstanding = {{10, 1, Phase::Operation, 1700000000000},
                     {11, 2, Phase::Audit, 1700000003000},
                     {12, 3, Phase::Load, 1700000004000, 17},
                     {13, 4, Phase::Clean, 1700000005000}};
    d.load = LoadProgress{18, 40, 90, 1, true, false};
    d.sent_counter = 2;
    d.learned_counter = 1;
    d.known_state = {AppState::Unknown};
    d.known_life_cycle = 0x87;
    d.pending_recorded = true;
    d.card_state = CardAppState{AppState::Suspended};
    d.por_status = 0x02;
    d.card_refusal = 0x6985;
    d.message = "caf\xc3\xa9 \xff";
    const std::string text = encode_request_data(d);
    auto back = decode_request_data(text);
    assert_ok(back);
    assert_string_equal(encode_request_data(*back).c_str(), text.c_str());
    assert_true(text.find("0101040000004201") == std::string::npos);
    assert_true(back->personalisation.empty());
    assert_hex_equal(back->sealed_personalisation, "01aabbccdd");
    assert_string_equal(back->message.c_str(),
                        "caf\xc3\xa9 \xef\xbf\xbd"); // invalid UTF-8 replaced
    assert_int_equal(back->outstanding.at(1).phase == Phase::Audit, 1);
    assert_int_equal(*back->card_refusal, 0x6985);
    assert_true(back->outstanding.at(2).phase == Phase::Load);
    assert_int_equal(back->outstanding.at(2).index, 17);
    assert_true(back->outstanding.at(3).phase == Phase::Clean);
    assert_int_equal(back->load->next, 18);
    assert_int_equal(back->load->blocks_done, 40);
    assert_true(back->load->started && !back->load->loaded);
    assert_error_contains(decode_request_data(R"({"v":2,"packets":[[1,2,"load:x",3]]})"),
                          "packets");
    assert_error_contains(decode_request_data(R"({"v":2,"load":{"started":1}})"), "load");
    // Wrong types are errors naming the field, not defaults.
    assert_error_contains(decode_request_data(R"({"v":2,"sends":"two"})"), "sends");
    assert_error_contains(decode_request_data(R"({"v":2,"packets":[[1,2,"x",3]]})"), "packets");
    assert_error_contains(decode_request_data(R"({"v":1})"), "version");
    assert_error_contains(decode_request_data("[]"), "not a JSON object");
}

void test_reasons_round_trip(void**) {
    for (const char* name :
         {"in_flight", "card_refused_6a88", "card_state_pending:suspend", "card_state_active",
          "por_cntr_blocked", "por_lost", "empty", "provider_veto", "cancelled"}) {
        auto r = Reason::parse(name);
        if (!r)
            fail_msg("%s does not parse", name);
        assert_string_equal(r->name().c_str(), name);
    }
    assert_false(Reason::parse("nonsense").has_value());
    assert_false(Reason::parse("card_refused_xyz").has_value());
    assert_true(transient(ReasonCode::PorLost));
    assert_false(transient(ReasonCode::CardRefused));
}

// ---- installing from a CAP file ----------------------------------------------------------------

const char* kLoyalty = "f0112233440a0101"; // an applet of a package no card holds yet

// A package of three applets loaded in packets of one SMS each: several packets.
const CapLoad& loyalty_cap() {
    static const CapLoad cap = [] {
        ::test::cap::Package p;
        p.aid = hex("f0112233440a");
        p.applets = {hex("f0112233440a01"), hex("f0112233440a02"), hex("f0112233440a03")};
        p.exports = true;
        p.method_size = 300;
        CapLoad c;
        c.path = "loyalty.cap";
        c.cap = ota::cap::read(::test::cap::archive(p)).value();
        c.load_file_data_block = c.cap.load_file_data_block(false);
        OtaConfig one_sms;
        one_sms.max_segments = 1;
        one_sms.load_hash = OtaConfig::LoadHash::Sha256;
        c.packets = plan_load(c.cap.package.aid, c.load_file_data_block, one_sms).value();
        return c;
    }();
    return cap;
}

struct Install : Harness {
    Install() : Harness(Operation::Install, kLoyalty) {
        app.name = "loyalty";
        app.code = "07";
        app.tar = "c00007";
        app.load_file_aid = "f0112233440a";
        app.module_aid = "f0112233440a01";
        cap = &loyalty_cap();
        ctx.load_plan = cap->blocks_per_packet();
        ctx.data.load = LoadProgress{};
        ctx.data.from_state = ctx.data.known_state = {AppState::Absent};
    }
    size_t load_packets() const { return cap->packets.size(); }
    // The load's packets go and come back, from packet `from`.
    void load_from(size_t from) {
        for (size_t i = from; i < load_packets(); i++) {
            assert_true(last().phase == Phase::Load);
            assert_int_equal(last().index, i);
            round_trip(last());
        }
    }
};

// The plan: every packet's script within max-segments SMS, INSTALL [for load] first, the LOAD
// blocks numbered from 0 in order, P1 80 on the last only, their data the load file data block
// exactly; a package beyond 256 blocks is refused with why.
void test_load_plan(void**) {
    const CapLoad& cap = loyalty_cap();
    for (uint32_t segments : {1u, 2u, 4u, 8u}) {
        OtaConfig ota;
        ota.max_segments = segments;
        auto packets = plan_load(cap.cap.package.aid, cap.load_file_data_block, ota);
        assert_ok(packets);
        Bytes joined;
        unsigned number = 0;
        for (size_t i = 0; i < packets->size(); i++) {
            const auto& script = (*packets)[i].script;
            size_t bytes = 0;
            for (const auto& a : script)
                bytes += a.encode().size();
            assert_true(bytes <= script_capacity(segments));
            // Secured as the daemon does (AES, CC, ciphered, counter): within the SMS allowed.
            ota::CommandHeader h;
            h.spi = *ota::Spi::parse("1639");
            h.kic = h.kid = 0x12;
            h.counter = 0xffffffffff;
            const Bytes key(16, 0x5a);
            Bytes packet;
            assert_ok(ota::build_command_packet(h, ota::OtaKeys::create(0x12, key, 0x12, key),
                                                ota::ram::compact_script(script), packet));
            auto sms = ota::sms::segment_command_packet(packet, 1);
            assert_ok(sms);
            assert_true(sms->size() <= segments);
            for (size_t j = 0; j < script.size(); j++) {
                if (i == 0 && j == 0) {
                    assert_int_equal(script[0].ins, 0xe6);
                    assert_int_equal(script[0].p1, 0x02); // [for load]
                    continue;
                }
                assert_int_equal(script[j].ins, 0xe8);
                assert_int_equal(script[j].p2, number++);
                const bool last = i + 1 == packets->size() && j + 1 == script.size();
                assert_int_equal(script[j].p1, last ? 0x80 : 0x00);
                append(joined, script[j].data);
            }
        }
        assert_true(joined == cap.load_file_data_block);
    }
    assert_int_equal(script_capacity(1), 90);
    assert_int_equal(script_capacity(4), 487);
    // 256 blocks of at most 255 bytes: a package of 70 000 bytes does not fit.
    ::test::cap::Package big;
    big.aid = hex("f0112233440b");
    big.applets = {hex("f0112233440b01")};
    big.method_size = 70000;
    OtaConfig ota;
    ota.max_segments = 16;
    assert_error_contains(
        plan_load(*ota::Aid::parse("f0112233440b"), big.load_file_data_block(), ota),
        "needs more than 256 LOAD blocks");
    ota.max_segments = 1;
    ota.load_hash = OtaConfig::LoadHash::Sha256; // INSTALL [for load] still fits one SMS
    assert_ok(plan_load(cap.cap.package.aid, cap.load_file_data_block, ota));
}

void test_install_loads_the_cap(void**) {
    Install h;
    assert_true(h.load_packets() >= 4);
    h.feed(Event(EventKind::Start));
    assert_told(h, "send load 0; record pending:install @1");
    assert_string_equal(request_state_name(h.ctx.state), "loading");
    h.round_trip(h.last());
    assert_told(h, "start por-timeout 3000; stop por-timeout; send load 1");
    assert_int_equal(h.ctx.data.load->blocks_done, h.cap->packets[0].blocks);
    assert_true(h.card->loading.has_value()); // the card holds the load so far
    h.load_from(1);
    const std::string told = h.told();
    const std::string pending = "record pending:install @" + std::to_string(h.load_packets() + 1);
    if (!told.ends_with("count ota:load_done; audit app.load; send operation; " + pending))
        fail_msg("actions: %s", told.c_str());
    assert_string_equal(request_state_name(h.ctx.state), "sent");
    assert_int_equal(h.ctx.data.load->blocks_done, h.ctx.load_blocks());
    assert_true(h.ctx.data.load->loaded);
    h.round_trip(h.last());
    assert_told(h, "start por-timeout 3000; record active @" +
                       std::to_string(h.load_packets() + 1) + "; stop por-timeout; finish done");
    assert_string_equal(card_app_state(h, kLoyalty).c_str(), "selectable");
    assert_false(h.card->loading.has_value());
    assert_int_equal(h.card->find_load_file(hex("f0112233440a"))->modules.size(), 3);
}

// A PoR lost in the middle: the card is read (no load file yet), the unfinished load deleted,
// the load started again; an older audit's answer meanwhile changes nothing.
void test_interrupted_load_is_cleaned_and_restarted(void**) {
    Install h;
    h.feed(Event(EventKind::Start));
    h.round_trip(h.last());
    h.submitted(h.last());
    (void)h.run_on_card(h.last()); // packet 2 ran; its PoR is lost
    h.told();
    h.feed(Event(EventKind::Resume)); // and the daemon restarted
    assert_told(h, "start por-timeout 3000");
    h.advance(3000);
    assert_told(h, "count por:timeout; audit por.timeout; send audit");
    assert_string_equal(request_state_name(h.ctx.state), "reconciling");
    const auto first_audit = h.last();
    h.submitted(first_audit); // its PoR is slow
    h.advance(3000);
    h.told();
    h.round_trip(h.last()); // the second audit: no load file on the card
    assert_told(h, "start por-timeout 3000; record absent @4; stop por-timeout; send clean; "
                   "record pending:install @5");
    assert_string_equal(request_state_name(h.ctx.state), "loading");
    assert_true(h.por(h.run_on_card(first_audit))); // the first audit's answer, late
    assert_told(h, "count por:stale; audit por.stale");
    assert_true(h.card->loading.has_value());
    h.round_trip(h.last()); // the clean-up
    assert_told(h, "start por-timeout 3000; stop por-timeout; count ota:load_restart; audit "
                   "app.load_restart; send load 0");
    assert_false(h.card->loading.has_value()); // the half-loaded file is gone
    h.load_from(0);
    h.round_trip(h.last());
    assert_string_equal(request_state_name(h.ctx.state), "done");
    assert_string_equal(card_app_state(h, kLoyalty).c_str(), "selectable");
    assert_int_equal(h.ctx.data.load->restarts, 1);
}

// The card holds the load file already (the inventory did not know): INSTALL [for load] is
// refused, the audit finds the load file, the install goes on without loading.
void test_load_file_already_there(void**) {
    Install h;
    {
        Install other; // an earlier load, by the same keys
        other.card = h.card;
        other.feed(Event(EventKind::Start));
        other.load_from(0);
    }
    assert_non_null(h.card->find_load_file(hex("f0112233440a")));
    h.counter = 100; // beyond the counters the earlier load used
    h.feed(Event(EventKind::Start));
    h.round_trip(h.last());
    assert_told(h, "send load 0; record pending:install @101; start por-timeout 3000; stop "
                   "por-timeout; send audit");
    h.round_trip(h.last());
    assert_told(h, "start por-timeout 3000; record absent @102; stop por-timeout; count "
                   "ota:resent_after_audit; send operation; record pending:install @103");
    assert_true(h.ctx.data.load->loaded);
    h.round_trip(h.last());
    assert_string_equal(request_state_name(h.ctx.state), "done");
}

// The inventory says the card holds the load file, the card says not (INSTALL [for install]
// answers 6A88): the load goes first after all.
void test_inventory_wrong_about_the_load_file(void**) {
    Install h;
    h.ctx.data.load->loaded = true; // as the shell sets it from the inventory
    h.feed(Event(EventKind::Start));
    assert_told(h, "send operation; record pending:install @1");
    h.round_trip(h.last());
    assert_told(h, "start por-timeout 3000; count ota:load_file_missing; record absent @1; stop "
                   "por-timeout; send clean; record pending:install @2");
    h.round_trip(h.last());
    assert_told(h, "start por-timeout 3000; stop por-timeout; count ota:load_restart; audit "
                   "app.load_restart; send load 0");
    h.load_from(0);
    h.round_trip(h.last());
    assert_string_equal(request_state_name(h.ctx.state), "done");
    assert_string_equal(card_app_state(h, kLoyalty).c_str(), "selectable");
}

// Memory: refused at INSTALL [for load] (nothing loaded), or at a LOAD (what the card kept is
// deleted, then the request fails with the card's word).
void test_card_memory_full(void**) {
    Install at_once;
    at_once.card->memory = 100;
    at_once.feed(Event(EventKind::Start));
    at_once.round_trip(at_once.last());
    assert_string_equal(at_once.ctx.reason.name().c_str(), "card_refused_6a84");
    assert_false(at_once.card->loading.has_value());

    Install later;
    later.feed(Event(EventKind::Start));
    later.round_trip(later.last());
    later.card->memory = later.card->memory_used() + 10; // something else took the memory
    later.told();
    later.round_trip(later.last());
    assert_told(later, "start por-timeout 3000; stop por-timeout; send clean");
    later.round_trip(later.last());
    assert_told(later, "start por-timeout 3000; stop por-timeout; record absent @3; finish failed");
    assert_string_equal(later.ctx.reason.name().c_str(), "card_refused_6a84");
    assert_false(later.card->loading.has_value());
    assert_null(later.card->find_load_file(hex("f0112233440a")));
}

// What fails during a load: no packet made, the SMSC refusing one.
void test_load_not_sent_or_refused(void**) {
    Install no_keyset;
    no_keyset.feed(Event(EventKind::Start));
    no_keyset.not_sent = Reason::of(ReasonCode::NoKeyset);
    no_keyset.round_trip(no_keyset.last());
    assert_string_equal(no_keyset.ctx.reason.name().c_str(), "no_keyset");

    Install refused;
    refused.feed(Event(EventKind::Start));
    refused.round_trip(refused.last());
    Event e(EventKind::SubmitFailed);
    e.message_id = refused.last().id;
    e.message = "ESME_RTHROTTLED";
    refused.feed(e);
    assert_string_equal(refused.ctx.reason.name().c_str(), "smsc_refused");
}

// ---- the table ----------------------------------------------------------------------------------

void test_table_is_well_formed(void**) {
    std::set<std::pair<int, int>> pairs;
    for (const auto& t : request_transitions()) {
        assert_false(is_final(t.state)); // a finished request takes no event
        if (!pairs.insert({static_cast<int>(t.state), static_cast<int>(t.event)}).second)
            fail_msg("{%s, %s} appears twice", request_state_name(t.state), event_name(t.event));
    }
    for (size_t s = 0; s < kRequestStateCount; s++) {
        const auto state = static_cast<RequestState>(s);
        assert_true(request_state_named(request_state_name(state)) == state);
    }
}

// Last: every row was exercised by one of the scenarios above.
void test_every_row_is_exercised(void**) {
    std::string missing;
    const auto table = request_transitions();
    for (size_t i = 0; i < table.size(); i++)
        if (!g_rows_hit.count(i))
            missing += std::string("\n  {") + request_state_name(table[i].state) + ", " +
                       event_name(table[i].event) + "}";
    if (!missing.empty())
        fail_msg("rows no scenario exercises:%s", missing.c_str());
}

} // namespace

int main() {
    const CMUnitTest tests[] = {
        cmocka_unit_test(test_suspend_without_provider),
        cmocka_unit_test(test_activate_with_provider),
        cmocka_unit_test(test_query_reports_the_card),
        cmocka_unit_test(test_provider_veto_failure_and_timeout),
        cmocka_unit_test(test_cancel_before_the_card),
        cmocka_unit_test(test_not_sent),
        cmocka_unit_test(test_smsc_refuses),
        cmocka_unit_test(test_card_refuses_the_script),
        cmocka_unit_test(test_card_security_errors),
        cmocka_unit_test(test_counter_low_is_resynchronised),
        cmocka_unit_test(test_counter_too_high_gives_up),
        cmocka_unit_test(test_counter_low_far_ahead_is_an_alarm),
        cmocka_unit_test(test_copy_delivered_twice),
        cmocka_unit_test(test_lost_por_is_reconciled),
        cmocka_unit_test(test_audit_finds_it_never_ran),
        cmocka_unit_test(test_por_lost_after_audits),
        cmocka_unit_test(test_late_por_during_the_audit_is_applied),
        cmocka_unit_test(test_stale_and_duplicate_pors_change_nothing),
        cmocka_unit_test(test_por_for_no_packet_of_ours),
        cmocka_unit_test(test_older_audit_answer_while_sent),
        cmocka_unit_test(test_refusal_in_doubt_is_audited),
        cmocka_unit_test(test_unreadable_answer_is_audited),
        cmocka_unit_test(test_failures_while_reconciling),
        cmocka_unit_test(test_audit_refused_and_resynchronised),
        cmocka_unit_test(test_resume_in_every_unfinished_state),
        cmocka_unit_test(test_load_plan),
        cmocka_unit_test(test_install_loads_the_cap),
        cmocka_unit_test(test_interrupted_load_is_cleaned_and_restarted),
        cmocka_unit_test(test_load_file_already_there),
        cmocka_unit_test(test_inventory_wrong_about_the_load_file),
        cmocka_unit_test(test_card_memory_full),
        cmocka_unit_test(test_load_not_sent_or_refused),
        cmocka_unit_test(test_working_data_round_trip),
        cmocka_unit_test(test_reasons_round_trip),
        cmocka_unit_test(test_table_is_well_formed),
        cmocka_unit_test(test_every_row_is_exercised),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
