// SPDX-License-Identifier: GPL-2.0-or-later
#include "requests/request_data.hpp"

#include <charconv>

#include <nlohmann/json.hpp>

#include "otagw/common/text.hpp"

namespace otagw::gateway {

namespace {

constexpr int kVersion = 2;

// Keys, in the order written. Values at their default are left out.
constexpr const char* kIccid = "iccid";
constexpr const char* kApp = "app";
constexpr const char* kAppName = "app_name";
constexpr const char* kFrom = "from";
constexpr const char* kCampaign = "campaign";  // [id, seq]
constexpr const char* kPerso = "perso_sealed"; // hex, sealed by the shell: never in clear
constexpr const char* kClearPerso = "perso";   // read only: written by schema 6's conversion
constexpr const char* kSends = "sends";
constexpr const char* kResyncs = "resyncs";
constexpr const char* kAudits = "audits";
// [[message id, counter, "op"|"audit"|"load:N"|"clean", sent_at], ...]
constexpr const char* kPackets = "packets";
constexpr const char* kSentCounter = "sent_counter";
constexpr const char* kLearned = "learned";
constexpr const char* kKnown = "known";
constexpr const char* kKnownLifeCycle = "known_lc";
constexpr const char* kPending = "pending";
constexpr const char* kCardState = "state";
constexpr const char* kPorStatus = "por_status";
constexpr const char* kRefusal = "refusal"; // SW, 4 hex digits
constexpr const char* kMessage = "message";
constexpr const char* kRelated = "related"; // true: DELETE of the load file and related
constexpr const char* kBearer = "bearer";   // "bip"; absent: SMS-PP
// {"next": N, "blocks_done": N, "blocks": N, "restarts": N, "started": bool, "loaded": bool}
constexpr const char* kLoad = "load";

class Writer {
public:
    Writer() { out_.append("{\"v\":").append(std::to_string(kVersion)); }
    void text(const char* key, std::string_view v) {
        if (v.empty())
            return;
        name(key);
        append_json_string(out_, v);
    }
    void number(const char* key, uint64_t v) {
        if (!v)
            return;
        name(key);
        out_ += std::to_string(v);
    }
    void raw(const char* key, std::string_view v) {
        name(key);
        out_ += v;
    }
    std::string done() { return std::move(out_.append("}")); }

private:
    void name(const char* key) {
        out_ += ",\"";
        out_ += key;
        out_ += "\":";
    }
    std::string out_;
};

using Json = nlohmann::json;

class Reader {
public:
    explicit Reader(const Json& j) : j_(j) {}
    const Json* get(const char* key) const {
        auto it = j_.find(key);
        return it == j_.end() ? nullptr : &*it;
    }
    Status text(const char* key, std::string& out) const {
        if (const Json* v = get(key)) {
            if (!v->is_string())
                return wrong(key, "a string");
            out = v->get<std::string>();
        }
        return {};
    }
    template <typename T>
    Status number(const char* key, T& out) const {
        if (const Json* v = get(key)) {
            if (!v->is_number_unsigned() && !(v->is_number_integer() && v->get<int64_t>() >= 0))
                return wrong(key, "a number");
            out = static_cast<T>(v->get<uint64_t>());
        }
        return {};
    }
    Status state(const char* key, CardAppState& out) const {
        std::string s;
        OTAGW_TRY_STATUS(text(key, s));
        if (s.empty())
            return {};
        auto parsed = CardAppState::parse(s);
        if (!parsed)
            return wrong(key, "an application state");
        out = *parsed;
        return {};
    }
    static Error wrong(const char* key, const char* what) {
        return make_error(std::string("request data: ") + key + " is not " + what, Errc::Corrupt);
    }

private:
    const Json& j_;
};

std::string phase_name(const SentPacket& p) {
    switch (p.phase) {
    case Phase::Audit:
        return "audit";
    case Phase::Load:
        return "load:" + std::to_string(p.index);
    case Phase::Clean:
        return "clean";
    case Phase::Operation:
        break;
    }
    return "op";
}

bool parse_phase(std::string_view name, SentPacket& p) {
    if (name == "op" || name == "audit" || name == "clean") {
        p.phase = name == "op" ? Phase::Operation : name == "audit" ? Phase::Audit : Phase::Clean;
        return true;
    }
    if (!name.starts_with("load:"))
        return false;
    const std::string_view digits = name.substr(5);
    uint32_t index = 0;
    auto r = std::from_chars(digits.data(), digits.data() + digits.size(), index);
    if (digits.empty() || r.ec != std::errc() || r.ptr != digits.data() + digits.size() ||
        index > 0xffff)
        return false;
    p.phase = Phase::Load;
    p.index = index;
    return true;
}

} // namespace

std::string encode_request_data(const RequestData& d) {
    Writer w;
    w.text(kIccid, d.iccid);
    w.text(kApp, d.app_code);
    w.text(kAppName, d.app_name);
    w.text(kFrom, d.from_state.name());
    if (d.campaign_id) {
        std::string ref = "[";
        ref.append(std::to_string(d.campaign_id)).append(",");
        ref.append(std::to_string(d.campaign_seq)).append("]");
        w.raw(kCampaign, ref);
    }
    if (!d.sealed_personalisation.empty())
        w.text(kPerso, to_hex(d.sealed_personalisation));
    if (d.related)
        w.raw(kRelated, "true");
    if (d.bip)
        w.text(kBearer, "bip");
    w.number(kSends, d.sends);
    w.number(kResyncs, d.resyncs);
    w.number(kAudits, d.audits);
    if (!d.outstanding.empty()) {
        std::string list = "[";
        for (const auto& p : d.outstanding) {
            if (list.size() > 1)
                list += ",";
            list.append("[").append(std::to_string(p.message_id)).append(",");
            list.append(std::to_string(p.counter)).append(",\"").append(phase_name(p));
            list.append("\",").append(std::to_string(p.sent_at)).append("]");
        }
        w.raw(kPackets, list + "]");
    }
    w.number(kSentCounter, d.sent_counter);
    w.number(kLearned, d.learned_counter);
    w.text(kKnown, d.known_state.name());
    if (d.known_life_cycle)
        w.raw(kKnownLifeCycle, std::to_string(*d.known_life_cycle));
    if (d.pending_recorded)
        w.raw(kPending, "true");
    if (d.card_state)
        w.text(kCardState, d.card_state->name());
    if (d.por_status)
        w.text(kPorStatus, ota::por_status_name(*d.por_status));
    if (d.card_refusal) {
        const uint8_t sw[2] = {static_cast<uint8_t>(*d.card_refusal >> 8),
                               static_cast<uint8_t>(*d.card_refusal)};
        w.text(kRefusal, to_hex(ByteView(sw, 2)));
    }
    w.text(kMessage, d.message);
    if (d.load) {
        const LoadProgress& l = *d.load;
        std::string load = "{\"next\":" + std::to_string(l.next) +
                           ",\"blocks_done\":" + std::to_string(l.blocks_done) +
                           ",\"blocks\":" + std::to_string(l.blocks) +
                           ",\"restarts\":" + std::to_string(l.restarts) +
                           ",\"started\":" + (l.started ? "true" : "false") +
                           ",\"loaded\":" + (l.loaded ? "true" : "false") + "}";
        w.raw(kLoad, load);
    }
    return w.done();
}

Result<RequestData> decode_request_data(std::string_view text) {
    const Json j = Json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object())
        return make_error("request data: not a JSON object", Errc::Corrupt);
    const Reader r(j);
    int version = 0;
    OTAGW_TRY_STATUS(r.number("v", version));
    if (version != kVersion)
        return make_error("request data: version " + std::to_string(version) + ", not " +
                              std::to_string(kVersion),
                          Errc::Corrupt);
    RequestData d;
    OTAGW_TRY_STATUS(r.text(kIccid, d.iccid));
    OTAGW_TRY_STATUS(r.text(kApp, d.app_code));
    OTAGW_TRY_STATUS(r.text(kAppName, d.app_name));
    OTAGW_TRY_STATUS(r.state(kFrom, d.from_state));
    if (const Json* c = r.get(kCampaign)) {
        if (!c->is_array() || c->size() != 2 || !(*c)[0].is_number_integer() ||
            !(*c)[1].is_number_integer())
            return Reader::wrong(kCampaign, "[campaign id, target seq]");
        d.campaign_id = (*c)[0].get<int64_t>();
        d.campaign_seq = (*c)[1].get<int64_t>();
    }
    for (auto [key, field] : {std::pair{kPerso, &d.sealed_personalisation},
                              std::pair{kClearPerso, &d.personalisation}}) {
        std::string hex;
        OTAGW_TRY_STATUS(r.text(key, hex));
        if (hex.empty())
            continue;
        auto bytes = parse_hex(hex);
        if (!bytes)
            return Reader::wrong(key, "hex");
        *field = std::move(*bytes);
    }
    if (const Json* bearer = r.get(kBearer)) {
        if (!bearer->is_string() || (*bearer != "bip" && *bearer != "sms-pp"))
            return Reader::wrong(kBearer, "bip or sms-pp");
        d.bip = *bearer == "bip";
    }
    if (const Json* rel = r.get(kRelated)) {
        if (!rel->is_boolean())
            return Reader::wrong(kRelated, "true or false");
        d.related = rel->get<bool>();
    }
    OTAGW_TRY_STATUS(r.number(kSends, d.sends));
    OTAGW_TRY_STATUS(r.number(kResyncs, d.resyncs));
    OTAGW_TRY_STATUS(r.number(kAudits, d.audits));
    if (const Json* list = r.get(kPackets)) {
        if (!list->is_array())
            return Reader::wrong(kPackets, "a list");
        for (const auto& p : *list) {
            if (!p.is_array() || p.size() != 4 || !p[0].is_number_integer() ||
                !p[1].is_number_integer() || !p[2].is_string() || !p[3].is_number_integer())
                return Reader::wrong(kPackets, "a list of [message id, counter, phase, sent at]");
            SentPacket s;
            s.message_id = p[0].get<int64_t>();
            s.counter = p[1].get<uint64_t>();
            if (!parse_phase(p[2].get<std::string>(), s))
                return Reader::wrong(kPackets, "a list with phases op, audit, load:N or clean");
            s.sent_at = p[3].get<int64_t>();
            d.outstanding.push_back(s);
        }
    }
    OTAGW_TRY_STATUS(r.number(kSentCounter, d.sent_counter));
    OTAGW_TRY_STATUS(r.number(kLearned, d.learned_counter));
    OTAGW_TRY_STATUS(r.state(kKnown, d.known_state));
    if (const Json* lc = r.get(kKnownLifeCycle)) {
        if (!lc->is_number_unsigned() || lc->get<uint64_t>() > 0xff)
            return Reader::wrong(kKnownLifeCycle, "a life cycle byte");
        d.known_life_cycle = static_cast<uint8_t>(lc->get<uint64_t>());
    }
    if (const Json* p = r.get(kPending)) {
        if (!p->is_boolean())
            return Reader::wrong(kPending, "true or false");
        d.pending_recorded = p->get<bool>();
    }
    if (r.get(kCardState)) {
        CardAppState s;
        OTAGW_TRY_STATUS(r.state(kCardState, s));
        d.card_state = s;
    }
    std::string por;
    OTAGW_TRY_STATUS(r.text(kPorStatus, por));
    if (!por.empty()) {
        for (unsigned st = 0; st <= 0x0c && !d.por_status; st++)
            if (por == ota::por_status_name(static_cast<uint8_t>(st)))
                d.por_status = static_cast<uint8_t>(st);
        if (!d.por_status)
            return Reader::wrong(kPorStatus, "a PoR status name");
    }
    std::string refusal;
    OTAGW_TRY_STATUS(r.text(kRefusal, refusal));
    if (!refusal.empty()) {
        auto sw = parse_hex(refusal);
        if (!sw || sw->size() != 2)
            return Reader::wrong(kRefusal, "a status word");
        d.card_refusal = static_cast<uint16_t>((*sw)[0] << 8 | (*sw)[1]);
    }
    OTAGW_TRY_STATUS(r.text(kMessage, d.message));
    if (const Json* load = r.get(kLoad)) {
        if (!load->is_object())
            return Reader::wrong(kLoad, "an object");
        const Reader lr(*load);
        LoadProgress l;
        OTAGW_TRY_STATUS(lr.number("next", l.next));
        OTAGW_TRY_STATUS(lr.number("blocks_done", l.blocks_done));
        OTAGW_TRY_STATUS(lr.number("blocks", l.blocks));
        OTAGW_TRY_STATUS(lr.number("restarts", l.restarts));
        for (auto [key, field] : {std::pair{"started", &l.started}, std::pair{"loaded", &l.loaded}})
            if (const Json* b = lr.get(key)) {
                if (!b->is_boolean())
                    return Reader::wrong(kLoad, "an object whose started and loaded are booleans");
                *field = b->get<bool>();
            }
        d.load = l;
    }
    return d;
}

} // namespace otagw::gateway
