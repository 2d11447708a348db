// SPDX-License-Identifier: GPL-2.0-or-later
#include "intake/secured_request.hpp"

#include "intake/application_request.hpp"
#include "intake/msisdn.hpp"
#include "requests/card_keys.hpp"

namespace otagw::gateway {

Result<NewRequest> read_secured_request(const smpp::Mo& mo, db::Store& store, Catalog& catalog,
                                        const GatewayConfig& config, Counters& counters,
                                        const AuditFn& audit) {
    NewRequest n;
    n.source = "sms";
    n.actor = "card:" + mo.source.addr;
    n.msisdn = mo.source.addr;
    n.msisdn_ton = mo.source.ton;
    auto refuse = [&](ReasonCode code, std::string why) {
        counters.inc("request:secured_refused");
        n.refusal = Reason::of(code);
        n.refusal_message = std::move(why);
        return n;
    };
    MsisdnPolicy policy{config.requests.region, config.requests.ranges};
    auto e164 = normalize_msisdn(mo.source.addr, mo.source.ton, policy);
    std::optional<db::Card> card;
    if (e164)
        OTAGW_TRY_ASSIGN(card, store.card_by_msisdn(*e164));
    if (!card)
        return refuse(ReasonCode::UnknownMsisdn,
                      "a secured request from " + mo.source.addr + ", which is no card of ours");
    std::optional<db::Keyset> keyset;
    OTAGW_TRY_ASSIGN(keyset, store.ota_keyset(card->id, config.ota.kvn));
    if (!keyset)
        return refuse(ReasonCode::NoKeyset,
                      "the card has no keyset " + std::to_string(config.ota.kvn));
    const CardKeys keys = card_keys_of(*keyset); // the card secures its requests with a CC
    const Bytes& ud = mo.user_data;
    if (ud.empty() || 1u + ud[0] > ud.size())
        return refuse(ReasonCode::BadRequest, "secured request: its UDH is longer than the SMS");
    auto packet = ota::decode_command_packet(ByteView(ud).subspan(1u + ud[0]), keys.keys);
    if (!packet)
        return refuse(ReasonCode::BadRequest, "secured request: " + packet.error().message);
    const auto& h = packet->header;
    if (h.spi.integrity() != ota::Integrity::Cc || packet->integrity != ota::IntegrityCheck::Ok ||
        ota::key_version(h.kid) != keys.kvn) {
        counters.inc("keyset:alarm");
        audit("request.integrity_failed", card->iccid,
              "a secured request without a valid cryptographic checksum was refused");
        return refuse(ReasonCode::CardIntegrityFailed,
                      "the secured request's cryptographic checksum does not verify");
    }
    if (Status st = store.accept_card_counter(card->id, keys.kvn, h.counter); !st) {
        audit("request.replayed", card->iccid, st.error().message);
        return refuse(ReasonCode::ReplayedCounter, st.error().message);
    }
    auto b = parse_binary_request(packet->secured_data);
    if (!b)
        return refuse(ReasonCode::BadRequest, b.error().message);
    n.operation = operation_name(b->operation);
    n.app_aid = to_hex(b->aid);
    n.app_code = b->app_code;
    n.iccid = card->iccid;
    // The TAR names the application the card's client speaks for.
    const std::string tar = to_hex(ByteView(h.tar.data(), h.tar.size()));
    auto found = n.app_aid.empty() ? catalog.by_code(n.app_code) : catalog.by_aid(n.app_aid);
    if (found && *found && (*found)->tar != tar)
        return refuse(ReasonCode::TarMismatch, "the request came on TAR " + tar +
                                                   ", not on the application's " + (*found)->tar);
    counters.inc("request:secured");
    return n;
}

} // namespace otagw::gateway
