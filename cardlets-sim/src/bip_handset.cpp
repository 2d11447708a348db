// SPDX-License-Identifier: GPL-2.0-or-later
#include "otagw/sim/bip_handset.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>

#include "otagw/common/log.hpp"
#include "otagw/common/tls_psk.hpp"
#include "otagw/common/tlv.hpp"
#include "otagw/sim/ota_card.hpp"

namespace otagw::sim {

namespace {

constexpr const char* kLog = "sim";
constexpr std::string_view kProtocol = "globalplatform-remote-admin/1.0";
constexpr size_t kMaxResponse = 256 * 1024;

Error bad(const std::string& what) {
    return make_error("trigger: " + what);
}

std::string text_of(ByteView v) {
    return std::string(v.begin(), v.end());
}

// The value of a BER-TLV list's `tag`, or null.
const tlv::BerTlv* find(const std::vector<tlv::BerTlv>& items, uint32_t tag) {
    for (const auto& t : items)
        if (t.tag == tag)
            return &t;
    return nullptr;
}

// TS 102 223 §8.38 Timer Value: swapped-nibble BCD hours, minutes, seconds.
uint32_t timer_seconds(ByteView v) {
    auto bcd = [](uint8_t b) {
        return static_cast<uint32_t>((b & 0x0f) * 10 + (b >> 4));
    };
    return bcd(v[0]) * 3600 + bcd(v[1]) * 60 + bcd(v[2]);
}

Status read_open_channel(ByteView v, AdminTrigger& t) {
    bool address = false, transport = false;
    for (size_t pos = 0; pos < v.size();) {
        auto c = tlv::parse_comprehension_tlv(v, pos);
        if (!c)
            return bad("84: " + c.error().message);
        const ByteView x = c->value;
        switch (c->tag.value) { // CR bit aside
        case 0x3c: // UICC/terminal interface transport level: '02' TCP, UICC client, remote
            if (x.size() != 3 || x[0] != 0x02)
                return bad("84: the transport is not TCP in UICC client mode ('02')");
            t.port = static_cast<uint16_t>(x[1] << 8 | x[2]);
            transport = true;
            break;
        case 0x3e: // Other address: '21' IPv4
            if (x.size() != 5 || x[0] != 0x21)
                return bad("84: the address is not IPv4 ('21')");
            t.ip = std::to_string(x[1]) + "." + std::to_string(x[2]) + "." + std::to_string(x[3]) +
                   "." + std::to_string(x[4]);
            address = true;
            break;
        default: // bearer, buffer size, network access name: the handset's business
            break;
        }
    }
    if (!address || !transport)
        return bad("84 names no IPv4 address and TCP port");
    return Status::success();
}

} // namespace

Result<AdminTrigger> parse_admin_trigger(ByteView trigger) {
    size_t pos = 0;
    auto top = tlv::parse_ber_tlv(trigger, pos);
    if (!top || top->tag != 0x81 || pos != trigger.size())
        return bad("not one '81' template");
    auto outer = tlv::parse_ber_tlvs(top->value);
    if (!outer)
        return bad(outer.error().message);
    const tlv::BerTlv* session = find(*outer, 0x83);
    if (!session)
        return bad("no administration session parameters ('83'), and the ISD holds none");
    auto items = tlv::parse_ber_tlvs(session->value);
    if (!items)
        return bad("83: " + items.error().message);
    AdminTrigger t;
    const tlv::BerTlv* conn = find(*items, 0x84);
    const tlv::BerTlv* sec = find(*items, 0x85);
    const tlv::BerTlv* post = find(*items, 0x89);
    if (!conn || !sec || !post)
        return bad("84, 85 and 89 are needed (the simulated ISD holds no defaults)");
    if (Status st = read_open_channel(conn->value, t); !st)
        return st.take_error();
    // 85: len identity 02 KVN KID [SHA type]
    const ByteView s = sec->value;
    if (s.empty() || s[0] == 0 || s.size() < 1u + s[0] + 3 || s[1 + s[0]] != 0x02)
        return bad("85 is not <len> <PSK identity> 02 <KVN> <KID>");
    t.identity.assign(s.begin() + 1, s.begin() + 1 + s[0]);
    t.kvn = s[2 + s[0]];
    t.kid = s[3 + s[0]];
    if (const tlv::BerTlv* retry = find(*items, 0x86)) {
        const ByteView r = retry->value;
        if (r.size() < 7 || (r[2] & 0x7f) != 0x25 || r[3] != 0x03)
            return bad("86 is not <counter(2)> <Timer Value TLV>");
        t.retries = static_cast<uint16_t>(r[0] << 8 | r[1]);
        t.retry_delay_s = timer_seconds(r.subspan(4, 3));
    }
    auto http = tlv::parse_ber_tlvs(post->value);
    if (!http)
        return bad("89: " + http.error().message);
    const tlv::BerTlv* host = find(*http, 0x8a);
    const tlv::BerTlv* agent = find(*http, 0x8b);
    const tlv::BerTlv* uri = find(*http, 0x8c);
    if (!uri || uri->value.empty() || uri->value[0] != '/')
        return bad("89 has no URI ('8C') starting with /");
    t.host = host ? text_of(host->value) : t.ip;
    t.agent_id = agent ? text_of(agent->value) : "";
    t.uri = text_of(uri->value);
    return t;
}

Result<std::optional<AdminResponse>> take_admin_response(std::string& in, size_t max_bytes) {
    const size_t head_end = in.find("\r\n\r\n");
    if (head_end == std::string::npos) {
        if (in.size() > max_bytes)
            return make_error("a response head larger than " + std::to_string(max_bytes));
        return std::optional<AdminResponse>();
    }
    const std::string head = in.substr(0, head_end);
    if (head.rfind("HTTP/1.1 ", 0) != 0 || head.size() < 12 || !std::isdigit(head[9]) ||
        !std::isdigit(head[10]) || !std::isdigit(head[11]))
        return make_error("not an HTTP/1.1 response");
    AdminResponse r;
    r.status = (head[9] - '0') * 100 + (head[10] - '0') * 10 + (head[11] - '0');
    size_t length = 0;
    for (size_t at = head.find("\r\n"); at != std::string::npos;) {
        const size_t end = head.find("\r\n", at + 2);
        const std::string line =
            head.substr(at + 2, end == std::string::npos ? std::string::npos : end - at - 2);
        at = end;
        const size_t colon = line.find(':');
        if (colon == std::string::npos)
            return make_error("a header line without ':'");
        std::string name = line.substr(0, colon);
        std::transform(name.begin(), name.end(), name.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        std::string value = line.substr(colon + 1);
        while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
            value.erase(0, 1);
        if (name == "content-length") {
            if (value.empty() || value.size() > 9 ||
                !std::all_of(value.begin(), value.end(),
                             [](unsigned char c) { return std::isdigit(c); }))
                return make_error("Content-Length '" + value.substr(0, 16) + "' is no length");
            length = static_cast<size_t>(std::stoul(value));
        } else if (name == "transfer-encoding") {
            return make_error("a chunked response (the server sends Content-Length)");
        } else if (name == "x-admin-next-uri") {
            r.next_uri = value;
        }
    }
    if (length > max_bytes)
        return make_error("a response body larger than " + std::to_string(max_bytes));
    if (in.size() < head_end + 4 + length)
        return std::optional<AdminResponse>(); // the body is still coming
    r.body.assign(in.begin() + static_cast<long>(head_end + 4),
                  in.begin() + static_cast<long>(head_end + 4 + length));
    in.erase(0, head_end + 4 + length);
    return std::optional<AdminResponse>(std::move(r));
}

struct BipHandsets::Session {
    uint32_t card = 0;
    AdminTrigger trigger;
    std::unique_ptr<uv::TcpStream> stream;
    std::unique_ptr<tls::Session> tls;
    uv::Timer timer;
    std::string in;       // plaintext from the server, not yet a whole response
    std::string next_uri; // where the next POST goes
    bool posted = false;  // a POST went out in this session (a retry resumes)
    uint16_t retries_left = 0;
    bool resuming = false;
    bool finished = false;
    explicit Session(uv_loop_t* loop) : timer(loop) {}
};

BipHandsets::BipHandsets(uv_loop_t* loop, Population& cards, const BipFaults& faults,
                         Counters& counters, ChangedFn changed, ChanceFn chance)
    : loop_(loop), cards_(cards), faults_(faults), counters_(counters),
      changed_(std::move(changed)), chance_(std::move(chance)) {}

BipHandsets::~BipHandsets() {
    *alive_ = false;
    stop();
}

void BipHandsets::stop() {
    sessions_.clear();
    queued_.clear();
}

void BipHandsets::trigger(uint32_t card, ByteView trigger) {
    counters_.inc("sim:bip:triggers");
    if (faults_.ignore) {
        counters_.inc("sim:bip:triggers_ignored");
        return;
    }
    if (sessions_.count(card)) {
        queued_[card] = Bytes(trigger.begin(), trigger.end()); // after the running session
        counters_.inc("sim:bip:triggers_queued");
        return;
    }
    auto t = parse_admin_trigger(trigger);
    if (!t) {
        counters_.inc("sim:bip:trigger_rejected");
        log::notice(kLog, "iccid=" + cards_.at(card).iccid + " " + t.error().message);
        return;
    }
    auto s = std::make_unique<Session>(loop_);
    s->card = card;
    s->trigger = std::move(*t);
    s->retries_left = s->trigger.retries;
    s->next_uri = s->trigger.uri;
    sessions_[card] = std::move(s);
    start(card);
}

void BipHandsets::start(uint32_t card) {
    Session& s = *sessions_.at(card);
    counters_.inc("sim:bip:connects");
    s.in.clear();
    s.tls.reset();
    s.stream = std::make_unique<uv::TcpStream>(loop_);
    std::weak_ptr<bool> alive = alive_;
    const int rc = s.stream->connect(s.trigger.ip, s.trigger.port, [this, alive, card](int status) {
        if (alive.expired())
            return;
        auto it = sessions_.find(card);
        if (it == sessions_.end())
            return;
        if (status != 0)
            return broken(*it->second, "connect: " + uv::error_name(status), true);
        connected(*it->second);
    });
    if (rc != 0)
        broken(s, "connect: " + uv::error_name(rc), true);
}

void BipHandsets::connected(Session& s) {
    const Uicc& card = cards_.at(s.card);
    const PskKeyset* k = card.psk_keyset(s.trigger.kvn);
    if (!k || k->kid != s.trigger.kid)
        return broken(s, "no SCP81 keyset with KVN and KID of the trigger", false);
    tls::PskOptions o;
    o.identity = s.trigger.identity;
    o.psk = k->psk;
    if (chance_(faults_.tls_fail)) {
        o.psk.back() ^= 0x5a; // the handshake's Finished will not check
        counters_.inc("sim:fault:bip_tls_failed");
    }
    o.max_fragment = faults_.mfl;
    auto config = tls::Config::client(o);
    if (!config)
        return broken(s, config.error().message, false);
    s.tls = std::make_unique<tls::Session>(*config);
    const uint32_t card_idx = s.card;
    std::weak_ptr<bool> alive = alive_;
    s.stream->start(
        [this, alive, card_idx](ByteView bytes) {
            if (alive.expired())
                return;
            if (auto it = sessions_.find(card_idx); it != sessions_.end())
                on_bytes(*it->second, bytes);
        },
        [this, alive, card_idx](int err) {
            if (alive.expired())
                return;
            if (auto it = sessions_.find(card_idx); it != sessions_.end())
                broken(*it->second, "the server closed: " + uv::error_name(err), true);
        });
    if (Status st = s.tls->start(); !st)
        return broken(s, st.error().message, false);
    write_tls(s);
}

void BipHandsets::write_tls(Session& s) {
    Bytes out = s.tls->take_output();
    if (out.empty() || !s.stream)
        return;
    counters_.inc("sim:bip:bytes_out", out.size());
    if (!faults_.latency_ms)
        return s.stream->write(out);
    // A slow link: the bytes leave later, in order (one delay for all).
    const uint32_t card = s.card;
    std::weak_ptr<bool> alive = alive_;
    uv::Timer* t = new uv::Timer(loop_);
    t->start(faults_.latency_ms, [this, alive, card, t, out = std::move(out)] {
        uv::defer(loop_, [t] { delete t; });
        if (alive.expired())
            return;
        if (auto it = sessions_.find(card); it != sessions_.end() && it->second->stream)
            it->second->stream->write(out);
    });
}

void BipHandsets::on_bytes(Session& s, ByteView bytes) {
    counters_.inc("sim:bip:bytes_in", bytes.size());
    const bool was_open = s.tls->state() == tls::Session::State::Open;
    Status st = s.tls->feed(bytes);
    write_tls(s);
    if (!st) {
        counters_.inc("sim:bip:tls_failed");
        // A TLS failure ends the session without a retry (Amd B §3.3.1.1).
        return broken(s, st.error().message, false);
    }
    if (!was_open && s.tls->state() == tls::Session::State::Open) {
        counters_.inc("sim:bip:sessions");
        post(s, {}, true);
    }
    Bytes plain = s.tls->take_plain();
    s.in.append(plain.begin(), plain.end());
    auto response = take_admin_response(s.in, kMaxResponse);
    if (!response) {
        counters_.inc("sim:bip:bad_response");
        return broken(s, response.error().message, false);
    }
    if (!*response)
        return; // more to come
    on_response(s, (*response)->status, (*response)->next_uri, std::move((*response)->body));
}

void BipHandsets::on_response(Session& s, int status, const std::string& next_uri, Bytes body) {
    if (status == 204) {
        counters_.inc("sim:bip:ended");
        s.finished = true;
        s.tls->close();
        write_tls(s);
        s.stream->close_when_written();
        uv::defer(loop_, [st = std::shared_ptr<uv::TcpStream>(std::move(s.stream))] {});
        return end(s.card);
    }
    if (status != 200 || body.empty() || next_uri.empty()) {
        counters_.inc("sim:bip:bad_response");
        return broken(s, "HTTP " + std::to_string(status) + " from the server", false);
    }
    counters_.inc("sim:bip:scripts");
    Uicc& card = cards_.at(s.card);
    ScriptContext ctx;
    const Bytes results =
        run_script(body, [&](const CApdu& a) { return card.card_manager(a, ctx); });
    changed_(s.card);
    s.next_uri = next_uri;
    if (chance_(faults_.drop)) {
        counters_.inc("sim:fault:bip_dropped");
        return broken(s, "the channel dropped (fault)", true);
    }
    post(s, results, false);
}

void BipHandsets::post(Session& s, const Bytes& results, bool first) {
    const Uicc& card = cards_.at(s.card);
    std::string m =
        "POST " + (first && !s.resuming ? s.trigger.uri : s.next_uri) +
        " HTTP/1.1\r\nHost: " + s.trigger.host + "\r\nX-Admin-Protocol: " + std::string(kProtocol) +
        "\r\nX-Admin-From: " + (s.trigger.agent_id.empty() ? card.iccid : s.trigger.agent_id) +
        "\r\n";
    if (first && s.resuming)
        m += "X-Admin-Resume: true\r\n"; // without the results of the script before (§3.5)
    if (!first) {
        m += "Content-Type: "
             "application/vnd.globalplatform.card-content-mgt-response;version=1.0\r\n"
             "X-Admin-Script-Status: ok\r\n";
    }
    m += "Content-Length: " + std::to_string(results.size()) + "\r\n\r\n";
    m.append(results.begin(), results.end());
    s.posted = true;
    if (Status st = s.tls->write(ByteView(reinterpret_cast<const uint8_t*>(m.data()), m.size()));
        !st)
        return broken(s, st.error().message, false);
    write_tls(s);
}

void BipHandsets::broken(Session& s, const std::string& why, bool retry) {
    if (s.finished)
        return;
    const uint32_t card = s.card;
    log::info(kLog, "iccid=" + cards_.at(card).iccid + " BIP session: " + why);
    if (s.stream) { // destroyed outside its own callback
        s.stream->close();
        uv::defer(loop_, [st = std::shared_ptr<uv::TcpStream>(std::move(s.stream))] {});
    }
    if (s.tls)
        uv::defer(loop_, [t = std::shared_ptr<tls::Session>(std::move(s.tls))] {});
    if (!retry || s.retries_left == 0) {
        counters_.inc("sim:bip:failed");
        s.finished = true;
        return end(card);
    }
    // The Session Retry Policy of the trigger (Amd B §3.5): later, resuming.
    s.retries_left--;
    s.resuming = s.posted;
    counters_.inc("sim:bip:retries");
    std::weak_ptr<bool> alive = alive_;
    s.timer.start(uint64_t{s.trigger.retry_delay_s} * 1000, [this, alive, card] {
        if (alive.expired() || !sessions_.count(card))
            return;
        start(card);
    });
}

void BipHandsets::end(uint32_t card) {
    // Destroyed outside the callback that ended it.
    auto it = sessions_.find(card);
    if (it == sessions_.end())
        return;
    std::shared_ptr<Session> dying(std::move(it->second));
    sessions_.erase(it);
    uv::defer(loop_, [dying] {});
    if (auto q = queued_.find(card); q != queued_.end()) {
        Bytes next = std::move(q->second);
        queued_.erase(q);
        trigger(card, next);
    }
}

} // namespace otagw::sim
