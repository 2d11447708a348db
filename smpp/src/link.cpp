// SPDX-License-Identifier: GPL-2.0-or-later
// SMPP framing, request/response matching and timeouts over one TCP stream.
#include "otagw/smpp/link.hpp"

#include "otagw/common/log.hpp"
#include "otagw/smpp/status.hpp"

namespace otagw::smpp {

Link::Link(uv_loop_t* loop, std::unique_ptr<uv::TcpStream> stream, Handlers handlers,
           Counters* counters, std::string name)
    : loop_(loop), stream_(std::move(stream)), handlers_(std::move(handlers)), counters_(counters),
      name_(std::move(name)), timer_(loop), alive_(std::make_shared<bool>(true)) {
    stream_->start(
        [this](ByteView d) { on_data(d); },
        [this](int err) { fail(err, err == UV_EOF ? "closed by the peer" : uv::error_name(err)); });
}

Link::~Link() {
    *alive_ = false;
    handlers_.on_closed = nullptr;
    close();
}

uint32_t Link::next_sequence() {
    do {
        sequence_ = sequence_ >= 0x7fffffff ? 1 : sequence_ + 1;
    } while (pending_.count(sequence_));
    return sequence_;
}

uint32_t Link::request(Pdu pdu, uint64_t timeout_ms, ResponseCb cb) {
    if (!is_open()) {
        Response r{LinkError::Closed, nullptr};
        cb(r);
        return 0;
    }
    pdu.sequence_number = next_sequence();
    Status st = encode(pdu, tx_);
    if (!st) {
        log::error("smpp", name_ + ": cannot send " + command_name(pdu.command_id) + ": " +
                               st.error().message);
        Response r{LinkError::Closed, nullptr};
        cb(r);
        return 0;
    }
    const uint64_t deadline = uv_now(loop_) + timeout_ms;
    pending_.emplace(pdu.sequence_number, Pending{pdu.command_id, deadline, std::move(cb)});
    deadlines_.insert({deadline, pdu.sequence_number});
    stream_->write(tx_);
    arm_timer();
    return pdu.sequence_number;
}

void Link::respond(const Pdu& pdu) {
    if (!is_open())
        return;
    Status st = encode(pdu, tx_);
    if (!st) {
        log::error("smpp", name_ + ": cannot send " + command_name(pdu.command_id) + ": " +
                               st.error().message);
        return;
    }
    stream_->write(tx_);
}

void Link::send_raw(ByteView bytes) {
    if (is_open())
        stream_->write(bytes);
}

void Link::close() {
    if (stream_)
        stream_->close();
    timer_.stop();
    fail_all(LinkError::Closed);
}

void Link::fail(int uv_error, const std::string& why) {
    auto alive = alive_;
    auto on_closed = std::move(handlers_.on_closed);
    handlers_.on_closed = nullptr;
    if (stream_)
        stream_->close();
    timer_.stop();
    fail_all(LinkError::Closed);
    if (*alive && on_closed)
        on_closed(uv_error, why);
}

void Link::fail_all(LinkError error) {
    auto alive = alive_;
    while (!pending_.empty() && *alive) {
        auto it = pending_.begin();
        Pending p = std::move(it->second);
        deadlines_.erase({p.deadline, it->first});
        pending_.erase(it);
        Response r{error, nullptr};
        p.cb(r);
    }
}

void Link::arm_timer() {
    if (deadlines_.empty()) {
        timer_.stop();
        return;
    }
    const uint64_t now = uv_now(loop_);
    const uint64_t first = deadlines_.begin()->first;
    timer_.start(first > now ? first - now : 0, [this] { on_timer(); });
}

void Link::on_timer() {
    auto alive = alive_;
    const uint64_t now = uv_now(loop_);
    while (*alive && !deadlines_.empty() && deadlines_.begin()->first <= now) {
        const uint32_t seq = deadlines_.begin()->second;
        deadlines_.erase(deadlines_.begin());
        auto it = pending_.find(seq);
        if (it == pending_.end())
            continue;
        Pending p = std::move(it->second);
        pending_.erase(it);
        if (counters_)
            counters_->inc("smpp:response:timeout");
        log::notice("smpp", name_ + ": no " + command_name(p.command_id | kResponseBit) +
                                " to sequence " + std::to_string(seq) + " in time");
        Response r{LinkError::Timeout, nullptr};
        p.cb(r);
    }
    if (*alive)
        arm_timer();
}

void Link::on_data(ByteView data) {
    auto alive = alive_;
    append(rx_, data);
    while (*alive && rx_.size() - rx_start_ >= 4) {
        const uint8_t* p = rx_.data() + rx_start_;
        const uint32_t len = static_cast<uint32_t>(p[0]) << 24 | static_cast<uint32_t>(p[1]) << 16 |
                             static_cast<uint32_t>(p[2]) << 8 | p[3];
        if (len < kHeaderSize || len > kMaxPduSize) {
            if (counters_)
                counters_->inc("smpp:pdu:malformed");
            fail(UV_EPROTO, "command_length " + std::to_string(len) + " outside 16..65536");
            return;
        }
        if (rx_.size() - rx_start_ < len)
            break;
        Bytes one(p, p + len); // on_pdu may reenter and append to rx_
        rx_start_ += len;
        on_pdu(one);
    }
    if (!*alive)
        return;
    if (rx_start_ == rx_.size()) {
        rx_.clear();
        rx_start_ = 0;
    } else if (rx_start_ > 64 * 1024) {
        rx_.erase(rx_.begin(), rx_.begin() + static_cast<long>(rx_start_));
        rx_start_ = 0;
    }
}

void Link::on_pdu(ByteView bytes) {
    auto decoded = decode(bytes);
    const Header h = *peek_header(bytes);
    if (auto* err = std::get_if<DecodeError>(&decoded)) {
        if (counters_)
            counters_->inc("smpp:pdu:malformed");
        log::notice("smpp", name_ + ": unreadable " + command_name(h.command_id) + " (sequence " +
                                std::to_string(h.sequence_number) + "): " + err->message);
        if (h.command_id & kResponseBit) {
            // An unreadable response still ends its request: as a failure with its status.
            auto it = pending_.find(h.sequence_number);
            if (it != pending_.end()) {
                Pending p = std::move(it->second);
                deadlines_.erase({p.deadline, it->first});
                pending_.erase(it);
                Pdu nack{kGenericNack, h.command_status ? h.command_status : uint32_t{ESME_RSYSERR},
                         h.sequence_number, NoBody{}};
                Response r{LinkError::Nack, &nack};
                p.cb(r);
            }
            return;
        }
        if (h.sequence_number != 0)
            respond(Pdu{kGenericNack, err->command_status, h.sequence_number, NoBody{}});
        return;
    }
    Pdu& pdu = std::get<Pdu>(decoded);
    if (pdu.command_id & kResponseBit) {
        auto it = pending_.find(pdu.sequence_number);
        if (it == pending_.end()) {
            if (counters_)
                counters_->inc("smpp:response:unexpected");
            log::info("smpp", name_ + ": " + command_name(pdu.command_id) +
                                  " for unknown sequence " + std::to_string(pdu.sequence_number) +
                                  " (late or duplicate)");
            return;
        }
        Pending p = std::move(it->second);
        deadlines_.erase({p.deadline, it->first});
        pending_.erase(it);
        Response r{pdu.command_id == kGenericNack ? LinkError::Nack : LinkError::None, &pdu};
        p.cb(r);
        return;
    }
    if (handlers_.on_request)
        handlers_.on_request(std::move(pdu));
}

} // namespace otagw::smpp
