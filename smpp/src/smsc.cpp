// SPDX-License-Identifier: GPL-2.0-or-later
// A test SMSC: binds, submit_sm, MT routing, receipts, deliver_sm, injected faults.
#include "otagw/smpp/smsc.hpp"

#include <cstdio>
#include <ctime>

#include "otagw/common/log.hpp"
#include "otagw/smpp/status.hpp"

namespace otagw::smpp {

struct Smsc::Session {
    std::unique_ptr<Link> link;
    bool bound = false;
    BindType type = BindType::Transceiver;
    std::string system_id;
    uint32_t submits = 0;
    uint64_t tps_window_start = 0;
    uint32_t tps_count = 0;
    bool can_receive() const { return bound && type != BindType::Transmitter; }
    bool can_transmit() const { return bound && type != BindType::Receiver; }
};

Smsc::Smsc(uv_loop_t* loop, SmscConfig config, Counters* counters)
    : loop_(loop), config_(std::move(config)), counters_(counters ? counters : &own_counters_),
      server_(loop), alive_(std::make_shared<bool>(true)) {}

Smsc::~Smsc() {
    *alive_ = false;
    stop();
}

int Smsc::start() {
    return server_.listen(config_.ip, config_.port,
                          [this](std::unique_ptr<uv::TcpStream> s) { on_accept(std::move(s)); });
}

uint16_t Smsc::port() const {
    return server_.port();
}

void Smsc::stop() {
    server_.close();
    disconnect_all();
    delayed_.clear();
}

void Smsc::disconnect_all() {
    auto sessions = std::make_shared<std::list<std::unique_ptr<Session>>>(std::move(sessions_));
    sessions_.clear();
    for (auto& s : *sessions)
        s->link->close();
    uv::defer(loop_, [sessions] {}); // a link may be inside its own callback now
}

size_t Smsc::bound(const std::string& system_id) const {
    size_t n = 0;
    for (const auto& s : sessions_)
        if (s->bound && (system_id.empty() || s->system_id == system_id))
            n++;
    return n;
}

void Smsc::route(const std::string& dest_prefix, MtHandler handler) {
    routes_[dest_prefix] = std::move(handler);
}

void Smsc::on_accept(std::unique_ptr<uv::TcpStream> stream) {
    auto session = std::make_unique<Session>();
    Session* s = session.get();
    Link::Handlers h;
    h.on_request = [this, s](Pdu pdu) {
        on_request(*s, std::move(pdu));
    };
    h.on_closed = [this, s](int, const std::string&) {
        remove(s);
    };
    s->link = std::make_unique<Link>(loop_, std::move(stream), std::move(h), counters_, "smsc");
    sessions_.push_back(std::move(session));
}

void Smsc::remove(Session* s) {
    for (auto it = sessions_.begin(); it != sessions_.end(); ++it) {
        if (it->get() == s) {
            // Destroyed on the next iteration: its link may be inside its own callback now.
            std::shared_ptr<Session> owned(std::move(*it));
            sessions_.erase(it);
            uv::defer(loop_, [owned] {});
            return;
        }
    }
}

bool Smsc::alive(const Session* s) const {
    for (const auto& live : sessions_)
        if (live.get() == s)
            return true;
    return false;
}

void Smsc::on_request(Session& s, Pdu pdu) {
    switch (pdu.command_id) {
    case kBindTransmitter:
    case kBindReceiver:
    case kBindTransceiver:
        return on_bind(s, pdu);
    case kSubmitSm:
        return on_submit(s, pdu);
    case kEnquireLink:
        if (config_.faults.ignore_enquire_link)
            return;
        return s.link->respond({kEnquireLinkResp, ESME_ROK, pdu.sequence_number, NoBody{}});
    case kUnbind:
        s.link->respond({kUnbindResp, ESME_ROK, pdu.sequence_number, NoBody{}});
        s.bound = false;
        return;
    default:
        // A request we do not serve (deliver_sm to an SMSC, data_sm, ...).
        s.link->respond({kGenericNack, ESME_RINVCMDID, pdu.sequence_number, NoBody{}});
    }
}

void Smsc::on_bind(Session& s, const Pdu& pdu) {
    const Bind& b = std::get<Bind>(pdu.body);
    auto reply = [&](uint32_t status) {
        s.link->respond(
            {pdu.command_id | kResponseBit, status, pdu.sequence_number,
             BindResp{b.type, status == ESME_ROK ? config_.system_id : "", std::nullopt}});
    };
    if (s.bound)
        return reply(ESME_RALYBND);
    const SmscAccount* account = nullptr;
    for (const auto& a : config_.accounts)
        if (a.system_id == b.system_id)
            account = &a;
    if (!account) {
        counters_->inc("smsc:bind:refused");
        return reply(ESME_RINVSYSID);
    }
    if (account->password != b.password) {
        counters_->inc("smsc:bind:refused");
        return reply(ESME_RINVPASWD);
    }
    s.bound = true;
    s.type = b.type;
    s.system_id = b.system_id;
    counters_->inc("smsc:bind:ok");
    reply(ESME_ROK);
}

void Smsc::answer_submit(Session& s, uint32_t seq, uint32_t status, const std::string& message_id) {
    s.link->respond(
        {kSubmitSmResp, status, seq, SubmitSmResp{status == ESME_ROK ? message_id : ""}});
}

void Smsc::on_submit(Session& s, const Pdu& pdu) {
    const uint32_t seq = pdu.sequence_number;
    if (!s.can_transmit()) {
        s.link->respond({kSubmitSmResp, ESME_RINVBNDSTS, seq, SubmitSmResp{}});
        return;
    }
    SmscFaults& f = config_.faults;
    s.submits++;
    submits_++;
    counters_->inc("smsc:submit_sm:received");
    if (f.disconnect_after && s.submits >= f.disconnect_after) {
        f.disconnect_after = 0; // once
        counters_->inc("smsc:fault:disconnect");
        Session* sp = &s;
        sp->link->close();
        remove(sp);
        return;
    }
    if (f.drop_response_every && submits_ % f.drop_response_every == 0) {
        counters_->inc("smsc:fault:dropped");
        return;
    }
    uint32_t status = ESME_ROK;
    const uint64_t now = uv_now(loop_);
    if (f.tps_limit) {
        if (now - s.tps_window_start >= 1000) {
            s.tps_window_start = now;
            s.tps_count = 0;
        }
        if (++s.tps_count > f.tps_limit)
            status = ESME_RTHROTTLED;
    }
    if (f.throttle_every && submits_ % f.throttle_every == 0)
        status = ESME_RTHROTTLED;
    if (f.queue_full_every && submits_ % f.queue_full_every == 0)
        status = ESME_RMSGQFUL;
    const SubmitSm& sm = std::get<SubmitSm>(pdu.body);
    if (auto it = f.fail_destinations.find(sm.dest.addr); it != f.fail_destinations.end())
        status = it->second;
    if (status != ESME_ROK) {
        counters_->inc(is_throttling(status) ? "smsc:submit_sm:throttled"
                                             : "smsc:submit_sm:refused");
        answer_submit(s, seq, status, "");
        return;
    }
    MtMessage mt{s.system_id, sm,
                 f.constant_message_id ? "msg_id_not_implemented"
                                       : std::to_string(next_message_id_++)};
    if (f.delay_response_ms) {
        Session* sp = &s;
        auto it = delayed_.insert(delayed_.end(), std::make_unique<uv::Timer>(loop_));
        (*it)->start(f.delay_response_ms, [this, sp, seq, mt, it] {
            if (alive(sp))
                accept_submit(*sp, seq, mt);
            std::shared_ptr<uv::Timer> done(std::move(*it));
            delayed_.erase(it);
            uv::defer(loop_, [done] {}); // destroyed once this callback has returned
        });
        return;
    }
    accept_submit(s, seq, mt);
}

void Smsc::accept_submit(Session& s, uint32_t seq, const MtMessage& mt) {
    answer_submit(s, seq, ESME_ROK, mt.message_id);
    // Route the MT message by destination, longest prefix first.
    const MtHandler* handler = nullptr;
    size_t best = 0;
    for (const auto& [prefix, h] : routes_)
        if (mt.sm.dest.addr.compare(0, prefix.size(), prefix) == 0 &&
            (!handler || prefix.size() >= best)) {
            handler = &h;
            best = prefix.size();
        }
    if (handler && *handler)
        (*handler)(mt);
    if (!config_.handler_sends_receipts || !handler || !*handler)
        send_receipt(mt);
}

namespace {
std::string receipt_time() {
    std::time_t t = std::time(nullptr);
    std::tm tm;
    gmtime_r(&t, &tm);
    char buf[20];
    std::strftime(buf, sizeof buf, "%Y%m%d%H%M", &tm);
    return std::string(buf + 2); // YYMMDDhhmm
}

const char* state_word(uint8_t state) {
    switch (state) {
    case kStateDelivered:
        return "DELIVRD";
    case kStateExpired:
        return "EXPIRED";
    case kStateUndeliverable:
        return "UNDELIV";
    case kStateRejected:
        return "REJECTD";
    default:
        return "UNKNOWN";
    }
}
} // namespace

void Smsc::send_receipt(const MtMessage& mt, uint8_t message_state) {
    // SMPP 3.4 appendix B receipt text, plus the TLVs receipted_message_id, message_state and
    // the submit's user_message_reference (osmo-msc copies it too).
    if (!(mt.sm.registered_delivery & 0x01))
        return;
    DeliverSm r;
    r.source = mt.sm.dest;
    r.dest = mt.sm.source;
    r.esm_class = 0x04;
    const std::string when = receipt_time();
    const bool delivered = message_state == kStateDelivered;
    std::string text = "id:" + mt.message_id;
    text += delivered ? " sub:001 dlvrd:001 submit date:" : " sub:001 dlvrd:000 submit date:";
    text += when;
    text += " done date:";
    text += when;
    text += " stat:";
    text += state_word(message_state);
    text += delivered ? " err:000 text:" : " err:001 text:";
    r.short_message.assign(text.begin(), text.end());
    Bytes id(mt.message_id.begin(), mt.message_id.end());
    id.push_back(0);
    r.tlvs.push_back({kTlvReceiptedMessageId, id});
    r.tlvs.push_back({kTlvMessageState, {message_state}});
    if (auto ref = mt.sm.user_message_reference())
        r.set_user_message_reference(*ref);
    counters_->inc("smsc:receipt:sent");
    deliver(std::move(r), {}, mt.system_id);
}

Smsc::Session* Smsc::receiver(const std::string& system_id) {
    std::vector<Session*> candidates;
    for (const auto& s : sessions_)
        if (s->can_receive() && (system_id.empty() || s->system_id == system_id))
            candidates.push_back(s.get());
    if (candidates.empty())
        return nullptr;
    return candidates[next_receiver_++ % candidates.size()];
}

void Smsc::deliver(DeliverSm sm, DoneCb done, const std::string& system_id) {
    Session* s = receiver(system_id);
    if (!s) {
        counters_->inc("smsc:deliver_sm:no_receiver");
        if (done)
            done(ESME_RSYSERR);
        return;
    }
    delivers_++;
    counters_->inc("smsc:deliver_sm:sent");
    const bool twice = config_.faults.duplicate_deliver_every &&
                       delivers_ % config_.faults.duplicate_deliver_every == 0;
    Pdu pdu{kDeliverSm, 0, 0, sm};
    auto cb = [done](const Response& r) {
        if (!done)
            return;
        if (r.error == LinkError::None || r.error == LinkError::Nack)
            done(r.pdu->command_status);
        else
            done(ESME_RSYSERR);
    };
    s->link->request(pdu, config_.deliver_timeout_ms, cb);
    if (twice) {
        counters_->inc("smsc:fault:duplicate");
        s->link->request(pdu, config_.deliver_timeout_ms, [](const Response&) {});
    }
}

} // namespace otagw::smpp
