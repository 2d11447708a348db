// SPDX-License-Identifier: GPL-2.0-or-later
#include "bip/admin_session_fsm.hpp"

#include <algorithm>
#include <array>

namespace otagw::gateway::bip {

namespace {

constexpr std::array<const char*, kSessionStateCount> kStateNames = {
    "idle", "pushing", "open", "serving", "holding", "closing"};
constexpr std::array<const char*, kSessionEventCount> kEventNames = {
    "queued",          "ready",           "withdrawn",    "push_submitted", "push_failed",
    "push_por",        "opened",          "tls_failed",   "post",           "closed",
    "connect_timeout", "results_timeout", "hold_timeout", "settled"};

} // namespace

const char* session_state_name(SessionState s) {
    return kStateNames.at(static_cast<size_t>(s));
}
const char* session_event_name(SessionEvent e) {
    return kEventNames.at(static_cast<size_t>(e));
}
const char* session_timer_name(SessionTimer t) {
    switch (t) {
    case SessionTimer::Connect:
        return "bip-connect";
    case SessionTimer::Results:
        return "bip-results";
    case SessionTimer::Hold:
        return "bip-hold";
    }
    return "?";
}

struct SessionStep {
    SessionContext& ctx;
    const SessionLimits& limits;
    SessionHandled& out;

    void act(SessionAction a) { out.actions.push_back(std::move(a)); }
    void count(const char* name) {
        SessionAction a(SessionActionKind::Count);
        a.name = name;
        act(std::move(a));
    }
    void start(SessionTimer t, int64_t ms) {
        SessionAction a(SessionActionKind::StartTimer);
        a.timer = t;
        a.ms = ms;
        act(std::move(a));
    }
    void stop(SessionTimer t) {
        SessionAction a(SessionActionKind::StopTimer);
        a.timer = t;
        act(std::move(a));
    }
    void to(SessionState s) { ctx.state = s; }

    // ---- the queue ----
    void add(int64_t id) { ctx.queue.push_back({id, false, {}}); }
    void mark_ready(int64_t id, const Bytes& script) {
        for (auto& q : ctx.queue)
            if (q.message_id == id) {
                q.ready = true;
                q.script = script;
            }
    }
    void remove(int64_t id) {
        std::erase_if(ctx.queue, [&](const QueuedScript& q) { return q.message_id == id; });
    }
    void fail_all(const Reason& reason, const std::string& why) {
        for (const auto& q : ctx.queue) {
            SessionAction a(SessionActionKind::Fail);
            a.message_id = q.message_id;
            a.reason = reason;
            a.text = why;
            act(std::move(a));
        }
        ctx.queue.clear();
        ctx.pushes = 0;
        to(SessionState::Idle);
    }

    // ---- the card ----
    // Another push, or, when max-pushes went out without the card coming, the end.
    void push() {
        if (ctx.pushes >= limits.max_pushes) {
            count("bip:no_session");
            return fail_all(Reason::of(ReasonCode::BipNoSession),
                            "the card opened no admin session after " + std::to_string(ctx.pushes) +
                                " pushes");
        }
        ctx.pushes++;
        act(SessionAction(SessionActionKind::SendPush));
        count("bip:pushes");
        to(SessionState::Pushing);
    }
    // The session broke: the card retries by its own policy; if it does not come, push again.
    void wait_for_card() {
        ctx.connection = 0;
        if (ctx.queue.empty())
            return to(SessionState::Idle);
        ctx.pushes = 0;
        start(SessionTimer::Connect, limits.connect_timeout_ms);
        to(SessionState::Pushing);
    }
    void lose_out() {
        if (!ctx.out)
            return;
        SessionAction a(SessionActionKind::Lost);
        a.message_id = *ctx.out;
        act(std::move(a));
        count("bip:scripts_lost");
        ctx.out.reset();
    }
    void close(uint64_t connection) {
        SessionAction a(SessionActionKind::Close);
        a.connection = connection;
        act(std::move(a));
    }
    // Answers the POST waiting on the connection: the next script, or hold, or the end.
    void serve() {
        auto it = std::find_if(ctx.queue.begin(), ctx.queue.end(),
                               [](const QueuedScript& q) { return q.ready; });
        if (it != ctx.queue.end()) {
            SessionAction a(SessionActionKind::Answer);
            a.message_id = it->message_id;
            a.connection = ctx.connection;
            act(std::move(a));
            ctx.out = it->message_id;
            ctx.queue.erase(it);
            count("bip:scripts_delivered");
            start(SessionTimer::Results, limits.results_timeout_ms);
            return to(SessionState::Serving);
        }
        if (!ctx.queue.empty()) {
            start(SessionTimer::Hold, limits.hold_timeout_ms);
            return to(SessionState::Holding);
        }
        SessionAction a(SessionActionKind::AnswerEnd);
        a.connection = ctx.connection;
        act(std::move(a));
        count("bip:sessions_ended");
        to(SessionState::Closing);
    }
    void take(uint64_t connection) {
        if (ctx.connection && ctx.connection != connection)
            close(ctx.connection);
        ctx.connection = connection;
        ctx.pushes = 0;
        count("bip:sessions_opened");
        to(SessionState::Open);
    }
};

namespace {

using S = SessionState;
using E = SessionEvent;
using D = SessionEventData;

constexpr uint16_t mask(std::initializer_list<S> states) {
    uint16_t m = 0;
    for (S s : states)
        m = static_cast<uint16_t>(m | 1u << static_cast<unsigned>(s));
    return m;
}

// ---- the queue, in every state ----

void queued_idle(SessionStep& s, const D& e) {
    s.add(e.message_id);
    s.ctx.pushes = 0;
    s.push();
}
void queued(SessionStep& s, const D& e) {
    s.add(e.message_id);
}
void ready(SessionStep& s, const D& e) {
    s.mark_ready(e.message_id, e.script);
}
void withdrawn(SessionStep& s, const D& e) {
    s.remove(e.message_id);
}
void withdrawn_pushing(SessionStep& s, const D& e) {
    s.remove(e.message_id);
    if (s.ctx.queue.empty()) {
        s.stop(SessionTimer::Connect);
        s.to(S::Idle);
    }
}
void ready_holding(SessionStep& s, const D& e) {
    s.mark_ready(e.message_id, e.script);
    s.stop(SessionTimer::Hold);
    s.serve();
}
void withdrawn_holding(SessionStep& s, const D& e) {
    s.remove(e.message_id);
    if (s.ctx.queue.empty()) {
        s.stop(SessionTimer::Hold);
        s.serve();
    }
}

// ---- the push ----

void push_submitted(SessionStep& s, const D&) {
    s.start(SessionTimer::Connect, s.limits.connect_timeout_ms);
}
void push_failed(SessionStep& s, const D& e) {
    s.stop(SessionTimer::Connect);
    s.count("bip:push_failed");
    s.fail_all(e.reason, "the push: " + e.message);
}
void connect_timeout(SessionStep& s, const D&) {
    if (s.ctx.queue.empty())
        return s.to(S::Idle);
    s.push();
}

// ---- the card's session ----

void opened(SessionStep& s, const D& e) {
    s.stop(SessionTimer::Connect);
    s.take(e.connection);
}
void reopened(SessionStep& s, const D& e) {
    s.take(e.connection);
}
void opened_serving(SessionStep& s, const D& e) {
    s.stop(SessionTimer::Results);
    s.lose_out();
    s.take(e.connection);
}
void opened_holding(SessionStep& s, const D& e) {
    s.stop(SessionTimer::Hold);
    s.take(e.connection);
}
void tls_failed(SessionStep& s, const D& e) {
    s.stop(SessionTimer::Connect);
    s.count("bip:tls_failed");
    s.fail_all(Reason::of(ReasonCode::BipTlsFailed), "TLS: " + e.message);
}
void tls_failed_other(SessionStep& s, const D&) {
    s.count("bip:tls_failed"); // another connection than the session's: the session goes on
}
void post_open(SessionStep& s, const D& e) {
    if (e.connection != s.ctx.connection)
        return;
    if (e.post.kind == PostInfo::Kind::Results || e.post.kind == PostInfo::Kind::NoResults)
        s.count("bip:results_unexpected"); // for a script of an earlier session: lost already
    s.serve();
}
void post_serving(SessionStep& s, const D& e) {
    if (e.connection != s.ctx.connection)
        return;
    s.stop(SessionTimer::Results);
    const int64_t out = s.ctx.out.value_or(0);
    if (e.post.kind == PostInfo::Kind::Results &&
        (e.post.for_message == 0 || e.post.for_message == out)) {
        SessionAction a(SessionActionKind::Results);
        a.message_id = out;
        a.results = e.post.results;
        s.act(std::move(a));
        s.count("bip:results");
        s.ctx.out.reset();
    } else {
        // security-error, unknown-application, or a POST that starts over: whether the script
        // ran is unknown; its request reads the card.
        s.lose_out();
    }
    // The answer waits until the requests have taken this (Settled): their next scripts go in
    // this session.
    s.start(SessionTimer::Hold, s.limits.hold_timeout_ms);
    s.to(S::Holding);
}
void settled(SessionStep& s, const D&) {
    const bool any_ready = std::any_of(s.ctx.queue.begin(), s.ctx.queue.end(),
                                       [](const QueuedScript& q) { return q.ready; });
    if (!s.ctx.queue.empty() && !any_ready)
        return; // a script is being written: Ready answers
    s.stop(SessionTimer::Hold);
    s.serve();
}
void closed_open(SessionStep& s, const D& e) {
    if (e.connection != s.ctx.connection)
        return;
    s.wait_for_card();
}
void closed_serving(SessionStep& s, const D& e) {
    if (e.connection != s.ctx.connection)
        return;
    s.stop(SessionTimer::Results);
    s.lose_out();
    s.wait_for_card();
}
void closed_holding(SessionStep& s, const D& e) {
    if (e.connection != s.ctx.connection)
        return;
    s.stop(SessionTimer::Hold);
    s.wait_for_card();
}
void closed_closing(SessionStep& s, const D& e) {
    if (e.connection != s.ctx.connection)
        return;
    s.ctx.connection = 0;
    if (s.ctx.queue.empty())
        return s.to(S::Idle);
    s.ctx.pushes = 0;
    s.push();
}
void results_timeout(SessionStep& s, const D&) {
    s.lose_out();
    s.close(s.ctx.connection);
    s.wait_for_card();
}
void hold_timeout(SessionStep& s, const D&) {
    // The scripts queued were not written in time: end this session; they go in the next.
    s.count("bip:hold_timeout");
    SessionAction a(SessionActionKind::AnswerEnd);
    a.connection = s.ctx.connection;
    s.act(std::move(a));
    s.to(S::Closing);
}

constexpr SessionTransition kTable[] = {
    {S::Idle, E::Queued, queued_idle, "push to the card", mask({S::Pushing, S::Idle})},
    {S::Idle, E::Ready, ready, "the script may go", 0},
    {S::Idle, E::Withdrawn, withdrawn, "drop the script", 0},
    {S::Idle, E::Opened, opened, "the card came by itself", mask({S::Open})},
    {S::Idle, E::TlsFailed, tls_failed_other, "counted", 0},

    {S::Pushing, E::Queued, queued, "queue it", 0},
    {S::Pushing, E::Ready, ready, "the script may go", 0},
    {S::Pushing, E::Withdrawn, withdrawn_pushing, "drop it; nothing left: idle", mask({S::Idle})},
    {S::Pushing, E::PushSubmitted, push_submitted, "wait for the card (bip-connect)", 0},
    {S::Pushing, E::PushFailed, push_failed, "fail the scripts", mask({S::Idle})},
    {S::Pushing, E::PushPor, push_failed, "the card refused the push: fail the scripts",
     mask({S::Idle})},
    {S::Pushing, E::Opened, opened, "the session is up", mask({S::Open})},
    {S::Pushing, E::TlsFailed, tls_failed, "fail the scripts (no retry, Amd B §3.3.1.1)",
     mask({S::Idle})},
    {S::Pushing, E::ConnectTimeout, connect_timeout,
     "push again, or after max-pushes fail the scripts", mask({S::Idle})},

    {S::Open, E::Queued, queued, "queue it", 0},
    {S::Open, E::Ready, ready, "the script may go", 0},
    {S::Open, E::Withdrawn, withdrawn, "drop the script", 0},
    {S::Open, E::Post, post_open, "the next script, hold, or 204",
     mask({S::Serving, S::Holding, S::Closing})},
    {S::Open, E::Opened, reopened, "a new connection replaces the old", 0},
    {S::Open, E::TlsFailed, tls_failed_other, "counted", 0},
    {S::Open, E::Closed, closed_open, "wait for the card again", mask({S::Pushing, S::Idle})},

    {S::Serving, E::Queued, queued, "queue it", 0},
    {S::Serving, E::Ready, ready, "the script may go", 0},
    {S::Serving, E::Withdrawn, withdrawn, "drop the script", 0},
    {S::Serving, E::Post, post_serving, "results to the request (or lost); hold the answer",
     mask({S::Holding})},
    {S::Serving, E::Opened, opened_serving, "a new connection: the script out is lost",
     mask({S::Open})},
    {S::Serving, E::TlsFailed, tls_failed_other, "counted", 0},
    {S::Serving, E::Closed, closed_serving, "the script out is lost; wait for the card",
     mask({S::Pushing, S::Idle})},
    {S::Serving, E::ResultsTimeout, results_timeout,
     "the script out is lost; close; wait for the card", mask({S::Pushing, S::Idle})},

    {S::Holding, E::Queued, queued, "queue it", 0},
    {S::Holding, E::Ready, ready_holding, "answer with it", mask({S::Serving})},
    {S::Holding, E::Withdrawn, withdrawn_holding, "drop it; nothing left: 204", mask({S::Closing})},
    {S::Holding, E::Opened, opened_holding, "a new connection replaces the old", mask({S::Open})},
    {S::Holding, E::TlsFailed, tls_failed_other, "counted", 0},
    {S::Holding, E::Closed, closed_holding, "wait for the card", mask({S::Pushing, S::Idle})},
    {S::Holding, E::Settled, settled, "the next script, or 204; or wait for the one written",
     mask({S::Serving, S::Closing})},
    {S::Holding, E::HoldTimeout, hold_timeout, "204; the scripts go in the next session",
     mask({S::Closing})},

    {S::Closing, E::Queued, queued, "queue it (pushed once closed)", 0},
    {S::Closing, E::Ready, ready, "the script may go", 0},
    {S::Closing, E::Withdrawn, withdrawn, "drop the script", 0},
    {S::Closing, E::Opened, reopened, "the card came again", mask({S::Open})},
    {S::Closing, E::TlsFailed, tls_failed_other, "counted", 0},
    {S::Closing, E::Closed, closed_closing, "idle, or push for what was queued meanwhile",
     mask({S::Idle, S::Pushing})},
};

} // namespace

std::span<const SessionTransition> session_transitions() {
    return kTable;
}

SessionHandled SessionFsm::handle(SessionContext& ctx, const SessionEventData& event) const {
    SessionHandled out;
    out.from = ctx.state;
    for (size_t i = 0; i < std::size(kTable); i++) {
        const SessionTransition& t = kTable[i];
        if (t.state != ctx.state || t.event != event.kind)
            continue;
        out.handled = true;
        out.row = i;
        SessionStep step{ctx, limits_, out};
        t.handler(step, event);
        return out;
    }
    return out;
}

} // namespace otagw::gateway::bip
