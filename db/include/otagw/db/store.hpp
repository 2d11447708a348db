// SPDX-License-Identifier: GPL-2.0-or-later
// The repository API: everything the gateway keeps, behind one abstract interface so that a
// second backend (PostgreSQL, later) runs the same contract tests (tests/store_contract.hpp).
// Built for millions of cards: lookups by ICCID, IMSI and MSISDN are indexed and listings are
// paged by id; nothing loads the whole inventory.
//
// Keys are in clear only in the records returned to the caller; a backend stores them sealed
// (KeyVault). Writes between begin() and commit() land together or not at all.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "otagw/common/bytes.hpp"
#include "otagw/common/result.hpp"

namespace otagw::db {

// ETSI TS 102 225 §5.1.1: the counter is 5 bytes.
constexpr uint64_t kCounterMax = 0xffffffffffULL;

struct Card {
    int64_t id = 0;
    std::string iccid;
    std::string imsi;
    std::string msisdn;            // E.164 digits without '+', may be empty
    std::string status = "active"; // active | barred
    int64_t created_at = 0;        // Unix ms
    int64_t updated_at = 0;
};

struct Keyset {
    uint8_t kvn = 0;       // 1..15
    std::string algorithm; // des, 3des2, 3des3, aes128, aes192, aes256
    Bytes kic, kid, kik;
    uint64_t counter = 0; // the last counter used or accepted
};

// An SCP81 keyset (GlobalPlatform Card Spec 2.3 Amendment B §3.3.2): the TLS pre-shared key
// (key type '85') and the DEK that encrypts sensitive data in the admin session, one KVN, the
// DEK's key identifier one above the PSK's; the card names it by its PSK identity (RFC 4279).
struct PskKeyset {
    uint8_t kvn = 0x40;        // 0x40..0x4F
    uint8_t kid = 0x01;        // the PSK's; the DEK's is kid + 1
    Bytes identity;            // opaque, 1..128 bytes, unique across the inventory
    Bytes psk;                 // 16..32 bytes (what TLS servers take: mbedTLS 2.28 stops at 32)
    std::string dek_algorithm; // des, 3des2, 3des3, aes128, aes192, aes256
    Bytes dek;
};

struct CardTar {
    std::string tar;  // 6 hex digits
    std::string kind; // isd | rfm | app
    uint8_t msl = 0;  // SPI byte 1 coding
    std::string aid;  // for app
};

struct LoadFile {
    std::string aid;
    std::vector<std::string> modules;
};

struct CardApp {
    std::string aid;
    std::optional<uint8_t> life_cycle; // GP 2.3 §5.3, as the card last reported it
    std::string state; // absent, installed, active, suspended, terminated, unknown, pending:<op>
    std::string load_file_aid;
    std::string module_aid;
    int64_t updated_at = 0;
    // The packet the state was learnt from (or written for): its keyset and counter; 0 when
    // the state came from the inventory. A PoR older than that changes nothing.
    uint8_t kvn = 0;
    uint64_t counter = 0;
};

// A card with everything the inventory file tells about it.
struct CardImage {
    Card card;
    std::vector<Keyset> keysets;
    std::vector<PskKeyset> psk_keysets;
    std::vector<CardTar> tars;
    std::vector<LoadFile> load_files;
    std::vector<CardApp> apps;
};

struct Application {
    int64_t id = 0;
    std::string name;
    std::string aid;  // instance AID, hex
    std::string code; // operator short code, e.g. "01"
    std::string type; // telecom, bank, transit, campus-wallet, access, ...
    std::string load_file_aid;
    std::string module_aid;
    std::string install_params; // hex
    std::string tar;            // 6 hex digits
    uint8_t msl = 0x12;
    std::string provider;
};

struct AuditEntry {
    int64_t id = 0;
    int64_t at = 0;      // Unix ms
    std::string actor;   // who: "api:ops", "otactl", "sms:+4479...", "daemon"
    std::string action;  // what: "inventory.import", "card.bar", "app.lock", ...
    std::string subject; // to what: an ICCID, an AID, a file name
    std::string detail;  // why / how, free text (never a key)
};

struct CardFilter {
    std::string msisdn_prefix;
    std::string app_aid;   // cards holding this application...
    std::string app_state; // ...in this state (with app_aid); "absent": cards without it
};

// Updated: the card was there, and SCP81 keysets it lacked were added (a format 2 file over
// cards imported from format 1: the vendor's SCP81 keys came later).
enum class PutOutcome { Inserted, Unchanged, Updated };

// An application request. Unfinished states: accepted, provider, approved, loading, sent,
// reconciling; finished: done, refused, failed.
struct Request {
    int64_t id = 0;
    std::string idempotency_key; // empty: none
    std::string source;          // sms, api, otactl, provider, campaign
    std::string actor;
    int64_t card_id = 0; // 0: not bound to a card (yet)
    std::string msisdn;
    std::string app_aid;
    std::string operation;
    std::string language;
    std::string state;
    std::string reason;
    std::string detail; // JSON
    int64_t created_at = 0;
    int64_t updated_at = 0;
};
bool request_finished(std::string_view state);

// A secured command packet sent to a card (ETSI TS 102 225).
struct OtaMessage {
    int64_t id = 0;
    int64_t request_id = 0; // 0: none
    int64_t card_id = 0;
    uint8_t kvn = 0;
    uint64_t counter = 0;
    std::string tar;
    Bytes user_data;
    std::string smpp_message_id;
    std::string state; // ota_message_state::...
    int64_t sent_at = 0;
};

// What became of a packet (OtaMessage::state).
namespace ota_message_state {
constexpr const char* kQueued = "queued";       // written with its counter, not yet taken
constexpr const char* kSubmitted = "submitted"; // the SMSC took it (sent_at is stamped)
constexpr const char* kRefused = "failed";      // the SMSC refused it for good
constexpr const char* kAnswered = "por";        // its PoR came: a second one is a replay
} // namespace ota_message_state

// A result the gateway owes a provider, until acknowledged.
struct ProviderCallback {
    int64_t request_id = 0;
    std::string provider;
    std::string body; // JSON
    int64_t created_at = 0;
};

// A campaign: one operation on many cards (doc/campaigns.md).
struct Campaign {
    int64_t id = 0;
    std::string name;
    std::string operation; // install, lock, unlock, delete, delete-package, audit, activate
    std::string app_aid;
    std::string selection; // "file <name>" or "filter <expression>"
    double rate = 0;       // targets started per second; 0: no limit
    uint32_t window = 0;   // targets in flight at once
    uint32_t retries = 0;  // further tries after a transient failure
    int64_t start_at = 0;  // Unix ms; 0: when started
    std::string state;     // created, scheduled, running, paused, cancelled, finished
    std::string actor;
    std::string bearer; // sms-pp, bip or auto for its requests; empty: the gateway's
    int64_t created_at = 0;
    int64_t updated_at = 0;
    int64_t started_at = 0;
    int64_t finished_at = 0;
};
bool campaign_finished(std::string_view state);

// One card of a campaign: a durable job. Open states: pending, running; then succeeded, failed,
// skipped (the operation makes no sense on the card) or cancelled.
struct CampaignTarget {
    int64_t campaign_id = 0;
    int64_t seq = 0; // 1.. in the order given
    int64_t card_id = 0;
    std::string iccid;  // from the card, read only
    std::string msisdn; // from the card, read only
    std::string state = "pending";
    std::string reason;
    int64_t request_id = 0; // the current or last request
    uint32_t attempts = 0;
    std::string card_state; // the application's state as the card reported it
    std::string por_status;
    int64_t next_at = 0; // a retry waits until then (Unix ms)
    int64_t started_at = 0;
    int64_t finished_at = 0;
};

struct CampaignTally {
    std::string state;
    std::string reason;
    uint64_t count = 0;
};

// A Proof of Receipt that came back.
struct Por {
    int64_t id = 0;
    int64_t ota_message_id = 0; // 0: not matched to a message
    int64_t card_id = 0;
    uint8_t status = 0; // TS 102 225 §5.1.3.2 response status code
    std::optional<uint64_t> counter;
    Bytes data; // the additional response data (the script's answer)
    int64_t received_at = 0;
};

class Store {
public:
    virtual ~Store() = default;

    virtual Status begin() = 0;
    virtual Status commit() = 0;
    virtual Status rollback() = 0;
    // Commits that failed since the store opened (with group commit, what the units of a loop
    // turn wrote was lost): a long operation compares it before and after.
    virtual uint64_t failed_commits() const { return 0; }

    // ---- inventory ----
    // Adds a card with its keysets, TARs, load files and applications. A card already there
    // with the same ICCID, IMSI and MSISDN is left as it is (Unchanged: a rerun import), but
    // for the SCP81 keysets of KVNs it does not have yet, which are added (Updated); an ICCID,
    // IMSI or MSISDN held by another card is an error naming the field.
    virtual Result<PutOutcome> put_card(const CardImage& image) = 0;
    virtual Result<std::optional<Card>> card_by_iccid(std::string_view iccid) = 0;
    virtual Result<std::optional<Card>> card_by_imsi(std::string_view imsi) = 0;
    virtual Result<std::optional<Card>> card_by_msisdn(std::string_view msisdn) = 0;
    // Every card holding this ICCID, IMSI or MSISDN (0 to 3 cards): one lookup to check a new
    // card against the inventory.
    virtual Result<std::vector<Card>> cards_matching(std::string_view iccid, std::string_view imsi,
                                                     std::string_view msisdn) = 0;
    // Cards with id > after_id, by id, at most `limit`.
    virtual Result<std::vector<Card>> list_cards(int64_t after_id, size_t limit,
                                                 const CardFilter& filter) = 0;
    virtual Result<uint64_t> count_cards() = 0;
    virtual Status set_card_status(int64_t card_id, std::string_view status) = 0;

    // ---- keysets and counters ----
    virtual Result<std::vector<Keyset>> keysets(int64_t card_id) = 0;
    // One keyset with its KIc and KID opened (the KIK stays sealed: kik empty), for securing
    // packets; nullopt when the card has no such keyset.
    virtual Result<std::optional<Keyset>> ota_keyset(int64_t card_id, uint8_t kvn) = 0;
    // Raises the keyset's counter by one and returns it: the caller commits before the packet
    // carrying it leaves (DESIGN.md §4). Fails at the 5-byte maximum.
    virtual Result<uint64_t> next_counter(int64_t card_id, uint8_t kvn) = 0;
    // What a command packet needs, in one step: the counter raised by one as next_counter()
    // does (the keyset's `counter` is the one to use), the KIc and KID opened as ota_keyset()
    // does, and the card's TARs. nullopt when the card has no such keyset.
    struct PacketKeys {
        Keyset keyset;
        std::vector<CardTar> tars;
    };
    virtual Result<std::optional<PacketKeys>> next_counter_with_keys(int64_t card_id,
                                                                     uint8_t kvn) = 0;
    // Resynchronisation: raises the counter to `value`; never lowers it.
    virtual Status raise_counter(int64_t card_id, uint8_t kvn, uint64_t value) = 0;
    // A secured packet the card sent with `counter` (its own counter, separate from ours):
    // recorded when higher than the last one, else an error naming the replay.
    virtual Status accept_card_counter(int64_t card_id, uint8_t kvn, uint64_t counter) = 0;

    // The card's SCP81 keysets, keys opened, by KVN.
    virtual Result<std::vector<PskKeyset>> psk_keysets(int64_t card_id) = 0;
    // The Remote Administration Server's lookup in a TLS handshake: the card and keyset of a
    // PSK identity, the PSK opened (the DEK stays sealed: dek empty); nullopt when no card
    // has it.
    struct PskOwner {
        int64_t card_id = 0;
        std::string iccid;
        PskKeyset keyset;
    };
    virtual Result<std::optional<PskOwner>> psk_owner(ByteView identity) = 0;

    // ---- card contents ----
    virtual Result<std::vector<CardTar>> card_tars(int64_t card_id) = 0;
    virtual Result<std::vector<LoadFile>> card_load_files(int64_t card_id) = 0;
    // The card's load files as the card last told (a load, a DELETE with related objects).
    virtual Status set_card_load_files(int64_t card_id, const std::vector<LoadFile>& files) = 0;
    virtual Result<std::vector<CardApp>> card_apps(int64_t card_id) = 0;
    virtual Status put_card_app(int64_t card_id, const CardApp& app) = 0; // insert or replace

    // ---- application catalog ----
    virtual Result<int64_t>
    put_application(const Application& app) = 0; // insert or replace by name
    virtual Result<std::vector<Application>> applications() = 0;
    virtual Result<std::optional<Application>> application_by_aid(std::string_view aid) = 0;
    virtual Result<std::optional<Application>> application_by_code(std::string_view code) = 0;

    // ---- requests, OTA messages, PoRs ----
    // Records a request, with `request.id` when set (reserved with next_request_id()). With an
    // idempotency key seen before, nothing is written and the earlier request comes back
    // (second: false).
    virtual Result<std::pair<Request, bool>> put_request(const Request& request) = 0;
    // The id put_request() gives the next request (one past the largest): for a caller that
    // must name the request before it writes it, in the same transaction.
    virtual Result<int64_t> next_request_id() = 0;
    virtual Result<std::optional<Request>> request(int64_t id) = 0;
    virtual Status set_request_state(int64_t id, std::string_view state,
                                     std::string_view reason) = 0;
    // The request's working data (JSON): what resuming it after a restart needs.
    virtual Status set_request_detail(int64_t id, std::string_view detail) = 0;
    // State, reason and working data in one write.
    virtual Status set_request(int64_t id, std::string_view state, std::string_view reason,
                               std::string_view detail) = 0;
    // Unfinished requests with id > after_id, by id: what a restart resumes.
    virtual Result<std::vector<Request>> unfinished_requests(int64_t after_id, size_t limit) = 0;
    // The unfinished request on this card application, if any (one at a time).
    virtual Result<std::optional<Request>> request_in_flight(int64_t card_id,
                                                             std::string_view app_aid) = 0;
    // Fails when the card's keyset counter was used before: a counter is never reused. The
    // message gets `message.id` when set (reserved with next_ota_message_id()), else the next.
    virtual Result<int64_t> add_ota_message(const OtaMessage& message) = 0;
    // The id add_ota_message() gives the next message (one past the largest): for a caller that
    // must name the message before it writes it, in the same transaction.
    virtual Result<int64_t> next_ota_message_id() = 0;
    virtual Status set_ota_message_state(int64_t id, std::string_view state,
                                         std::string_view smpp_message_id) = 0;
    virtual Result<std::optional<OtaMessage>> ota_message_for(int64_t card_id, uint8_t kvn,
                                                              uint64_t counter) = 0;
    virtual Result<std::vector<OtaMessage>> ota_messages_of(int64_t request_id) = 0;
    virtual Result<int64_t> add_por(const Por& por) = 0;
    virtual Result<std::vector<Por>> pors_of(int64_t ota_message_id) = 0;

    // ---- results owed to providers ----
    virtual Status put_callback(const ProviderCallback& callback) = 0; // one per request
    virtual Status delete_callback(int64_t request_id) = 0;
    virtual Result<std::vector<ProviderCallback>> pending_callbacks(size_t limit) = 0;

    // ---- campaigns ----
    // Records a campaign (its id comes back); a name already taken is an error naming it.
    virtual Result<int64_t> add_campaign(const Campaign& campaign) = 0;
    virtual Result<std::optional<Campaign>> campaign(int64_t id) = 0;
    virtual Result<std::optional<Campaign>> campaign_by_name(std::string_view name) = 0;
    virtual Result<std::vector<Campaign>> campaigns() = 0; // by id
    // Stamps started_at at the first "running" and finished_at at "finished" or "cancelled".
    virtual Status set_campaign_state(int64_t id, std::string_view state) = 0;
    // Removes a campaign and its targets: one whose creation did not end (a crash meanwhile).
    virtual Status delete_campaign(int64_t id) = 0;
    // Adds the cards as pending targets numbered first_seq, first_seq + 1, ...
    virtual Status add_campaign_targets(int64_t campaign_id, int64_t first_seq,
                                        const std::vector<int64_t>& card_ids) = 0;
    // Targets with seq > after_seq, by seq, at most `limit`; only pending and running ones when
    // `open_only`.
    virtual Result<std::vector<CampaignTarget>>
    campaign_targets(int64_t campaign_id, int64_t after_seq, size_t limit, bool open_only) = 0;
    virtual Result<std::optional<CampaignTarget>> campaign_target(int64_t campaign_id,
                                                                  int64_t seq) = 0;
    // Writes state, reason, request_id, attempts, card_state, por_status and the times.
    virtual Status update_campaign_target(const CampaignTarget& target) = 0;
    // How many targets are in each state (and reason).
    virtual Result<std::vector<CampaignTally>> campaign_tally(int64_t campaign_id) = 0;

    // ---- audit log (append-only) ----
    virtual Result<int64_t> append_audit(const AuditEntry& entry) = 0;
    // The last `limit` entries with id > after_id, oldest first.
    virtual Result<std::vector<AuditEntry>> audit_tail(size_t limit, int64_t after_id = 0) = 0;
};

} // namespace otagw::db
