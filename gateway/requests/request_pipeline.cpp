// SPDX-License-Identifier: GPL-2.0-or-later
#include "requests/request_pipeline.hpp"

#include <algorithm>

#include "intake/msisdn.hpp"
#include "intake/replies.hpp"
#include "otagw/common/clock.hpp"
#include "otagw/common/log.hpp"
#include "otagw/ota/ts_102_225.hpp"
#include "otagw/ota/ts_102_226.hpp"
#include "otagw/ota/ts_31_115.hpp"

namespace otagw::gateway {

namespace {

constexpr const char* kLog = "request";
constexpr int kMaxResyncs = 2;    // counter resynchronisations per request
constexpr int kMaxDispatches = 3; // sends of the operation itself (after reconciling)
constexpr int kMaxAudits = 3;     // GET STATUS audits without an answer before giving up

// KIc / KID byte for a keyset (ETSI TS 102 225 §5.1.2-3); the store holds only known names.
uint8_t algorithm_byte(const db::Keyset& k) {
    const ota::KeysetAlgorithm* a = ota::keyset_algorithm(k.algorithm);
    return a ? ota::kic_kid_byte(k.kvn, *a) : static_cast<uint8_t>(k.kvn << 4);
}

std::string tar_hex(const ota::Tar& tar) {
    return to_hex(ByteView(tar.data(), tar.size()));
}

std::string hex_word(uint16_t sw) {
    const uint8_t b[2] = {static_cast<uint8_t>(sw >> 8), static_cast<uint8_t>(sw)};
    return to_hex(ByteView(b, 2));
}

// The card's ISD TAR as the inventory gives it; '000000' (TS 102 226 §8.1) otherwise.
ota::Tar isd_tar(const std::vector<db::CardTar>& tars) {
    for (const auto& t : tars)
        if (t.kind == "isd")
            if (auto tar = ota::parse_tar(t.tar))
                return *tar;
    return ota::ram::kTarIsdRam;
}

OperationInput input_of(const nlohmann::ordered_json& detail) {
    OperationInput in;
    if (auto p = parse_hex(detail.value("personalisation", ""), "personalisation"))
        in.personalisation = std::move(*p);
    return in;
}

} // namespace

struct RequestPipeline::Active {
    explicit Active(uv_loop_t* loop) : timer(loop) {}
    int64_t card_id = 0;
    int64_t message_id = 0; // the packet whose PoR it waits for
    std::string msisdn;     // where the packet went (senders_), once dispatch() sent one
    uv::Timer timer;
    // What dispatch() knew, so that the PoR needs no reading back: the request as saved, the
    // packet, the card's keys (empty after a restart: read from the store then).
    std::optional<Loaded> loaded;
    std::optional<db::OtaMessage> message;
    std::optional<CardKeys> keys;
};

RequestPipeline::RequestPipeline(uv_loop_t* loop, db::Store& store, const GatewayConfig& config,
                                 http::CurlClient* curl)
    : loop_(loop), store_(store), config_(config), curl_(curl) {
    latency_timer_ = std::make_unique<uv::Timer>(loop_);
    latency_timer_->start(
        1000, [this] { publish_latency(); }, 1000);
    if (!curl_)
        return;
    for (const auto& p : config_.providers) {
        auto secret = read_secret_file(p.secret_file);
        if (!secret) {
            log::error(kLog, "provider " + p.name + ": secret-file " + secret.error().message +
                                 "; its applications' requests will fail");
            continue;
        }
        providers_[p.name] =
            std::make_unique<ProviderClient>(loop_, *curl_, p, std::move(secret).value());
    }
}

RequestPipeline::~RequestPipeline() {
    *alive_ = false;
}

void RequestPipeline::stop() {
    stopped_ = true;
    latency_timer_.reset();
    active_.clear();
    awaiting_by_card_.clear();
    senders_.clear();
    callback_retries_.clear();
}

Status RequestPipeline::atomically(const std::function<Status()>& writes) {
    const bool outer = depth_ == 0;
    if (outer)
        OTAGW_TRY_STATUS(store_.begin());
    depth_++;
    Status st = writes();
    depth_--;
    if (!outer)
        return st;
    if (st)
        st = store_.commit();
    if (!st) {
        (void)store_.rollback();
        after_commit_.clear();
        return st;
    }
    // What leaves the process (submit_sm, replies, provider calls) goes after the commit, and
    // with group commit after the turn's flush.
    auto actions = std::move(after_commit_);
    after_commit_.clear();
    for (auto& a : actions)
        if (durable_)
            durable_(std::move(a));
        else
            a();
    return st;
}

void RequestPipeline::after_commit(std::function<void()> action) {
    if (depth_ == 0)
        action();
    else
        after_commit_.push_back(std::move(action));
}

void RequestPipeline::in_one_transaction(const char* what, const std::function<void()>& work) {
    Status st = atomically([&]() -> Status {
        work();
        return {};
    });
    if (!st)
        fail_quietly(what, st.error());
}

ota::Spi RequestPipeline::configured_spi() const {
    ota::Spi spi;
    spi.first = static_cast<uint8_t>(config_.ota.spi >> 8);
    spi.second = static_cast<uint8_t>(config_.ota.spi);
    return spi;
}

Result<std::optional<RequestPipeline::CardKeys>> RequestPipeline::card_keys(int64_t card_id) {
    std::optional<db::Keyset> k;
    OTAGW_TRY_ASSIGN(k, store_.ota_keyset(card_id, config_.ota.kvn));
    if (!k)
        return std::optional<CardKeys>();
    return std::optional<CardKeys>(keys_of(*k));
}

RequestPipeline::CardKeys RequestPipeline::keys_of(const db::Keyset& k) {
    const uint8_t algo = algorithm_byte(k);
    return CardKeys{k.kvn, algo, ota::OtaKeys::create(algo, k.kic, algo, k.kid)};
}

ProviderClient* RequestPipeline::provider(const std::string& name) {
    auto it = providers_.find(name);
    return it == providers_.end() ? nullptr : it->second.get();
}

void RequestPipeline::fail_quietly(const std::string& where, const Error& e) {
    counters_.inc("request:internal_errors");
    log::error(kLog, where + ": " + e.message);
}

void RequestPipeline::audit(const std::string& actor, const std::string& action,
                            const std::string& subject, const std::string& detail) {
    auto r = store_.append_audit({0, 0, actor, action, subject, detail});
    if (!r)
        fail_quietly("audit", r.error());
}

// ---- intake and checks ----------------------------------------------------------------------

Result<Submitted> RequestPipeline::submit(const NewRequest& n) {
    const uint64_t intake = uv_hrtime();
    auto op = operation_named(n.operation);
    if (!op && n.refusal.empty())
        return make_error("operation: '" + n.operation +
                          "' is not one of activate, suspend, resume, terminate, query, install");
    if (n.msisdn.empty() && n.iccid.empty() && n.refusal.empty())
        return make_error("give the card by msisdn or iccid");
    if (n.app_code.empty() && n.app_aid.empty() && n.refusal.empty())
        return make_error("give the application by its code (app) or its AID (aid)");

    db::Request r;
    r.idempotency_key = n.idempotency_key;
    r.source = n.source;
    r.actor = n.actor;
    r.msisdn = n.msisdn;
    r.operation = op ? operation_name(*op) : "unknown";
    r.language = n.language.empty() ? "en" : n.language;
    Json detail = {{"app", n.app_code}, {"attempts", 0}, {"resyncs", 0}, {"audits", 0}};
    if (n.campaign_id)
        detail["campaign"] = {n.campaign_id, n.campaign_seq};
    std::string reason = n.refusal, message = n.refusal_message;
    auto refuse = [&](const char* code, std::string why) {
        if (reason.empty()) {
            reason = code;
            message = std::move(why);
        }
    };

    // The MSISDN, then the card.
    std::optional<db::Card> card;
    if (!n.msisdn.empty()) { // also for a refused SMS: its reply goes to the sender
        MsisdnPolicy policy{config_.requests.region, config_.requests.ranges};
        auto e164 = normalize_msisdn(n.msisdn, n.msisdn_ton, policy);
        if (!e164) {
            const bool range = e164.error().code == Errc::OutOfRange;
            refuse(range ? "msisdn_out_of_range" : "bad_msisdn", e164.error().message);
        } else {
            r.msisdn = *e164;
            OTAGW_TRY_ASSIGN(card, store_.card_by_msisdn(*e164));
            if (!card)
                refuse("unknown_msisdn", "no card has MSISDN " + *e164);
        }
    }
    if (reason.empty() && !n.iccid.empty()) {
        std::optional<db::Card> by_iccid;
        OTAGW_TRY_ASSIGN(by_iccid, store_.card_by_iccid(n.iccid));
        if (!by_iccid)
            refuse("unknown_iccid", "no card has ICCID " + n.iccid);
        else if (card && card->id != by_iccid->id)
            refuse("msisdn_card_mismatch", "MSISDN " + r.msisdn + " belongs to ICCID " +
                                               card->iccid + ", not to " + n.iccid);
        else
            card = by_iccid;
    }
    if (card) {
        r.card_id = card->id;
        if (r.msisdn.empty())
            r.msisdn = card->msisdn;
        detail["iccid"] = card->iccid;
        if (reason.empty() && card->status == "barred")
            refuse("card_barred", "card " + card->iccid + " is barred");
    }
    // The application, its state on the card, what is in flight.
    std::optional<db::Application> app;
    if (reason.empty()) {
        if (!n.app_aid.empty())
            OTAGW_TRY_ASSIGN(app, application(n.app_aid));
        else
            OTAGW_TRY_ASSIGN(app, store_.application_by_code(n.app_code));
        if (!app)
            refuse("unknown_app",
                   "no application " +
                       (n.app_aid.empty() ? "with code " + n.app_code : "with AID " + n.app_aid) +
                       " in the catalog");
    }
    if (app) {
        r.app_aid = app->aid;
        detail["app"] = app->code;
        detail["app_name"] = app->name;
    }
    if (reason.empty() && card && app) {
        std::string state = kStateAbsent;
        std::vector<db::CardApp> apps;
        OTAGW_TRY_ASSIGN(apps, store_.card_apps(card->id));
        for (const auto& a : apps)
            if (a.aid == app->aid)
                state = a.state;
        detail["from_state"] = state;
        std::optional<db::Request> busy;
        OTAGW_TRY_ASSIGN(busy, store_.request_in_flight(card->id, app->aid));
        if (busy)
            refuse("in_flight", "request " + std::to_string(busy->id) + " (" + busy->operation +
                                    ") is still in progress on this application; this one is "
                                    "refused, not queued");
        else if (auto why = transition_refusal(*op, state))
            refuse("not_allowed_in_state", *why);
    }
    if (!reason.empty())
        detail["message"] = message;
    r.state = reason.empty() ? "accepted" : "refused";
    r.reason = reason;

    // Nothing to ask first: the packet is sent at once. A campaign's or a subscriber's request
    // (no Idempotency-Key, no caller shown the accepted state) is then written once, in its
    // sent state with its packet, not inserted and updated at once.
    const bool direct = reason.empty() && (app->provider.empty() || *op == Operation::Query);
    const bool sent_at_once = direct && esme_ && n.source != "api" && r.idempotency_key.empty();
    std::pair<db::Request, bool> put;
    // One transaction: the request, its audit entry and, when nothing needs asking first, its
    // secured packet; the caller's answer and the packet go out once it is committed.
    Status st = atomically([&]() -> Status {
        std::optional<Packet> packet;
        if (sent_at_once) {
            // Any failure here is met again, and reported, by dispatch() below.
            auto script = operation_script(*op, *app, input_of(detail));
            auto ready = script ? prepare_packet(r, *script) : std::optional<Packet>();
            if (ready && *ready)
                if (auto message_id = store_.next_ota_message_id()) {
                    packet = std::move(**ready);
                    packet->message.id = *message_id;
                    mark_sent(detail, *message_id, false);
                    r.state = "sent";
                }
        }
        r.detail = detail.dump();
        OTAGW_TRY_ASSIGN(put, store_.put_request(r));
        if (!put.second)
            return {};
        const std::string subject = card ? card->iccid : r.msisdn;
        auto entry = store_.append_audit(
            {0, 0, r.actor, reason.empty() ? "request.accepted" : "request.refused", subject,
             "request " + std::to_string(put.first.id) + " " + r.operation + " " +
                 (app ? app->name : n.app_code) + (reason.empty() ? "" : ": " + message)});
        if (!entry)
            return entry.take_error();
        if (reason.empty()) {
            intake_ns_[put.first.id] = intake;
            // Moved on at once, from what is in hand (advance() reads it back after a restart).
            Loaded l{put.first, detail, *op, *app};
            if (packet) {
                packet->message.request_id = put.first.id;
                OTAGW_TRY_STATUS(store_.add_ota_message(packet->message));
                send_packet(std::move(l), std::move(*packet), false);
            } else if (!direct) {
                ask_provider(std::move(l));
            } else {
                dispatch(std::move(l), false);
            }
        }
        return {};
    });
    OTAGW_TRY_STATUS(std::move(st));
    if (!put.second)
        return Submitted{put.first, false};
    counters_.inc(reason.empty() ? "request:accepted" : "request:refused");
    if (!reason.empty()) {
        counters_.inc("request:refused:" + reason);
        log::info(kLog, "request " + std::to_string(put.first.id) + " refused: " + message);
        // A refused SMS request is answered by SMS; an operator's refused call is answered by
        // the API alone (the subscriber asked nothing).
        if (!r.msisdn.empty() && n.source == "sms") {
            Loaded l{put.first, detail, op.value_or(Operation::Query),
                     app.value_or(db::Application{})};
            reply(l, reply_text(r.language, l.op, detail.value("app_name", n.app_code), "refused",
                                reason, "", put.first.id));
        }
    }
    return Submitted{put.first, true};
}

void RequestPipeline::on_mo(const smpp::Mo& mo) {
    const Bytes& ud = mo.user_data;
    // A PoR: UDH with IE '71' (TS 31.115 §4.3).
    if (mo.udhi && ud.size() >= 3 && ud[0] >= 2 && ud[1] == ota::sms::kIeiResponsePacket) {
        // Our own packet's answer comes from the number we sent it to (international): found
        // as it is; anything else is normalised first.
        const std::string& from = mo.source.addr;
        const bool plain = mo.source.ton == 1 && from.size() <= 15 && all_digits(from);
        if (auto s = plain ? senders_.find(from) : senders_.end(); s != senders_.end()) {
            db::Card sender; // a card we wait on: no need to look it up
            sender.id = s->second.card_id;
            sender.iccid = s->second.iccid;
            sender.msisdn = from;
            in_one_transaction("PoR", [&] { on_por(sender, mo); });
            return;
        }
        auto card = plain ? store_.card_by_msisdn(from)
                          : Result<std::optional<db::Card>>(std::optional<db::Card>());
        if (!plain || (card && !*card)) {
            MsisdnPolicy policy{config_.requests.region, {}};
            auto e164 = normalize_msisdn(from, mo.source.ton, policy);
            card = e164 ? store_.card_by_msisdn(*e164)
                        : Result<std::optional<db::Card>>(make_error(e164.error().message));
        }
        if (!card || !*card) {
            counters_.inc("por:unknown_card");
            log::notice(kLog, "PoR from " + mo.source.addr + ", which is no card of ours");
            return;
        }
        in_one_transaction("PoR", [&] { on_por(**card, mo); });
        return;
    }
    if (config_.requests.short_code.empty() || mo.dest.addr != config_.requests.short_code) {
        counters_.inc("mo:ignored");
        return;
    }
    // A request the card's toolkit client secured itself: a command packet behind IE '70'.
    if (mo.udhi && ud.size() >= 3 && ud[0] >= 2 && ud[1] == ota::sms::kIeiCommandPacket) {
        in_one_transaction("secured request", [&] { on_secured_request(mo); });
        return;
    }
    NewRequest n;
    n.source = "sms";
    n.actor = "sms:" + mo.source.addr;
    n.msisdn = mo.source.addr;
    n.msisdn_ton = mo.source.ton;
    const bool eight_bit = mo.data_coding == 0x04 || mo.data_coding == 0xf6;
    if (eight_bit && !mo.udhi) {
        auto b = parse_binary_request(ud);
        if (b) {
            n.operation = operation_name(b->operation);
            n.app_aid = to_hex(b->aid);
            n.app_code = b->app_code;
        } else {
            n.refusal = "bad_request";
            n.refusal_message = b.error().message;
        }
    } else {
        // A long text arrives reassembled; what is left of its UDH (if anything) is not text.
        ByteView body = ud;
        if (mo.udhi && !body.empty())
            body = 1u + body[0] <= body.size() ? body.subspan(1u + body[0]) : ByteView();
        auto text = decode_sms_text(mo.data_coding, body);
        if (!text) {
            n.refusal = "bad_request";
            n.refusal_message = text.error().message;
        } else {
            TextParse p = parse_text_request(*text, config_.requests.keywords);
            n.language = p.language;
            if (p.request) {
                n.operation = operation_name(p.request->operation);
                n.app_code = p.request->app_code;
                n.language = p.request->language;
            } else {
                n.refusal = text_refusal_name(p.refusal);
                n.refusal_message = p.message;
            }
        }
    }
    counters_.inc("request:sms");
    auto r = submit(n);
    if (!r)
        fail_quietly("SMS request from " + mo.source.addr, r.error());
}

// A request secured by the card (doc/application-requests.md): the card's keyset, its own
// counter (higher than the last it sent), a cryptographic checksum, the application's TAR.
void RequestPipeline::on_secured_request(const smpp::Mo& mo) {
    NewRequest n;
    n.source = "sms";
    n.actor = "card:" + mo.source.addr;
    n.msisdn = mo.source.addr;
    n.msisdn_ton = mo.source.ton;
    auto refuse = [&](const char* code, std::string why) {
        counters_.inc("request:secured_refused");
        n.refusal = code;
        n.refusal_message = std::move(why);
        auto r = submit(n);
        if (!r)
            fail_quietly("secured request from " + mo.source.addr, r.error());
    };
    MsisdnPolicy policy{config_.requests.region, config_.requests.ranges};
    auto e164 = normalize_msisdn(mo.source.addr, mo.source.ton, policy);
    auto card = e164 ? store_.card_by_msisdn(*e164)
                     : Result<std::optional<db::Card>>(make_error(e164.error().message));
    if (!card || !*card)
        return refuse("unknown_msisdn",
                      "a secured request from " + mo.source.addr + ", which is no card of ours");
    auto ks = card_keys((*card)->id);
    if (!ks)
        return fail_quietly("secured request", ks.error());
    if (!*ks)
        return refuse("no_keyset", "the card has no keyset " + std::to_string(config_.ota.kvn));
    const Bytes& ud = mo.user_data;
    auto packet = ota::decode_command_packet(ByteView(ud).subspan(1 + ud[0]), (*ks)->keys);
    if (!packet)
        return refuse("bad_request", "secured request: " + packet.error().message);
    const auto& h = packet->header;
    if (h.spi.integrity() != ota::Integrity::Cc || packet->integrity != ota::IntegrityCheck::Ok ||
        ota::key_version(h.kid) != (*ks)->kvn) {
        counters_.inc("keyset:alarm");
        audit("daemon", "request.integrity_failed", (*card)->iccid,
              "a secured request without a valid cryptographic checksum was refused");
        return refuse("card_integrity_failed",
                      "the secured request's cryptographic checksum does not verify");
    }
    if (Status st = store_.accept_card_counter((*card)->id, (*ks)->kvn, h.counter); !st) {
        audit("daemon", "request.replayed", (*card)->iccid, st.error().message);
        return refuse("replayed_counter", st.error().message);
    }
    auto b = parse_binary_request(packet->secured_data);
    if (!b)
        return refuse("bad_request", b.error().message);
    n.operation = operation_name(b->operation);
    n.app_aid = to_hex(b->aid);
    n.app_code = b->app_code;
    n.iccid = (*card)->iccid;
    // The TAR names the application the card's client speaks for.
    std::optional<db::Application> app;
    auto found = n.app_aid.empty() ? store_.application_by_code(n.app_code)
                                   : store_.application_by_aid(n.app_aid);
    if (found && *found && (*found)->tar != tar_hex(h.tar))
        return refuse("tar_mismatch", "the request came on TAR " + tar_hex(h.tar) +
                                          ", not on the application's " + (*found)->tar);
    counters_.inc("request:secured");
    auto r = submit(n);
    if (!r)
        fail_quietly("secured request from " + mo.source.addr, r.error());
}

// ---- moving a request on ----------------------------------------------------------------------

Result<std::optional<db::Application>> RequestPipeline::application(std::string_view aid) {
    if (auto it = catalog_.find(aid); it != catalog_.end())
        return std::optional<db::Application>(it->second);
    std::optional<db::Application> app;
    OTAGW_TRY_ASSIGN(app, store_.application_by_aid(aid));
    if (app)
        catalog_.emplace(std::string(aid), *app);
    return app;
}

Result<RequestPipeline::Loaded> RequestPipeline::load(int64_t id) {
    std::optional<db::Request> r;
    OTAGW_TRY_ASSIGN(r, store_.request(id));
    if (!r)
        return make_error("no request " + std::to_string(id));
    Loaded l{*r, Json::parse(r->detail, nullptr, false), Operation::Query, {}};
    if (l.detail.is_discarded() || !l.detail.is_object())
        return make_error("request " + std::to_string(id) + ": detail is not a JSON object");
    auto op = operation_named(r->operation);
    if (!op)
        return make_error("request " + std::to_string(id) + ": unknown operation");
    l.op = *op;
    std::optional<db::Application> app;
    OTAGW_TRY_ASSIGN(app, application(r->app_aid));
    if (!app)
        return make_error("request " + std::to_string(id) + ": application " + r->app_aid +
                          " is no longer in the catalog");
    l.app = *app;
    return l;
}

Status RequestPipeline::save(const Loaded& l, std::string_view state, std::string_view reason) {
    return store_.set_request(l.request.id, state, reason, l.detail.dump());
}

void RequestPipeline::advance(int64_t id) {
    auto l = load(id);
    if (!l) {
        fail_quietly("request " + std::to_string(id), l.error());
        return;
    }
    const std::string& state = l->request.state;
    if (state == "accepted" || state == "provider") {
        if (!l->app.provider.empty() && l->op != Operation::Query)
            ask_provider(std::move(*l));
        else
            dispatch(std::move(*l), false);
    } else if (state == "approved") {
        dispatch(std::move(*l), false);
    }
}

void RequestPipeline::ask_provider(Loaded l) {
    ProviderClient* p = provider(l.app.provider);
    if (!p) {
        finish(std::move(l), "failed", "provider_unavailable");
        return;
    }
    if (l.request.state != "provider") {
        Status st = store_.set_request_state(l.request.id, "provider", "");
        if (!st)
            return fail_quietly("request " + std::to_string(l.request.id), st.error());
        l.request.state = "provider";
    }
    Json body = {{"request_id", l.request.id}, {"operation", operation_name(l.op)},
                 {"application", l.app.name},  {"aid", l.app.aid},
                 {"msisdn", l.request.msisdn}, {"iccid", l.detail.value("iccid", "")}};
    counters_.inc("provider:authorize");
    std::weak_ptr<bool> alive = alive_;
    const int64_t id = l.request.id;
    p->call("/authorize", nlohmann::json::parse(body.dump()),
            [this, alive, id](Result<ProviderClient::Answer> answer) {
                if (alive.expired() || stopped_)
                    return;
                in_one_transaction("provider answer",
                                   [&] { on_provider_answer(id, std::move(answer)); });
            });
}

void RequestPipeline::on_provider_answer(int64_t id, Result<ProviderClient::Answer> a) {
    auto r = load(id);
    if (!r || r->request.state != "provider")
        return;
    if (!a) {
        counters_.inc("provider:timeout");
        r->detail["message"] = a.error().message;
        finish(std::move(*r), "failed", "provider_timeout");
        return;
    }
    const auto& b = a->body;
    const std::string decision = b.is_object() ? b.value("decision", "") : "";
    if (a->status / 100 != 2 || (decision != "approve" && decision != "veto")) {
        r->detail["message"] =
            "provider answered HTTP " + std::to_string(a->status) + " without a decision";
        finish(std::move(*r), "failed", "provider_error");
        return;
    }
    if (decision == "veto") {
        counters_.inc("provider:veto");
        r->detail["message"] = b.value("reason", "no reason given");
        finish(std::move(*r), "refused", "provider_veto");
        return;
    }
    if (b.contains("personalisation")) {
        auto data = parse_hex(b.value("personalisation", ""), "personalisation");
        if (!data) {
            r->detail["message"] = "provider: " + data.error().message;
            finish(std::move(*r), "failed", "provider_error");
            return;
        }
        r->detail["personalisation"] = to_hex(*data);
    }
    Status st = atomically([&]() -> Status { return save(*r, "approved", ""); });
    if (!st)
        return fail_quietly("request " + std::to_string(id), st.error());
    r->request.state = "approved";
    dispatch(std::move(*r), false);
}

Result<std::optional<RequestPipeline::Packet>>
RequestPipeline::prepare_packet(const db::Request& r, const std::vector<ota::Apdu>& script) {
    const uint8_t kvn = config_.ota.kvn;
    std::optional<db::Store::PacketKeys> taken;
    OTAGW_TRY_ASSIGN(taken, store_.next_counter_with_keys(r.card_id, kvn));
    if (!taken)
        return std::optional<Packet>(); // no keyset: nothing written
    Packet p{keys_of(taken->keyset), {}};
    ota::CommandHeader h;
    h.spi = configured_spi();
    h.kic = h.kid = p.keys.algorithm;
    h.tar = isd_tar(taken->tars);
    h.counter = taken->keyset.counter;
    Bytes packet;
    OTAGW_TRY_STATUS(
        ota::build_command_packet(h, p.keys.keys, ota::ram::compact_script(script), packet));
    db::OtaMessage& m = p.message;
    m.request_id = r.id;
    m.card_id = r.card_id;
    m.kvn = kvn;
    m.counter = h.counter;
    m.tar = tar_hex(h.tar);
    m.user_data = ota::sms::command_user_data(packet);
    m.state = "queued";
    return std::optional<Packet>(std::move(p));
}

void RequestPipeline::mark_sent(Json& detail, int64_t message_id, bool audit_only) {
    detail["phase"] = audit_only ? "audit" : "operation";
    detail["message_id"] = message_id;
    detail["sent_at"] = unix_ms();
    const char* count = audit_only ? "audits" : "attempts";
    detail[count] = detail.value(count, 0) + 1;
}

void RequestPipeline::dispatch(Loaded l, bool audit_only) {
    if (!esme_) {
        finish(std::move(l), "failed", "no_smsc");
        return;
    }
    auto script = operation_script(audit_only ? Operation::Query : l.op, l.app, input_of(l.detail));
    if (!script) {
        l.detail["message"] = script.error().message;
        finish(std::move(l), "failed", "bad_catalog_entry");
        return;
    }
    std::optional<Packet> p;
    // The counter and the packet are committed before the packet leaves (DESIGN.md §4).
    Status st = atomically([&]() -> Status {
        OTAGW_TRY_ASSIGN(p, prepare_packet(l.request, *script));
        if (!p)
            return {};
        OTAGW_TRY_ASSIGN(p->message.id, store_.add_ota_message(p->message));
        mark_sent(l.detail, p->message.id, audit_only);
        return save(l, audit_only ? "reconciling" : "sent", "");
    });
    if (!st) {
        l.detail["message"] = st.error().message;
        finish(std::move(l), "failed", "cannot_send");
        return;
    }
    if (!p) {
        l.detail["message"] = "the card has no keyset " + std::to_string(config_.ota.kvn);
        finish(std::move(l), "failed", "no_keyset");
        return;
    }
    send_packet(std::move(l), std::move(*p), audit_only);
}

void RequestPipeline::send_packet(Loaded l, Packet p, bool audit_only) {
    const int64_t id = l.request.id;
    counters_.inc(audit_only ? "ota:audit_sent" : "ota:sent");
    smpp::SmsPp sms;
    sms.source = {0, 1, config_.requests.short_code.empty() ? "0" : config_.requests.short_code};
    sms.dest = {1, 1, l.request.msisdn};
    sms.user_data = p.message.user_data;
    sms.registered_delivery = false;
    sms.bulk = l.request.source == "campaign";
    std::weak_ptr<bool> alive = alive_;
    const int64_t message_id = p.message.id;
    // A PoR is matched from now on; its timeout runs from the SMSC's acknowledgement (a packet
    // may queue behind others for a while).
    wait_for_por(id, l.request.card_id, 0);
    Active& waiting = *active_[id];
    waiting.message_id = message_id;
    waiting.msisdn = l.request.msisdn;
    senders_[l.request.msisdn] = {l.request.card_id, l.detail.value("iccid", "")};
    l.request.state = audit_only ? "reconciling" : "sent";
    l.request.reason.clear();
    waiting.message = std::move(p.message);
    waiting.keys = std::move(p.keys);
    waiting.loaded = std::move(l);
    after_commit([this, alive, id, message_id, sms = std::move(sms)]() mutable {
        if (alive.expired() || stopped_ || !esme_)
            return;
        record_latency(id, false); // committed and flushed: the submit_sm leaves now
        esme_->submit(std::move(sms), [this, alive, id, message_id](const smpp::SubmitResult& r) {
            if (!alive.expired() && !stopped_)
                in_one_transaction("submit_sm result", [&] { on_submitted(id, message_id, r); });
        });
    });
}

void RequestPipeline::on_submitted(int64_t request_id, int64_t message_id,
                                   const smpp::SubmitResult& r) {
    const std::string smsc_id = r.segments.empty() ? "" : r.segments.front().message_id;
    if (Status st =
            store_.set_ota_message_state(message_id, r.ok ? "submitted" : "failed", smsc_id);
        !st)
        fail_quietly("OTA message " + std::to_string(message_id), st.error());
    if (r.ok) {
        record_latency(request_id, true);
        auto it = active_.find(request_id);
        if (it != active_.end() && it->second->message_id == message_id)
            it->second->timer.start(uint64_t{config_.ota.por_timeout_s} * 1000, [this, request_id] {
                in_one_transaction("PoR timeout", [&] { on_por_timeout(request_id); });
            });
        return;
    }
    // The SMSC refused it for good: the card never saw this packet.
    counters_.inc("ota:submit_failed");
    auto l = load(request_id);
    if (!l || (l->request.state != "sent" && l->request.state != "reconciling") ||
        l->detail.value("message_id", int64_t{0}) != message_id)
        return;
    forget(request_id);
    l->detail["message"] = "submit_sm: " + r.error;
    finish(std::move(*l), "failed", "smsc_refused");
}

void RequestPipeline::wait_for_por(int64_t request_id, int64_t card_id, uint64_t timeout_ms) {
    auto& a = active_[request_id];
    if (!a) {
        a = std::make_unique<Active>(loop_);
        a->card_id = card_id;
        awaiting_by_card_[card_id].push_back(request_id);
    }
    if (timeout_ms)
        a->timer.start(timeout_ms, [this, request_id] {
            in_one_transaction("PoR timeout", [&] { on_por_timeout(request_id); });
        });
}

void RequestPipeline::forget(int64_t request_id) {
    auto it = active_.find(request_id);
    if (it == active_.end())
        return;
    auto& list = awaiting_by_card_[it->second->card_id];
    std::erase(list, request_id);
    if (list.empty()) {
        awaiting_by_card_.erase(it->second->card_id);
        senders_.erase(it->second->msisdn);
    }
    // The timer may be the caller: stop it now, destroy it outside its own callback.
    it->second->timer.stop();
    std::shared_ptr<Active> dying(std::move(it->second));
    active_.erase(it);
    uv::defer(loop_, [dying] {});
}

void RequestPipeline::record_latency(int64_t request_id, bool acknowledged) {
    auto it = intake_ns_.find(request_id);
    if (it == intake_ns_.end())
        return;
    const uint64_t us = (uv_hrtime() - it->second) / 1000;
    if (acknowledged)
        intake_ns_.erase(it);
    constexpr size_t kSamples = 100000;
    Samples& samples = acknowledged ? ack_us_ : handoff_us_;
    const uint32_t v = static_cast<uint32_t>(std::min<uint64_t>(us, UINT32_MAX));
    if (samples.values.size() < kSamples)
        samples.values.push_back(v);
    else
        samples.values[samples.next++ % kSamples] = v;
    samples.fresh = true;
}

void RequestPipeline::publish_latency() {
    for (auto [samples, name] : {std::pair{&handoff_us_, "request:submit_latency"},
                                 std::pair{&ack_us_, "request:submit_ack_latency"}}) {
        if (!samples->fresh)
            continue; // nothing new: the figures stand
        samples->fresh = false;
        std::vector<uint32_t> v = samples->values;
        auto at = [&](double q) {
            const size_t k =
                std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())));
            std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
            return v[k];
        };
        const std::string n = name;
        counters_.set(n + "_samples", v.size());
        counters_.set(n + "_p50_us", at(0.50));
        counters_.set(n + "_p99_us", at(0.99));
        counters_.set(n + "_max_us", *std::max_element(v.begin(), v.end()));
    }
}

// ---- PoRs ------------------------------------------------------------------------------------

void RequestPipeline::on_por(const db::Card& card, const smpp::Mo& mo) {
    counters_.inc("por:received");
    const uint8_t kvn = config_.ota.kvn;
    // The packets this card's requests wait on, as dispatch() left them.
    std::vector<Active*> pending;
    if (auto w = awaiting_by_card_.find(card.id); w != awaiting_by_card_.end())
        for (int64_t rid : w->second)
            if (auto a = active_.find(rid); a != active_.end())
                pending.push_back(a->second.get());
    const CardKeys* keys = nullptr;
    for (Active* a : pending)
        if (a->keys && !keys)
            keys = &*a->keys;
    Result<std::optional<CardKeys>> read_keys = std::optional<CardKeys>();
    if (!keys) { // after a restart
        read_keys = card_keys(card.id);
        if (!read_keys)
            return fail_quietly("PoR", read_keys.error());
        if (!*read_keys)
            return;
        keys = &**read_keys;
    }
    auto por = ota::decode_response_packet(mo.user_data, configured_spi(), keys->keys);
    if (!por) {
        counters_.inc("por:malformed");
        log::notice(kLog, "PoR from ICCID " + card.iccid + " is malformed: " + por.error().message);
        return;
    }
    // Which packet it answers: by card, KVN and counter; a card refusing the counter answers
    // with its own counter, so then the oldest packet waiting on that card.
    Result<std::optional<db::OtaMessage>> message = std::optional<db::OtaMessage>();
    for (Active* a : pending)
        if (a->message && a->message->kvn == kvn && a->message->counter == por->counter)
            *message = a->message;
    if (!*message)
        message = store_.ota_message_for(card.id, kvn, por->counter);
    if (!message)
        return fail_quietly("PoR", message.error());
    if (!*message) {
        auto waiting = awaiting_by_card_.find(card.id);
        if (waiting != awaiting_by_card_.end() && !waiting->second.empty()) {
            const int64_t oldest = waiting->second.front();
            const int64_t wanted = active_.at(oldest)->message_id;
            if (auto sent = store_.ota_messages_of(oldest))
                for (const auto& mm : *sent)
                    if (mm.id == wanted)
                        *message = mm;
        }
    }
    if (*message && (*message)->tar != tar_hex(por->tar))
        message->reset(); // another TAR's answer: not for this packet
    db::Por record;
    record.ota_message_id = *message ? (*message)->id : 0;
    record.card_id = card.id;
    record.status = por->status;
    record.counter = por->counter;
    record.data = por->data;
    if (auto r = store_.add_por(record); !r)
        fail_quietly("PoR", r.error());
    if (por->integrity == ota::IntegrityCheck::Failed) {
        // Not the card's word (damaged, forged, or keys out of step): nothing is concluded
        // from it; the request waits for its timeout and then reads the card. An alarm for
        // the keyset, which a forged or damaged PoR cannot tell apart from a key problem.
        counters_.inc("por:integrity_failed");
        counters_.inc("keyset:alarm");
        audit("daemon", "por.integrity_failed", card.iccid,
              "a PoR (counter " + std::to_string(por->counter) + ", keyset " + std::to_string(kvn) +
                  ") whose cryptographic checksum does not verify was ignored");
        log::error(kLog,
                   "keyset alarm: ICCID " + card.iccid + ": a PoR failed its integrity check");
        return;
    }
    if (!*message) {
        counters_.inc("por:unmatched");
        log::notice(kLog, "PoR from ICCID " + card.iccid + " matches no packet we sent");
        return;
    }
    const db::OtaMessage& m = **message;
    if (Status st = store_.set_ota_message_state(m.id, "por", ""); !st)
        fail_quietly("PoR", st.error());
    Result<Loaded> l = make_error("");
    if (auto a = active_.find(m.request_id);
        a != active_.end() && a->second->loaded && a->second->message_id == m.id)
        l = *a->second->loaded;
    else
        l = load(m.request_id);
    if (!l)
        return fail_quietly("PoR", l.error());
    const bool current = l->detail.value("message_id", int64_t{0}) == m.id &&
                         (l->request.state == "sent" || l->request.state == "reconciling");
    if (!current) {
        // A late PoR (its request timed out): still the card's word on the application.
        counters_.inc("por:late");
        if (por->status == 0 && por->integrity == ota::IntegrityCheck::Ok) {
            const bool was_audit = l->request.state != "sent";
            auto script =
                operation_script(was_audit ? Operation::Query : l->op, l->app, OperationInput{});
            if (script)
                if (auto a =
                        read_card_answer(por->data, script->size(), script->back(), l->app.aid);
                    a && a->registry_known)
                    record_card_state(*l, state_from_registry(a->life_cycle, l->op), a->life_cycle);
        }
        return;
    }
    if (por->status == 0x02 && por->counter == m.counter) {
        // "Counter low" naming the very counter of this packet: the card has already taken
        // it, so this PoR answers a second copy (an SMSC or ESME may deliver a message twice).
        // The first copy's PoR tells what happened; if it was lost, the PoR timeout reads the
        // card. Resending now would run the operation twice.
        counters_.inc("por:duplicate_delivery");
        log::info(kLog, "request " + std::to_string(m.request_id) + ": the card had already " +
                            "taken counter " + std::to_string(m.counter) +
                            " (a copy delivered twice); waiting for the first copy's PoR");
        return;
    }
    forget(l->request.id);
    on_card_answer(std::move(*l), m, por->status, por->data, por->counter);
}

void RequestPipeline::on_card_answer(Loaded l, const db::OtaMessage& m, uint8_t status,
                                     const Bytes& data, std::optional<uint64_t> card_counter) {
    const bool audit_phase = l.request.state == "reconciling";
    const std::string iccid = l.detail.value("iccid", "");
    counters_.inc(std::string("por:status:") + ota::por_status_name(status));
    l.detail["por_status"] = ota::por_status_name(status);
    switch (status) {
    case 0x00:
        break;
    case 0x02:
    case 0x03: {
        // The card's counter is ahead of ours: raise ours to it and send again with a fresh
        // one (never the same packet again).
        const int resyncs = l.detail.value("resyncs", 0);
        audit("daemon", "keyset.counter_resync", iccid,
              std::string("PoR ") + ota::por_status_name(status) + " for counter " +
                  std::to_string(m.counter) +
                  (card_counter ? "; card counter " + std::to_string(*card_counter) : ""));
        if (resyncs >= kMaxResyncs) {
            finish(std::move(l), "failed", "counter_resync_failed");
            return;
        }
        // A counter-low PoR comes in clear (TS 102 225 §5.2.3): anyone could send one. Follow
        // it only within a plausible distance, so that a forged one cannot spend the 5-byte
        // counter space.
        constexpr uint64_t kMaxResyncJump = 1000000;
        if (card_counter && status == 0x02 && *card_counter > m.counter + kMaxResyncJump) {
            counters_.inc("keyset:alarm");
            l.detail["message"] = "the card claims counter " + std::to_string(*card_counter) +
                                  ", far beyond ours (" + std::to_string(m.counter) + ")";
            finish(std::move(l), "failed", "counter_resync_failed");
            return;
        }
        if (card_counter && status == 0x02)
            if (Status st = store_.raise_counter(l.request.card_id, m.kvn, *card_counter); !st)
                return fail_quietly("counter resync", st.error());
        l.detail["resyncs"] = resyncs + 1;
        counters_.inc("ota:counter_resync");
        dispatch(std::move(l), audit_phase);
        return;
    }
    case 0x01:
        counters_.inc("keyset:alarm");
        audit("daemon", "keyset.alarm", iccid,
              "the card could not verify the cryptographic checksum with keyset " +
                  std::to_string(m.kvn) + ": keys out of step; not retried");
        log::error(kLog, "keyset alarm: ICCID " + iccid + " KVN " + std::to_string(m.kvn) +
                             " failed the card's integrity check");
        finish(std::move(l), "failed", "card_integrity_failed");
        return;
    case 0x09:
        finish(std::move(l), "failed", "tar_unknown");
        return;
    case 0x0a:
        finish(std::move(l), "failed", "insufficient_security_level");
        return;
    default:
        finish(std::move(l), "failed", std::string("por_") + ota::por_status_name(status));
        return;
    }
    auto script =
        operation_script(audit_phase ? Operation::Query : l.op, l.app, input_of(l.detail));
    if (!script)
        return fail_quietly("request " + std::to_string(l.request.id), script.error());
    auto answer = read_card_answer(data, script->size(), script->back(), l.app.aid);
    if (!answer) {
        l.detail["message"] = answer.error().message;
        finish(std::move(l), "failed", "bad_card_answer");
        return;
    }
    if (answer->registry_known) {
        const std::string state = state_from_registry(answer->life_cycle, l.op);
        record_card_state(l, state, answer->life_cycle);
        if (audit_phase) {
            after_audit(std::move(l), state);
            return;
        }
        const std::string target = target_state(l.op, l.detail.value("from_state", ""));
        l.detail["state"] = state;
        if (state == target || l.op == Operation::Query)
            finish(std::move(l), "done", "");
        else
            finish(std::move(l), "failed", "card_state_" + state);
        return;
    }
    // The card stopped the script at a command.
    l.detail["message"] = "the card answered " + hex_word(answer->failed_sw) + " to command " +
                          std::to_string(answer->failed_command + 1) + " of " +
                          std::to_string(script->size());
    l.detail["card_refusal"] = "card_refused_" + hex_word(answer->failed_sw);
    if (!audit_phase && (answer->failed_command > 0 || l.detail.value("attempts", 0) > 1)) {
        // Earlier commands ran, or an earlier copy of the operation may have (it was sent
        // again after a counter resynchronisation or an audit): read the card before saying
        // what happened.
        dispatch(std::move(l), true);
        return;
    }
    finish(std::move(l), "failed", "card_refused_" + hex_word(answer->failed_sw));
}

void RequestPipeline::on_por_timeout(int64_t request_id) {
    forget(request_id);
    auto l = load(request_id);
    if (!l)
        return fail_quietly("PoR timeout", l.error());
    if (l->request.state != "sent" && l->request.state != "reconciling")
        return; // answered meanwhile
    counters_.inc("por:timeout");
    const std::string iccid = l->detail.value("iccid", "");
    const int audits = l->detail.value("audits", 0);
    audit("daemon", "por.timeout", iccid,
          "request " + std::to_string(request_id) + ": no PoR within " +
              std::to_string(config_.ota.por_timeout_s) + " s; reading the card (GET STATUS)");
    if (l->request.state == "sent")
        record_card_state(*l, kStateUnknown, std::nullopt);
    if (audits >= kMaxAudits) {
        finish(std::move(*l), "failed", "por_lost");
        return;
    }
    dispatch(std::move(*l), true);
}

void RequestPipeline::after_audit(Loaded l, const std::string& card_state) {
    const std::string from = l.detail.value("from_state", "");
    const std::string target = target_state(l.op, from);
    l.detail["state"] = card_state;
    if (l.detail.contains("card_refusal")) {
        if (card_state == target && l.detail.value("attempts", 0) > 1) {
            // The card refused the last copy because an earlier one had done the operation.
            l.detail.erase("card_refusal");
            l.detail["message"] = "done by an earlier copy; " + l.detail.value("message", "");
            finish(std::move(l), "done", "");
            return;
        }
        finish(std::move(l), "failed", l.detail.value("card_refusal", ""));
        return;
    }
    if (card_state == target || l.op == Operation::Query) {
        finish(std::move(l), "done", ""); // the card did it; its PoR was lost
        return;
    }
    if (card_state == from && !transition_refusal(l.op, card_state) &&
        l.detail.value("attempts", 0) < kMaxDispatches) {
        counters_.inc("ota:resent_after_audit");
        dispatch(std::move(l), false); // the card never ran it: send it again, fresh counter
        return;
    }
    finish(std::move(l), "failed", "card_state_" + card_state);
}

void RequestPipeline::record_card_state(const Loaded& l, const std::string& state,
                                        std::optional<uint8_t> life_cycle) {
    db::CardApp a;
    a.aid = l.app.aid;
    a.state = state;
    a.life_cycle = life_cycle;
    a.load_file_aid = l.app.load_file_aid;
    a.module_aid = l.app.module_aid;
    a.updated_at = unix_ms();
    if (Status st = store_.put_card_app(l.request.card_id, a); !st)
        fail_quietly("card application state", st.error());
    audit("daemon", "app.state", l.detail.value("iccid", ""),
          l.app.name + " (" + l.app.aid + ") is " + state + " (request " +
              std::to_string(l.request.id) + ")");
}

// ---- results ---------------------------------------------------------------------------------

void RequestPipeline::finish(Loaded l, const std::string& state, const std::string& reason) {
    forget(l.request.id);
    intake_ns_.erase(l.request.id);
    const std::string message = l.detail.value("message", "");
    std::optional<db::ProviderCallback> owed;
    Status st = atomically([&]() -> Status {
        OTAGW_TRY_STATUS(save(l, state, reason));
        auto a = store_.append_audit(
            {0, 0, "daemon", "request." + state, l.detail.value("iccid", l.request.msisdn),
             "request " + std::to_string(l.request.id) + " " + operation_name(l.op) + " " +
                 l.app.name + (reason.empty() ? "" : ": " + reason) +
                 (message.empty() ? "" : " (" + message + ")")});
        if (!a)
            return a.take_error();
        if (!l.app.provider.empty() && state != "refused") {
            db::ProviderCallback& cb = owed.emplace();
            cb.request_id = l.request.id;
            cb.provider = l.app.provider;
            cb.body = Json{{"request_id", l.request.id},
                           {"operation", operation_name(l.op)},
                           {"application", l.app.name},
                           {"aid", l.app.aid},
                           {"msisdn", l.request.msisdn},
                           {"iccid", l.detail.value("iccid", "")},
                           {"outcome", state},
                           {"reason", reason},
                           {"state", l.detail.value("state", "")}}
                          .dump();
            OTAGW_TRY_STATUS(store_.put_callback(cb));
        }
        if (on_finished_) {
            db::Request finished = l.request;
            finished.state = state;
            finished.reason = reason;
            on_finished_(finished, l.detail);
        }
        return {};
    });
    if (!st)
        return fail_quietly("request " + std::to_string(l.request.id), st.error());
    l.request.state = state;
    l.request.reason = reason;
    counters_.inc("request:" + state);
    log::info(kLog, "request " + std::to_string(l.request.id) + " " + state +
                        (reason.empty() ? "" : " (" + reason + ")"));
    // Campaigns are the operator's doing: the subscriber gets no SMS about them.
    if ((state != "refused" || l.request.source == "sms") && l.request.source != "campaign")
        reply(l, reply_text(l.request.language, l.op, l.app.name, state, reason,
                            l.detail.value("state", ""), l.request.id));
    if (owed)
        after_commit([this, cb = std::move(*owed)]() mutable { send_callback(std::move(cb)); });
}

void RequestPipeline::reply(const Loaded& l, const std::string& text) {
    if (!esme_ || l.request.msisdn.empty() || config_.requests.short_code.empty())
        return;
    smpp::SmsPp sms;
    sms.source = {0, 1, config_.requests.short_code};
    sms.dest = {1, 1, l.request.msisdn};
    auto encoded = encode_reply(text);
    sms.user_data = std::move(encoded.first);
    sms.data_coding = encoded.second;
    sms.protocol_id = 0;
    sms.udhi = false;
    sms.registered_delivery = false;
    counters_.inc("reply:sent");
    std::weak_ptr<bool> alive = alive_;
    after_commit([this, alive, sms = std::move(sms)]() mutable {
        if (alive.expired() || stopped_ || !esme_)
            return;
        esme_->submit(std::move(sms), [](const smpp::SubmitResult& r) {
            if (!r.ok)
                log::notice(kLog, "reply SMS not sent: " + r.error);
        });
    });
}

void RequestPipeline::send_callback(db::ProviderCallback cb) {
    ProviderClient* p = provider(cb.provider);
    if (!p)
        return;
    auto body = nlohmann::json::parse(cb.body, nullptr, false);
    if (body.is_discarded())
        return;
    counters_.inc("provider:callback");
    std::weak_ptr<bool> alive = alive_;
    p->call("/result", body, [this, alive, cb](Result<ProviderClient::Answer> a) {
        if (alive.expired() || stopped_)
            return;
        if (a && a->status / 100 == 2) {
            if (Status st = store_.delete_callback(cb.request_id); !st)
                fail_quietly("provider callback", st.error());
            counters_.inc("provider:callback_acked");
            callback_retries_.erase(cb.request_id);
            return;
        }
        // Not acknowledged: kept in the database, tried again later (and after a restart),
        // 5 s after the first failure, doubling up to 5 minutes.
        counters_.inc("provider:callback_retry");
        auto& retry = callback_retries_[cb.request_id];
        const uint64_t delay =
            std::min<uint64_t>(uint64_t{5000} << std::min(retry.failures, 6), 300000);
        retry.failures++;
        log::notice(kLog, "provider " + cb.provider + ": result of request " +
                              std::to_string(cb.request_id) + " not acknowledged (" +
                              std::to_string(retry.failures) + " times); again in " +
                              std::to_string(delay / 1000) + " s");
        if (retry.timer) { // the previous one has fired; it may still be on the stack
            std::shared_ptr<uv::Timer> fired(std::move(retry.timer));
            uv::defer(loop_, [fired] {});
        }
        retry.timer = std::make_unique<uv::Timer>(loop_);
        retry.timer->start(delay, [this, alive, cb] {
            if (!alive.expired() && !stopped_)
                send_callback(cb);
        });
    });
}

// ---- restart ---------------------------------------------------------------------------------

Status RequestPipeline::resume() {
    size_t resumed = 0;
    for (int64_t after = 0;;) {
        std::vector<db::Request> batch;
        OTAGW_TRY_ASSIGN(batch, store_.unfinished_requests(after, 1000));
        if (batch.empty())
            break;
        for (const auto& r : batch) {
            after = r.id;
            resumed++;
            if (r.state == "sent" || r.state == "reconciling") {
                // It may have reached the card: wait out its PoR, then read the card.
                auto d = Json::parse(r.detail, nullptr, false);
                const int64_t sent = d.is_object() ? d.value("sent_at", int64_t{0}) : 0;
                const int64_t left = sent + int64_t{config_.ota.por_timeout_s} * 1000 - unix_ms();
                wait_for_por(r.id, r.card_id, static_cast<uint64_t>(std::max<int64_t>(left, 1000)));
                active_[r.id]->message_id = d.is_object() ? d.value("message_id", int64_t{0}) : 0;
            } else {
                const int64_t id = r.id;
                uv::defer(loop_, [this, id] {
                    if (!stopped_)
                        in_one_transaction("resume", [&] { advance(id); });
                });
            }
        }
    }
    std::vector<db::ProviderCallback> owed;
    OTAGW_TRY_ASSIGN(owed, store_.pending_callbacks(100000));
    for (auto& cb : owed)
        send_callback(std::move(cb));
    if (resumed || !owed.empty())
        log::notice(kLog, "resumed " + std::to_string(resumed) + " unfinished requests and " +
                              std::to_string(owed.size()) + " owed provider callbacks");
    return {};
}

std::vector<std::string> RequestPipeline::show() const {
    std::vector<std::string> out;
    for (const auto& [id, a] : active_)
        out.push_back("request " + std::to_string(id) + " waiting for a PoR (card " +
                      std::to_string(a->card_id) + ")");
    if (out.empty())
        out.push_back("No request in flight");
    return out;
}

} // namespace otagw::gateway
