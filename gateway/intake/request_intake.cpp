// SPDX-License-Identifier: GPL-2.0-or-later
#include "intake/request_intake.hpp"

#include "intake/msisdn.hpp"

namespace otagw::gateway {

Result<CheckedRequest> check_request(const NewRequest& n, db::Store& store, Catalog& catalog,
                                     const RequestsConfig& config, uint8_t kvn) {
    const auto op = operation_named(n.operation);
    const bool refused_already = !n.refusal.empty();
    if (!op && !refused_already)
        return make_error(
            "operation: '" + n.operation +
                "' is not one of activate, suspend, resume, terminate, query, install",
            Errc::Invalid);
    if (n.msisdn.empty() && n.iccid.empty() && !refused_already)
        return make_error("give the card by msisdn or iccid", Errc::Invalid);
    if (n.app_code.empty() && n.app_aid.empty() && !refused_already)
        return make_error("give the application by its code (app) or its AID (aid)", Errc::Invalid);
    if (!n.bearer.empty() && n.bearer != "sms-pp" && n.bearer != "bip" && n.bearer != "auto")
        return make_error("bearer: '" + n.bearer + "' is none of sms-pp, bip, auto", Errc::Invalid);
    if (n.related && op != Operation::Terminate)
        return make_error("related: only a terminate deletes the load file with its related "
                          "objects",
                          Errc::Invalid);

    CheckedRequest c;
    db::Request& r = c.row;
    r.idempotency_key = n.idempotency_key;
    r.source = n.source;
    r.actor = n.actor;
    r.msisdn = n.msisdn;
    r.operation = op ? operation_name(*op) : "unknown";
    r.language = n.language.empty() ? "en" : n.language;
    RequestContext& ctx = c.ctx;
    ctx.operation = op.value_or(Operation::Query);
    ctx.kvn = kvn;
    RequestData& d = ctx.data;
    d.app_code = n.app_code;
    d.campaign_id = n.campaign_id;
    d.campaign_seq = n.campaign_seq;
    d.related = n.related;
    Reason reason = n.refusal;
    std::string message = n.refusal_message;
    auto refuse = [&](ReasonCode code, std::string why) {
        if (reason.empty()) {
            reason = Reason::of(code);
            message = std::move(why);
        }
    };

    // The MSISDN, then the card.
    std::optional<db::Card>& card = c.card;
    if (!n.msisdn.empty()) { // also for a refused SMS: its reply goes to the sender
        MsisdnPolicy policy{config.region, config.ranges};
        auto e164 = normalize_msisdn(n.msisdn, n.msisdn_ton, policy);
        if (!e164) {
            refuse(e164.error().code == Errc::OutOfRange ? ReasonCode::MsisdnOutOfRange
                                                         : ReasonCode::BadMsisdn,
                   e164.error().message);
        } else {
            r.msisdn = *e164;
            OTAGW_TRY_ASSIGN(card, store.card_by_msisdn(*e164));
            if (!card)
                refuse(ReasonCode::UnknownMsisdn, "no card has MSISDN " + *e164);
        }
    }
    if (reason.empty() && !n.iccid.empty()) {
        std::optional<db::Card> by_iccid;
        OTAGW_TRY_ASSIGN(by_iccid, store.card_by_iccid(n.iccid));
        if (!by_iccid)
            refuse(ReasonCode::UnknownIccid, "no card has ICCID " + n.iccid);
        else if (card && card->id != by_iccid->id)
            refuse(ReasonCode::MsisdnCardMismatch, "MSISDN " + r.msisdn + " belongs to ICCID " +
                                                       card->iccid + ", not to " + n.iccid);
        else
            card = by_iccid;
    }
    if (card) {
        r.card_id = card->id;
        if (r.msisdn.empty() && !card->msisdn.empty()) {
            // By ICCID: the same number checks, on the card's MSISDN.
            r.msisdn = card->msisdn;
            auto e164 = normalize_msisdn(card->msisdn, 1, {config.region, config.ranges});
            if (!e164)
                refuse(e164.error().code == Errc::OutOfRange ? ReasonCode::MsisdnOutOfRange
                                                             : ReasonCode::BadMsisdn,
                       "card " + card->iccid + ": " + e164.error().message);
        }
        d.iccid = card->iccid;
        if (card->status == "barred")
            refuse(ReasonCode::CardBarred, "card " + card->iccid + " is barred");
    }
    // The application, its state on the card, what is in flight.
    std::optional<db::Application>& app = c.app;
    if (reason.empty()) {
        if (!n.app_aid.empty())
            OTAGW_TRY_ASSIGN(app, catalog.by_aid(n.app_aid));
        else
            OTAGW_TRY_ASSIGN(app, catalog.by_code(n.app_code));
        if (!app)
            refuse(ReasonCode::UnknownApp,
                   "no application " +
                       (n.app_aid.empty() ? "with code " + n.app_code : "with AID " + n.app_aid) +
                       " in the catalog");
    }
    if (app && n.related && app->load_file_aid.empty())
        refuse(ReasonCode::BadRequest,
               "application " + app->name + " names no load file to delete with it");
    if (app) {
        r.app_aid = app->aid;
        d.app_code = app->code;
        d.app_name = app->name;
        ctx.asks_provider = !app->provider.empty() && ctx.operation != Operation::Query;
    }
    if (reason.empty() && card && app) {
        std::vector<db::CardApp> apps;
        OTAGW_TRY_ASSIGN(apps, store.card_apps(card->id));
        for (const auto& a : apps)
            if (a.aid == app->aid) {
                d.from_state =
                    CardAppState::parse(a.state).value_or(CardAppState{AppState::Unknown});
                d.known_life_cycle = a.life_cycle;
            }
        d.known_state = d.from_state;
        std::optional<db::Request> busy;
        OTAGW_TRY_ASSIGN(busy, store.request_in_flight(card->id, app->aid));
        if (busy)
            refuse(ReasonCode::InFlight, "request " + std::to_string(busy->id) + " (" +
                                             busy->operation +
                                             ") is still in progress on this application; this "
                                             "one is refused, not queued");
        else if (auto why = transition_refusal(ctx.operation, d.from_state))
            refuse(ReasonCode::NotAllowedInState, *why);
    }
    if (!reason.empty()) {
        d.message = message;
        ctx.state = RequestState::Refused;
        ctx.reason = reason;
    }
    r.state = request_state_name(ctx.state);
    r.reason = reason.name();
    return c;
}

} // namespace otagw::gateway
