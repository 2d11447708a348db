// SPDX-License-Identifier: GPL-2.0-or-later
#include "bip/admin_sessions.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <deque>

#include "otagw/common/log.hpp"
#include "otagw/ota/amd_b.hpp"

namespace otagw::gateway::bip {

namespace {

constexpr const char* kLog = "bip";

std::string replace_all(std::string s, std::string_view what, std::string_view with) {
    for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + with.size()))
        s.replace(at, what.size(), with);
    return s;
}

} // namespace

struct AdminSessions::Channel {
    SessionContext ctx;
    std::unique_ptr<uv::Timer> timers[3];
    std::deque<SessionEventData> events;
    bool running = false;
    std::function<void(AdminReply)> answer; // the POST waiting on ctx.connection
    uint64_t answer_connection = 0;
    std::unordered_map<int64_t, Bytes> scripts; // ready, by message id
    std::vector<int64_t> pushes;                // push message ids, forgotten with the channel
};

AdminSessions::AdminSessions(uv_loop_t* loop, db::Store& store, const GatewayConfig& config)
    : loop_(loop), store_(store), config_(config), fsm_(config.ota.bip) {}

AdminSessions::~AdminSessions() {
    *alive_ = false;
}

AdminSessions::Channel& AdminSessions::channel(int64_t card_id) {
    auto& c = channels_[card_id];
    if (!c) {
        c = std::make_unique<Channel>();
        c->ctx.card_id = card_id;
        for (auto& t : c->timers)
            t = std::make_unique<uv::Timer>(loop_);
    }
    return *c;
}

void AdminSessions::drop_if_idle(int64_t card_id) {
    auto it = channels_.find(card_id);
    if (it == channels_.end())
        return;
    const Channel& c = *it->second;
    if (c.running || c.ctx.state != SessionState::Idle || !c.ctx.queue.empty() ||
        c.ctx.connection || c.ctx.out)
        return;
    for (int64_t id : c.pushes)
        push_cards_.erase(id);
    channels_.erase(it);
}

void AdminSessions::handle(Channel& c, SessionEventData event) {
    c.events.push_back(std::move(event));
    if (c.running)
        return; // the run under way takes it in turn
    c.running = true;
    const int64_t card_id = c.ctx.card_id;
    while (!c.events.empty()) {
        SessionEventData e = std::move(c.events.front());
        c.events.pop_front();
        const SessionState from = c.ctx.state;
        SessionHandled h = fsm_.handle(c.ctx, e);
        if (!h.handled) {
            counters_.inc("bip:events_ignored");
            log::info(kLog, "card " + std::to_string(card_id) + ": event " +
                                session_event_name(e.kind) + " in state " +
                                session_state_name(from) + " has no transition: ignored");
            continue;
        }
        if (log::enabled(log::Level::Debug, kLog))
            log::debug(kLog, "card " + std::to_string(card_id) + ": " + session_state_name(from) +
                                 " --" + session_event_name(e.kind) + "--> " +
                                 session_state_name(c.ctx.state));
        for (const SessionAction& a : h.actions)
            execute(c, a);
        // A POST left held: the requests have taken its results now (they ran inside the
        // actions), and queued what follows.
        if (e.kind == SessionEvent::Post && c.ctx.state == SessionState::Holding)
            c.events.push_back(SessionEventData(SessionEvent::Settled));
    }
    c.running = false;
    // A POST nobody answers (a connection the channel does not own): the end of its session.
    if (c.answer && (c.answer_connection != c.ctx.connection ||
                     (c.ctx.state != SessionState::Holding && c.ctx.state != SessionState::Open))) {
        auto answer = std::move(c.answer);
        c.answer = nullptr;
        answer({std::nullopt, ""});
    }
    drop_if_idle(card_id);
}

void AdminSessions::execute(Channel& c, const SessionAction& a) {
    const int64_t card_id = c.ctx.card_id;
    switch (a.kind) {
    case SessionActionKind::SendPush:
        return push(c);
    case SessionActionKind::Answer: {
        auto script = c.scripts.find(a.message_id);
        if (!c.answer || script == c.scripts.end()) {
            log::error(kLog, "card " + std::to_string(card_id) + ": script " +
                                 std::to_string(a.message_id) + " has no POST or no bytes");
            return;
        }
        AdminReply reply{std::move(script->second),
                         config_.ras.uri + "/" + std::to_string(a.message_id)};
        c.scripts.erase(script);
        auto answer = std::move(c.answer);
        c.answer = nullptr;
        answer(std::move(reply));
        if (scripts_)
            scripts_->delivered(a.message_id);
        return;
    }
    case SessionActionKind::AnswerEnd:
        if (c.answer) {
            auto answer = std::move(c.answer);
            c.answer = nullptr;
            answer({std::nullopt, ""});
        }
        return;
    case SessionActionKind::Close:
        if (ras_)
            ras_->drop(a.connection, "replaced by a new session of the card, or silent");
        return;
    case SessionActionKind::Results:
        if (scripts_ && a.results)
            scripts_->answered(a.message_id, *a.results);
        return;
    case SessionActionKind::Lost:
        c.scripts.erase(a.message_id);
        if (scripts_)
            scripts_->lost(a.message_id);
        return;
    case SessionActionKind::Fail:
        c.scripts.erase(a.message_id);
        if (scripts_)
            scripts_->failed(a.message_id, a.reason, a.text);
        return;
    case SessionActionKind::StartTimer: {
        const auto t = a.timer;
        std::weak_ptr<bool> alive = alive_;
        c.timers[static_cast<size_t>(t)]->start(
            static_cast<uint64_t>(a.ms), [this, alive, card_id, t] {
                if (alive.expired())
                    return;
                auto it = channels_.find(card_id);
                if (it == channels_.end())
                    return;
                handle(*it->second,
                       SessionEventData(t == SessionTimer::Connect   ? SessionEvent::ConnectTimeout
                                        : t == SessionTimer::Results ? SessionEvent::ResultsTimeout
                                                                     : SessionEvent::HoldTimeout));
            });
        return;
    }
    case SessionActionKind::StopTimer:
        c.timers[static_cast<size_t>(a.timer)]->stop();
        return;
    case SessionActionKind::Count:
        counters_.inc(a.name);
        return;
    }
}

Result<Bytes> AdminSessions::trigger_for(int64_t card_id) const {
    auto keysets = store_.psk_keysets(card_id);
    if (!keysets)
        return keysets.take_error();
    if (keysets->empty())
        return make_error("the card has no SCP81 keyset");
    const db::PskKeyset& k = keysets->front();
    auto owner = store_.psk_owner(k.identity);
    if (!owner || !*owner)
        return make_error("the card's SCP81 keyset cannot be read back");
    const RasConfig& r = config_.ras;
    ota::amdb::Trigger t;
    ota::amdb::RasConnection c;
    c.buffer_size = r.buffer_size;
    c.apn = r.apn;
    const std::string& ip = r.card_ip.empty() ? r.ip : r.card_ip;
    in_addr a{};
    if (inet_pton(AF_INET, ip.c_str(), &a) != 1)
        return make_error("ras: the card address " + ip + " is no IPv4 address");
    const auto* b = reinterpret_cast<const uint8_t*>(&a.s_addr);
    c.ipv4 = {b[0], b[1], b[2], b[3]};
    c.port = r.card_port ? r.card_port : (ras_ ? ras_->port() : r.port);
    t.connection = c;
    t.security = ota::amdb::SecurityParameters{k.identity, k.kvn, k.kid};
    if (r.retry_count)
        t.retry = ota::amdb::RetryPolicy{r.retry_count, r.retry_delay_s};
    t.http = ota::amdb::HttpPost{r.host.empty() ? ip : r.host,
                                 replace_all(r.agent_id, "{iccid}", (*owner)->iccid), r.uri};
    return ota::amdb::encode_trigger(t);
}

void AdminSessions::push(Channel& c) {
    const int64_t card_id = c.ctx.card_id;
    auto fail = [&](ReasonCode code, const std::string& why) {
        SessionEventData e(SessionEvent::PushFailed);
        e.reason = Reason::of(code);
        e.message = why;
        handle(c, std::move(e));
    };
    auto trigger = trigger_for(card_id);
    if (!trigger)
        return fail(ReasonCode::NoKeyset, trigger.error().message);
    if (!scripts_)
        return fail(ReasonCode::NoSmsc, "no SMS path for the push");
    const int64_t first = c.ctx.queue.empty() ? 0 : c.ctx.queue.front().message_id;
    std::weak_ptr<bool> alive = alive_;
    scripts_->send_push(
        card_id, std::move(*trigger), first,
        [this, alive, card_id](int64_t id) {
            if (alive.expired())
                return;
            auto it = channels_.find(card_id);
            if (it == channels_.end())
                return;
            it->second->ctx.push_message_id = id;
            it->second->pushes.push_back(id);
            push_cards_[id] = card_id;
        },
        [this, alive, card_id](std::string error) {
            if (alive.expired())
                return;
            auto it = channels_.find(card_id);
            if (it == channels_.end())
                return;
            if (error.empty())
                return handle(*it->second, SessionEventData(SessionEvent::PushSubmitted));
            SessionEventData e(SessionEvent::PushFailed);
            e.reason = Reason::of(ReasonCode::SmscRefused);
            e.message = error;
            handle(*it->second, std::move(e));
        });
}

void AdminSessions::queue(int64_t card_id, int64_t message_id) {
    SessionEventData e(SessionEvent::Queued);
    e.message_id = message_id;
    handle(channel(card_id), std::move(e));
}

void AdminSessions::ready(int64_t card_id, int64_t message_id, Bytes script) {
    auto it = channels_.find(card_id);
    if (it == channels_.end())
        return; // failed or withdrawn meanwhile
    Channel& c = *it->second;
    c.scripts[message_id] = script;
    SessionEventData e(SessionEvent::Ready);
    e.message_id = message_id;
    e.script = std::move(script);
    handle(c, std::move(e));
}

void AdminSessions::withdraw(int64_t card_id, int64_t message_id) {
    auto it = channels_.find(card_id);
    if (it == channels_.end())
        return;
    it->second->scripts.erase(message_id);
    SessionEventData e(SessionEvent::Withdrawn);
    e.message_id = message_id;
    handle(*it->second, std::move(e));
}

void AdminSessions::push_refused(int64_t card_id, int64_t push_message_id, const Reason& reason) {
    auto it = channels_.find(card_id);
    if (it == channels_.end() || it->second->ctx.push_message_id != push_message_id)
        return; // an older push's: the wait it belonged to is over
    SessionEventData e(SessionEvent::PushPor);
    e.reason = reason;
    e.message = "the card answered it with PoR " + reason.name();
    handle(*it->second, std::move(e));
}

bool AdminSessions::opened(ConnectionId id, const RasCard& card) {
    SessionEventData e(SessionEvent::Opened);
    e.connection = id;
    handle(channel(card.card_id), std::move(e));
    return true;
}

void AdminSessions::posted(ConnectionId id, const RasCard& card, AdminPost&& post,
                           std::function<void(AdminReply)> answer) {
    const std::string agent = replace_all(config_.ras.agent_id, "{iccid}", card.iccid);
    if (!post.agent_id.empty() && post.agent_id != agent) {
        counters_.inc("bip:agent_mismatch"); // the PSK identity is what authenticates
        log::notice(kLog, "card " + card.iccid + " sent X-Admin-From '" +
                              post.agent_id.substr(0, 64) + "', not '" + agent + "'");
    }
    Channel& c = channel(card.card_id);
    c.answer = std::move(answer);
    c.answer_connection = id;
    SessionEventData e(SessionEvent::Post);
    e.connection = id;
    PostInfo& p = e.post;
    if (post.status == ScriptStatus::Ok) {
        p.kind = PostInfo::Kind::Results;
        p.results = std::move(post.results);
    } else if (post.status != ScriptStatus::None) {
        p.kind = PostInfo::Kind::NoResults;
        p.status = script_status_name(post.status);
    } else {
        p.kind = post.resume ? PostInfo::Kind::Resume : PostInfo::Kind::First;
    }
    const std::string prefix = config_.ras.uri + "/";
    if (post.uri.starts_with(prefix)) {
        const std::string_view n = std::string_view(post.uri).substr(prefix.size());
        int64_t m = 0;
        if (std::from_chars(n.data(), n.data() + n.size(), m).ec == std::errc())
            p.for_message = m;
    }
    handle(c, std::move(e));
}

void AdminSessions::closed(ConnectionId id, const RasCard& card, const std::string&) {
    auto it = channels_.find(card.card_id);
    if (it == channels_.end())
        return;
    SessionEventData e(SessionEvent::Closed);
    e.connection = id;
    handle(*it->second, std::move(e));
}

void AdminSessions::tls_failed(const std::optional<RasCard>& card, const std::string& why) {
    if (!card) {
        counters_.inc("bip:tls_failed_unknown_identity");
        return;
    }
    auto it = channels_.find(card->card_id);
    if (it == channels_.end()) {
        counters_.inc("bip:tls_failed");
        return;
    }
    SessionEventData e(SessionEvent::TlsFailed);
    e.message = why;
    handle(*it->second, std::move(e));
}

std::vector<std::string> AdminSessions::show() const {
    std::vector<std::string> out;
    size_t by_state[kSessionStateCount] = {};
    for (const auto& [card, c] : channels_)
        by_state[static_cast<size_t>(c->ctx.state)]++;
    std::string states;
    for (size_t s = 0; s < kSessionStateCount; s++)
        if (by_state[s])
            states += std::string(" ") + session_state_name(static_cast<SessionState>(s)) + " " +
                      std::to_string(by_state[s]);
    out.push_back("BIP channels: " + std::to_string(channels_.size()) +
                  (states.empty() ? "" : ":" + states));
    for (const auto& [name, value] : counters_.all())
        out.push_back(" " + name + " " + std::to_string(value));
    return out;
}

} // namespace otagw::gateway::bip
