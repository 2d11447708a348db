// SPDX-License-Identifier: GPL-2.0-or-later
// The ESME: sessions (bind, enquire_link, reconnect), the submission queue (window, TPS,
// throttling, retries, failover), and what arrives (MO, PoRs, receipts).
#include "otagw/smpp/esme.hpp"

#include <algorithm>
#include <cmath>

#include "otagw/common/log.hpp"
#include "otagw/smpp/status.hpp"

namespace otagw::smpp {

namespace {
constexpr uint64_t kNever = UINT64_MAX;
constexpr size_t kCorrelationMemory = 65536;
const char* kCategory = "smpp";
} // namespace

// ---- Messages and segments -------------------------------------------------------------------

struct Esme::Segment {
    Message* message = nullptr;
    size_t index = 0;
    Bytes user_data; // TP-UD of this segment (or the whole UD with message_payload)
    bool payload = false;
    uint16_t reference = 0;
    uint32_t attempts = 0;
    uint32_t throttled = 0;
    bool done = false;
    SegmentResult result;
};

struct Esme::Message {
    uint64_t id = 0;
    SmsPp sms;
    SubmitCallback cb;
    std::vector<Segment> segments;
    size_t remaining = 0;
    size_t next_to_queue = 0; // ordered messages queue one segment at a time
};

// ---- Session ------------------------------------------------------------------------------------

class Esme::Session {
public:
    enum class State { Idle, Connecting, Binding, Bound, Unbinding, Down, Stopped };

    Session(Esme& esme, const BindConfig& cfg, BindType type, std::string name)
        : esme_(esme), cfg_(cfg), type_(type), name_(std::move(name)), reconnect_timer_(esme.loop_),
          enquire_timer_(esme.loop_), tokens_(capacity()) {}

    ~Session() {
        reconnect_timer_.stop();
        enquire_timer_.stop();
        if (link_) {
            auto link = std::move(link_);
            link->close(); // callbacks see Closed while the session's members still exist
        }
    }

    const std::string& name() const { return name_; }
    const BindConfig& config() const { return cfg_; }
    State state() const { return state_; }
    bool transmits() const { return type_ != BindType::Receiver; }
    size_t in_flight() const { return in_flight_; }
    Link* link() { return link_.get(); }

    void start() { connect(); }

    // Can a submit_sm go out now? Otherwise `wait_ms` gets when it might (kNever: not soon).
    bool can_submit(uint64_t now, uint64_t& wait_ms) {
        if (state_ != State::Bound || !transmits() || in_flight_ >= cfg_.window || !link_ ||
            !link_->is_open())
            return false;
        if (now < backoff_until_) {
            wait_ms = std::min(wait_ms, backoff_until_ - now);
            return false;
        }
        if (cfg_.tps > 0) {
            refill(now);
            if (tokens_ < 1.0) {
                const double need_ms = (1.0 - tokens_) * 1000.0 / cfg_.tps;
                wait_ms = std::min(wait_ms, static_cast<uint64_t>(std::ceil(need_ms)));
                return false;
            }
        }
        return true;
    }

    void took_one() {
        in_flight_++;
        if (cfg_.tps > 0)
            tokens_ -= 1.0;
    }
    void returned_one() { in_flight_--; }

    void throttled(uint64_t now) {
        backoff_ms_ =
            backoff_ms_ ? std::min<uint64_t>(backoff_ms_ * 2, esme_.config_.throttle_backoff_max_ms)
                        : esme_.config_.throttle_backoff_min_ms;
        backoff_until_ = now + backoff_ms_;
    }
    void accepted() { backoff_ms_ = 0; }

    void stop(std::function<void()> done) {
        reconnect_timer_.stop();
        enquire_timer_.stop();
        if (state_ == State::Bound && link_) {
            state_ = State::Unbinding;
            link_->request({kUnbind, 0, 0, NoBody{}}, esme_.config_.unbind_timeout_ms,
                           [this, done](const Response&) {
                               close_link();
                               state_ = State::Stopped;
                               if (done)
                                   done();
                           });
            return;
        }
        close_link();
        state_ = State::Stopped;
        if (done)
            done();
    }

private:
    // The bucket holds 10 ms worth of submits (at least one): the rate holds over any window
    // longer than that, with no burst of a whole second's budget at once.
    double capacity() const { return std::max(1.0, cfg_.tps / 100.0); }
    void refill(uint64_t now) {
        if (now > last_refill_) {
            tokens_ = std::min(capacity(), tokens_ + static_cast<double>(now - last_refill_) *
                                                         cfg_.tps / 1000.0);
            last_refill_ = now;
        }
    }

    void connect() {
        state_ = State::Connecting;
        auto stream = std::make_unique<uv::TcpStream>(esme_.loop_);
        uv::TcpStream* raw = stream.get();
        pending_stream_ = std::move(stream);
        int rc = raw->connect(cfg_.host, cfg_.port, [this](int status) { on_connected(status); });
        if (rc < 0)
            on_connected(rc);
    }

    void on_connected(int status) {
        if (status < 0) {
            const std::string why = "cannot connect to " + cfg_.host + ":" +
                                    std::to_string(cfg_.port) + ": " + uv::error_name(status);
            log::notice(kCategory, name_ + ": " + why);
            discard(std::move(pending_stream_));
            esme_.on_bind_error(*this, why);
            down();
            return;
        }
        Link::Handlers h;
        h.on_request = [this](Pdu pdu) {
            on_request(std::move(pdu));
        };
        h.on_closed = [this](int, const std::string& why) {
            lost(why);
        };
        link_ = std::make_unique<Link>(esme_.loop_, std::move(pending_stream_), std::move(h),
                                       esme_.counters_, name_);
        state_ = State::Binding;
        Bind b;
        b.type = type_;
        b.system_id = cfg_.system_id;
        b.password = cfg_.password;
        b.system_type = cfg_.system_type;
        b.address_range = cfg_.address_range;
        link_->request({bind_command(type_), 0, 0, b}, cfg_.response_timeout_ms,
                       [this](const Response& r) { on_bind_resp(r); });
    }

    void on_bind_resp(const Response& r) {
        if (r.error == LinkError::Closed)
            return; // lost() runs
        const uint32_t status = r.pdu ? r.pdu->command_status : uint32_t{ESME_RSYSERR};
        if (r.error != LinkError::None || status != ESME_ROK) {
            esme_.counters_->inc("smpp:bind:refused");
            const std::string why =
                "bind refused: " + (r.error == LinkError::Timeout ? std::string("no bind response")
                                                                  : status_name(status));
            log::error(kCategory, name_ + ": " + why);
            close_link();
            down();
            esme_.on_bind_error(*this, why);
            return;
        }
        state_ = State::Bound;
        attempt_ = 0;
        esme_.counters_->inc("smpp:bind:up");
        log::info(kCategory, name_ + ": bound to " + cfg_.host + ":" + std::to_string(cfg_.port));
        if (cfg_.enquire_link_ms)
            enquire_timer_.start(
                cfg_.enquire_link_ms, [this] { enquire(); }, cfg_.enquire_link_ms);
        esme_.on_session_state(*this, true);
    }

    void enquire() {
        if (!link_ || state_ != State::Bound)
            return;
        link_->request({kEnquireLink, 0, 0, NoBody{}}, cfg_.response_timeout_ms,
                       [this](const Response& r) {
                           if (r.error == LinkError::Timeout) {
                               esme_.counters_->inc("smpp:enquire_link:timeout");
                               lost("enquire_link unanswered");
                           }
                       });
    }

    void on_request(Pdu pdu) {
        switch (pdu.command_id) {
        case kDeliverSm: {
            const uint32_t seq = pdu.sequence_number;
            if (!esme_.handlers_.durable) {
                // Answer first: the SMSC's deadline is short (osmo-msc: 5 s).
                link_->respond({kDeliverSmResp, ESME_ROK, seq, DeliverSmResp{}});
                (void)esme_.on_deliver(*this, std::get<DeliverSm>(pdu.body));
                return;
            }
            // The SMSC forgets the message once answered ESME_ROK: answer so when what the
            // handler recorded of it is durable (within the same loop turn, with group commit);
            // when it could not be kept, ESME_RX_T_APPN (a temporary error: delivered again).
            auto temporary = [this, seq] {
                esme_.counters_->inc("smpp:deliver_sm:retry_later");
                link_->respond({kDeliverSmResp, ESME_RX_T_APPN, seq, DeliverSmResp{}});
            };
            if (esme_.on_deliver(*this, std::get<DeliverSm>(pdu.body)) == MoVerdict::RetryLater) {
                temporary();
                return;
            }
            std::weak_ptr<bool> alive = esme_.alive_;
            const uint64_t generation = link_generation_;
            esme_.handlers_.durable([this, alive, generation, seq, temporary](bool durable) {
                const auto esme_alive = alive.lock();
                if (!esme_alive || !*esme_alive || !link_ || generation != link_generation_)
                    return;
                if (durable)
                    link_->respond({kDeliverSmResp, ESME_ROK, seq, DeliverSmResp{}});
                else
                    temporary();
            });
            return;
        }
        case kEnquireLink:
            link_->respond({kEnquireLinkResp, ESME_ROK, pdu.sequence_number, NoBody{}});
            return;
        case kUnbind:
            link_->respond({kUnbindResp, ESME_ROK, pdu.sequence_number, NoBody{}});
            lost("unbound by the SMSC");
            return;
        case kAlertNotification:
            esme_.counters_->inc("smpp:alert_notification:received");
            return; // no response exists for alert_notification
        default:
            link_->respond({kGenericNack, ESME_RINVCMDID, pdu.sequence_number, NoBody{}});
        }
    }

    void lost(const std::string& why) {
        if (state_ == State::Stopped || state_ == State::Unbinding)
            return;
        const bool was_bound = state_ == State::Bound;
        if (was_bound) {
            esme_.counters_->inc("smpp:bind:lost");
            log::error(kCategory, name_ + ": bind lost: " + why);
        } else {
            log::notice(kCategory, name_ + ": connection lost: " + why);
        }
        state_ = State::Down; // before close_link(): its failed requests must not pick us
        enquire_timer_.stop();
        close_link(); // unacknowledged segments come back through their callbacks
        if (was_bound)
            esme_.on_session_state(*this, false);
        down();
    }

    void down() {
        state_ = State::Down;
        const uint64_t base =
            std::min<uint64_t>(cfg_.reconnect_max_ms, static_cast<uint64_t>(cfg_.reconnect_min_ms)
                                                          << std::min(attempt_, 16u));
        attempt_++;
        // Full jitter over the upper half keeps many gateways from reconnecting in step.
        std::uniform_int_distribution<uint64_t> jitter(base / 2, std::max<uint64_t>(base, 1));
        const uint64_t delay = jitter(esme_.rng_);
        reconnect_timer_.start(delay, [this] { connect(); });
    }

    void close_link() {
        if (!link_)
            return;
        link_generation_++;
        std::shared_ptr<Link> dead(std::move(link_));
        dead->close();
        uv::defer(esme_.loop_, [dead] {}); // it may be inside its own callback now
    }

    void discard(std::unique_ptr<uv::TcpStream> stream) {
        std::shared_ptr<uv::TcpStream> dead(std::move(stream));
        uv::defer(esme_.loop_, [dead] {});
    }

    Esme& esme_;
    const BindConfig& cfg_;
    BindType type_;
    std::string name_;
    State state_ = State::Idle;
    std::unique_ptr<uv::TcpStream> pending_stream_;
    std::unique_ptr<Link> link_;
    uint64_t link_generation_ = 0; // a deferred answer is only for the link it came on
    uv::Timer reconnect_timer_;
    uv::Timer enquire_timer_;
    unsigned attempt_ = 0;
    size_t in_flight_ = 0;
    double tokens_;
    uint64_t last_refill_ = 0;
    uint64_t backoff_ms_ = 0;
    uint64_t backoff_until_ = 0;
};

// ---- Esme ---------------------------------------------------------------------------------------

Esme::Esme(uv_loop_t* loop, EsmeConfig config, Handlers handlers, Counters* counters)
    : loop_(loop), config_(std::move(config)), handlers_(std::move(handlers)),
      counters_(counters ? counters : &own_counters_), pump_timer_(loop), housekeeping_(loop),
      rng_(std::random_device{}()), alive_(std::make_shared<bool>(true)) {
    for (const BindConfig& b : config_.binds) {
        if (b.mode == BindMode::Transceiver) {
            sessions_.push_back(std::make_unique<Session>(*this, b, BindType::Transceiver, b.name));
        } else {
            sessions_.push_back(
                std::make_unique<Session>(*this, b, BindType::Transmitter, b.name + "/tx"));
            sessions_.push_back(
                std::make_unique<Session>(*this, b, BindType::Receiver, b.name + "/rx"));
        }
    }
}

Esme::~Esme() {
    // Abandons whatever is still queued or in flight (call stop() first to have it reported).
    *alive_ = false;
    stopping_ = true;
    sessions_.clear();
}

void Esme::start() {
    for (auto& s : sessions_)
        s->start();
    housekeeping_.start(
        10000,
        [this] {
            const uint64_t now = uv_now(loop_);
            if (now > config_.reassembly_timeout_ms) {
                const uint64_t cutoff = now - config_.reassembly_timeout_ms;
                size_t dropped = reassembler_.expire(cutoff);
                for (auto it = held_.begin(); it != held_.end();)
                    if (it->second.since < cutoff) {
                        it = held_.erase(it);
                        dropped++;
                    } else {
                        ++it;
                    }
                if (dropped)
                    counters_->inc("smpp:mo:reassembly_timeout", dropped);
            }
        },
        10000);
}

void Esme::stop(std::function<void()> done) {
    stopping_ = true;
    pump_timer_.stop();
    housekeeping_.stop();
    auto retries = std::move(retry_timers_);
    retry_timers_.clear();
    for (auto& [timer, seg] : retries)
        finish_segment(seg, ESME_RSYSERR, "stopped while waiting to retry");
    // Messages still waiting fail now; those in flight fail as their sessions close.
    auto waiting = std::move(ready_);
    ready_.clear();
    waiting.insert(waiting.end(), bulk_ready_.begin(), bulk_ready_.end());
    bulk_ready_.clear();
    for (Segment* seg : waiting)
        finish_segment(seg, ESME_RSYSERR, "stopped before it was sent");
    for (auto& [dest, queue] : ordered_waiting_)
        for (Message* m : queue)
            for (Segment& seg : m->segments)
                if (!seg.done)
                    finish_segment(&seg, ESME_RSYSERR, "stopped before it was sent");
    ordered_waiting_.clear();
    auto remaining = std::make_shared<size_t>(sessions_.size());
    if (*remaining == 0 && done)
        done();
    for (auto& s : sessions_)
        s->stop([remaining, done] {
            if (--*remaining == 0 && done)
                done();
        });
}

size_t Esme::in_flight() const {
    size_t n = 0;
    for (const auto& s : sessions_)
        n += s->in_flight();
    return n;
}

size_t Esme::bound_sessions() const {
    size_t n = 0;
    for (const auto& s : sessions_)
        n += s->state() == Session::State::Bound;
    return n;
}

uint16_t Esme::next_reference() {
    return ++next_ref_ == 0 ? ++next_ref_ : next_ref_;
}

uint64_t Esme::submit(SmsPp sms, SubmitCallback cb) {
    auto m = std::make_unique<Message>();
    m->id = next_id_++;
    m->cb = std::move(cb);
    const bool payload = !config_.binds.empty() &&
                         std::all_of(config_.binds.begin(), config_.binds.end(),
                                     [](const BindConfig& b) { return b.message_payload; });
    std::vector<Bytes> parts;
    std::string error;
    if (!sms.udhi && sms.user_data.size() > ota::sms::kMaxUserData) {
        error = "a text of " + std::to_string(sms.user_data.size()) +
                " bytes without a UDH does not fit one SMS";
    } else if (sms.user_data.size() <= ota::sms::kMaxUserData || payload) {
        if (sms.user_data.size() > kMaxMessagePayload)
            error = "user data of " + std::to_string(sms.user_data.size()) + " bytes exceeds 1024";
        else
            parts.push_back(sms.user_data);
    } else {
        // Concatenated SMS: the UDH must be one empty IE (command packet '70' or PoR '71');
        // TS 31.115 puts it in the first segment only.
        const Bytes& ud = sms.user_data;
        if (ud.size() >= 3 && ud[0] == 2 && ud[2] == 0 &&
            (ud[1] == ota::sms::kIeiCommandPacket || ud[1] == ota::sms::kIeiResponsePacket)) {
            auto segs =
                ota::sms::segment_packet(ByteView(ud).subspan(3), ud[1], next_concat_ref_++);
            if (segs)
                parts = std::move(*segs);
            else
                error = segs.error().message;
        } else {
            error =
                "user data longer than one SMS needs the UDH '027000' (or '027100') to be split";
        }
    }
    m->sms = std::move(sms);
    Message* msg = m.get();
    const uint64_t id = msg->id;
    messages_.emplace(id, std::move(m));
    if (!error.empty() || stopping_) {
        msg->segments.resize(1);
        msg->segments[0].message = msg;
        msg->remaining = 1;
        counters_->inc("smpp:submit:rejected");
        finish_segment(&msg->segments[0], ESME_RSUBMITFAIL, stopping_ ? "stopped" : error);
        return id; // msg is gone: its callback ran
    }
    msg->segments.resize(parts.size());
    msg->remaining = parts.size();
    for (size_t i = 0; i < parts.size(); i++) {
        Segment& seg = msg->segments[i];
        seg.message = msg;
        seg.index = i;
        seg.user_data = std::move(parts[i]);
        seg.payload = payload && seg.user_data.size() > ota::sms::kMaxUserData;
        seg.reference = next_reference();
        seg.result.user_message_reference = seg.reference;
    }
    if (msg->sms.ordered) {
        const std::string& dest = msg->sms.dest.addr;
        if (ordered_busy_.count(dest)) {
            ordered_waiting_[dest].push_back(msg);
            return id;
        }
        ordered_busy_.insert(dest);
        enqueue(&msg->segments[msg->next_to_queue++]);
    } else {
        for (Segment& seg : msg->segments)
            enqueue(&seg);
        msg->next_to_queue = msg->segments.size();
    }
    pump();
    return id;
}

void Esme::schedule_pump_at(uint64_t delay_ms) {
    if (pump_timer_.active())
        return; // an earlier wake-up re-evaluates everything anyway
    pump_timer_.start(delay_ms, [this] { pump(); });
}

void Esme::pump() {
    if (stopping_)
        return;
    const uint64_t now = uv_now(loop_);
    while (!ready_.empty() || !bulk_ready_.empty()) {
        uint64_t wait = kNever;
        Session* chosen = nullptr;
        // Round-robin over the binds that can take one now: load balancing and failover.
        for (size_t i = 0; i < sessions_.size() && !chosen; i++) {
            Session& s = *sessions_[(next_session_ + i) % sessions_.size()];
            if (s.can_submit(now, wait)) {
                chosen = &s;
                next_session_ = (next_session_ + i + 1) % sessions_.size();
            }
        }
        if (!chosen) {
            if (wait != kNever)
                schedule_pump_at(wait);
            return;
        }
        auto& lane = ready_.empty() ? bulk_ready_ : ready_;
        Segment* seg = lane.front();
        lane.pop_front();
        send(*chosen, seg);
    }
}

void Esme::send(Session& s, Segment* seg) {
    const SmsPp& sms = seg->message->sms;
    SubmitSm sm;
    sm.source = sms.source;
    sm.dest = sms.dest;
    sm.esm_class = sms.udhi ? 0x40 : 0x00; // UDHI: the user data starts with a UDH
    sm.protocol_id = sms.protocol_id;
    sm.data_coding = sms.data_coding;
    sm.registered_delivery = sms.registered_delivery ? 0x01 : 0x00;
    if (seg->payload)
        sm.tlvs.push_back({kTlvMessagePayload, seg->user_data});
    else
        sm.short_message = seg->user_data;
    sm.set_user_message_reference(seg->reference);
    seg->attempts++;
    seg->result.attempts = seg->attempts;
    seg->result.bind = s.name();
    s.took_one();
    counters_->inc("smpp:submit_sm:sent");
    auto alive = std::weak_ptr<bool>(alive_);
    s.link()->request({kSubmitSm, 0, 0, sm}, s.config().response_timeout_ms,
                      [this, alive, &s, seg](const Response& r) {
                          auto keep = alive.lock();
                          if (!keep || !*keep)
                              return;
                          s.returned_one();
                          on_submit_resp(s, seg, r);
                      });
}

void Esme::on_submit_resp(Session& s, Segment* seg, const Response& r) {
    const uint64_t now = uv_now(loop_);
    if (stopping_) {
        finish_segment(seg, ESME_RSYSERR, "stopped while in flight");
        return;
    }
    if (r.error == LinkError::Closed) {
        // Never acknowledged: it goes to another bind (or this one once it is back).
        counters_->inc("smpp:submit_sm:requeued");
        if (seg->attempts >= config_.max_attempts * 2)
            finish_segment(seg, ESME_RSYSERR,
                           "the bind went down " + std::to_string(seg->attempts) + " times");
        else
            requeue_front(seg);
        pump();
        return;
    }
    if (r.error == LinkError::Timeout) {
        counters_->inc("smpp:submit_sm:timeout");
        if (seg->attempts - seg->throttled >= config_.max_attempts)
            finish_segment(seg, ESME_RSYSERR,
                           "no submit_sm_resp after " + std::to_string(seg->attempts) +
                               " attempts");
        else
            retry_later(seg, config_.retry_delay_ms);
        pump();
        return;
    }
    const uint32_t status = r.pdu->command_status;
    if (status == ESME_ROK && r.error == LinkError::None) {
        s.accepted();
        const auto* resp = std::get_if<SubmitSmResp>(&r.pdu->body);
        seg->result.message_id = resp ? resp->message_id : "";
        counters_->inc("smpp:submit_sm:acked");
        // Remember it for the receipts.
        by_reference_[seg->reference] = seg->message->id;
        reference_order_.push_back(seg->reference);
        if (reference_order_.size() > kCorrelationMemory) {
            by_reference_.erase(reference_order_.front());
            reference_order_.pop_front();
        }
        if (!seg->result.message_id.empty() && seg->result.message_id != "msg_id_not_implemented") {
            by_message_id_[seg->result.message_id] = seg->message->id;
            message_id_order_.push_back(seg->result.message_id);
            if (message_id_order_.size() > kCorrelationMemory) {
                by_message_id_.erase(message_id_order_.front());
                message_id_order_.pop_front();
            }
        }
        Message* m = seg->message;
        finish_segment(seg, ESME_ROK, "");
        (void)m;
        pump();
        return;
    }
    if (is_throttling(status)) {
        counters_->inc("smpp:submit_sm:throttled");
        s.throttled(now);
        // Throttling is the SMSC's pace, not the message's fault: it does not use up attempts.
        if (++seg->throttled > 100)
            finish_segment(seg, status, "throttled 100 times");
        else
            requeue_front(seg);
        pump();
        return;
    }
    if (is_transient(status) && seg->attempts - seg->throttled < config_.max_attempts) {
        counters_->inc("smpp:submit_sm:retried");
        retry_later(seg, config_.retry_delay_ms);
        pump();
        return;
    }
    finish_segment(seg, status, status_name(status));
    pump();
}

void Esme::requeue_front(Segment* seg) {
    (seg->message->sms.bulk ? bulk_ready_ : ready_).push_front(seg);
}

void Esme::enqueue(Segment* seg) {
    (seg->message->sms.bulk ? bulk_ready_ : ready_).push_back(seg);
}

void Esme::retry_later(Segment* seg, uint32_t delay_ms) {
    auto it = retry_timers_.insert(retry_timers_.end(), {std::make_unique<uv::Timer>(loop_), seg});
    it->first->start(delay_ms, [this, seg, it] {
        enqueue(seg);
        std::shared_ptr<uv::Timer> done(std::move(it->first));
        retry_timers_.erase(it);
        uv::defer(loop_, [done] {}); // destroyed once this callback has returned
        pump();
    });
}

void Esme::finish_segment(Segment* seg, uint32_t status, const std::string& error) {
    if (seg->done)
        return;
    seg->done = true;
    seg->result.command_status = status;
    seg->result.error = error;
    Message* m = seg->message;
    if (status != ESME_ROK) {
        counters_->inc("smpp:submit_sm:failed");
        log::notice(kCategory, "message " + std::to_string(m->id) + " to " + m->sms.dest.addr +
                                   ": segment " + std::to_string(seg->index + 1) +
                                   " failed: " + error);
    }
    if (m->sms.ordered && status == ESME_ROK && m->next_to_queue < m->segments.size() && !stopping_)
        enqueue(&m->segments[m->next_to_queue++]);
    if (m->sms.ordered && status != ESME_ROK) {
        // The rest of an ordered message cannot go out of order: fail it too.
        for (size_t i = m->next_to_queue; i < m->segments.size(); i++) {
            Segment& rest = m->segments[i];
            rest.done = true;
            rest.result.command_status = status;
            rest.result.error = "an earlier segment failed";
            m->remaining--;
        }
        m->next_to_queue = m->segments.size();
    }
    if (--m->remaining == 0)
        finish_message(m);
}

void Esme::finish_message(Message* m) {
    SubmitResult result;
    result.id = m->id;
    result.ok = true;
    for (const Segment& seg : m->segments) {
        result.segments.push_back(seg.result);
        if (seg.result.command_status != ESME_ROK) {
            result.ok = false;
            if (result.error.empty())
                result.error = seg.result.error;
        }
    }
    if (m->sms.ordered) {
        const std::string dest = m->sms.dest.addr;
        auto w = ordered_waiting_.find(dest);
        if (w != ordered_waiting_.end() && !w->second.empty() && !stopping_) {
            Message* next = w->second.front();
            w->second.pop_front();
            if (w->second.empty())
                ordered_waiting_.erase(w);
            enqueue(&next->segments[next->next_to_queue++]);
        } else {
            ordered_busy_.erase(dest);
        }
    }
    SubmitCallback cb = std::move(m->cb);
    auto owned = std::move(messages_[m->id]);
    messages_.erase(m->id);
    if (cb)
        cb(result);
}

void Esme::on_bind_error(Session& s, const std::string& why) {
    if (handlers_.on_bind_error)
        handlers_.on_bind_error(s.name(), why);
}

void Esme::on_session_state(Session& s, bool up) {
    if (handlers_.on_bind_state)
        handlers_.on_bind_state(s.name(), up);
    if (up)
        pump();
}

namespace {
// "id:IIII sub:... stat:DDDDDDD ..." (SMPP 3.4 appendix B): the value after `key`.
std::string receipt_field(const std::string& text, const std::string& key) {
    size_t at = 0;
    while ((at = text.find(key, at)) != std::string::npos) {
        if (at == 0 || text[at - 1] == ' ') {
            size_t start = at + key.size();
            size_t end = text.find(' ', start);
            return text.substr(start, end == std::string::npos ? std::string::npos : end - start);
        }
        at += key.size();
    }
    return {};
}
} // namespace

MoVerdict Esme::on_deliver(Session& s, const DeliverSm& sm) {
    counters_->inc("smpp:deliver_sm:received");
    const uint8_t type = sm.esm_class & 0x3c;
    if (type == 0x04 || type == 0x20) { // SMSC delivery receipt, intermediate notification
        counters_->inc("smpp:receipt:received");
        Receipt r;
        r.bind = s.name();
        r.source = sm.source;
        r.dest = sm.dest;
        const std::string text(sm.short_message.begin(), sm.short_message.end());
        r.message_id = sm.receipted_message_id().value_or(receipt_field(text, "id:"));
        r.stat = receipt_field(text, "stat:");
        r.message_state = sm.message_state();
        r.user_message_reference = sm.user_message_reference();
        if (r.user_message_reference) {
            if (auto it = by_reference_.find(*r.user_message_reference); it != by_reference_.end())
                r.submission_id = it->second;
        }
        if (!r.submission_id && !r.message_id.empty()) {
            if (auto it = by_message_id_.find(r.message_id); it != by_message_id_.end())
                r.submission_id = it->second;
        }
        if (handlers_.on_receipt)
            handlers_.on_receipt(r);
        return MoVerdict::Taken;
    }
    Mo mo;
    mo.bind = s.name();
    mo.source = sm.source;
    mo.dest = sm.dest;
    mo.esm_class = sm.esm_class;
    mo.protocol_id = sm.protocol_id;
    mo.data_coding = sm.data_coding;
    mo.udhi = sm.esm_class & 0x40;
    const ByteView ud = sm.user_data();
    std::optional<std::pair<std::string, Bytes>> retry_key; // a reassembled message's
    if (mo.udhi) {
        std::pair<std::string, Bytes> key{sm.source.addr, Bytes(ud.begin(), ud.end())};
        if (auto held = held_.find(key); held != held_.end()) {
            mo.user_data = std::move(held->second.whole); // delivered again after RetryLater
            held_.erase(held);
            retry_key = std::move(key);
        } else {
            // Text in the SMSC default alphabet (0x00), IA5 (0x01) or GSM-7 with a message
            // class (0xF0-0xF3) comes a character per octet in SMPP (3.4 §5.2.19): up to 160.
            const uint8_t dcs = sm.data_coding;
            const bool gsm7 = dcs == 0x00 || dcs == 0x01 || (dcs & 0xf4) == 0xf0;
            auto whole =
                reassembler_.add(sm.source.addr, ud, uv_now(loop_),
                                 gsm7 ? ota::sms::kMaxUnpackedSeptets : ota::sms::kMaxUserData);
            if (!whole) {
                counters_->inc("smpp:mo:malformed");
                log::notice(kCategory, s.name() + ": MO from " + sm.source.addr + ": " +
                                           whole.error().message);
                return MoVerdict::Taken;
            }
            if (!*whole)
                return MoVerdict::Taken; // more segments to come
            mo.user_data = std::move(**whole);
            retry_key = std::move(key);
        }
    } else {
        mo.user_data.assign(ud.begin(), ud.end());
    }
    counters_->inc("smpp:mo:received");
    if (!handlers_.on_mo)
        return MoVerdict::Taken;
    const MoVerdict verdict = handlers_.on_mo(mo);
    if (verdict == MoVerdict::RetryLater && retry_key) {
        if (held_.size() >= 1024)
            held_.erase(
                std::min_element(held_.begin(), held_.end(), [](const auto& a, const auto& b) {
                    return a.second.since < b.second.since;
                }));
        held_[*retry_key] = Held{std::move(mo.user_data), uv_now(loop_)};
    }
    return verdict;
}

} // namespace otagw::smpp
