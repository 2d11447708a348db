// SPDX-License-Identifier: GPL-2.0-or-later
// The control port: request parsing, fault settings, and the answers as JSON lines.
#include "otagw/sim/control.hpp"

#include <algorithm>
#include <charconv>
#include <nlohmann/json.hpp>

#include "otagw/common/log.hpp"
#include "otagw/sim/inventory.hpp"
#include "otagw/sim/ota_card.hpp"
#include "otagw/smpp/status.hpp"

namespace otagw::sim {

using Json = nlohmann::ordered_json;

namespace {

struct Verb {
    const char* name;
    size_t min_args, max_args;
};
constexpr Verb kVerbs[] = {
    {"card", 1, 1},       {"inbox", 1, 1},       {"mo-text", 3, 3}, {"mo-binary", 3, 4},
    {"local", 3, 3},      {"stats", 0, 0},       {"fault", 1, 1},   {"export", 1, 1},
    {"replay-por", 1, 2}, {"card-memory", 2, 2}, {"script", 2, 2},  {"tar-msl", 3, 3},
};

std::string verb_list() {
    std::string s;
    for (const auto& v : kVerbs) {
        if (!s.empty())
            s += ", ";
        s += v.name;
    }
    return s;
}

template <typename T>
bool number(std::string_view s, T& out) {
    auto r = std::from_chars(s.data(), s.data() + s.size(), out);
    return !s.empty() && r.ec == std::errc() && r.ptr == s.data() + s.size();
}

bool probability(std::string_view s, double& p) {
    const bool percent = !s.empty() && s.back() == '%';
    if (percent)
        s.remove_suffix(1);
    if (!number(s, p) || p < 0)
        return false;
    if (percent)
        p /= 100;
    return p <= 1;
}

std::string lc_name(uint8_t lc) {
    if (lc & 0x80)
        return "locked";
    switch (lc) {
    case 0x03:
        return "installed";
    case 0x07:
        return "selectable";
    default:
        return (lc & 0x07) == 0x07 ? "application-specific" : "unknown";
    }
}

const char* kind_name(TarKind k) {
    return k == TarKind::Isd ? "isd" : k == TarKind::Rfm ? "rfm" : "app";
}

Json card_json(const Uicc& c) {
    Json keysets = Json::array();
    for (const Keyset& k : c.keysets)
        keysets.push_back({{"kvn", k.kvn}, {"algo", keyset_algo_name(k)}, {"counter", k.counter}});
    Json psk_keysets = Json::array();
    for (const PskKeyset& k : c.psk_keysets)
        psk_keysets.push_back({{"kvn", to_hex(ByteView(&k.kvn, 1))},
                               {"kid", to_hex(ByteView(&k.kid, 1))},
                               {"identity", to_hex(k.identity)}});
    Json tars = Json::array();
    for (const TarEntry& t : c.tars) {
        Json j{{"tar", to_hex(t.tar)},
               {"kind", kind_name(t.kind)},
               {"msl", to_hex(ByteView(&t.msl, 1))}};
        if (!t.aid.empty())
            j["aid"] = to_hex(t.aid);
        tars.push_back(std::move(j));
    }
    Json load_files = Json::array();
    for (const LoadFile& lf : c.load_files) {
        Json modules = Json::array();
        for (const Bytes& m : lf.modules)
            modules.push_back(to_hex(m));
        load_files.push_back({{"aid", to_hex(lf.aid)}, {"modules", modules}, {"size", lf.size}});
    }
    Json apps = Json::array();
    for (const Application& a : c.apps) {
        Json j{{"aid", to_hex(a.aid)},           {"life_cycle", to_hex(ByteView(&a.life_cycle, 1))},
               {"state", lc_name(a.life_cycle)}, {"load_file", to_hex(a.load_file)},
               {"module", to_hex(a.module)},     {"privileges", to_hex(a.privileges)}};
        if (a.cardlet) {
            j["cardlet"] = a.cardlet->kind();
            Json facts = Json::object();
            for (const auto& [name, value] : a.cardlet->describe())
                std::visit([&, n = name](const auto& v) { facts[n] = v; }, value);
            j["data"] = facts;
        }
        apps.push_back(std::move(j));
    }
    return Json{{"ok", true},
                {"iccid", c.iccid},
                {"imsi", c.imsi},
                {"msisdn", c.msisdn},
                {"card_life_cycle", to_hex(ByteView(&c.card_life_cycle, 1))},
                {"keysets", keysets},
                {"scp81_keysets", psk_keysets},
                {"tars", tars},
                {"load_files", load_files},
                {"apps", apps},
                {"memory", c.memory},
                {"memory_used", c.memory_used()},
                {"loading", c.loading ? Json{{"aid", to_hex(c.loading->aid)},
                                             {"blocks", c.loading->next_block},
                                             {"bytes", c.loading->data.size()}}
                                      : Json(nullptr)}};
}

std::string failure(const std::string& why) {
    return Json{{"ok", false}, {"error", why}}.dump();
}

} // namespace

Result<ControlRequest> parse_control_line(std::string_view line) {
    if (!line.empty() && line.back() == '\r')
        line.remove_suffix(1);
    if (line.size() > kMaxControlLine)
        return make_error("request longer than " + std::to_string(kMaxControlLine) + " bytes");
    for (char c : line)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
            return make_error("control characters are not allowed in a request");
    ControlRequest r;
    size_t pos = line.find(' ');
    r.verb = std::string(line.substr(0, pos));
    const Verb* verb = nullptr;
    for (const auto& v : kVerbs)
        if (r.verb == v.name)
            verb = &v;
    if (!verb)
        return make_error(r.verb.empty() ? "empty request (verbs: " + verb_list() + ")"
                                         : "unknown request '" + r.verb.substr(0, 32) +
                                               "' (verbs: " + verb_list() + ")");
    while (pos != std::string_view::npos) {
        const size_t start = pos + 1;
        if (r.verb == "mo-text" && r.args.size() == 2) { // the rest is the text, spaces and all
            r.args.emplace_back(line.substr(start));
            break;
        }
        pos = line.find(' ', start);
        const std::string_view arg =
            line.substr(start, pos == std::string_view::npos ? pos : pos - start);
        if (arg.empty())
            return make_error(r.verb + ": arguments are separated by one space");
        r.args.emplace_back(arg);
    }
    if (r.args.size() < verb->min_args || r.args.size() > verb->max_args)
        return make_error(
            r.verb + ": expects " + std::to_string(verb->min_args) +
            (verb->max_args != verb->min_args ? " to " + std::to_string(verb->max_args) : "") +
            " argument(s), got " + std::to_string(r.args.size()));
    if (r.verb == "mo-text" && r.args[2].empty())
        return make_error("mo-text: the text is empty");
    if (r.verb == "mo-binary" && r.args.size() == 4 && r.args[3] != "udhi")
        return make_error("mo-binary: the optional fourth argument is 'udhi'");
    return r;
}

Status apply_fault(std::string_view setting, NetworkFaults& net, smpp::SmscFaults& smsc) {
    const size_t eq = setting.find('=');
    if (eq == std::string_view::npos)
        return make_error("fault: expected NAME=VALUE");
    const std::string name(setting.substr(0, eq));
    const std::string_view value = setting.substr(eq + 1);
    uint32_t n = 0;
    double p = 0;
    auto count = [&](uint32_t& field) -> Status {
        if (!number(value, n))
            return make_error("fault " + name + ": expected a whole number");
        field = n;
        return Status::success();
    };
    auto chance = [&](double& field) -> Status {
        if (!probability(value, p))
            return make_error("fault " + name + ": expected a probability 0..1 or a percentage");
        field = p;
        return Status::success();
    };
    auto flag = [&](bool& field) -> Status {
        if (value != "0" && value != "1")
            return make_error("fault " + name + ": expected 0 or 1");
        field = value == "1";
        return Status::success();
    };
    if (name == "latency")
        return count(net.latency_ms);
    if (name == "jitter")
        return count(net.jitter_ms);
    if (name == "mt-loss")
        return chance(net.mt_loss);
    if (name == "mo-loss")
        return chance(net.mo_loss);
    if (name == "mt-duplicate")
        return chance(net.mt_duplicate);
    if (name == "por-corrupt")
        return chance(net.por_corrupt);
    if (name == "bip-tls-fail")
        return chance(net.bip.tls_fail);
    if (name == "bip-drop")
        return chance(net.bip.drop);
    if (name == "bip-ignore")
        return flag(net.bip.ignore);
    if (name == "bip-latency")
        return count(net.bip.latency_ms);
    if (name == "bip-mfl") {
        if (value != "0" && value != "512" && value != "1024" && value != "2048" && value != "4096")
            return make_error("fault bip-mfl: 0, 512, 1024, 2048 or 4096 (RFC 6066)");
        net.bip.mfl = static_cast<uint16_t>(std::atoi(std::string(value).c_str()));
        return Status::success();
    }
    if (name == "throttle-every")
        return count(smsc.throttle_every);
    if (name == "queue-full-every")
        return count(smsc.queue_full_every);
    if (name == "drop-response-every")
        return count(smsc.drop_response_every);
    if (name == "delay-response")
        return count(smsc.delay_response_ms);
    if (name == "disconnect-after")
        return count(smsc.disconnect_after);
    if (name == "duplicate-deliver-every")
        return count(smsc.duplicate_deliver_every);
    if (name == "tps")
        return count(smsc.tps_limit);
    if (name == "constant-message-id")
        return flag(smsc.constant_message_id);
    if (name == "ignore-enquire-link")
        return flag(smsc.ignore_enquire_link);
    if (name == "fail") {
        const size_t colon = value.find(':');
        uint32_t status = 0;
        if (colon == std::string_view::npos || colon == 0 ||
            std::from_chars(value.data() + colon + 1, value.data() + value.size(), status, 16)
                    .ptr != value.data() + value.size() ||
            colon + 1 == value.size())
            return make_error("fault fail: expected MSISDN:STATUS (command_status in hex)");
        smsc.fail_destinations[std::string(value.substr(0, colon))] = status;
        return Status::success();
    }
    return make_error(
        "unknown fault '" + name.substr(0, 32) +
        "' (latency, jitter, mt-loss, mo-loss, mt-duplicate, por-corrupt, bip-tls-fail, "
        "bip-drop, bip-latency, bip-mfl, bip-ignore, throttle-every, "
        "queue-full-every, drop-response-every, delay-response, disconnect-after, "
        "duplicate-deliver-every, tps, constant-message-id, ignore-enquire-link, fail)");
}

struct ControlServer::Session {
    std::unique_ptr<uv::TcpStream> stream;
    std::string buffer;
    std::shared_ptr<bool> alive = std::make_shared<bool>(true);
};

ControlServer::ControlServer(uv_loop_t* loop, Network& network, ExportFn export_fn)
    : loop_(loop), net_(network), export_(std::move(export_fn)), server_(loop),
      alive_(std::make_shared<bool>(true)) {}

ControlServer::~ControlServer() {
    *alive_ = false;
    close();
}

int ControlServer::listen(const std::string& ip, uint16_t port) {
    return server_.listen(ip, port, [this](std::unique_ptr<uv::TcpStream> stream) {
        auto s = std::make_unique<Session>();
        s->stream = std::move(stream);
        Session* sp = s.get();
        sessions_.push_back(std::move(s));
        sp->stream->start([this, sp](ByteView data) { on_data(*sp, data); },
                          [this, sp](int) { remove(sp); });
    });
}

void ControlServer::close() {
    server_.close();
    for (auto& s : sessions_) {
        *s->alive = false;
        s->stream->close();
    }
    sessions_.clear();
}

void ControlServer::remove(Session* s) {
    *s->alive = false;
    s->stream->close();
    // Destroyed outside the stream's own callback.
    for (auto it = sessions_.begin(); it != sessions_.end(); ++it)
        if (it->get() == s) {
            std::shared_ptr<Session> doomed(std::move(*it));
            sessions_.erase(it);
            uv::defer(loop_, [doomed] {});
            return;
        }
}

void ControlServer::on_data(Session& s, ByteView data) {
    s.buffer.append(reinterpret_cast<const char*>(data.data()), data.size());
    size_t nl;
    while ((nl = s.buffer.find('\n')) != std::string::npos) {
        const std::string line = s.buffer.substr(0, nl);
        s.buffer.erase(0, nl + 1);
        std::weak_ptr<bool> alive = s.alive;
        uv::TcpStream* stream = s.stream.get();
        handle(line, [alive, stream](const std::string& reply) {
            if (alive.expired() || !*alive.lock())
                return;
            std::string out = reply + "\n";
            stream->write(ByteView(reinterpret_cast<const uint8_t*>(out.data()), out.size()));
        });
        if (!*s.alive)
            return;
    }
    if (s.buffer.size() > kMaxControlLine) {
        const std::string out =
            failure("request longer than " + std::to_string(kMaxControlLine) + " bytes") + "\n";
        s.stream->write(ByteView(reinterpret_cast<const uint8_t*>(out.data()), out.size()));
        remove(&s);
    }
}

void ControlServer::handle(std::string_view line, ReplyFn reply) {
    auto req = parse_control_line(line);
    if (!req) {
        reply(failure(req.error().message));
        return;
    }
    const auto& a = req->args;
    const std::string& verb = req->verb;
    auto card_by = [&](const std::string& id) -> Uicc* {
        Uicc* c = net_.cards().by_msisdn(id);
        return c ? c : net_.cards().by_iccid(id);
    };
    if (verb == "card") {
        const Uicc* c = card_by(a[0]);
        reply(c ? card_json(*c).dump() : failure("no card with MSISDN or ICCID " + a[0]));
    } else if (verb == "inbox") {
        const auto* inbox = net_.inbox(a[0]);
        if (!inbox) {
            reply(failure("no handset with MSISDN " + a[0]));
            return;
        }
        Json messages = Json::array();
        for (const auto& m : *inbox)
            messages.push_back(
                {{"from", m.from}, {"data_coding", m.data_coding}, {"text", m.text}});
        reply(Json{{"ok", true}, {"messages", messages}}.dump());
    } else if (verb == "replay-por") {
        size_t nth = 1;
        if (a.size() == 2 && (!number(std::string_view(a[1]), nth) || nth == 0)) {
            reply(failure("replay-por: N is a number from 1 (the last PoR)"));
            return;
        }
        std::weak_ptr<bool> alive = alive_;
        Status st = net_.replay_por(a[0], nth, [alive, reply](uint32_t status) {
            if (!alive.expired())
                reply(Json{{"ok", status == 0},
                           {"command_status", status},
                           {"status_name", smpp::status_name(status)}}
                          .dump());
        });
        if (!st)
            reply(failure("replay-por: " + st.error().message));
    } else if (verb == "mo-text" || verb == "mo-binary") {
        std::weak_ptr<bool> alive = alive_;
        auto done = [alive, reply](uint32_t status) {
            if (alive.expired())
                return;
            reply(Json{{"ok", status == 0},
                       {"command_status", status},
                       {"status_name", smpp::status_name(status)}}
                      .dump());
        };
        Status st;
        if (verb == "mo-text") {
            st = net_.send_text(a[0], a[1], a[2], done);
        } else {
            auto ud = parse_hex(a[2], "user data");
            st = ud ? net_.send_binary(a[0], a[1], *ud, a.size() == 4, done)
                    : Status(ud.take_error());
        }
        if (!st)
            reply(failure(verb + ": " + st.error().message));
    } else if (verb == "local") {
        Uicc* c = card_by(a[0]);
        auto aid = parse_hex(a[1], "aid");
        auto apdu = parse_hex(a[2], "apdu");
        CApdu cmd;
        if (!c)
            reply(failure("no card with MSISDN or ICCID " + a[0]));
        else if (!aid || !apdu)
            reply(failure(!aid ? aid.error().message : apdu.error().message));
        else if (!parse_capdu(*apdu, cmd))
            reply(failure("apdu: not one short command APDU"));
        else {
            const RApdu r = c->local(*aid, cmd);
            const uint8_t sw[2] = {static_cast<uint8_t>(r.sw >> 8), static_cast<uint8_t>(r.sw)};
            reply(Json{{"ok", true}, {"data", to_hex(r.data)}, {"sw", to_hex(ByteView(sw, 2))}}
                      .dump());
        }
    } else if (verb == "stats") {
        Json counters = Json::object();
        for (const auto& [name, value] : net_.counters().all())
            counters[name] = value;
        reply(Json{{"ok", true}, {"cards", net_.cards().size()}, {"counters", counters}}.dump());
    } else if (verb == "fault") {
        Status st = apply_fault(a[0], net_.faults(), net_.smsc().faults());
        reply(st ? Json{{"ok", true}}.dump() : failure(st.error().message));
    } else if (verb == "card-memory") {
        Uicc* c = card_by(a[0]);
        uint32_t bytes = 0;
        if (!c)
            reply(failure("no card with MSISDN or ICCID " + a[0]));
        else if (!number(std::string_view(a[1]), bytes))
            reply(failure("card-memory: BYTES is a whole number"));
        else {
            c->memory = bytes;
            reply(Json{{"ok", true}, {"memory", c->memory}, {"memory_used", c->memory_used()}}
                      .dump());
        }
    } else if (verb == "script") {
        // A remote APDU script (TS 102 226, compact or expanded) run on the card's ISD as an
        // admin session would: for a test that plays the handset's side itself.
        Uicc* c = card_by(a[0]);
        auto script = parse_hex(a[1], "script");
        if (!c)
            reply(failure("no card with MSISDN or ICCID " + a[0]));
        else if (!script || script->empty())
            reply(failure("script: hex of a remote APDU script"));
        else {
            ScriptContext ctx;
            const Bytes response =
                run_script(*script, [&](const CApdu& x) { return c->card_manager(x, ctx); });
            net_.mark_changed(static_cast<uint32_t>(c - &net_.cards().at(0)));
            reply(Json{{"ok", true}, {"response", to_hex(response)}}.dump());
        }
    } else if (verb == "tar-msl") {
        // The minimum security level of one of the card's TARs (TS 102 226 §6.1): a card that
        // asks more of the packets to that TAR than the gateway gives answers PoR '0A'.
        Uicc* c = card_by(a[0]);
        auto tar = parse_hex(a[1], "TAR");
        auto msl = parse_hex(a[2], "MSL");
        TarEntry* t = nullptr;
        if (c && tar && tar->size() == 3)
            for (auto& e : c->tars)
                if (std::equal(e.tar.begin(), e.tar.end(), tar->begin()))
                    t = &e;
        if (!c)
            reply(failure("no card with MSISDN or ICCID " + a[0]));
        else if (!t)
            reply(failure("tar-msl: the card has no TAR " + a[1]));
        else if (!msl || msl->size() != 1)
            reply(failure("tar-msl: MSL is 1 byte of hex, coded as SPI1"));
        else {
            t->msl = (*msl)[0];
            net_.mark_changed(static_cast<uint32_t>(c - &net_.cards().at(0)));
            reply(Json{{"ok", true}, {"tar", a[1]}, {"msl", to_hex(*msl)}}.dump());
        }
    } else if (verb == "export") {
        Status st = export_ ? export_(a[0]) : Status(make_error("export is not available"));
        reply(st ? Json{{"ok", true}, {"path", a[0]}}.dump() : failure(st.error().message));
    }
}

} // namespace otagw::sim
