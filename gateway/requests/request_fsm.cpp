// SPDX-License-Identifier: GPL-2.0-or-later
#include "requests/request_fsm.hpp"

#include <algorithm>
#include <array>

namespace otagw::gateway {

// ---- Names ----------------------------------------------------------------------------------

namespace {

constexpr std::array<const char*, kRequestStateCount> kStateNames = {
    "accepted", "provider", "approved", "sent",   "reconciling",
    "done",     "refused",  "failed",   "loading"};

constexpr std::array<const char*, kEventKindCount> kEventNames = {"start",
                                                                  "resume",
                                                                  "provider_approved",
                                                                  "provider_vetoed",
                                                                  "provider_failed",
                                                                  "provider_timeout",
                                                                  "queued",
                                                                  "not_sent",
                                                                  "submitted",
                                                                  "submit_failed",
                                                                  "por",
                                                                  "audit_answer",
                                                                  "por_timeout",
                                                                  "cancel"};

struct ReasonName {
    ReasonCode code;
    const char* name;
};
// Parameterised reasons (card_refused_<SW>, card_state_<state>, por_<status>) by their prefix.
constexpr ReasonName kReasonNames[] = {
    {ReasonCode::None, ""},
    {ReasonCode::UnknownMsisdn, "unknown_msisdn"},
    {ReasonCode::MsisdnOutOfRange, "msisdn_out_of_range"},
    {ReasonCode::BadMsisdn, "bad_msisdn"},
    {ReasonCode::UnknownIccid, "unknown_iccid"},
    {ReasonCode::MsisdnCardMismatch, "msisdn_card_mismatch"},
    {ReasonCode::CardBarred, "card_barred"},
    {ReasonCode::UnknownApp, "unknown_app"},
    {ReasonCode::NotAllowedInState, "not_allowed_in_state"},
    {ReasonCode::InFlight, "in_flight"},
    {ReasonCode::BadRequest, "bad_request"},
    {ReasonCode::EmptyText, "empty"},
    {ReasonCode::UnknownKeyword, "unknown_keyword"},
    {ReasonCode::NoAppCode, "no_app_code"},
    {ReasonCode::BadAppCode, "bad_app_code"},
    {ReasonCode::TrailingWords, "trailing_words"},
    {ReasonCode::ReplayedCounter, "replayed_counter"},
    {ReasonCode::TarMismatch, "tar_mismatch"},
    {ReasonCode::ProviderVeto, "provider_veto"},
    {ReasonCode::ProviderTimeout, "provider_timeout"},
    {ReasonCode::ProviderError, "provider_error"},
    {ReasonCode::ProviderUnavailable, "provider_unavailable"},
    {ReasonCode::NoSmsc, "no_smsc"},
    {ReasonCode::NoKeyset, "no_keyset"},
    {ReasonCode::CannotSend, "cannot_send"},
    {ReasonCode::BadCatalogEntry, "bad_catalog_entry"},
    {ReasonCode::SmscRefused, "smsc_refused"},
    {ReasonCode::CardIntegrityFailed, "card_integrity_failed"},
    {ReasonCode::TarUnknown, "tar_unknown"},
    {ReasonCode::InsufficientSecurityLevel, "insufficient_security_level"},
    {ReasonCode::CounterResyncFailed, "counter_resync_failed"},
    {ReasonCode::PorStatus, "por_"},
    {ReasonCode::CardRefused, "card_refused_"},
    {ReasonCode::CardState, "card_state_"},
    {ReasonCode::BadCardAnswer, "bad_card_answer"},
    {ReasonCode::PorLost, "por_lost"},
    {ReasonCode::LoadInterrupted, "load_interrupted"},
    {ReasonCode::BipNoSession, "bip_no_session"},
    {ReasonCode::BipTlsFailed, "bip_tls_failed"},
    {ReasonCode::Cancelled, "cancelled"},
};

const char* reason_base(ReasonCode c) {
    for (const auto& r : kReasonNames)
        if (r.code == c)
            return r.name;
    return "?";
}

std::string hex4(uint16_t v) {
    static const char* digits = "0123456789abcdef";
    std::string s(4, '0');
    for (int i = 3; i >= 0; i--, v = static_cast<uint16_t>(v >> 4))
        s[static_cast<size_t>(i)] = digits[v & 0xf];
    return s;
}

} // namespace

const char* request_state_name(RequestState s) {
    return kStateNames.at(static_cast<size_t>(s));
}

std::optional<RequestState> request_state_named(std::string_view name) {
    for (size_t i = 0; i < kStateNames.size(); i++)
        if (name == kStateNames[i])
            return static_cast<RequestState>(i);
    return std::nullopt;
}

bool is_final(RequestState s) {
    return s == RequestState::Done || s == RequestState::Refused || s == RequestState::Failed;
}

const char* outcome_name(Outcome o) {
    return request_state_name(final_state(o));
}

RequestState final_state(Outcome o) {
    switch (o) {
    case Outcome::Done:
        return RequestState::Done;
    case Outcome::Refused:
        return RequestState::Refused;
    case Outcome::Failed:
        break;
    }
    return RequestState::Failed;
}

const char* event_name(EventKind e) {
    return kEventNames.at(static_cast<size_t>(e));
}

const char* timer_name(RequestTimer t) {
    return t == RequestTimer::Provider ? "provider-timeout" : "por-timeout";
}

Reason Reason::card_refused(uint16_t sw) {
    Reason r(ReasonCode::CardRefused);
    r.sw = sw;
    return r;
}

Reason Reason::card_state(CardAppState s) {
    Reason r(ReasonCode::CardState);
    r.state = s;
    return r;
}

Reason Reason::por(uint8_t status) {
    Reason r(ReasonCode::PorStatus);
    r.por_status = status;
    return r;
}

std::string Reason::name() const {
    switch (code) {
    case ReasonCode::CardRefused:
        return std::string(reason_base(code)) + hex4(sw);
    case ReasonCode::CardState:
        return std::string(reason_base(code)) + state.name();
    case ReasonCode::PorStatus:
        return std::string(reason_base(code)) + ota::por_status_name(por_status);
    default:
        return reason_base(code);
    }
}

std::optional<Reason> Reason::parse(std::string_view name) {
    for (const auto& r : kReasonNames) {
        const std::string_view base = r.name;
        if (r.code == ReasonCode::CardRefused && name.starts_with(base)) {
            auto sw = parse_hex(name.substr(base.size()));
            if (!sw || sw->size() != 2)
                return std::nullopt;
            return card_refused(static_cast<uint16_t>((*sw)[0] << 8 | (*sw)[1]));
        }
        if (r.code == ReasonCode::CardState && name.starts_with(base)) {
            auto s = CardAppState::parse(name.substr(base.size()));
            if (!s)
                return std::nullopt;
            return card_state(*s);
        }
        if (r.code == ReasonCode::PorStatus && name.starts_with(base) && name != "por_lost") {
            for (unsigned st = 0; st <= 0xff; st++)
                if (name.substr(base.size()) == ota::por_status_name(static_cast<uint8_t>(st)))
                    return por(static_cast<uint8_t>(st));
            return std::nullopt;
        }
        if (name == base)
            return of(r.code);
    }
    return std::nullopt;
}

bool transient(ReasonCode code) {
    switch (code) {
    case ReasonCode::SmscRefused:
    case ReasonCode::NoSmsc:
    case ReasonCode::CannotSend:
    case ReasonCode::PorLost:
    case ReasonCode::LoadInterrupted:
    case ReasonCode::BipNoSession:
    case ReasonCode::ProviderTimeout:
    case ReasonCode::ProviderUnavailable:
    case ReasonCode::InFlight:
        return true;
    default:
        return false;
    }
}

// ---- The handlers ---------------------------------------------------------------------------

struct Step {
    RequestContext& ctx;
    RequestData& d;
    const RequestLimits& limits;
    const Clock& clock;
    Handled& out;

    void dirty() { out.changed = true; }
    void act(Action a) { out.actions.push_back(std::move(a)); }
    void count(const char* name) {
        Action a(ActionKind::Count);
        a.name = name;
        act(std::move(a));
    }
    void audit(const char* action, std::string text) {
        Action a(ActionKind::AuditLog);
        a.name = action;
        a.text = std::move(text);
        act(std::move(a));
    }
    void start_timer(RequestTimer t, int64_t ms) {
        Action a(ActionKind::StartTimer);
        a.timer = t;
        a.ms = ms;
        act(std::move(a));
    }
    void stop_timer(RequestTimer t) {
        Action a(ActionKind::StopTimer);
        a.timer = t;
        act(std::move(a));
    }
    void send(Phase phase, uint32_t index = 0) {
        Action a(ActionKind::SendPacket);
        a.phase = phase;
        a.index = index;
        act(std::move(a));
    }
    LoadProgress& load() {
        if (!d.load)
            d.load.emplace();
        return *d.load;
    }
    // The operation itself, or first the load of its CAP file when the card lacks it.
    void begin_operation() {
        if (ctx.loads() && !load().loaded)
            return send(Phase::Load, load().next);
        send(Phase::Operation);
    }
    void record(CardAppState state, std::optional<uint8_t> life_cycle, uint64_t counter) {
        Action a(ActionKind::RecordCardState);
        a.card_state = state;
        a.life_cycle = life_cycle;
        a.counter = counter;
        act(std::move(a));
    }
    void move(RequestState s) {
        if (ctx.state != s) {
            ctx.state = s;
            dirty();
        }
    }
    std::string request() const { return "request " + std::to_string(ctx.id); }
    const SentPacket* current() const {
        return d.outstanding.empty() ? nullptr : &d.outstanding.back();
    }

    // The request ends. An application left pending:<op> goes back to what was known of it:
    // the operation did not reach the card, or what the card did is not known (then the state
    // is already unknown).
    void finish(Outcome o, Reason r, std::string message = {}) {
        if (!message.empty())
            d.message = std::move(message);
        // Used for the operation, not kept after it.
        d.personalisation.clear();
        d.sealed_personalisation.clear();
        if (d.pending_recorded) {
            record(d.known_state, d.known_life_cycle, std::max(d.sent_counter, d.learned_counter));
            d.pending_recorded = false;
        }
        ctx.state = final_state(o);
        ctx.reason = std::move(r);
        dirty();
        Action a(ActionKind::Finish);
        a.outcome = o;
        act(std::move(a));
    }

    void ask_provider() {
        move(RequestState::Provider);
        act(Action(ActionKind::AskProvider));
        start_timer(RequestTimer::Provider, limits.provider_timeout_ms);
    }

    // The card's state learnt from the PoR of packet `p`.
    void learn(const SentPacket& p, CardAppState state, std::optional<uint8_t> life_cycle) {
        d.learned_counter = p.counter;
        d.card_state = d.known_state = state;
        d.known_life_cycle = life_cycle;
        d.pending_recorded = false;
        record(state, life_cycle, p.counter);
        dirty();
    }
};

namespace {

// The packet a PoR answers, taken off the outstanding list; nullopt when it is none of ours
// waiting (answered already, or unknown) or older than what was learnt since (stale).
std::optional<SentPacket> take_packet(Step& s, const CardPor& por, bool* was_current) {
    auto& list = s.d.outstanding;
    auto it = std::find_if(list.begin(), list.end(),
                           [&](const SentPacket& p) { return p.message_id == por.message_id; });
    if (it == list.end()) {
        s.count("por:unmatched");
        return std::nullopt;
    }
    if (por.status == ota::PorStatus::CounterLow && por.card_counter == it->counter) {
        // "Counter low" naming this packet's own counter: the card has taken it already, so
        // this answers a second copy (an SMSC may deliver a message twice). The first copy's
        // PoR tells what happened; if it is lost, the PoR timeout reads the card. Sending again
        // would run the operation twice.
        s.count("por:duplicate_delivery");
        return std::nullopt;
    }
    const SentPacket p = *it;
    if (was_current)
        *was_current = std::next(it) == list.end();
    list.erase(it);
    s.dirty();
    if (p.counter < s.d.learned_counter) {
        s.count("por:stale");
        s.audit("por.stale", s.request() + ": a PoR for counter " + std::to_string(p.counter) +
                                 ", older than the state learnt from counter " +
                                 std::to_string(s.d.learned_counter) + ", changes nothing");
        return std::nullopt;
    }
    s.d.por_status = static_cast<uint8_t>(por.status);
    return p;
}

// Counter low or high: the card's counter is ahead of ours. Raise ours (within reason: a
// counter-low PoR comes in clear, TS 102 225 §5.2.3, so anyone could send one) and send again
// with a fresh counter, never the same packet.
void resynchronise(Step& s, const SentPacket& p, const CardPor& por) {
    s.audit("keyset.counter_resync",
            std::string("PoR ") + ota::por_status_name(static_cast<uint8_t>(por.status)) +
                " for counter " + std::to_string(p.counter) +
                (por.card_counter ? "; card counter " + std::to_string(*por.card_counter) : ""));
    if (s.d.resyncs >= s.limits.max_resyncs)
        return s.finish(Outcome::Failed, Reason::of(ReasonCode::CounterResyncFailed));
    const bool low = por.status == ota::PorStatus::CounterLow;
    if (low && por.card_counter && *por.card_counter > p.counter + s.limits.max_resync_jump) {
        s.count("keyset:alarm");
        return s.finish(Outcome::Failed, Reason::of(ReasonCode::CounterResyncFailed),
                        "the card claims counter " + std::to_string(*por.card_counter) +
                            ", far beyond ours (" + std::to_string(p.counter) + ")");
    }
    if (low && por.card_counter) {
        Action a(ActionKind::RaiseCounter);
        a.counter = *por.card_counter;
        s.act(std::move(a));
    }
    s.d.resyncs++;
    s.count("ota:counter_resync");
    s.stop_timer(RequestTimer::Por);
    s.send(p.phase, p.index);
}

// A PoR with an error status for the current packet: the card did not run the script.
void card_error(Step& s, const CardPor& por) {
    switch (por.status) {
    case ota::PorStatus::IntegrityFailed:
        s.count("keyset:alarm");
        s.audit("keyset.alarm",
                "the card could not verify the cryptographic checksum with keyset " +
                    std::to_string(s.ctx.kvn) + ": keys out of step; not retried");
        return s.finish(Outcome::Failed, Reason::of(ReasonCode::CardIntegrityFailed));
    case ota::PorStatus::TarUnknown:
        return s.finish(Outcome::Failed, Reason::of(ReasonCode::TarUnknown));
    case ota::PorStatus::InsufficientSecurityLevel:
        return s.finish(Outcome::Failed, Reason::of(ReasonCode::InsufficientSecurityLevel));
    default:
        return s.finish(Outcome::Failed, Reason::por(static_cast<uint8_t>(por.status)));
    }
}

bool audit_outstanding(const Step& s) {
    return std::any_of(s.d.outstanding.begin(), s.d.outstanding.end(),
                       [](const SentPacket& p) { return p.phase == Phase::Audit; });
}

// What the card read back after an audit decides the request.
void after_audit(Step& s, CardAppState state) {
    const Operation op = s.ctx.operation;
    const CardAppState target = target_state(op, s.d.from_state);
    if (s.d.card_refusal) {
        if (state == target && s.d.sends > 1) {
            // The card refused the last copy because an earlier one had done the operation.
            s.d.card_refusal.reset();
            return s.finish(Outcome::Done, {}, "done by an earlier copy; " + s.d.message);
        }
        return s.finish(Outcome::Failed, Reason::card_refused(*s.d.card_refusal));
    }
    if (state == target || op == Operation::Query)
        return s.finish(Outcome::Done, {}); // the card did it; its PoR was lost
    if (state == s.d.from_state && !transition_refusal(op, state) &&
        s.d.sends < s.limits.max_sends) {
        s.count("ota:resent_after_audit");
        return s.send(Phase::Operation); // it never ran: again, with a fresh counter
    }
    s.finish(Outcome::Failed, Reason::card_state(state));
}

void load_file_absent(Step& s, const SentPacket& p);

// A PoR with status 00: the script's answer, for packet `p` of its phase.
void apply_answer(Step& s, const SentPacket& p, const CardPor& por) {
    const Operation op = s.ctx.operation;
    if (!por.answer) {
        // The card did something that cannot be read: its state is not known.
        s.d.message = por.answer_error;
        s.d.known_state = {AppState::Unknown};
        s.d.known_life_cycle.reset();
        s.d.pending_recorded = false;
        s.record({AppState::Unknown}, std::nullopt, p.counter);
        if (p.phase == Phase::Operation && audit_outstanding(s))
            return; // the audit out already reads the card
        if (p.phase == Phase::Operation && s.d.audits < s.limits.max_audits) {
            s.stop_timer(RequestTimer::Por);
            return s.send(Phase::Audit);
        }
        return s.finish(Outcome::Failed, Reason::of(ReasonCode::BadCardAnswer));
    }
    const CardAnswer& a = *por.answer;
    if (s.ctx.loads() && p.phase == Phase::Audit && a.failed_command == 0 && !a.completed &&
        a.failed_sw == 0x6a88) {
        // The audit's first GET STATUS (of the load file) found nothing.
        return load_file_absent(s, p);
    }
    if (a.registry_known) {
        if (s.ctx.loads() && p.phase == Phase::Audit)
            s.load().loaded = true; // the audit's first GET STATUS found the load file
        const CardAppState state = state_from_registry(a.life_cycle, op);
        s.learn(p, state, a.life_cycle);
        s.stop_timer(RequestTimer::Por);
        if (p.phase == Phase::Audit)
            return after_audit(s, state);
        if (state == target_state(op, s.d.from_state) || op == Operation::Query)
            return s.finish(Outcome::Done, {});
        return s.finish(Outcome::Failed, Reason::card_state(state));
    }
    if (s.ctx.loads() && p.phase == Phase::Operation && a.failed_command == 0 &&
        a.failed_sw == 0x6a88) {
        // INSTALL [for install] finds no load file (GP 2.3 §11.5.3.2): the inventory said the
        // card held it, the card says not. Load it (after deleting what a load may have left).
        s.count("ota:load_file_missing");
        return load_file_absent(s, p);
    }
    // The card stopped the script at a command.
    s.d.message = "the card answered " + hex4(a.failed_sw) + " to command " +
                  std::to_string(a.failed_command + 1) + " of " + std::to_string(a.script_length);
    s.d.card_refusal = a.failed_sw;
    s.dirty();
    if (p.phase == Phase::Audit)
        return s.finish(Outcome::Failed, Reason::card_refused(a.failed_sw));
    if (a.failed_command > 0 || s.d.sends > 1) {
        // Earlier commands ran, or an earlier copy of the operation may have (it was sent
        // again after a resynchronisation or an audit): read the card before saying what
        // happened.
        if (audit_outstanding(s))
            return;
        s.stop_timer(RequestTimer::Por);
        return s.send(Phase::Audit);
    }
    s.finish(Outcome::Failed, Reason::card_refused(a.failed_sw));
}

// The card does not hold the CAP's load file (the answer to packet `p` said so), nor so the
// application: whatever an interrupted load left is deleted first (DELETE of the package's AID
// drops an unfinished load; GP 2.3 §11.2), then the load starts again from its first packet.
void load_file_absent(Step& s, const SentPacket& p) {
    s.learn(p, s.d.from_state, s.d.known_life_cycle);
    s.stop_timer(RequestTimer::Por);
    LoadProgress& l = s.load();
    l.loaded = false;
    l.next = 0;
    l.blocks_done = 0;
    s.dirty();
    s.send(Phase::Clean);
}

// A PoR with status 00 for packet `p.index` of the load.
void apply_load_answer(Step& s, const SentPacket& p, const CardPor& por) {
    s.stop_timer(RequestTimer::Por);
    LoadProgress& l = s.load();
    if (!por.answer) { // what the card did is not known: read it
        s.d.message = por.answer_error;
        if (s.d.audits < s.limits.max_audits)
            return s.send(Phase::Audit);
        return s.finish(Outcome::Failed, Reason::of(ReasonCode::BadCardAnswer));
    }
    const CardAnswer& a = *por.answer;
    const auto& plan = s.ctx.load_plan;
    if (a.completed) {
        l.blocks_done += p.index < plan.size() ? plan[p.index] : 0;
        l.next = p.index + 1;
        s.dirty();
        if (l.next < plan.size())
            return s.send(Phase::Load, l.next);
        l.loaded = true;
        s.count("ota:load_done");
        s.audit("app.load", s.request() + ": load file loaded (" +
                                std::to_string(s.ctx.load_blocks()) + " LOAD blocks in " +
                                std::to_string(plan.size()) + " packets)");
        return s.send(Phase::Operation);
    }
    s.d.message = "the card answered " + hex4(a.failed_sw) + " to command " +
                  std::to_string(a.failed_command + 1) + " of load packet " +
                  std::to_string(p.index + 1) + " of " + std::to_string(plan.size());
    s.dirty();
    if (p.index == 0 && a.failed_command == 0) { // INSTALL [for load] refused: nothing loaded
        if (a.failed_sw == 0x6a84)               // not enough memory (GP 2.3 §11.5.3.2)
            return s.finish(Outcome::Failed, Reason::card_refused(a.failed_sw));
        // The load file may be there already, or an unfinished load: read the card.
        if (s.d.audits < s.limits.max_audits)
            return s.send(Phase::Audit);
        return s.finish(Outcome::Failed, Reason::card_refused(a.failed_sw));
    }
    // A LOAD refused (memory full, out of sequence...): what the card kept is deleted, then the
    // request fails with the card's refusal.
    s.d.card_refusal = a.failed_sw;
    s.send(Phase::Clean);
}

// A PoR with status 00 for the clean-up: 9000 the unfinished load is gone, 6A88 there was none.
void apply_clean_answer(Step& s, const CardPor& por) {
    s.stop_timer(RequestTimer::Por);
    LoadProgress& l = s.load();
    const bool clean = por.answer && (por.answer->completed || (por.answer->failed_command == 0 &&
                                                                por.answer->failed_sw == 0x6a88));
    if (!clean)
        return s.finish(Outcome::Failed,
                        por.answer ? Reason::card_refused(por.answer->failed_sw)
                                   : Reason::of(ReasonCode::BadCardAnswer),
                        por.answer ? "the card refused to delete an unfinished load"
                                   : por.answer_error);
    l.started = false;
    l.next = 0;
    l.blocks_done = 0;
    s.dirty();
    if (s.d.card_refusal)
        return s.finish(Outcome::Failed, Reason::card_refused(*s.d.card_refusal));
    if (l.restarts >= s.limits.max_load_restarts)
        return s.finish(Outcome::Failed, Reason::of(ReasonCode::LoadInterrupted),
                        "the load was interrupted " + std::to_string(l.restarts + 1) + " times");
    l.restarts++;
    s.count("ota:load_restart");
    s.audit("app.load_restart",
            s.request() + ": no load file on the card; an unfinished load deleted, loading again");
    s.send(Phase::Load, 0);
}

// ---- rows ----

void on_start(Step& s, const Event&) {
    if (s.ctx.asks_provider)
        s.ask_provider();
    else
        s.begin_operation();
}

void on_resume_provider(Step& s, const Event&) {
    s.ask_provider(); // the answer, if any, went with the process: ask again
}

void on_resume_approved(Step& s, const Event&) {
    s.begin_operation();
}

void on_resume_waiting(Step& s, const Event&) {
    // It may have reached the card: wait out the rest of its PoR's time, then read the card.
    const SentPacket* p = s.current();
    const int64_t left = p ? p->sent_at + s.limits.por_timeout_ms - s.clock.now_ms() : 0;
    s.start_timer(RequestTimer::Por, std::max<int64_t>(left, 1000));
}

void on_approved(Step& s, const Event& e) {
    s.stop_timer(RequestTimer::Provider);
    s.d.personalisation = e.personalisation;
    s.move(RequestState::Approved);
    s.dirty();
    s.begin_operation();
}

void on_vetoed(Step& s, const Event& e) {
    s.stop_timer(RequestTimer::Provider);
    s.count("provider:veto");
    s.finish(Outcome::Refused, Reason::of(ReasonCode::ProviderVeto), e.message);
}

void on_provider_failed(Step& s, const Event& e) {
    s.stop_timer(RequestTimer::Provider);
    s.finish(Outcome::Failed, e.reason, e.message);
}

void on_provider_timeout(Step& s, const Event&) {
    s.count("provider:timeout");
    s.finish(Outcome::Failed, Reason::of(ReasonCode::ProviderTimeout),
             "no decision from the provider within " +
                 std::to_string(s.limits.provider_timeout_ms / 1000) + " s");
}

void on_queued(Step& s, const Event& e) {
    RequestData& d = s.d;
    d.outstanding.push_back(e.packet);
    d.sent_counter = e.packet.counter;
    s.dirty();
    if (e.packet.phase == Phase::Audit) {
        d.audits++;
        s.move(RequestState::Reconciling);
        return;
    }
    if (e.packet.phase == Phase::Load || e.packet.phase == Phase::Clean) {
        if (e.packet.phase == Phase::Load)
            s.load().started = true;
        s.move(RequestState::Loading);
        if (!d.pending_recorded) {
            d.pending_recorded = true;
            s.record(CardAppState::pending_of(s.ctx.operation), d.known_life_cycle,
                     e.packet.counter);
        }
        return;
    }
    d.sends++;
    s.move(RequestState::Sent);
    if (s.ctx.operation != Operation::Query) {
        d.pending_recorded = true;
        s.record(CardAppState::pending_of(s.ctx.operation), d.known_life_cycle, e.packet.counter);
    }
}

void on_not_sent(Step& s, const Event& e) {
    s.finish(Outcome::Failed, e.reason, e.message);
}

void on_submitted(Step& s, const Event& e) {
    // Its PoR's time runs from the SMSC's acknowledgement (a packet may queue a while first).
    if (const SentPacket* p = s.current(); p && p->message_id == e.message_id)
        s.start_timer(RequestTimer::Por, s.limits.por_timeout_ms);
}

void on_submit_failed(Step& s, const Event& e) {
    const SentPacket* p = s.current();
    if (!p || p->message_id != e.message_id)
        return; // an older packet's: the current one decides
    s.d.outstanding.pop_back();
    s.count("ota:submit_failed");
    if (!e.reason.empty()) // the BIP bearer: the card never came for it (the reason says why)
        return s.finish(Outcome::Failed, e.reason, e.message);
    s.finish(Outcome::Failed, Reason::of(ReasonCode::SmscRefused), "submit_sm: " + e.message);
}

void on_por_timeout(Step& s, const Event&) {
    s.count("por:timeout");
    s.audit("por.timeout", s.request() + ": no PoR within " +
                               std::to_string(s.limits.por_timeout_ms / 1000) +
                               " s; reading the card (GET STATUS)");
    if (s.ctx.state == RequestState::Sent) {
        s.d.known_state = {AppState::Unknown};
        s.d.known_life_cycle.reset();
        s.d.pending_recorded = false;
        s.record({AppState::Unknown}, std::nullopt, s.d.sent_counter);
        s.dirty();
    }
    if (s.d.audits >= s.limits.max_audits)
        return s.finish(Outcome::Failed, Reason::of(ReasonCode::PorLost));
    s.send(Phase::Audit);
}

// The answer to the packet the request waits for: the operation's (sent) or the audit's
// (reconciling). Only the current packet's refusal counts; an older copy's is left to it.
void on_awaited_answer(Step& s, const Event& e) {
    bool current = false;
    auto p = take_packet(s, e.por, &current);
    if (!p)
        return;
    switch (e.por.status) {
    case ota::PorStatus::Ok:
        if (p->phase == Phase::Load)
            return apply_load_answer(s, *p, e.por);
        if (p->phase == Phase::Clean)
            return apply_clean_answer(s, e.por);
        return apply_answer(s, *p, e.por);
    case ota::PorStatus::CounterLow:
    case ota::PorStatus::CounterHigh:
        if (current)
            resynchronise(s, *p, e.por);
        return;
    default:
        if (current)
            card_error(s, e.por);
    }
}

// An operation's PoR while the card is read: it came after por-timeout, and it is still the
// card's word: applied (the request ends with what the card did). Refusals of the counter or
// security errors of an older copy are left to the audit.
void on_late_operation_por(Step& s, const Event& e) {
    auto p = take_packet(s, e.por, nullptr);
    if (p && p->phase == Phase::Operation && e.por.status == ota::PorStatus::Ok)
        apply_answer(s, *p, e.por);
    // A load packet's late answer: the audit out decides where the load stands.
}

// An older audit's answer after the operation was sent again: its state is learnt if it is
// the newest word of the card, but the operation's own PoR decides.
void on_audit_answer_while_sent(Step& s, const Event& e) {
    auto p = take_packet(s, e.por, nullptr);
    if (p && e.por.status == ota::PorStatus::Ok && e.por.answer && e.por.answer->registry_known)
        s.learn(*p, state_from_registry(e.por.answer->life_cycle, s.ctx.operation),
                e.por.answer->life_cycle);
}

void on_cancel(Step& s, const Event&) {
    if (s.ctx.state == RequestState::Provider)
        s.stop_timer(RequestTimer::Provider);
    s.finish(Outcome::Failed, Reason::of(ReasonCode::Cancelled), "cancelled by the operator");
}

using S = RequestState;
using E = EventKind;

constexpr uint16_t kEnds = states_mask({S::Done, S::Failed});
constexpr uint16_t kFails = states_mask({S::Failed});
constexpr uint16_t kSending = states_mask({S::Sent, S::Loading});

const Transition kTable[] = {
    {S::Accepted, E::Start, on_start, "ask the provider; without one, send the operation",
     states_mask({S::Provider})},
    {S::Accepted, E::Resume, on_start, "ask the provider; without one, send the operation",
     states_mask({S::Provider})},
    {S::Accepted, E::Queued, on_queued, "the operation's packet, or the load's first, is written",
     kSending},
    {S::Accepted, E::NotSent, on_not_sent, "no packet could be made", kFails},
    {S::Accepted, E::Cancel, on_cancel, "withdrawn", kFails},

    {S::Provider, E::Resume, on_resume_provider, "ask the provider again", 0},
    {S::Provider, E::ProviderApproved, on_approved, "send the operation",
     states_mask({S::Approved})},
    {S::Provider, E::ProviderVetoed, on_vetoed, "refused by the provider",
     states_mask({S::Refused})},
    {S::Provider, E::ProviderFailed, on_provider_failed, "the provider's call failed", kFails},
    {S::Provider, E::ProviderTimeout, on_provider_timeout, "no decision in time", kFails},
    {S::Provider, E::Cancel, on_cancel, "withdrawn", kFails},

    {S::Approved, E::Resume, on_resume_approved, "send the operation", 0},
    {S::Approved, E::Queued, on_queued, "the operation's packet, or the load's first, is written",
     kSending},
    {S::Approved, E::NotSent, on_not_sent, "no packet could be made", kFails},
    {S::Approved, E::Cancel, on_cancel, "withdrawn", kFails},

    {S::Sent, E::Resume, on_resume_waiting, "wait out the PoR's time", 0},
    {S::Sent, E::Queued, on_queued,
     "the audit's packet is written, the operation's again, or a load's clean-up (the card has "
     "no load file after all)",
     states_mask({S::Reconciling, S::Loading})},
    {S::Sent, E::NotSent, on_not_sent, "no packet could be made", kFails},
    {S::Sent, E::Submitted, on_submitted, "the PoR's time runs", 0},
    {S::Sent, E::SubmitFailed, on_submit_failed, "the SMSC refused it", kFails},
    {S::Sent, E::Por, on_awaited_answer,
     "the card's answer: done or failed; a resynchronisation, or an audit when in doubt", kEnds},
    {S::Sent, E::AuditAnswer, on_audit_answer_while_sent,
     "an older audit's answer: its state learnt, the operation's PoR decides", 0},
    {S::Sent, E::PorTimeout, on_por_timeout, "the application unknown: read the card, or give up",
     states_mask({S::Failed})},

    {S::Reconciling, E::Resume, on_resume_waiting, "wait out the PoR's time", 0},
    {S::Reconciling, E::Queued, on_queued,
     "the operation's packet is written again, another audit's, or a load's clean-up", kSending},
    {S::Reconciling, E::NotSent, on_not_sent, "no packet could be made", kFails},
    {S::Reconciling, E::Submitted, on_submitted, "the PoR's time runs", 0},
    {S::Reconciling, E::SubmitFailed, on_submit_failed, "the SMSC refused it", kFails},
    {S::Reconciling, E::Por, on_late_operation_por,
     "the operation's late answer, applied in counter order", kEnds},
    {S::Reconciling, E::AuditAnswer, on_awaited_answer,
     "what the card reads back decides; never run: the operation again; no load file: clean up "
     "and load again",
     kEnds},
    {S::Reconciling, E::PorTimeout, on_por_timeout, "read the card again, or give up", kFails},

    {S::Loading, E::Resume, on_resume_waiting, "wait out the PoR's time", 0},
    {S::Loading, E::Queued, on_queued,
     "the load's next packet is written, or the install once loaded, or an audit",
     states_mask({S::Sent, S::Reconciling})},
    {S::Loading, E::NotSent, on_not_sent, "no packet could be made", kFails},
    {S::Loading, E::Submitted, on_submitted, "the PoR's time runs", 0},
    {S::Loading, E::SubmitFailed, on_submit_failed, "the SMSC refused it", kFails},
    {S::Loading, E::Por, on_awaited_answer,
     "a block confirmed: the next packet, or the install; a refusal: clean up, then fail", kFails},
    {S::Loading, E::AuditAnswer, on_audit_answer_while_sent, "an older audit's answer: learnt", 0},
    {S::Loading, E::PorTimeout, on_por_timeout, "read the card: where does the load stand?",
     kFails},
};

} // namespace

uint32_t RequestContext::load_blocks() const {
    uint32_t n = 0;
    for (uint16_t b : load_plan)
        n += b;
    return n;
}

std::span<const Transition> request_transitions() {
    return kTable;
}

bool RequestFsm::accepts(RequestState state, EventKind event) {
    return std::any_of(std::begin(kTable), std::end(kTable),
                       [&](const Transition& t) { return t.state == state && t.event == event; });
}

Handled RequestFsm::handle(RequestContext& ctx, const Event& event) const {
    Handled out;
    out.from = ctx.state;
    for (size_t i = 0; i < std::size(kTable); i++) {
        const Transition& t = kTable[i];
        if (t.state != ctx.state || t.event != event.kind)
            continue;
        out.handled = true;
        out.row = i;
        Step step{ctx, ctx.data, limits_, clock_, out};
        t.handler(step, event);
        return out;
    }
    return out;
}

} // namespace otagw::gateway
