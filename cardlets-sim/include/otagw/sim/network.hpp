// SPDX-License-Identifier: GPL-2.0-or-later
// The simulated mobile network: an SMSC (smpp/'s SMPP server) in front of one handset per card.
// MT SMS are routed by MSISDN to the handset, which hands SMS-PP data download (TP-PID 7F,
// class 2 8-bit) to its card and keeps other messages in an inbox; the card's PoR goes back as
// an MO SMS-SUBMIT to the command's originator (a PoR asked for in the delivery report is
// dropped, as osmo-msc does). Handsets also originate application requests, in text or binary.
// Latency, jitter, loss, duplicates and the SMSC's own faults (throttling, TPS limit, ...) can
// be injected; random choices come from a seeded generator so a run can be repeated.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "otagw/common/counters.hpp"
#include "otagw/sim/bip_handset.hpp"
#include "otagw/sim/ota_card.hpp"
#include "otagw/sim/population.hpp"
#include "otagw/sim/scheduler.hpp"
#include "otagw/sim/state_store.hpp"
#include "otagw/smpp/smsc.hpp"

namespace otagw::sim {

struct NetworkFaults {
    uint32_t latency_ms = 0; // one way, SMSC <-> handset
    uint32_t jitter_ms = 0;  // plus up to this much, uniformly
    double mt_loss = 0;      // probability an MT SMS never reaches the handset
    double mo_loss = 0;      // probability an MO SMS (a PoR, a request) never reaches the SMSC
    double mt_duplicate = 0; // probability an MT SMS reaches the handset twice
    double por_corrupt = 0;  // probability a secured PoR's last byte (its CC) is flipped on the way
    BipFaults bip;           // the BIP channels to the gateway's RAS
};

struct NetworkConfig {
    smpp::SmscConfig smsc;
    NetworkFaults faults;
    uint64_t fault_seed = 1;
    uint32_t flush_ms = 10;              // state store batch: PoRs leave once their card is saved
    uint32_t mo_retry_ms = 1000;         // no ESME bound, or it refused the deliver_sm: try again
    uint32_t mo_attempts = 30;           // then the MO message expires
    uint32_t segment_timeout_ms = 60000; // partial concatenated SMS dropped after this
    uint8_t mo_source_ton = 1;           // osmo-msc sends 3 (network specific); 1 is international
};

// A message a handset received that was not for its card (a reply to the subscriber).
struct InboxMessage {
    std::string from;
    uint8_t data_coding = 0;
    std::string text; // decoded for GSM/ASCII and UCS-2; hex otherwise
};

class Network {
public:
    using DoneCb = std::function<void(uint32_t command_status)>;

    Network(uv_loop_t* loop, Population& cards, NetworkConfig config, StateStore* store = nullptr);
    ~Network();

    int start(); // negative libuv error when the SMSC cannot listen
    void stop();
    uint16_t port() const { return smsc_.port(); }
    smpp::Smsc& smsc() { return smsc_; }
    NetworkFaults& faults() { return config_.faults; }
    Counters& counters() { return counters_; }
    Population& cards() { return cards_; }

    // MO SMS from the handset of `msisdn` to `to` (e.g. the gateway's short code). Text goes as
    // SMSC default alphabet when it is ASCII, else as UCS-2 (segmented when long); binary as
    // 8-bit data with UDHI when `udhi`. `done` gets the ESME's deliver_sm_resp status (after
    // retries), or ESME_RSYSERR when it expired. Errors: unknown MSISDN, text too long.
    Status send_text(const std::string& msisdn, const std::string& to, const std::string& text,
                     DoneCb done = {});
    Status send_binary(const std::string& msisdn, const std::string& to, ByteView user_data,
                       bool udhi, DoneCb done = {});

    // Sends again, as it was sent, the `nth` most recent PoR of the card behind `msisdn` (1: the
    // last): a faulty network or an attacker replaying an old genuine PoR. The last 4096 PoRs of
    // the whole network are kept. Errors: unknown MSISDN, no such PoR.
    Status replay_por(const std::string& msisdn, size_t nth, DoneCb done = {});

    const std::deque<InboxMessage>* inbox(const std::string& msisdn) const;
    BipHandsets& bip() { return *bip_; }
    void mark_changed(uint32_t card); // to the state store at the next flush
    // Writes changed cards to the state store now (also done every flush_ms).
    void flush();

private:
    void on_mt(const smpp::MtMessage& mt);
    void reach_handset(uint32_t card, const smpp::MtMessage& mt);
    void data_download(uint32_t card, const smpp::MtMessage& mt, ByteView whole_ud);
    void send_por(uint32_t card, const smpp::MtMessage& mt, const PorOutcome& out);
    // deliver_sm to `esme` (any bound receiver when empty), retried while refused.
    void originate(smpp::DeliverSm sm, DoneCb done, const std::string& esme = {},
                   uint32_t attempt = 1);
    void after_save(uint32_t card, std::function<void()> fn);
    uint64_t delay();
    bool chance(double p);

    uv_loop_t* loop_;
    Population& cards_;
    NetworkConfig config_;
    StateStore* store_;
    Counters counters_;
    smpp::Smsc smsc_;
    Scheduler scheduler_;
    SegmentBuffer segments_;
    std::mt19937_64 rng_;
    std::unordered_map<uint32_t, std::deque<InboxMessage>> inboxes_;
    struct SentPor {
        uint32_t card = 0;
        smpp::DeliverSm sm;
        std::string esme;
    };
    std::deque<SentPor> recent_pors_; // for replay_por()
    std::vector<uint32_t> dirty_;
    std::vector<bool> is_dirty_;
    std::vector<std::function<void()>> waiting_for_save_;
    uv::Timer flush_timer_;
    uint16_t next_concat_ref_ = 1;
    std::unique_ptr<BipHandsets> bip_;
    std::shared_ptr<bool> alive_;
};

} // namespace otagw::sim
