// SPDX-License-Identifier: GPL-2.0-or-later
// A card's BIP admin channel (bip/admin_session_fsm.hpp) driven in-process, scenario by
// scenario: the push, the card's session, scripts out and results in, chained scripts in one
// session, the push again when the card does not come, TLS failure, a session broken with a
// script out, a new connection replacing an old one, the hold while a script is written. Each
// step lands in a state its row names; the last test fails when a row was exercised by none.
#include <set>

#include "bip/admin_session_fsm.hpp"
#include "test_support.hpp"

using namespace otagw;
using namespace otagw::gateway;
using namespace otagw::gateway::bip;

namespace {

std::set<size_t> g_rows;
const SessionLimits kLimits{90000, 120000, 10000, 2};

struct Channel {
    SessionFsm fsm{kLimits};
    SessionContext ctx;
    std::vector<std::string> log; // the actions of the last event, as text

    std::string state() const { return session_state_name(ctx.state); }

    // Handles one event and returns its actions as "send_push", "answer 1 @7", ...
    std::vector<std::string> on(SessionEventData e) {
        const SessionState from = ctx.state;
        SessionHandled h = fsm.handle(ctx, e);
        assert_true(h.handled);
        g_rows.insert(h.row);
        if (ctx.state != from)
            assert_true(session_transitions()[h.row].to & 1u << static_cast<unsigned>(ctx.state));
        std::vector<std::string> out;
        for (const SessionAction& a : h.actions) {
            switch (a.kind) {
            case SessionActionKind::SendPush:
                out.push_back("send_push");
                break;
            case SessionActionKind::Answer:
                out.push_back("answer " + std::to_string(a.message_id) + " @" +
                              std::to_string(a.connection));
                break;
            case SessionActionKind::AnswerEnd:
                out.push_back("end @" + std::to_string(a.connection));
                break;
            case SessionActionKind::Close:
                out.push_back("close @" + std::to_string(a.connection));
                break;
            case SessionActionKind::Results:
                out.push_back("results " + std::to_string(a.message_id) + " sw " +
                              to_hex(Bytes{static_cast<uint8_t>(a.results->r_apdus.back().sw >> 8),
                                           static_cast<uint8_t>(a.results->r_apdus.back().sw)}));
                break;
            case SessionActionKind::Lost:
                out.push_back("lost " + std::to_string(a.message_id));
                break;
            case SessionActionKind::Fail:
                out.push_back("fail " + std::to_string(a.message_id) + " " + a.reason.name());
                break;
            case SessionActionKind::StartTimer:
                out.push_back(std::string("start ") + session_timer_name(a.timer) + " " +
                              std::to_string(a.ms));
                break;
            case SessionActionKind::StopTimer:
                out.push_back(std::string("stop ") + session_timer_name(a.timer));
                break;
            case SessionActionKind::Count:
                break; // counters: not the behaviour under test
            }
        }
        return out;
    }
    std::vector<std::string> queued(int64_t id) {
        SessionEventData e(SessionEvent::Queued);
        e.message_id = id;
        return on(e);
    }
    std::vector<std::string> ready(int64_t id) {
        SessionEventData e(SessionEvent::Ready);
        e.message_id = id;
        e.script = test::hex("aa072205"
                             "80ca9f7f00");
        return on(e);
    }
    std::vector<std::string> simple(SessionEvent k, uint64_t connection = 0) {
        SessionEventData e(k);
        e.connection = connection;
        e.message = "why";
        e.reason = Reason::of(ReasonCode::SmscRefused);
        return on(e);
    }
    std::vector<std::string> post(uint64_t connection, PostInfo::Kind kind, int64_t for_message = 0,
                                  uint16_t sw = 0x9000) {
        SessionEventData e(SessionEvent::Post);
        e.connection = connection;
        e.post.kind = kind;
        e.post.for_message = for_message;
        if (kind == PostInfo::Kind::Results) {
            ota::ram::ExpandedResponse r;
            r.executed = 1;
            r.r_apdus.push_back({{}, sw});
            e.post.results = r;
        }
        return on(e);
    }
};

using V = std::vector<std::string>;
using K = PostInfo::Kind;

void assert_actions(const V& got, const V& want) {
    std::string g, w;
    for (const auto& x : got)
        g += x + "; ";
    for (const auto& x : want)
        w += x + "; ";
    assert_string_equal(g.c_str(), w.c_str());
}

// The nominal dialog of Amendment B Annex A, with two scripts chained in one session (an audit
// and the operation it decided).
void test_push_session_two_scripts(void**) {
    Channel c;
    assert_actions(c.queued(1), {"send_push"});
    assert_string_equal(c.state().c_str(), "pushing");
    assert_actions(c.ready(1), {});
    assert_actions(c.simple(SessionEvent::PushSubmitted), {"start bip-connect 90000"});
    assert_actions(c.simple(SessionEvent::Opened, 7), {"stop bip-connect"});
    assert_string_equal(c.state().c_str(), "open");
    assert_actions(c.post(7, K::First), {"answer 1 @7", "start bip-results 120000"});
    assert_string_equal(c.state().c_str(), "serving");
    // The results go to the request and the answer is held until it has taken them...
    assert_actions(c.post(7, K::Results, 1, 0x6a88),
                   {"stop bip-results", "results 1 sw 6a88", "start bip-hold 10000"});
    assert_string_equal(c.state().c_str(), "holding");
    // ...which queues its next script, written a moment later.
    assert_actions(c.queued(2), {});
    assert_actions(c.simple(SessionEvent::Settled), {}); // 2 is being written
    assert_actions(c.ready(2), {"stop bip-hold", "answer 2 @7", "start bip-results 120000"});
    assert_actions(c.post(7, K::Results, 2),
                   {"stop bip-results", "results 2 sw 9000", "start bip-hold 10000"});
    assert_actions(c.simple(SessionEvent::Settled), {"stop bip-hold", "end @7"});
    assert_string_equal(c.state().c_str(), "closing");
    assert_actions(c.simple(SessionEvent::Closed, 7), {});
    assert_string_equal(c.state().c_str(), "idle");
    assert_true(c.ctx.queue.empty());
}

// The card does not come: the push goes again, then after max-pushes the scripts fail.
void test_card_never_comes(void**) {
    Channel c;
    c.queued(1);
    c.ready(1);
    c.simple(SessionEvent::PushSubmitted);
    c.queued(2);
    assert_actions(c.simple(SessionEvent::ConnectTimeout), {"send_push"});
    assert_string_equal(c.state().c_str(), "pushing");
    c.simple(SessionEvent::PushSubmitted);
    assert_actions(c.simple(SessionEvent::ConnectTimeout),
                   {"fail 1 bip_no_session", "fail 2 bip_no_session"});
    assert_string_equal(c.state().c_str(), "idle");
    // A later script starts a new wait, with its own pushes.
    assert_actions(c.queued(3), {"send_push"});
    assert_int_equal(c.ctx.pushes, 1);
    // The SMSC refuses the push, or the card answers it with an error PoR.
    assert_actions(c.simple(SessionEvent::PushFailed), {"stop bip-connect", "fail 3 smsc_refused"});
    c.queued(4);
    SessionEventData por(SessionEvent::PushPor);
    por.reason = Reason::of(ReasonCode::InsufficientSecurityLevel);
    assert_actions(c.on(por), {"stop bip-connect", "fail 4 insufficient_security_level"});
    // Withdrawn while waiting: nothing left, idle.
    c.queued(5);
    assert_actions(c.on([] {
        SessionEventData e(SessionEvent::Withdrawn);
        e.message_id = 5;
        return e;
    }()),
                   {"stop bip-connect"});
    assert_string_equal(c.state().c_str(), "idle");
    // Withdrawn in idle, ready in idle: nothing to do.
    c.ready(9);
    SessionEventData w(SessionEvent::Withdrawn);
    w.message_id = 9;
    assert_actions(c.on(w), {});
}

// A TLS failure is fatal (Amd B §3.3.1.1): the card does not retry, its scripts fail.
void test_tls_failure(void**) {
    Channel c;
    c.queued(1);
    assert_actions(c.simple(SessionEvent::TlsFailed),
                   {"stop bip-connect", "fail 1 bip_tls_failed"});
    assert_string_equal(c.state().c_str(), "idle");
    // In other states a failed handshake is another connection's: counted only.
    c.simple(SessionEvent::TlsFailed); // idle
    c.queued(2);
    c.ready(2);
    c.simple(SessionEvent::Opened, 3);
    assert_actions(c.simple(SessionEvent::TlsFailed), {}); // open
    c.post(3, K::First);
    assert_actions(c.simple(SessionEvent::TlsFailed), {}); // serving
    c.post(3, K::Results, 2);
    c.queued(4);
    assert_actions(c.simple(SessionEvent::TlsFailed), {}); // holding
    c.simple(SessionEvent::HoldTimeout);
    assert_actions(c.simple(SessionEvent::TlsFailed), {}); // closing
}

// The session breaks with a script out: it is lost (its request reads the card); the card comes
// back by its retry policy and gets what was queued meanwhile.
void test_session_breaks(void**) {
    Channel c;
    c.queued(1);
    c.ready(1);
    c.simple(SessionEvent::Opened, 5);
    c.post(5, K::First);
    assert_actions(c.simple(SessionEvent::Closed, 99), {}); // another connection: ignored
    assert_actions(c.simple(SessionEvent::Closed, 5), {"stop bip-results", "lost 1"});
    assert_string_equal(c.state().c_str(), "idle"); // nothing queued: nothing to wait for
    // The request reads the card: its audit script is queued; the card resumes by itself.
    assert_actions(c.queued(2), {"send_push"});
    c.ready(2);
    c.simple(SessionEvent::Opened, 6);
    assert_actions(c.post(6, K::Resume), {"answer 2 @6", "start bip-results 120000"});
    // The card says security-error (the script may have run partly): lost.
    assert_actions(c.post(6, K::NoResults, 2),
                   {"stop bip-results", "lost 2", "start bip-hold 10000"});
    c.queued(3);
    assert_actions(c.simple(SessionEvent::Settled), {});
    assert_actions(c.ready(3), {"stop bip-hold", "answer 3 @6", "start bip-results 120000"});
    // Silent card: results timeout, the connection closed, a script queued meanwhile waits.
    c.queued(4);
    assert_actions(c.simple(SessionEvent::ResultsTimeout),
                   {"lost 3", "close @6", "start bip-connect 90000"});
    assert_string_equal(c.state().c_str(), "pushing");
    c.ready(4);
    c.simple(SessionEvent::Opened, 8);
    // Results for a script of the broken session come in the new one: not taken.
    assert_actions(c.post(8, K::Results, 3), {"answer 4 @8", "start bip-results 120000"});
    // The card opens a second connection while serving: the old one goes, the script out is lost.
    assert_actions(c.simple(SessionEvent::Opened, 9), {"stop bip-results", "lost 4", "close @8"});
    assert_string_equal(c.state().c_str(), "open");
    assert_actions(c.simple(SessionEvent::Opened, 10), {"close @9"});
    assert_actions(c.post(9, K::First), {}); // the replaced connection's POST: ignored
    // Closed while open with something queued: wait for the card.
    c.queued(11);
    assert_actions(c.simple(SessionEvent::Closed, 10), {"start bip-connect 90000"});
    assert_string_equal(c.state().c_str(), "pushing");
}

// The first POST finds a script being written: held; it goes when written; a hold that lasts
// too long ends the session, and the script goes in the next one.
void test_hold(void**) {
    Channel c;
    c.simple(SessionEvent::Opened, 1); // the card came by itself
    c.queued(1);
    assert_actions(c.post(1, K::First), {"start bip-hold 10000"});
    assert_string_equal(c.state().c_str(), "holding");
    assert_actions(c.simple(SessionEvent::HoldTimeout), {"end @1"});
    assert_string_equal(c.state().c_str(), "closing");
    c.ready(1);
    c.queued(2);
    assert_actions(c.simple(SessionEvent::Closed, 1), {"send_push"});
    assert_string_equal(c.state().c_str(), "pushing");
    c.simple(SessionEvent::Opened, 2);
    c.post(2, K::First); // 1 goes
    c.post(2, K::Results, 1);
    // Withdrawn while held with nothing else: the end.
    SessionEventData w(SessionEvent::Withdrawn);
    w.message_id = 2;
    assert_actions(c.on(w), {"stop bip-hold", "end @2"});
    // A new connection while closing or holding takes over.
    assert_actions(c.simple(SessionEvent::Opened, 3), {"close @2"});
    c.queued(4);
    c.post(3, K::First); // held: 4 is being written
    assert_actions(c.simple(SessionEvent::Opened, 4), {"stop bip-hold", "close @3"});
    c.queued(5);
    c.ready(4);
    assert_actions(c.post(4, K::First), {"answer 4 @4", "start bip-results 120000"});
    c.post(4, K::Results, 4);
    assert_actions(c.simple(SessionEvent::Closed, 4), {"stop bip-hold", "start bip-connect 90000"});
    // Withdrawn/queued/ready in every state: queue work only.
    for (int i = 0; i < 2; i++) {
        c.ready(5);
        SessionEventData x(SessionEvent::Withdrawn);
        x.message_id = 77;
        c.on(x);
    }
}

// More rows: every {state, queue event} pair, and posts in each state.
void test_queue_in_every_state(void**) {
    Channel c;
    c.simple(SessionEvent::Opened, 1);
    SessionEventData w(SessionEvent::Withdrawn);
    w.message_id = 99;
    c.on(w); // open
    c.queued(1);
    c.ready(1);
    c.post(1, K::First); // serving
    c.queued(2);
    c.ready(2);
    c.on(w); // serving
    c.post(1, K::Results, 1);
    c.simple(SessionEvent::Settled); // serves 2
    c.post(1, K::Results, 2);
    c.simple(SessionEvent::Settled); // closing
    c.queued(3);
    c.ready(3);
    c.on(w);
    assert_string_equal(c.state().c_str(), "closing");
    c.simple(SessionEvent::Opened, 2); // the card came again
    assert_string_equal(c.state().c_str(), "open");
}

void test_every_row_exercised(void**) {
    const auto table = session_transitions();
    std::string missing;
    for (size_t i = 0; i < table.size(); i++)
        if (!g_rows.count(i))
            missing += std::string(session_state_name(table[i].state)) + "+" +
                       session_event_name(table[i].event) + " ";
    if (!missing.empty())
        print_error("rows never exercised: %s\n", missing.c_str());
    assert_true(missing.empty());
}

} // namespace

int main() {
    const CMUnitTest tests[] = {
        cmocka_unit_test(test_push_session_two_scripts),
        cmocka_unit_test(test_card_never_comes),
        cmocka_unit_test(test_tls_failure),
        cmocka_unit_test(test_session_breaks),
        cmocka_unit_test(test_hold),
        cmocka_unit_test(test_queue_in_every_state),
        cmocka_unit_test(test_every_row_exercised),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
