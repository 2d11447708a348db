// SPDX-License-Identifier: GPL-2.0-or-later
// The SQLite backend of the Store: one database file in WAL mode, schema migrations keyed by
// PRAGMA user_version (db/sql/NNN_*.sql, applied in order, each in one transaction), every
// PRAGMA read back after it is set (SQLite ignores a misspelt one silently), prepared
// statements kept for the life of the store. Keys are sealed with the KeyVault.
//
// Calls never wait for a lock (busy_timeout 0: the event loop must not block); the daemon is
// the only writer.
#pragma once

#include <memory>
#include <string>

#include "otagw/db/key_vault.hpp"
#include "otagw/db/store.hpp"

struct sqlite3;

namespace otagw::db {

struct SqliteOptions {
    std::string path;
    // FULL: a commit survives power loss; NORMAL (WAL): it survives a crash of the process.
    std::string synchronous = "FULL";
    int cache_mib = 16;
    // How long a write waits for a lock another process holds (the sqlite3 shell, a backup)
    // before it fails: bounded, as it holds the daemon's one loop.
    int busy_timeout_ms = 200;
};

// The schema version this program writes (the number of the last db/sql file).
int latest_schema_version();

class SqliteStore final : public Store {
public:
    // Opens (creating if needed) and migrates. `vault` must outlive the store; a database
    // created under another master key is refused.
    static Result<std::unique_ptr<SqliteStore>> open(const SqliteOptions& options,
                                                     const KeyVault& vault);
    // The start-up check of the pages (PRAGMA quick_check): an error names what is damaged.
    Status quick_check();
    ~SqliteStore() override;

    int schema_version() const { return schema_version_; }
    // The settings as SQLite reports them: "journal_mode=wal synchronous=2 ..."
    Result<std::string> settings();
    // Writes the WAL back into the database file (on shutdown).
    Status checkpoint();

    Status begin() override;
    Status commit() override;
    Status rollback() override;

    // Group commit (the daemon's mode): begin()..commit() become a savepoint inside one
    // transaction that stays open until flush(), so one fsync covers every write of a loop
    // turn; rollback() undoes only its own savepoint. The caller must not let anything leave
    // the process that depends on those writes before flush() succeeds.
    void set_group_commit(bool on) { group_commit_ = on; }
    // Commits the open group transaction, if any. Not inside begin()..commit().
    Status flush();
    bool unflushed() const { return group_open_; }
    // Set when a statement or a commit failed because the file cannot be written or read
    // (disk full, I/O error, corruption): why. Cleared by the next commit that succeeds.
    const std::optional<std::string>& storage_failure() const { return storage_failure_; }
    uint64_t failed_commits() const override { return failed_commits_; }

    Result<PutOutcome> put_card(const CardImage& image) override;
    Result<std::optional<Card>> card_by_iccid(std::string_view iccid) override;
    Result<std::optional<Card>> card_by_imsi(std::string_view imsi) override;
    Result<std::optional<Card>> card_by_msisdn(std::string_view msisdn) override;
    Result<std::vector<Card>> cards_matching(std::string_view iccid, std::string_view imsi,
                                             std::string_view msisdn) override;
    Result<std::vector<Card>> list_cards(int64_t after_id, size_t limit,
                                         const CardFilter& filter) override;
    Result<uint64_t> count_cards() override;
    Status set_card_status(int64_t card_id, std::string_view status) override;

    Result<std::vector<Keyset>> keysets(int64_t card_id) override;
    Result<std::optional<Keyset>> ota_keyset(int64_t card_id, uint8_t kvn) override;
    Result<std::vector<PskKeyset>> psk_keysets(int64_t card_id) override;
    Result<std::optional<PskOwner>> psk_owner(ByteView identity) override;
    Result<uint64_t> next_counter(int64_t card_id, uint8_t kvn) override;
    Result<std::optional<PacketKeys>> next_counter_with_keys(int64_t card_id, uint8_t kvn) override;
    Status raise_counter(int64_t card_id, uint8_t kvn, uint64_t value) override;
    Status accept_card_counter(int64_t card_id, uint8_t kvn, uint64_t counter) override;

    Result<std::vector<CardTar>> card_tars(int64_t card_id) override;
    Result<std::vector<LoadFile>> card_load_files(int64_t card_id) override;
    Status set_card_load_files(int64_t card_id, const std::vector<LoadFile>& files) override;
    Result<std::vector<CardApp>> card_apps(int64_t card_id) override;
    Status put_card_app(int64_t card_id, const CardApp& app) override;

    Result<int64_t> put_application(const Application& app) override;
    Result<std::vector<Application>> applications() override;
    Result<std::optional<Application>> application_by_aid(std::string_view aid) override;
    Result<std::optional<Application>> application_by_code(std::string_view code) override;

    Result<std::pair<Request, bool>> put_request(const Request& request) override;
    Result<std::optional<Request>> request(int64_t id) override;
    Status set_request_state(int64_t id, std::string_view state, std::string_view reason) override;
    Status set_request_detail(int64_t id, std::string_view detail) override;
    Status set_request(int64_t id, std::string_view state, std::string_view reason,
                       std::string_view detail) override;
    Status put_callback(const ProviderCallback& callback) override;
    Status delete_callback(int64_t request_id) override;
    Result<std::vector<ProviderCallback>> pending_callbacks(size_t limit) override;
    Result<std::vector<Request>> unfinished_requests(int64_t after_id, size_t limit) override;
    Result<std::optional<Request>> request_in_flight(int64_t card_id,
                                                     std::string_view app_aid) override;
    Result<int64_t> add_ota_message(const OtaMessage& message) override;
    Result<int64_t> next_ota_message_id() override;
    Result<int64_t> next_request_id() override;
    Status set_ota_message_state(int64_t id, std::string_view state,
                                 std::string_view smpp_message_id) override;
    Result<std::optional<OtaMessage>> ota_message_for(int64_t card_id, uint8_t kvn,
                                                      uint64_t counter) override;
    Result<std::vector<OtaMessage>> ota_messages_of(int64_t request_id) override;
    Result<int64_t> add_por(const Por& por) override;
    Result<std::vector<Por>> pors_of(int64_t ota_message_id) override;

    Result<int64_t> add_campaign(const Campaign& campaign) override;
    Result<std::optional<Campaign>> campaign(int64_t id) override;
    Result<std::optional<Campaign>> campaign_by_name(std::string_view name) override;
    Result<std::vector<Campaign>> campaigns() override;
    Status set_campaign_state(int64_t id, std::string_view state) override;
    Status delete_campaign(int64_t id) override;
    Status add_campaign_targets(int64_t campaign_id, int64_t first_seq,
                                const std::vector<int64_t>& card_ids) override;
    Result<std::vector<CampaignTarget>> campaign_targets(int64_t campaign_id, int64_t after_seq,
                                                         size_t limit, bool open_only) override;
    Result<std::optional<CampaignTarget>> campaign_target(int64_t campaign_id,
                                                          int64_t seq) override;
    Status update_campaign_target(const CampaignTarget& target) override;
    Result<std::vector<CampaignTally>> campaign_tally(int64_t campaign_id) override;

    Result<int64_t> append_audit(const AuditEntry& entry) override;
    Result<std::vector<AuditEntry>> audit_tail(size_t limit, int64_t after_id) override;

    struct Statements;

private:
    bool group_commit_ = false;
    bool group_open_ = false;
    int depth_ = 0; // begin() without its commit()/rollback()
    mutable std::optional<std::string> storage_failure_;
    uint64_t failed_commits_ = 0;

    SqliteStore(sqlite3* db, const KeyVault& vault, std::string path);
    Status configure(const SqliteOptions& options);
    Status migrate();
    Status check_master_key();
    Error fail(const std::string& what) const;
    Result<std::optional<Card>> card_where(int which, std::string_view value);
    Result<PutOutcome> insert_card(const CardImage& image);
    Status insert_psk_keyset(int64_t card_id, const std::string& iccid, const PskKeyset& k);
    Result<PutOutcome> explain_conflict(const CardImage& image);
    Result<PutOutcome> add_missing_psk_keysets(const Card& card,
                                               const std::vector<PskKeyset>& keysets);
    Result<std::pair<std::string, std::string>> card_contents(int64_t card_id);

    sqlite3* db_;
    const KeyVault& vault_;
    std::string path_;
    int schema_version_ = 0;
    std::unique_ptr<Statements> st_;
};

} // namespace otagw::db
