// SPDX-License-Identifier: GPL-2.0-or-later
// The simulated network: MT routing to handsets, SMS-PP data download to cards, PoRs and
// application requests as MO SMS, injected faults.
#include "otagw/sim/network.hpp"

#include <algorithm>

#include "otagw/common/log.hpp"
#include "otagw/smpp/status.hpp"

namespace otagw::sim {

namespace {

constexpr const char* kLog = "sim";
constexpr size_t kInboxSize = 32;

// TS 23.038 §4: 8-bit data of message class 2 ((U)SIM specific), in the general data coding
// group (00x1 01 10) or the data coding/message class group (1111 x1 10).
bool is_sim_data_download_dcs(uint8_t dcs) {
    if ((dcs & 0xf0) == 0xf0)
        return (dcs & 0x07) == 0x06;
    return (dcs & 0xd0) == 0x10 && (dcs & 0x0f) == 0x06;
}

bool is_ascii(const std::string& s) {
    return std::all_of(s.begin(), s.end(),
                       [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

// UTF-8 to UTF-16BE (UCS-2 with surrogates for characters beyond the BMP).
bool utf8_to_ucs2(const std::string& in, Bytes& out) {
    for (size_t i = 0; i < in.size();) {
        const auto b0 = static_cast<unsigned char>(in[i]);
        uint32_t cp;
        size_t n;
        if (b0 < 0x80) {
            cp = b0;
            n = 1;
        } else if ((b0 & 0xe0) == 0xc0) {
            cp = b0 & 0x1f;
            n = 2;
        } else if ((b0 & 0xf0) == 0xe0) {
            cp = b0 & 0x0f;
            n = 3;
        } else if ((b0 & 0xf8) == 0xf0) {
            cp = b0 & 0x07;
            n = 4;
        } else {
            return false;
        }
        if (in.size() - i < n)
            return false;
        for (size_t k = 1; k < n; k++) {
            const auto b = static_cast<unsigned char>(in[i + k]);
            if ((b & 0xc0) != 0x80)
                return false;
            cp = cp << 6 | (b & 0x3f);
        }
        i += n;
        if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        if (cp >= 0x10000) {
            cp -= 0x10000;
            append_be16(out, static_cast<uint16_t>(0xd800 | cp >> 10));
            append_be16(out, static_cast<uint16_t>(0xdc00 | (cp & 0x3ff)));
        } else {
            append_be16(out, static_cast<uint16_t>(cp));
        }
    }
    return true;
}

void put_utf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
        out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
        out.push_back(static_cast<char>(0xc0 | cp >> 6));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    } else if (cp < 0x10000) {
        out.push_back(static_cast<char>(0xe0 | cp >> 12));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    } else {
        out.push_back(static_cast<char>(0xf0 | cp >> 18));
        out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    }
}

std::string ucs2_to_utf8(ByteView in) {
    std::string out;
    for (size_t i = 0; i + 1 < in.size(); i += 2) {
        uint32_t cp = load_be16(&in[i]);
        if (cp >= 0xd800 && cp < 0xdc00 && i + 3 < in.size()) {
            const uint32_t low = load_be16(&in[i + 2]);
            if (low >= 0xdc00 && low < 0xe000) {
                cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
                i += 2;
            }
        }
        put_utf8(out, cp);
    }
    return out;
}

std::string decode_text(uint8_t dcs, ByteView payload) {
    if (dcs == 0x08)
        return ucs2_to_utf8(payload);
    const bool printable = std::all_of(payload.begin(), payload.end(),
                                       [](uint8_t b) { return b >= 0x20 && b < 0x7f; });
    if ((dcs == 0x00 || dcs == 0x01 || dcs == 0x03) && printable)
        return std::string(payload.begin(), payload.end());
    return to_hex(payload);
}

// Cuts `payload` into SMS user data: one message when it fits `single`, else concatenated
// parts of `part` octets behind the 8-bit reference concatenation IE (TS 23.040 §9.2.3.24.1),
// with `first_ies` (e.g. '7100') ahead of it in the first part.
std::vector<Bytes> cut(ByteView payload, ByteView first_ies, size_t single, size_t part,
                       uint8_t ref) {
    std::vector<Bytes> out;
    if (first_ies.size() + (first_ies.empty() ? 0 : 1) + payload.size() <= single) {
        Bytes ud;
        if (!first_ies.empty()) {
            ud.push_back(static_cast<uint8_t>(first_ies.size()));
            append(ud, first_ies);
        }
        append(ud, payload);
        out.push_back(std::move(ud));
        return out;
    }
    const size_t first_part = part - first_ies.size();
    const size_t total =
        1 + (payload.size() > first_part ? (payload.size() - first_part + part - 1) / part : 0);
    if (total > 255)
        return {};
    size_t pos = 0;
    for (size_t i = 1; i <= total; i++) {
        const ByteView ies = i == 1 ? first_ies : ByteView{};
        const size_t n = std::min(payload.size() - pos, i == 1 ? first_part : part);
        Bytes ud{static_cast<uint8_t>(ies.size() + 5)};
        append(ud, ies);
        append_bytes(ud, {0x00, 0x03, ref, static_cast<uint8_t>(total), static_cast<uint8_t>(i)});
        append(ud, payload.subspan(pos, n));
        pos += n;
        out.push_back(std::move(ud));
    }
    return out;
}

std::string hex_tar(const Tar& t) {
    return to_hex(t);
}

} // namespace

Network::Network(uv_loop_t* loop, Population& cards, NetworkConfig config, StateStore* store)
    : loop_(loop), cards_(cards), config_(std::move(config)), store_(store),
      smsc_(loop, config_.smsc, &counters_), scheduler_(loop), rng_(config_.fault_seed),
      is_dirty_(store ? cards.size() : 0, false), flush_timer_(loop),
      alive_(std::make_shared<bool>(true)) {
    bip_ = std::make_unique<BipHandsets>(
        loop, cards, config_.faults.bip, counters_, [this](uint32_t card) { mark_changed(card); },
        [this](double p) { return chance(p); });
}

void Network::mark_changed(uint32_t idx) {
    if (store_ && !is_dirty_[idx]) {
        is_dirty_[idx] = true;
        dirty_.push_back(idx);
    }
}

Network::~Network() {
    *alive_ = false;
    stop();
}

int Network::start() {
    smsc_.route("", [this](const smpp::MtMessage& mt) { on_mt(mt); });
    return smsc_.start();
}

void Network::stop() {
    bip_->stop();
    flush();
    scheduler_.clear();
    flush_timer_.stop();
    smsc_.stop();
}

uint64_t Network::delay() {
    uint64_t d = config_.faults.latency_ms;
    if (config_.faults.jitter_ms)
        d += rng_() % (config_.faults.jitter_ms + 1);
    return d;
}

bool Network::chance(double p) {
    if (p <= 0)
        return false;
    return std::uniform_real_distribution<double>(0, 1)(rng_) < p;
}

void Network::on_mt(const smpp::MtMessage& mt) {
    counters_.inc("sim:mt:received");
    counters_.inc("sim:mt:bytes", mt.sm.user_data().size()); // TP-UD, UDH included
    Uicc* card = cards_.by_msisdn(mt.sm.dest.addr);
    if (!card) {
        counters_.inc("sim:mt:unknown_destination");
        log::notice(kLog, "MT SMS to " + mt.sm.dest.addr + ": no such subscriber");
        smsc_.send_receipt(mt, smpp::kStateUndeliverable);
        return;
    }
    const auto idx = static_cast<uint32_t>(cards_.index_of(*card));
    if (chance(config_.faults.mt_loss)) {
        counters_.inc("sim:fault:mt_lost");
        log::info(kLog, "iccid=" + card->iccid + " MT SMS lost on the radio path (fault)");
        return;
    }
    const int copies = chance(config_.faults.mt_duplicate) ? 2 : 1;
    if (copies == 2)
        counters_.inc("sim:fault:mt_duplicated");
    for (int i = 0; i < copies; i++)
        scheduler_.after(delay(), [this, idx, mt] { reach_handset(idx, mt); });
}

void Network::reach_handset(uint32_t idx, const smpp::MtMessage& mt) {
    Uicc& card = cards_.at(idx);
    counters_.inc("sim:mt:delivered");
    smsc_.send_receipt(mt, smpp::kStateDelivered);
    const ByteView ud = mt.sm.user_data();
    const bool udhi = mt.sm.esm_class & 0x40;
    const std::string key = card.msisdn + "|" + mt.sm.source.addr;
    if (segments_.pending())
        segments_.expire(uv_now(loop_) > config_.segment_timeout_ms
                             ? uv_now(loop_) - config_.segment_timeout_ms
                             : 0);
    if (mt.sm.protocol_id == 0x7f && is_sim_data_download_dcs(mt.sm.data_coding)) {
        // TS 31.115 §4: an SMS-PP data download carries a command packet behind IE '70'.
        if (!udhi) {
            counters_.inc("sim:mt:not_secured");
            log::notice(kLog, "iccid=" + card.iccid +
                                  " SMS-PP without a user data header: no command packet");
            return;
        }
        auto whole = segments_.add(key, ud, uv_now(loop_));
        if (!whole) {
            counters_.inc("sim:mt:segment");
            return;
        }
        data_download(idx, mt, *whole);
        return;
    }
    // Anything else is for the subscriber: the handset keeps it.
    Bytes text_ud(ud.begin(), ud.end());
    if (udhi) {
        auto whole = segments_.add("text|" + key, ud, uv_now(loop_));
        if (!whole)
            return;
        text_ud = std::move(*whole);
    }
    ByteView payload = text_ud;
    if (udhi && !payload.empty() && payload[0] < payload.size())
        payload = payload.subspan(1 + payload[0]);
    auto& inbox = inboxes_[idx];
    inbox.push_back(
        {mt.sm.source.addr, mt.sm.data_coding, decode_text(mt.sm.data_coding, payload)});
    if (inbox.size() > kInboxSize)
        inbox.pop_front();
    counters_.inc("sim:handset:sms_received");
    log::info(kLog, "iccid=" + card.iccid + " handset received an SMS from " + mt.sm.source.addr);
}

void Network::data_download(uint32_t idx, const smpp::MtMessage& mt, ByteView ud) {
    Uicc& card = cards_.at(idx);
    const size_t udhl = ud.empty() ? 0 : ud[0];
    bool command = false;
    for (size_t i = 1; udhl < ud.size() && i + 1 < 1 + udhl; i += 2 + ud[i + 1])
        if (ud[i] == 0x70)
            command = true;
    if (ud.empty() || udhl >= ud.size() || !command) {
        counters_.inc("sim:mt:no_command_packet");
        log::notice(kLog, "iccid=" + card.iccid + " SMS-PP without the command packet IE '70'");
        return;
    }
    const PorOutcome out = process_command_packet(card, ud.subspan(1 + udhl));
    counters_.inc("sim:command:processed");
    const std::string status = to_hex(ByteView(&out.status, 1));
    counters_.inc("sim:por:status:" + status);
    mark_changed(idx);
    std::string line = "iccid=" + card.iccid + " tar=" + hex_tar(out.tar) + " status=" + status;
    if (out.admin_trigger) {
        // The handset opens the admin session once the card has kept the push's counter.
        log::info(kLog, line + ", an admin session trigger: the handset opens a BIP channel");
        after_save(idx, [this, idx, trigger = *out.admin_trigger] { bip_->trigger(idx, trigger); });
    }
    if (!out.error.empty())
        line += " (" + out.error + ")";
    if (!out.por_wanted) {
        log::info(kLog, line + ", no PoR asked");
        return;
    }
    if (!out.via_submit) {
        counters_.inc("sim:por:in_delivery_report_dropped");
        log::info(kLog, line + ", PoR in the delivery report: dropped, as osmo-msc does");
        return;
    }
    log::info(kLog, line + ", PoR by SMS-SUBMIT");
    Bytes por = out.por;
    if (out.status == 0 && por.size() > 3 && chance(config_.faults.por_corrupt)) {
        por.back() ^= 0x01; // the PoR's checksum no longer verifies
        counters_.inc("sim:fault:por_corrupted");
    }
    after_save(idx, [this, idx, mt, por = std::move(por)] {
        PorOutcome o;
        o.por = por;
        send_por(idx, mt, o);
    });
}

void Network::after_save(uint32_t idx, std::function<void()> fn) {
    (void)idx;
    if (!store_) {
        fn();
        return;
    }
    waiting_for_save_.push_back(std::move(fn));
    if (!flush_timer_.active())
        flush_timer_.start(config_.flush_ms, [this] { flush(); });
}

void Network::flush() {
    if (!store_)
        return;
    if (!dirty_.empty()) {
        std::vector<uint32_t> batch;
        batch.swap(dirty_);
        for (uint32_t i : batch)
            is_dirty_[i] = false;
        if (Status st = store_->save(cards_, batch); !st) {
            counters_.inc("sim:state:save_failed");
            log::error(kLog, st.error().message);
        } else {
            counters_.inc("sim:state:saved", batch.size());
        }
    }
    std::vector<std::function<void()>> ready;
    ready.swap(waiting_for_save_);
    for (auto& fn : ready)
        fn();
}

void Network::send_por(uint32_t idx, const smpp::MtMessage& mt, const PorOutcome& out) {
    const Uicc& card = cards_.at(idx);
    // TS 31.115 §4.3: the response packet behind IE '71'; concatenated when longer than one SMS,
    // the '71' IE in the first part only.
    const ByteView packet = ByteView(out.por).subspan(3);
    const uint8_t ies[] = {0x71, 0x00};
    const auto parts = cut(packet, ies, 140, 134, static_cast<uint8_t>(next_concat_ref_++));
    for (const Bytes& ud : parts) {
        smpp::DeliverSm sm;
        sm.source = {config_.mo_source_ton, 1, card.msisdn};
        sm.dest = mt.sm.source;
        sm.esm_class = 0x40;
        sm.protocol_id = 0x7f;
        sm.data_coding = 0xf6;
        sm.short_message = ud;
        if (chance(config_.faults.mo_loss)) {
            counters_.inc("sim:fault:mo_lost");
            log::info(kLog, "iccid=" + card.iccid + " PoR lost on the way back (fault)");
            continue;
        }
        counters_.inc("sim:por:sent");
        counters_.inc("sim:por:bytes", ud.size());
        recent_pors_.push_back({idx, sm, mt.system_id});
        if (recent_pors_.size() > 4096)
            recent_pors_.pop_front();
        // Back to the ESME that sent the command (SMPP routing by the SMSC).
        scheduler_.after(delay(), [this, sm = std::move(sm), esme = mt.system_id]() mutable {
            originate(std::move(sm), {}, esme);
        });
    }
}

Status Network::replay_por(const std::string& msisdn, size_t nth, DoneCb done) {
    const Uicc* card = cards_.by_msisdn(msisdn);
    if (!card)
        return make_error("no handset with MSISDN " + msisdn);
    const uint32_t idx = static_cast<uint32_t>(cards_.index_of(*card));
    size_t seen = 0;
    for (auto it = recent_pors_.rbegin(); it != recent_pors_.rend(); ++it)
        if (it->card == idx && ++seen == nth) {
            counters_.inc("sim:por:replayed");
            log::info(kLog, "iccid=" + card->iccid + " PoR " + std::to_string(nth) +
                                " back replayed (control)");
            originate(it->sm, std::move(done), it->esme);
            return {};
        }
    return make_error("the card of " + msisdn + " has sent fewer than " + std::to_string(nth) +
                      " PoRs lately");
}

void Network::originate(smpp::DeliverSm sm, DoneCb done, const std::string& esme,
                        uint32_t attempt) {
    smpp::DeliverSm copy = sm;
    std::weak_ptr<bool> alive = alive_;
    smsc_.deliver(
        std::move(copy),
        [this, alive, sm = std::move(sm), done = std::move(done), esme,
         attempt](uint32_t status) mutable {
            if (alive.expired())
                return;
            if (status == smpp::ESME_ROK) {
                counters_.inc("sim:mo:delivered");
                if (done)
                    done(status);
                return;
            }
            if (attempt >= config_.mo_attempts) {
                counters_.inc("sim:mo:expired");
                log::notice(kLog, "MO SMS from " + sm.source.addr + " expired after " +
                                      std::to_string(attempt) + " attempts");
                if (done)
                    done(status);
                return;
            }
            counters_.inc("sim:mo:retried");
            scheduler_.after(config_.mo_retry_ms, [this, sm = std::move(sm), done = std::move(done),
                                                   esme, attempt]() mutable {
                originate(std::move(sm), std::move(done), esme, attempt + 1);
            });
        },
        esme);
}

Status Network::send_text(const std::string& msisdn, const std::string& to, const std::string& text,
                          DoneCb done) {
    Uicc* card = cards_.by_msisdn(msisdn);
    if (!card)
        return make_error("no simulated handset has MSISDN " + msisdn);
    if (to.empty())
        return make_error("the destination address is empty");
    Bytes payload;
    uint8_t dcs = 0x00;
    size_t single = 160, part = 153;
    if (is_ascii(text)) {
        payload.assign(text.begin(), text.end());
    } else {
        if (!utf8_to_ucs2(text, payload))
            return make_error("the text is not valid UTF-8");
        dcs = 0x08;
        single = 140;
        part = 134;
    }
    auto parts = cut(payload, {}, single, part, static_cast<uint8_t>(next_concat_ref_++));
    if (parts.empty())
        return make_error("the text needs more than 255 SMS");
    auto remaining = std::make_shared<size_t>(parts.size());
    auto worst = std::make_shared<uint32_t>(0);
    for (Bytes& ud : parts) {
        smpp::DeliverSm sm;
        sm.source = {config_.mo_source_ton, 1, card->msisdn};
        sm.dest = {static_cast<uint8_t>(to.size() > 8 ? 1 : 0), 1, to};
        sm.esm_class = parts.size() > 1 ? 0x40 : 0x00;
        sm.data_coding = dcs;
        sm.short_message = std::move(ud);
        counters_.inc("sim:handset:request_sent");
        if (chance(config_.faults.mo_loss)) {
            counters_.inc("sim:fault:mo_lost");
            continue;
        }
        scheduler_.after(delay(), [this, sm = std::move(sm), remaining, worst, done]() mutable {
            originate(std::move(sm), [remaining, worst, done](uint32_t status) {
                if (status && !*worst)
                    *worst = status;
                if (--*remaining == 0 && done)
                    done(*worst);
            });
        });
    }
    log::info(kLog, "iccid=" + card->iccid + " handset sends a text request to " + to);
    return Status::success();
}

Status Network::send_binary(const std::string& msisdn, const std::string& to, ByteView user_data,
                            bool udhi, DoneCb done) {
    Uicc* card = cards_.by_msisdn(msisdn);
    if (!card)
        return make_error("no simulated handset has MSISDN " + msisdn);
    if (user_data.empty() || user_data.size() > 140)
        return make_error("binary user data must be 1..140 octets (one SMS)");
    if (udhi && static_cast<size_t>(user_data[0]) + 1 > user_data.size())
        return make_error("the user data header length exceeds the user data");
    smpp::DeliverSm sm;
    sm.source = {config_.mo_source_ton, 1, card->msisdn};
    sm.dest = {static_cast<uint8_t>(to.size() > 8 ? 1 : 0), 1, to};
    sm.esm_class = udhi ? 0x40 : 0x00;
    sm.data_coding = 0x04;
    sm.short_message.assign(user_data.begin(), user_data.end());
    counters_.inc("sim:handset:request_sent");
    log::info(kLog, "iccid=" + card->iccid + " handset sends a binary request to " + to);
    if (chance(config_.faults.mo_loss)) {
        counters_.inc("sim:fault:mo_lost");
        return Status::success();
    }
    scheduler_.after(
        delay(), [this, sm = std::move(sm), done]() mutable { originate(std::move(sm), done); });
    return Status::success();
}

const std::deque<InboxMessage>* Network::inbox(const std::string& msisdn) const {
    Uicc* card = cards_.by_msisdn(msisdn);
    if (!card)
        return nullptr;
    auto it = inboxes_.find(static_cast<uint32_t>(cards_.index_of(*card)));
    static const std::deque<InboxMessage> empty;
    return it == inboxes_.end() ? &empty : &it->second;
}

} // namespace otagw::sim
