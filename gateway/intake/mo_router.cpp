// SPDX-License-Identifier: GPL-2.0-or-later
#include "intake/mo_router.hpp"

#include "intake/application_request.hpp"
#include "intake/secured_request.hpp"
#include "otagw/common/log.hpp"
#include "otagw/ota/ts_31_115.hpp"

namespace otagw::gateway {

namespace {

constexpr const char* kLog = "intake";

// The first IE of a UDH that fits in the user data is `iei`. (The ESME hands over only
// well-formed UDHs; this holds without it.)
bool udh_leads_with(const smpp::Mo& mo, uint8_t iei) {
    const Bytes& ud = mo.user_data;
    return mo.udhi && ud.size() >= 3 && ud[0] >= 2 && 1u + ud[0] <= ud.size() && ud[1] == iei;
}

ReasonCode refusal_code(TextRefusal r) {
    switch (r) {
    case TextRefusal::Empty:
        return ReasonCode::EmptyText;
    case TextRefusal::UnknownKeyword:
        return ReasonCode::UnknownKeyword;
    case TextRefusal::NoAppCode:
        return ReasonCode::NoAppCode;
    case TextRefusal::BadAppCode:
        return ReasonCode::BadAppCode;
    case TextRefusal::TrailingWords:
        break;
    }
    return ReasonCode::TrailingWords;
}

} // namespace

smpp::MoVerdict MoRouter::on_mo(const smpp::Mo& mo) {
    Counters& counters = pipeline_.counters();
    if (udh_leads_with(mo, ota::sms::kIeiResponsePacket)) {
        pipeline_.on_por(mo);
        return smpp::MoVerdict::Taken;
    }
    if (config_.requests.short_code.empty() || mo.dest.addr != config_.requests.short_code) {
        counters.inc("mo:ignored");
        return smpp::MoVerdict::Taken;
    }
    auto verdict = [&](const Error& e, const char* what) {
        if (storage_unavailable(e)) {
            counters.inc("mo:retry_later");
            log::notice(kLog,
                        std::string(what) + " from " + mo.source.addr +
                            " not stored, the SMSC is asked to deliver it again: " + e.message);
            return smpp::MoVerdict::RetryLater;
        }
        log::error(kLog, std::string(what) + " from " + mo.source.addr + ": " + e.message);
        return smpp::MoVerdict::Taken;
    };
    if (udh_leads_with(mo, ota::sms::kIeiCommandPacket)) {
        auto audit = [this](const char* action, const std::string& subject,
                            const std::string& text) {
            pipeline_.audit("daemon", action, subject, text);
        };
        // Its checks write (the card's counter): with the request, in one transaction.
        std::optional<Error> error;
        Status st = pipeline_.transactions().in_one([&] {
            auto n = read_secured_request(mo, store_, catalog_, config_, counters, audit);
            if (!n)
                error = n.error();
            else if (auto r = pipeline_.submit(*n); !r)
                error = r.error();
        });
        if (!st)
            error = st.error();
        return error ? verdict(*error, "secured request") : smpp::MoVerdict::Taken;
    }
    counters.inc("request:sms");
    auto r = pipeline_.submit(read_request(mo));
    return r ? smpp::MoVerdict::Taken : verdict(r.error(), "SMS request");
}

NewRequest MoRouter::read_request(const smpp::Mo& mo) const {
    NewRequest n;
    n.source = "sms";
    n.actor = "sms:" + mo.source.addr;
    n.msisdn = mo.source.addr;
    n.msisdn_ton = mo.source.ton;
    const Bytes& ud = mo.user_data;
    const bool eight_bit = mo.data_coding == 0x04 || mo.data_coding == 0xf6;
    auto refuse = [&](ReasonCode code, std::string why) {
        n.refusal = Reason::of(code);
        n.refusal_message = std::move(why);
    };
    // What is left of a UDH (at least its UDHL) after reassembly is not the request's.
    ByteView body = ud;
    if (mo.udhi && !body.empty())
        body = 1u + body[0] <= body.size() ? body.subspan(1u + body[0]) : ByteView();
    if (eight_bit) {
        auto b = parse_binary_request(body);
        if (!b)
            refuse(ReasonCode::BadRequest, b.error().message);
        else {
            n.operation = operation_name(b->operation);
            n.app_aid = to_hex(b->aid);
            n.app_code = b->app_code;
        }
        return n;
    }
    auto text = decode_sms_text(mo.data_coding, body);
    if (!text) {
        refuse(ReasonCode::BadRequest, text.error().message);
        return n;
    }
    TextParse p = parse_text_request(*text, config_.requests.keywords);
    n.language = p.language;
    if (!p.request) {
        refuse(refusal_code(p.refusal), p.message);
        return n;
    }
    n.operation = operation_name(p.request->operation);
    n.app_code = p.request->app_code;
    n.language = p.request->language;
    return n;
}

} // namespace otagw::gateway
