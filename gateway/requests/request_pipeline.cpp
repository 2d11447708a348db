// SPDX-License-Identifier: GPL-2.0-or-later
#include "requests/request_pipeline.hpp"

#include <algorithm>

#include "intake/msisdn.hpp"
#include "intake/replies.hpp"
#include "otagw/common/log.hpp"
#include "otagw/ota/globalplatform.hpp"
#include "otagw/ota/ts_102_226.hpp"
#include "otagw/ota/ts_31_115.hpp"
#include "requests/operations.hpp"
#include "requests/por_reader.hpp"
#include "requests/request_data.hpp"

namespace otagw::gateway {

namespace {

constexpr const char* kLog = "request";

std::string tar_hex(const ota::Tar& tar) {
    return to_hex(ByteView(tar.data(), tar.size()));
}

// The card's ISD TAR as the inventory gives it; '000000' (TS 102 226 §8.1) otherwise.
ota::Tar isd_tar(const std::vector<db::CardTar>& tars) {
    for (const auto& t : tars)
        if (t.kind == "isd")
            if (auto tar = ota::parse_tar(t.tar))
                return *tar;
    return ota::ram::kTarIsdRam;
}

Event not_sent(ReasonCode code, std::string message) {
    Event e(EventKind::NotSent);
    e.reason = Reason::of(code);
    e.message = std::move(message);
    return e;
}

} // namespace

Result<RequestContext> request_context(const db::Request& row) {
    auto state = request_state_named(row.state);
    auto op = operation_named(row.operation);
    if (!state || !op)
        return make_error("request " + std::to_string(row.id) + ": state '" + row.state +
                              "' or operation '" + row.operation + "' unknown",
                          Errc::Corrupt);
    RequestContext ctx;
    ctx.id = row.id;
    ctx.operation = *op;
    ctx.state = *state;
    ctx.reason = Reason::parse(row.reason).value_or(Reason());
    OTAGW_TRY_ASSIGN(ctx.data, decode_request_data(row.detail));
    return ctx;
}

struct RequestPipeline::Live {
    db::Request row; // as stored (state, reason and detail follow the machine)
    db::Application app;
    const CapLoad* cap = nullptr; // the application's CAP file, for an install that loads it
    RequestContext ctx;
    bool stored = false; // the row is written (else submit() writes it once, at the end)
    bool dirty = false;  // to be written
    bool ended = false;
    bool ended_in_submit = false; // the caller of submit() is told, not the finished hook
    std::deque<Event> queue;
    bool running = false;
    std::map<int64_t, db::OtaMessage> packets; // the packets it waits on, as written
    std::vector<db::OtaMessage> unwritten;     // made before the row is written
    std::optional<CardKeys> keys;              // as its last packet used them
    std::unique_ptr<uv::Timer> timers[2];      // by RequestTimer
};

RequestPipeline::RequestPipeline(uv_loop_t* loop, db::Store& store, Transactions& transactions,
                                 Catalog& catalog, const GatewayConfig& config,
                                 Providers& providers, ResultCallbacks& callbacks,
                                 const db::KeyVault& vault, const CapLoads& caps,
                                 const Clock& clock)
    : loop_(loop), store_(store), transactions_(transactions), catalog_(catalog), config_(config),
      providers_(providers), callbacks_(callbacks), vault_(vault), caps_(caps), clock_(clock),
      fsm_(config.ota.limits, clock), latency_(loop, counters_) {}

RequestPipeline::~RequestPipeline() {
    *alive_ = false;
}

void RequestPipeline::stop() {
    stopped_ = true;
    latency_.stop();
    live_.clear();
    live_by_card_.clear();
    senders_.clear();
}

ota::Spi RequestPipeline::configured_spi() const {
    ota::Spi spi;
    spi.first = static_cast<uint8_t>(config_.ota.spi >> 8);
    spi.second = static_cast<uint8_t>(config_.ota.spi);
    return spi;
}

std::string RequestPipeline::subject(const Live& l) const {
    return l.ctx.data.iccid.empty() ? l.row.msisdn : l.ctx.data.iccid;
}

void RequestPipeline::fail_quietly(const std::string& where, const Error& e) {
    counters_.inc("request:internal_errors");
    log::error(kLog, where + ": " + e.message);
}

void RequestPipeline::audit(const std::string& actor, const std::string& action,
                            const std::string& subject, const std::string& detail) {
    if (auto r = store_.append_audit({0, 0, actor, action, subject, detail}); !r)
        fail_quietly("audit", r.error());
}

RequestPipeline::Live* RequestPipeline::live(int64_t id) {
    auto it = live_.find(id);
    return it == live_.end() ? nullptr : it->second.get();
}

// ---- intake -----------------------------------------------------------------------------------

Result<Submitted> RequestPipeline::submit(const NewRequest& n) {
    if (n.bearer == "bip" && !bip_)
        return make_error("bearer bip: this gateway has no ras node (doc/bip.md)", Errc::Invalid);
    CheckedRequest c;
    OTAGW_TRY_ASSIGN(c, check_request(n, store_, catalog_, config_.requests, config_.ota.kvn));
    const bool refused = c.refused();
    // An API caller is shown the request as accepted, and a request with an idempotency key may
    // name an earlier one: those are written first. Any other (a subscriber's, a campaign's) is
    // written once, in the state it reaches at once (sent, with its packet).
    const bool write_first = refused || c.row.source == "api" || !c.row.idempotency_key.empty();
    Submitted out;
    Status st = transactions_.atomically([&]() -> Status {
        if (!write_first)
            OTAGW_TRY_ASSIGN(c.row.id, store_.next_request_id());
        c.row.detail = encode_request_data(c.ctx.data);
        if (write_first) {
            std::pair<db::Request, bool> put;
            OTAGW_TRY_ASSIGN(put, store_.put_request(c.row));
            out.request = put.first;
            out.created = put.second;
            if (!put.second) // the idempotency key named this earlier request
                return {};
            c.row = put.first;
        }
        c.ctx.id = c.row.id;
        out.created = true;
        const std::string subject = c.card ? c.card->iccid : c.row.msisdn;
        const std::string& message = c.ctx.data.message;
        audit(c.row.actor, refused ? "request.refused" : "request.accepted", subject,
              "request " + std::to_string(c.row.id) + " " + c.row.operation + " " +
                  (c.app ? c.app->name : n.app_code) + (refused ? ": " + message : ""));
        if (refused) {
            out.ctx = c.ctx;
            // A refused SMS request is answered by SMS (once the refusal is durable); an
            // operator's refused call is answered by the API alone (the subscriber asked nothing).
            if (n.source == "sms")
                reply(c.row.msisdn,
                      reply_text(c.row.language, c.ctx.operation,
                                 c.ctx.data.app_name.empty() ? n.app_code : c.ctx.data.app_name,
                                 outcome_name(Outcome::Refused), c.ctx.reason.name(), "",
                                 c.row.id));
            return {};
        }
        latency_.intake(c.row.id);
        auto owned = std::make_unique<Live>();
        Live& l = *owned;
        l.row = c.row;
        l.app = *c.app;
        l.ctx = c.ctx;
        l.stored = write_first;
        l.ended_in_submit = true;
        l.ctx.data.bip = choose_bip(l, n.bearer);
        plan_load(l);
        live_[l.ctx.id] = std::move(owned);
        live_by_card_[l.row.card_id].push_back(l.ctx.id);
        l.queue.push_back(Event(EventKind::Start));
        process(l);
        if (!l.stored)
            OTAGW_TRY_STATUS(store_row(l));
        l.ended_in_submit = false;
        settle(l);        // a request that ended is retired, not destroyed yet
        if (!write_first) // else: as first written (an API caller is shown it accepted)
            out.request = l.row;
        out.ctx = l.ctx;
        return {};
    });
    if (!st) {
        // Rolled back: nothing of it was written, nothing left (after_commit dropped it all).
        if (Live* l = c.row.id ? live(c.row.id) : nullptr)
            retire(*l);
        return st.take_error();
    }
    if (!out.created)
        return out;
    counters_.inc(refused ? "request:refused" : "request:accepted");
    if (refused) {
        counters_.inc("request:refused:" + c.ctx.reason.name());
        log::info(kLog, "request " + std::to_string(c.row.id) + " refused: " + c.ctx.data.message);
    }
    return out;
}

// ---- running the machine --------------------------------------------------------------------

void RequestPipeline::run(Live& l, Event event) {
    l.queue.push_back(std::move(event));
    if (l.running)
        return; // the run under way takes it in turn
    process(l);
    settle(l);
}

void RequestPipeline::process(Live& l) {
    l.running = true;
    while (!l.queue.empty()) {
        Event e = std::move(l.queue.front());
        l.queue.pop_front();
        const Handled h = fsm_.handle(l.ctx, e);
        trace(l, e, h);
        if (!h.handled) {
            counters_.inc("request:events_ignored");
            continue;
        }
        l.dirty |= h.changed;
        for (const Action& a : h.actions)
            execute(l, a);
    }
    l.running = false;
}

void RequestPipeline::settle(Live& l) {
    // The packets answered (taken off the machine's list) are no longer waited on.
    std::erase_if(l.packets, [&](const auto& kv) {
        const auto& list = l.ctx.data.outstanding;
        return std::none_of(list.begin(), list.end(),
                            [&](const SentPacket& p) { return p.message_id == kv.first; });
    });
    if (l.dirty && l.stored)
        save(l);
    if (l.ended)
        retire(l);
}

namespace {

// The additional data that binds a request's sealed personalisation to the request.
std::string personalisation_aad(int64_t request_id) {
    return "request/" + std::to_string(request_id) + "/personalisation";
}

} // namespace

// The row as the machine has it now: the one place a request's state, reason and working data
// are turned into what the store keeps (the personalisation sealed, never in clear).
void RequestPipeline::row_of_machine(Live& l) {
    RequestData& d = l.ctx.data;
    if (!d.personalisation.empty() && d.sealed_personalisation.empty()) {
        auto sealed = vault_.seal(d.personalisation, personalisation_aad(l.ctx.id));
        if (sealed)
            d.sealed_personalisation = std::move(*sealed);
        else
            fail_quietly("request " + std::to_string(l.ctx.id), sealed.error());
    }
    l.row.state = request_state_name(l.ctx.state);
    l.row.reason = l.ctx.reason.name();
    l.row.detail = encode_request_data(l.ctx.data);
}

Status RequestPipeline::store_row(Live& l) {
    row_of_machine(l);
    std::pair<db::Request, bool> put;
    OTAGW_TRY_ASSIGN(put, store_.put_request(l.row));
    l.row = put.first;
    l.stored = true;
    l.dirty = false;
    for (auto& m : l.unwritten)
        OTAGW_TRY_STATUS(store_.add_ota_message(m));
    l.unwritten.clear();
    return {};
}

void RequestPipeline::save(Live& l) {
    row_of_machine(l);
    if (Status st = store_.set_request(l.ctx.id, l.row.state, l.row.reason, l.row.detail); !st)
        fail_quietly("request " + std::to_string(l.ctx.id), st.error());
    l.dirty = false;
}

void RequestPipeline::trace(const Live& l, const Event& e, const Handled& h) const {
    if (h.handled && !log::enabled(log::Level::Debug, kLog))
        return;
    const std::string who = "request " + std::to_string(l.ctx.id) + " (ICCID " + l.ctx.data.iccid +
                            ", " + l.app.name + "): ";
    if (!h.handled) {
        log::info(kLog, who + "event " + event_name(e.kind) + " in state " +
                            request_state_name(l.ctx.state) + " has no transition: ignored");
        return;
    }
    log::debug(kLog, who + request_state_name(h.from) + " --" + event_name(e.kind) + "--> " +
                         request_state_name(l.ctx.state) + " (" +
                         request_transitions()[h.row].summary + ")");
}

void RequestPipeline::execute(Live& l, const Action& a) {
    switch (a.kind) {
    case ActionKind::AskProvider:
        return ask_provider(l);
    case ActionKind::SendPacket:
        return send_packet(l, a.phase, a.index);
    case ActionKind::StartTimer:
        return start_timer(l, a.timer, a.ms);
    case ActionKind::StopTimer:
        if (auto& t = l.timers[static_cast<size_t>(a.timer)])
            t->stop();
        return;
    case ActionKind::RecordCardState:
        return record_card_state(l, a);
    case ActionKind::RaiseCounter:
        if (Status st = store_.raise_counter(l.row.card_id, l.ctx.kvn, a.counter); !st)
            fail_quietly("counter resync", st.error());
        return;
    case ActionKind::AuditLog:
        return audit("daemon", a.name, subject(l), a.text);
    case ActionKind::Count:
        return counters_.inc(a.name);
    case ActionKind::Finish:
        return finish(l, a.outcome);
    }
}

void RequestPipeline::start_timer(Live& l, RequestTimer timer, int64_t ms) {
    auto& t = l.timers[static_cast<size_t>(timer)];
    if (!t)
        t = std::make_unique<uv::Timer>(loop_);
    const int64_t id = l.ctx.id;
    const EventKind kind =
        timer == RequestTimer::Por ? EventKind::PorTimeout : EventKind::ProviderTimeout;
    t->start(static_cast<uint64_t>(std::max<int64_t>(ms, 0)), [this, id, kind] {
        Status st = transactions_.in_one([&] {
            if (Live* timed = live(id))
                run(*timed, Event(kind));
        });
        if (!st)
            fail_quietly(event_name(kind), st.error());
    });
}

void RequestPipeline::ask_provider(Live& l) {
    ProviderClient* p = providers_.find(l.app.provider);
    if (!p) {
        Event e(EventKind::ProviderFailed);
        e.reason = Reason::of(ReasonCode::ProviderUnavailable);
        e.message = "provider " + l.app.provider + " is not configured or has no secret";
        l.queue.push_back(std::move(e));
        return;
    }
    const nlohmann::json body = {
        {"request_id", l.ctx.id},    {"operation", operation_name(l.ctx.operation)},
        {"application", l.app.name}, {"aid", l.app.aid},
        {"msisdn", l.row.msisdn},    {"iccid", l.ctx.data.iccid}};
    counters_.inc("provider:authorize");
    std::weak_ptr<bool> alive = alive_;
    const int64_t id = l.ctx.id;
    // Called after the commit: the request is durable in its provider state first.
    transactions_.after_commit([this, alive, p, id, body] {
        if (alive.expired() || stopped_)
            return;
        p->call("/authorize", body, [this, alive, id](Result<ProviderClient::Answer> answer) {
            if (alive.expired() || stopped_)
                return;
            Status st = transactions_.in_one([&] {
                if (Live* asked = live(id))
                    run(*asked, decision_event(answer));
            });
            if (!st)
                fail_quietly("provider answer", st.error());
        });
    });
}

void RequestPipeline::plan_load(Live& l) {
    l.cap = l.ctx.operation == Operation::Install ? caps_.of(l.app.name) : nullptr;
    if (!l.cap)
        return;
    l.ctx.load_plan = l.cap->blocks_per_packet(l.ctx.data.bip);
    if (l.ctx.data.load) {
        l.ctx.data.load->blocks = l.ctx.load_blocks();
        return; // resumed: its progress is stored
    }
    LoadProgress progress;
    progress.blocks = l.ctx.load_blocks();
    // The inventory may know the card holds the load file already (another application of the
    // package, or a load that ended): then no load. Wrong, the card refuses INSTALL [for
    // install] and an audit tells.
    if (auto files = store_.card_load_files(l.row.card_id))
        progress.loaded = std::any_of(files->begin(), files->end(), [&](const db::LoadFile& f) {
            return f.aid == l.cap->cap.package.aid.hex();
        });
    l.ctx.data.load = progress;
}

// The load file the card now holds (with the modules its CAP declares), in the inventory.
void RequestPipeline::record_load_file(Live& l) {
    auto files = store_.card_load_files(l.row.card_id);
    if (!files)
        return fail_quietly("load files", files.error());
    const std::string aid = l.cap->cap.package.aid.hex();
    std::erase_if(*files, [&](const db::LoadFile& f) { return f.aid == aid; });
    db::LoadFile f{aid, {}};
    for (const auto& m : l.cap->cap.applets)
        f.modules.push_back(m.hex());
    files->push_back(std::move(f));
    if (Status st = store_.set_card_load_files(l.row.card_id, *files); !st)
        fail_quietly("load files", st.error());
}

void RequestPipeline::forget_load_file(Live& l) {
    const std::string& elf = l.app.load_file_aid;
    auto files = store_.card_load_files(l.row.card_id);
    if (!files)
        return fail_quietly("load files", files.error());
    std::erase_if(*files, [&](const db::LoadFile& f) { return f.aid == elf; });
    if (Status st = store_.set_card_load_files(l.row.card_id, *files); !st)
        return fail_quietly("load files", st.error());
    auto apps = store_.card_apps(l.row.card_id);
    if (!apps)
        return fail_quietly("card applications", apps.error());
    for (db::CardApp a : *apps) {
        if (a.aid == l.app.aid || a.load_file_aid != elf || a.state == "absent" ||
            a.state == "terminated")
            continue;
        a.state = CardAppState{AppState::Terminated}.name();
        a.life_cycle.reset();
        a.updated_at = clock_.now_ms();
        a.kvn = l.ctx.kvn;
        a.counter = l.ctx.data.learned_counter;
        if (Status st = store_.put_card_app(l.row.card_id, a); !st)
            return fail_quietly("card application state", st.error());
        audit("daemon", "app.state", subject(l),
              a.aid + " is terminated: deleted with load file " + elf + " (request " +
                  std::to_string(l.ctx.id) + ")");
    }
    audit("daemon", "app.load_file_deleted", subject(l),
          "load file " + elf + " deleted with its related objects (request " +
              std::to_string(l.ctx.id) + ")");
}

bool RequestPipeline::choose_bip(const Live& l, const std::string& asked) const {
    using B = OtaConfig::Bearer;
    const B b = asked == "bip"      ? B::Bip
                : asked == "sms-pp" ? B::SmsPp
                : asked == "auto"   ? B::Auto
                                    : config_.ota.bearer;
    if (b == B::SmsPp || !bip_)
        return false;
    if (b == B::Bip)
        return true;
    // auto: the SMS the request's scripts take, a load's packets filling max-segments each.
    const CapLoad* cap = l.ctx.operation == Operation::Install ? caps_.of(l.app.name) : nullptr;
    const size_t sms = 1 + (cap ? cap->packets.size() * config_.ota.max_segments : 0);
    return sms > config_.ota.bip_above_sms;
}

bool RequestPipeline::record_packet(Live& l, db::OtaMessage& m, Phase phase, uint32_t index,
                                    const char* bearer) {
    if (l.stored) {
        auto id = store_.add_ota_message(m);
        if (!id) {
            l.queue.push_back(not_sent(ReasonCode::CannotSend, id.error().message));
            return false;
        }
        m.id = *id;
    } else { // written with the request, once it is
        auto id = store_.next_ota_message_id();
        if (!id) {
            l.queue.push_back(not_sent(ReasonCode::CannotSend, id.error().message));
            return false;
        }
        m.id = *id + static_cast<int64_t>(l.unwritten.size());
        l.unwritten.push_back(m);
    }
    counters_.inc(std::string(bearer) + (phase == Phase::Audit   ? ":audit_sent"
                                         : phase == Phase::Load  ? ":load_sent"
                                         : phase == Phase::Clean ? ":clean_sent"
                                                                 : ":sent"));
    Event queued(EventKind::Queued);
    queued.packet = {m.id, m.counter, phase, clock_.now_ms(), index};
    l.queue.push_back(std::move(queued));
    return true;
}

void RequestPipeline::send_packet(Live& l, Phase phase, uint32_t index) {
    if (l.ctx.data.bip) {
        auto script = packet_script(l.ctx, l.app, l.cap, phase, index);
        if (!script)
            return l.queue.push_back(not_sent(ReasonCode::BadCatalogEntry, script.error().message));
        return send_bip(l, phase, index, std::move(*script));
    }
    if (!esme_)
        return l.queue.push_back(not_sent(ReasonCode::NoSmsc, "no SMSC bind is configured"));
    auto script = packet_script(l.ctx, l.app, l.cap, phase, index);
    if (!script)
        return l.queue.push_back(not_sent(ReasonCode::BadCatalogEntry, script.error().message));
    // The counter and the packet are committed before the packet leaves (DESIGN.md §4).
    auto taken = store_.next_counter_with_keys(l.row.card_id, l.ctx.kvn);
    if (!taken)
        return l.queue.push_back(not_sent(ReasonCode::CannotSend, taken.error().message));
    if (!*taken)
        return l.queue.push_back(
            not_sent(ReasonCode::NoKeyset, "the card has no keyset " + std::to_string(l.ctx.kvn)));
    CardKeys keys = card_keys_of((*taken)->keyset, config_.ota.rc_in_use());
    ota::CommandHeader h;
    h.spi = configured_spi();
    h.kic = keys.kic;
    h.kid = keys.kid;
    h.tar = isd_tar((*taken)->tars);
    h.counter = (*taken)->keyset.counter;
    Bytes packet;
    if (Status st =
            ota::build_command_packet(h, keys.keys, ota::ram::compact_script(*script), packet);
        !st)
        return l.queue.push_back(not_sent(ReasonCode::CannotSend, st.error().message));
    db::OtaMessage m;
    m.request_id = l.ctx.id;
    m.card_id = l.row.card_id;
    m.kvn = l.ctx.kvn;
    m.counter = h.counter;
    m.tar = tar_hex(h.tar);
    m.user_data = ota::sms::command_user_data(packet);
    m.state = db::ota_message_state::kQueued;
    if (!record_packet(l, m, phase, index, "ota"))
        return;
    // Its PoR is matched from now on.
    senders_[l.row.msisdn] = {l.row.card_id, l.ctx.data.iccid};
    l.keys = std::move(keys);
    smpp::SmsPp sms;
    sms.source = {0, 1, config_.requests.short_code.empty() ? "0" : config_.requests.short_code};
    sms.dest = {1, 1, l.row.msisdn};
    sms.user_data = m.user_data;
    sms.registered_delivery = false;
    sms.bulk = l.row.source == "campaign";
    const int64_t id = l.ctx.id, message_id = m.id;
    l.packets[m.id] = std::move(m);
    std::weak_ptr<bool> alive = alive_;
    transactions_.after_commit([this, alive, id, message_id, sms = std::move(sms)]() mutable {
        if (alive.expired() || stopped_ || !esme_)
            return;
        latency_.handed_off(id); // committed and flushed: the submit_sm leaves now
        esme_->submit(std::move(sms), [this, alive, id, message_id](const smpp::SubmitResult& r) {
            if (alive.expired() || stopped_)
                return;
            Status st = transactions_.in_one([&] { on_submitted(id, message_id, r); });
            if (!st)
                fail_quietly("submit_sm result", st.error());
        });
    });
}

void RequestPipeline::send_bip(Live& l, Phase phase, uint32_t index,
                               std::vector<ota::Apdu> script) {
    if (!bip_)
        return l.queue.push_back(not_sent(ReasonCode::CannotSend, "BIP: no ras is configured"));
    auto psk = store_.psk_keysets(l.row.card_id);
    if (!psk)
        return l.queue.push_back(not_sent(ReasonCode::CannotSend, psk.error().message));
    if (psk->empty())
        return l.queue.push_back(
            not_sent(ReasonCode::NoKeyset, "BIP: the card has no SCP81 keyset"));
    // The script's counter orders what the card tells of it among the request's other packets,
    // as an SMS packet's does (it never reaches the card: TLS protects the script).
    auto counter = store_.next_counter(l.row.card_id, l.ctx.kvn);
    if (!counter)
        return l.queue.push_back(not_sent(ReasonCode::NoKeyset, counter.error().message));
    db::OtaMessage m;
    m.request_id = l.ctx.id;
    m.card_id = l.row.card_id;
    m.kvn = l.ctx.kvn;
    m.counter = *counter;
    m.tar = tar_hex(ota::ram::kTarIsdRam); // the security domain that ends the TLS session
    m.user_data = ota::ram::expanded_script(script);
    m.state = db::ota_message_state::kQueued;
    if (!record_packet(l, m, phase, index, "bip"))
        return;
    const int64_t card_id = l.row.card_id, message_id = m.id;
    Bytes body = m.user_data;
    bip_scripts_[message_id] = l.ctx.id;
    l.packets[message_id] = std::move(m);
    bip_->queue(card_id, message_id);
    std::weak_ptr<bool> alive = alive_;
    transactions_.after_commit(
        [this, alive, card_id, message_id, body = std::move(body)]() mutable {
            if (alive.expired() || stopped_ || !bip_)
                return;
            bip_->ready(card_id, message_id, std::move(body));
        });
}

RequestPipeline::Live* RequestPipeline::bip_owner(int64_t message_id) {
    auto it = bip_scripts_.find(message_id);
    if (it == bip_scripts_.end())
        return nullptr;
    Live* l = live(it->second);
    if (!l)
        bip_scripts_.erase(it);
    return l;
}

void RequestPipeline::bip_event(int64_t message_id, const char* what,
                                std::function<void(Live&)> fn) {
    Status st = transactions_.in_one([&] {
        if (Live* l = bip_owner(message_id))
            fn(*l);
        else
            counters_.inc(std::string("bip:") + what + "_unclaimed");
    });
    if (!st)
        fail_quietly(std::string("BIP script ") + what, st.error());
}

void RequestPipeline::send_push(int64_t card_id, Bytes trigger, int64_t for_message,
                                std::function<void(int64_t)> written,
                                std::function<void(std::string error)> submitted) {
    // The number the push goes to: the request's (the channel's scripts are its card's).
    Live* owner = bip_owner(for_message);
    const std::string msisdn = owner ? owner->row.msisdn : "";
    const int64_t request_id = owner ? owner->ctx.id : 0;
    auto work = [this, card_id, trigger = std::move(trigger), msisdn, request_id,
                 written = std::move(written), submitted = std::move(submitted)]() mutable {
        if (stopped_)
            return;
        if (!esme_)
            return submitted("no SMSC bind is configured for the push");
        if (msisdn.empty())
            return submitted("no MSISDN known for the card's push");
        int64_t message_id = 0;
        smpp::SmsPp sms;
        Status st = transactions_.atomically([&]() -> Status {
            auto taken = store_.next_counter_with_keys(card_id, config_.ota.kvn);
            if (!taken)
                return taken.take_error();
            if (!*taken)
                return make_error("the card has no keyset " + std::to_string(config_.ota.kvn));
            CardKeys keys = card_keys_of((*taken)->keyset, config_.ota.rc_in_use());
            ota::CommandHeader h;
            h.spi = configured_spi();
            h.spi.second = static_cast<uint8_t>((h.spi.second & ~0x03) | 0x02); // PoR on error
            h.kic = keys.kic;
            h.kid = keys.kid;
            h.tar = isd_tar((*taken)->tars);
            h.counter = (*taken)->keyset.counter;
            Bytes packet;
            OTAGW_TRY_STATUS(ota::build_command_packet(h, keys.keys, trigger, packet));
            db::OtaMessage m;
            if (Live* l = live(request_id); l && l->stored)
                m.request_id = request_id;
            m.card_id = card_id;
            m.kvn = config_.ota.kvn;
            m.counter = h.counter;
            m.tar = tar_hex(h.tar);
            m.user_data = ota::sms::command_user_data(packet);
            m.state = db::ota_message_state::kQueued;
            OTAGW_TRY_ASSIGN(message_id, store_.add_ota_message(m));
            sms.user_data = m.user_data;
            return {};
        });
        if (!st)
            return submitted("the push: " + st.error().message);
        written(message_id);
        counters_.inc("bip:push_sent");
        senders_[msisdn] = {card_id, ""};
        sms.source = {0, 1,
                      config_.requests.short_code.empty() ? "0" : config_.requests.short_code};
        sms.dest = {1, 1, msisdn};
        sms.registered_delivery = false;
        std::weak_ptr<bool> alive = alive_;
        transactions_.after_commit([this, alive, message_id, sms = std::move(sms),
                                    submitted = std::move(submitted)]() mutable {
            if (alive.expired() || stopped_ || !esme_)
                return;
            esme_->submit(std::move(sms), [this, alive, message_id,
                                           submitted =
                                               std::move(submitted)](const smpp::SubmitResult& r) {
                if (alive.expired() || stopped_)
                    return;
                const std::string smsc_id = r.segments.empty() ? "" : r.segments.front().message_id;
                (void)transactions_.in_one([&] {
                    if (Status s =
                            store_.set_ota_message_state(message_id,
                                                         r.ok ? db::ota_message_state::kSubmitted
                                                              : db::ota_message_state::kRefused,
                                                         smsc_id);
                        !s)
                        fail_quietly("push " + std::to_string(message_id), s.error());
                });
                submitted(r.ok ? std::string() : "submit_sm: " + r.error);
            });
        });
    };
    // Written after what the transaction under way writes (a request written at its end takes
    // the message ids it counted on).
    if (transactions_.open())
        transactions_.after_commit(std::move(work));
    else
        work();
}

void RequestPipeline::delivered(int64_t message_id) {
    bip_event(message_id, "delivered", [&](Live& l) {
        if (Status st =
                store_.set_ota_message_state(message_id, db::ota_message_state::kSubmitted, "bip");
            !st)
            fail_quietly("BIP script " + std::to_string(message_id), st.error());
        latency_.acknowledged(l.ctx.id);
        Event e(EventKind::Submitted);
        e.message_id = message_id;
        run(l, std::move(e));
    });
}

void RequestPipeline::answered(int64_t message_id, const ota::ram::ExpandedResponse& results) {
    bip_event(message_id, "results", [&](Live& l) {
        bip_scripts_.erase(message_id);
        counters_.inc("bip:results");
        const SentPacket* p = nullptr;
        for (const SentPacket& x : l.ctx.data.outstanding)
            if (x.message_id == message_id)
                p = &x;
        db::Por record;
        record.ota_message_id = message_id;
        record.card_id = l.row.card_id;
        record.status = 0;
        record.counter = p ? p->counter : 0;
        record.data = ota::ram::encode_expanded_response(results);
        if (auto r = store_.add_por(record); !r)
            fail_quietly("BIP results", r.error());
        if (Status st =
                store_.set_ota_message_state(message_id, db::ota_message_state::kAnswered, "bip");
            !st)
            fail_quietly("BIP results", st.error());
        if (!p)
            return; // the request no longer waits on it
        const SentPacket packet = *p;
        std::vector<ota::Apdu> script;
        if (auto sc = packet_script(l.ctx, l.app, l.cap, packet.phase, packet.index))
            script = std::move(*sc);
        run(l, results_event(packet, results, script, l.app.aid));
    });
}

void RequestPipeline::lost(int64_t message_id) {
    bip_event(message_id, "lost", [&](Live& l) {
        bip_scripts_.erase(message_id);
        counters_.inc("bip:lost");
        const SentPacket* current =
            l.ctx.data.outstanding.empty() ? nullptr : &l.ctx.data.outstanding.back();
        if (!current || current->message_id != message_id)
            return; // an older script's: the current one decides
        // As a PoR that does not come: the request reads the card now.
        if (auto& t = l.timers[static_cast<size_t>(RequestTimer::Por)])
            t->stop();
        run(l, Event(EventKind::PorTimeout));
    });
}

void RequestPipeline::failed(int64_t message_id, const Reason& reason, const std::string& why) {
    bip_event(message_id, "failed", [&](Live& l) {
        bip_scripts_.erase(message_id);
        counters_.inc("bip:failed:" + reason.name());
        if (Status st =
                store_.set_ota_message_state(message_id, db::ota_message_state::kRefused, "bip");
            !st)
            fail_quietly("BIP script", st.error());
        Event e(EventKind::SubmitFailed);
        e.message_id = message_id;
        e.reason = reason;
        e.message = "BIP: " + why;
        run(l, std::move(e));
    });
}

void RequestPipeline::on_submitted(int64_t request_id, int64_t message_id,
                                   const smpp::SubmitResult& r) {
    const std::string smsc_id = r.segments.empty() ? "" : r.segments.front().message_id;
    if (Status st = store_.set_ota_message_state(
            message_id, r.ok ? db::ota_message_state::kSubmitted : db::ota_message_state::kRefused,
            smsc_id);
        !st)
        fail_quietly("OTA message " + std::to_string(message_id), st.error());
    if (r.ok)
        latency_.acknowledged(request_id);
    Live* l = live(request_id);
    if (!l)
        return;
    Event e(r.ok ? EventKind::Submitted : EventKind::SubmitFailed);
    e.message_id = message_id;
    e.message = r.error;
    run(*l, std::move(e));
}

void RequestPipeline::record_card_state(Live& l, const Action& a) {
    db::CardApp app;
    app.aid = l.app.aid;
    app.state = a.card_state.name();
    app.life_cycle = a.life_cycle;
    app.load_file_aid = l.app.load_file_aid;
    app.module_aid = l.app.module_aid;
    app.updated_at = clock_.now_ms();
    app.kvn = l.ctx.kvn;
    app.counter = a.counter;
    if (Status st = store_.put_card_app(l.row.card_id, app); !st)
        fail_quietly("card application state", st.error());
    // pending:<op> is the request's own doing, told by request.accepted and its end.
    if (a.card_state.state != AppState::Pending)
        audit("daemon", "app.state", subject(l),
              l.app.name + " (" + l.app.aid + ") is " + app.state + " (request " +
                  std::to_string(l.ctx.id) + ")");
}

// ---- results ---------------------------------------------------------------------------------

void RequestPipeline::finish(Live& l, Outcome outcome) {
    // What follows refers to the request (its provider callback, its campaign target).
    if (!l.stored)
        if (Status st = store_row(l); !st)
            fail_quietly("request " + std::to_string(l.ctx.id), st.error());
    latency_.forget(l.ctx.id);
    if (l.cap && l.ctx.data.load && l.ctx.data.load->loaded)
        record_load_file(l);
    if (outcome == Outcome::Done && l.ctx.operation == Operation::Terminate && l.ctx.data.related)
        forget_load_file(l);
    const std::string state = outcome_name(outcome);
    const std::string reason = l.ctx.reason.name();
    const std::string& message = l.ctx.data.message;
    const std::string card_state = l.ctx.data.card_state ? l.ctx.data.card_state->name() : "";
    audit("daemon", "request." + state, subject(l),
          "request " + std::to_string(l.ctx.id) + " " + operation_name(l.ctx.operation) + " " +
              l.app.name + (reason.empty() ? "" : ": " + reason) +
              (message.empty() ? "" : " (" + message + ")"));
    if (!l.app.provider.empty() && outcome != Outcome::Refused) {
        db::ProviderCallback cb;
        cb.request_id = l.ctx.id;
        cb.provider = l.app.provider;
        cb.body =
            nlohmann::ordered_json{
                {"request_id", l.ctx.id},    {"operation", operation_name(l.ctx.operation)},
                {"application", l.app.name}, {"aid", l.app.aid},
                {"msisdn", l.row.msisdn},    {"iccid", l.ctx.data.iccid},
                {"outcome", state},          {"reason", reason},
                {"state", card_state}}
                .dump();
        if (Status st = store_.put_callback(cb); !st)
            fail_quietly("provider callback", st.error());
        else
            transactions_.after_commit(
                [this, cb = std::move(cb)]() mutable { callbacks_.send(std::move(cb)); });
    }
    l.row.state = state;
    l.row.reason = reason;
    if (on_finished_ && !l.ended_in_submit)
        on_finished_(l.row, l.ctx);
    l.ended = true;
    counters_.inc("request:" + state);
    log::info(kLog, "request " + std::to_string(l.ctx.id) + " " + state +
                        (reason.empty() ? "" : " (" + reason + ")"));
    // Campaigns are the operator's doing: the subscriber gets no SMS about them.
    if (l.row.source != "campaign")
        reply(l.row.msisdn, reply_text(l.row.language, l.ctx.operation, l.app.name, state, reason,
                                       card_state, l.ctx.id));
}

void RequestPipeline::retire(Live& l) {
    const int64_t id = l.ctx.id;
    auto it = live_.find(id);
    if (it == live_.end())
        return;
    auto& on_card = live_by_card_[l.row.card_id];
    std::erase(on_card, id);
    if (on_card.empty()) {
        live_by_card_.erase(l.row.card_id);
        senders_.erase(l.row.msisdn);
    }
    for (const auto& [message_id, m] : l.packets)
        if (bip_scripts_.erase(message_id) && bip_)
            bip_->withdraw(l.row.card_id, message_id);
    // A timer may be the caller: stop them now, destroy them outside their own callback.
    for (auto& t : l.timers)
        if (t)
            t->stop();
    std::shared_ptr<Live> dying(std::move(it->second));
    live_.erase(it);
    uv::defer(loop_, [dying] {});
}

void RequestPipeline::reply(const std::string& msisdn, const std::string& text) {
    if (!esme_ || msisdn.empty() || config_.requests.short_code.empty())
        return;
    smpp::SmsPp sms;
    sms.source = {0, 1, config_.requests.short_code};
    sms.dest = {1, 1, msisdn};
    auto encoded = encode_reply(text);
    sms.user_data = std::move(encoded.first);
    sms.data_coding = encoded.second;
    sms.protocol_id = 0;
    sms.udhi = false;
    sms.registered_delivery = false;
    counters_.inc("reply:sent");
    std::weak_ptr<bool> alive = alive_;
    transactions_.after_commit([this, alive, sms = std::move(sms)]() mutable {
        if (alive.expired() || stopped_ || !esme_)
            return;
        esme_->submit(std::move(sms), [](const smpp::SubmitResult& r) {
            if (!r.ok)
                log::notice(kLog, "reply SMS not sent: " + r.error);
        });
    });
}

Result<db::Request> RequestPipeline::cancel(int64_t id, const std::string& actor) {
    Live* l = live(id);
    if (!l) {
        std::optional<db::Request> r;
        OTAGW_TRY_ASSIGN(r, store_.request(id));
        if (!r)
            return make_error("no request " + std::to_string(id), Errc::NotFound);
        return make_error("request " + std::to_string(id) + " is " + r->state + " already",
                          Errc::Conflict);
    }
    if (!RequestFsm::accepts(l->ctx.state, EventKind::Cancel))
        return make_error("request " + std::to_string(id) + " is " +
                              request_state_name(l->ctx.state) +
                              ": its packet may be at the card, so it ends as the card answers",
                          Errc::Conflict);
    db::Request row;
    Status st = transactions_.in_one([&] {
        audit(actor, "request.cancel", subject(*l), "request " + std::to_string(id));
        run(*l, Event(EventKind::Cancel));
    });
    OTAGW_TRY_STATUS(std::move(st));
    std::optional<db::Request> after;
    OTAGW_TRY_ASSIGN(after, store_.request(id));
    if (!after)
        return make_error("no request " + std::to_string(id), Errc::NotFound);
    return *after;
}

// ---- PoRs ------------------------------------------------------------------------------------

void RequestPipeline::on_por(const smpp::Mo& mo) {
    // Our own packet's answer comes from the number we sent it to (international): found as it
    // is; anything else is normalised first.
    const std::string& from = mo.source.addr;
    const bool plain = mo.source.ton == 1 && from.size() <= 15 && all_digits(from);
    std::optional<db::Card> card;
    if (auto s = plain ? senders_.find(from) : senders_.end(); s != senders_.end()) {
        card.emplace(); // a card we wait on: no need to look it up
        card->id = s->second.card_id;
        card->iccid = s->second.iccid;
        card->msisdn = from;
    } else {
        auto found = plain ? store_.card_by_msisdn(from)
                           : Result<std::optional<db::Card>>(std::optional<db::Card>());
        if (!plain || (found && !*found)) {
            MsisdnPolicy policy{config_.requests.region, {}};
            auto e164 = normalize_msisdn(from, mo.source.ton, policy);
            found = e164 ? store_.card_by_msisdn(*e164)
                         : Result<std::optional<db::Card>>(std::optional<db::Card>());
        }
        if (!found)
            return fail_quietly("PoR", found.error());
        card = std::move(*found);
    }
    if (!card) {
        counters_.inc("por:unknown_card");
        log::notice(kLog, "PoR from " + from + ", which is no card of ours");
        return;
    }
    Status st = transactions_.in_one([&] { por_from(*card, mo); });
    if (!st)
        fail_quietly("PoR", st.error());
}

void RequestPipeline::por_from(const db::Card& card, const smpp::Mo& mo) {
    counters_.inc("por:received");
    const uint8_t kvn = config_.ota.kvn;
    std::vector<Live*> waiting; // this card's live requests
    if (auto w = live_by_card_.find(card.id); w != live_by_card_.end())
        for (int64_t id : w->second)
            if (Live* l = live(id))
                waiting.push_back(l);
    const CardKeys* keys = nullptr;
    for (Live* l : waiting)
        if (l->keys && !keys)
            keys = &*l->keys;
    std::optional<CardKeys> read;
    if (!keys) { // after a restart
        std::optional<db::Keyset> k;
        auto r = store_.ota_keyset(card.id, kvn);
        if (!r)
            return fail_quietly("PoR", r.error());
        if (!*r)
            return;
        read = card_keys_of(**r, config_.ota.rc_in_use());
        keys = &*read;
    }
    auto por = ota::decode_response_packet(mo.user_data, configured_spi(), keys->keys);
    if (!por) {
        counters_.inc("por:malformed");
        log::notice(kLog, "PoR from ICCID " + card.iccid + " is malformed: " + por.error().message);
        return;
    }
    counters_.inc(std::string("por:status:") + ota::por_status_name(por->status));
    // Which packet it answers: one a live request of the card waits on, on the same TAR.
    Live* owner = nullptr;
    const SentPacket* packet = nullptr;
    for (Live* l : waiting) {
        if (l->ctx.data.bip)
            continue; // its scripts get no PoR (their results come over BIP); a push's may
        const SentPacket* p = answered_packet(l->ctx.data, *por);
        auto m = p ? l->packets.find(p->message_id) : l->packets.end();
        if (m != l->packets.end() && m->second.tar == tar_hex(por->tar)) {
            owner = l;
            packet = p;
            break;
        }
    }
    db::Por record;
    record.ota_message_id = packet ? packet->message_id : 0;
    record.card_id = card.id;
    record.status = por->status;
    record.counter = por->counter;
    record.data = por->data;
    if (auto r = store_.add_por(record); !r)
        fail_quietly("PoR", r.error());
    if (por->integrity == ota::IntegrityCheck::Failed) {
        // Not the card's word (damaged, forged, or keys out of step): nothing is concluded from
        // it; the request waits for its timeout and then reads the card. An alarm for the
        // keyset, which a forged or damaged PoR cannot tell apart from a key problem.
        counters_.inc("por:integrity_failed");
        counters_.inc("keyset:alarm");
        audit("daemon", "por.integrity_failed", card.iccid,
              "a PoR (counter " + std::to_string(por->counter) + ", keyset " + std::to_string(kvn) +
                  ") whose cryptographic checksum does not verify was ignored");
        log::error(kLog,
                   "keyset alarm: ICCID " + card.iccid + ": a PoR failed its integrity check");
        return;
    }
    if (!owner)
        return late_por(card, *por);
    const SentPacket p = *packet; // the machine takes it off the list
    if (Status st =
            store_.set_ota_message_state(p.message_id, db::ota_message_state::kAnswered, "");
        !st)
        fail_quietly("PoR", st.error());
    std::vector<ota::Apdu> script;
    if (auto s = packet_script(owner->ctx, owner->app, owner->cap, p.phase, p.index))
        script = std::move(*s);
    run(*owner, por_event(p, *por, script, owner->app.aid));
}

void RequestPipeline::late_por(const db::Card& card, const ota::DecodedResponse& por) {
    const uint8_t kvn = config_.ota.kvn;
    auto found = store_.ota_message_for(card.id, kvn, por.counter);
    if (!found)
        return fail_quietly("PoR", found.error());
    if (!*found || (*found)->tar != tar_hex(por.tar)) {
        counters_.inc("por:unmatched");
        log::notice(kLog, "PoR from ICCID " + card.iccid + " matches no packet we sent");
        return;
    }
    const db::OtaMessage& m = **found;
    if (bip_ && bip_->is_push(m.id)) {
        // A push asks for a PoR on error only: this one says why the card refused it.
        (void)store_.set_ota_message_state(m.id, db::ota_message_state::kAnswered, "");
        counters_.inc("bip:push_refused");
        Reason r = por.status == static_cast<uint8_t>(ota::PorStatus::TarUnknown)
                       ? Reason::of(ReasonCode::TarUnknown)
                   : por.status == static_cast<uint8_t>(ota::PorStatus::InsufficientSecurityLevel)
                       ? Reason::of(ReasonCode::InsufficientSecurityLevel)
                   : por.status == static_cast<uint8_t>(ota::PorStatus::IntegrityFailed)
                       ? Reason::of(ReasonCode::CardIntegrityFailed)
                       : Reason::por(por.status);
        if (por.status != 0)
            bip_->push_refused(card.id, m.id, r);
        return;
    }
    if (m.state == db::ota_message_state::kAnswered) {
        // Answered before: a copy the network delivered twice, or a replay. The card's state is
        // never taken from it.
        counters_.inc("por:replayed");
        audit("daemon", "por.replayed", card.iccid,
              "a PoR for counter " + std::to_string(m.counter) + " (request " +
                  std::to_string(m.request_id) + "), answered before, came again: nothing changed");
        return;
    }
    if (Status st = store_.set_ota_message_state(m.id, db::ota_message_state::kAnswered, ""); !st)
        fail_quietly("PoR", st.error());
    counters_.inc("por:late");
    if (por.status != 0)
        return; // a late refusal: the card did nothing then
    // Still the card's word on the application, if nothing newer is known.
    auto row = store_.request(m.request_id);
    if (!row || !*row)
        return;
    auto data = decode_request_data((*row)->detail);
    auto op = operation_named((*row)->operation);
    auto app = catalog_.by_aid((*row)->app_aid);
    if (!data || !op || !app || !*app)
        return;
    auto packet = std::find_if(data->outstanding.begin(), data->outstanding.end(),
                               [&](const SentPacket& p) { return p.message_id == m.id; });
    if (packet == data->outstanding.end())
        return;
    if (packet->phase == Phase::Load || packet->phase == Phase::Clean)
        return; // a load's packet tells nothing of the application
    RequestContext ctx;
    ctx.operation = *op;
    ctx.data = *data;
    const CapLoad* cap = *op == Operation::Install ? caps_.of((*app)->name) : nullptr;
    if (cap)
        ctx.load_plan = cap->blocks_per_packet(ctx.data.bip);
    auto script = packet_script(ctx, **app, cap, packet->phase, packet->index);
    if (!script)
        return;
    auto answer = read_card_answer(por.data, script->size(), script->back(), (*app)->aid);
    if (!answer || !answer->registry_known)
        return;
    std::vector<db::CardApp> apps;
    if (auto a = store_.card_apps(card.id))
        apps = std::move(*a);
    for (const auto& a : apps)
        if (a.aid == (*app)->aid && a.kvn == kvn && a.counter > m.counter) {
            counters_.inc("por:stale");
            audit("daemon", "por.stale", card.iccid,
                  "a late PoR for counter " + std::to_string(m.counter) + " (request " +
                      std::to_string(m.request_id) +
                      "), older than the state learnt from counter " + std::to_string(a.counter) +
                      ", changes nothing");
            return;
        }
    const CardAppState state = state_from_registry(answer->life_cycle, *op);
    db::CardApp a;
    a.aid = (*app)->aid;
    a.state = state.name();
    a.life_cycle = answer->life_cycle;
    a.load_file_aid = (*app)->load_file_aid;
    a.module_aid = (*app)->module_aid;
    a.updated_at = clock_.now_ms();
    a.kvn = kvn;
    a.counter = m.counter;
    if (Status st = store_.put_card_app(card.id, a); !st)
        return fail_quietly("card application state", st.error());
    audit("daemon", "app.state", card.iccid,
          (*app)->name + " (" + a.aid + ") is " + a.state + " (a late PoR of request " +
              std::to_string(m.request_id) + ")");
}

// ---- restart ---------------------------------------------------------------------------------

Result<RequestPipeline::Live*> RequestPipeline::load(const db::Request& row) {
    RequestContext ctx;
    OTAGW_TRY_ASSIGN(ctx, request_context(row));
    std::optional<db::Application> app;
    OTAGW_TRY_ASSIGN(app, catalog_.by_aid(row.app_aid));
    if (!app)
        return make_error("request " + std::to_string(row.id) + ": application " + row.app_aid +
                              " is no longer in the catalog",
                          Errc::NotFound);
    auto owned = std::make_unique<Live>();
    Live& l = *owned;
    l.row = row;
    l.app = *app;
    l.ctx = std::move(ctx);
    l.ctx.kvn = config_.ota.kvn;
    l.ctx.asks_provider = !app->provider.empty() && l.ctx.operation != Operation::Query;
    plan_load(l);
    if (RequestData& d = l.ctx.data; !d.sealed_personalisation.empty()) {
        auto opened = vault_.open(d.sealed_personalisation, personalisation_aad(row.id));
        if (!opened)
            return make_error("request " + std::to_string(row.id) +
                                  ": its personalisation data does not open",
                              Errc::Corrupt);
        d.personalisation = std::move(*opened);
    }
    l.stored = true;
    // A clear copy written before schema 8 is sealed at once.
    l.dirty = !l.ctx.data.personalisation.empty() && l.ctx.data.sealed_personalisation.empty();
    if (!l.ctx.data.outstanding.empty()) {
        std::vector<db::OtaMessage> sent;
        OTAGW_TRY_ASSIGN(sent, store_.ota_messages_of(row.id));
        for (auto& m : sent)
            for (const auto& p : l.ctx.data.outstanding)
                if (p.message_id == m.id)
                    l.packets[m.id] = m;
        senders_[row.msisdn] = {row.card_id, l.ctx.data.iccid};
    }
    live_by_card_[row.card_id].push_back(row.id);
    live_[row.id] = std::move(owned);
    return &l;
}

Status RequestPipeline::resume() {
    size_t resumed = 0;
    for (int64_t after = 0;;) {
        std::vector<db::Request> batch;
        OTAGW_TRY_ASSIGN(batch, store_.unfinished_requests(after, 1000));
        if (batch.empty())
            break;
        for (const auto& row : batch) {
            after = row.id;
            auto l = load(row);
            if (!l) {
                fail_quietly("resume", l.error());
                continue;
            }
            resumed++;
            const int64_t id = row.id;
            const bool waiting = (*l)->ctx.state == RequestState::Sent ||
                                 (*l)->ctx.state == RequestState::Reconciling ||
                                 (*l)->ctx.state == RequestState::Loading;
            if (waiting) { // it may have reached the card: its timer only
                OTAGW_TRY_STATUS(transactions_.in_one([&] { run(**l, Event(EventKind::Resume)); }));
                continue;
            }
            uv::defer(loop_, [this, id] {
                if (stopped_)
                    return;
                Status st = transactions_.in_one([&] {
                    if (Live* later = live(id))
                        run(*later, Event(EventKind::Resume));
                });
                if (!st)
                    fail_quietly("resume", st.error());
            });
        }
    }
    size_t owed = 0;
    OTAGW_TRY_ASSIGN(owed, callbacks_.resume());
    if (resumed || owed)
        log::notice(kLog, "resumed " + std::to_string(resumed) + " unfinished requests and " +
                              std::to_string(owed) + " owed provider callbacks");
    return {};
}

std::vector<std::string> RequestPipeline::show() const {
    std::vector<std::string> out;
    for (const auto& [id, l] : live_) {
        std::string progress;
        if (l->ctx.loads() && l->ctx.data.load)
            progress = ", load blocks " + std::to_string(l->ctx.data.load->blocks_done) + "/" +
                       std::to_string(l->ctx.load_blocks());
        out.push_back("request " + std::to_string(id) + " " + request_state_name(l->ctx.state) +
                      " (ICCID " + l->ctx.data.iccid + ", " + l->app.name + ", " +
                      std::to_string(l->ctx.data.outstanding.size()) + " packets waiting" +
                      progress + ")");
    }
    if (out.empty())
        out.push_back("No request in flight");
    return out;
}

} // namespace otagw::gateway
