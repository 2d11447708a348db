// SPDX-License-Identifier: GPL-2.0-or-later
#include "otagw/db/sqlite_store.hpp"

#include <algorithm>
#include <cstring>

#include <sqlite3.h>

#include "otagw/common/clock.hpp"
#include "otagw/common/text.hpp"
#include "otagw/db/schema_files.hpp"

namespace otagw::db {

namespace {

// A prepared statement kept for the life of the store; reset after each use.
class Stmt {
public:
    Stmt() = default;
    ~Stmt() { sqlite3_finalize(s_); }
    Stmt(const Stmt&) = delete;
    Stmt& operator=(const Stmt&) = delete;

    int prepare(sqlite3* db, const char* sql) {
        return sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s_, nullptr);
    }
    sqlite3_stmt* get() const { return s_; }

private:
    sqlite3_stmt* s_ = nullptr;
};

// Binds parameters 1..n, runs, and resets when it goes out of scope.
class Use {
public:
    explicit Use(Stmt& s) : s_(s.get()) {}
    ~Use() {
        sqlite3_reset(s_);
        sqlite3_clear_bindings(s_);
    }
    // Text is stored as UTF-8 only: bytes from outside that are not (an SMSC's address, a file
    // name) would make every later reader of the row fail. They are replaced by U+FFFD.
    Use& text(std::string_view v) {
        if (!is_valid_utf8(v)) {
            const std::string valid = to_valid_utf8(v);
            sqlite3_bind_text(s_, ++n_, valid.data(), static_cast<int>(valid.size()),
                              SQLITE_TRANSIENT);
            return *this;
        }
        sqlite3_bind_text(s_, ++n_, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
        return *this;
    }
    Use& text_or_null(std::string_view v) {
        if (v.empty())
            sqlite3_bind_null(s_, ++n_);
        else
            text(v);
        return *this;
    }
    Use& blob(ByteView v) {
        sqlite3_bind_blob(s_, ++n_, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
        return *this;
    }
    Use& integer(int64_t v) {
        sqlite3_bind_int64(s_, ++n_, v);
        return *this;
    }
    Use& null() {
        sqlite3_bind_null(s_, ++n_);
        return *this;
    }
    Use& real(double v) {
        sqlite3_bind_double(s_, ++n_, v);
        return *this;
    }
    int step() { return sqlite3_step(s_); }
    std::string col_text(int i) const {
        const auto* t = sqlite3_column_text(s_, i);
        return t ? std::string(reinterpret_cast<const char*>(t),
                               static_cast<size_t>(sqlite3_column_bytes(s_, i)))
                 : std::string();
    }
    Bytes col_blob(int i) const {
        const auto* b = static_cast<const uint8_t*>(sqlite3_column_blob(s_, i));
        return b ? Bytes(b, b + sqlite3_column_bytes(s_, i)) : Bytes();
    }
    int64_t col_int(int i) const { return sqlite3_column_int64(s_, i); }
    double col_double(int i) const { return sqlite3_column_double(s_, i); }
    bool col_null(int i) const { return sqlite3_column_type(s_, i) == SQLITE_NULL; }

private:
    sqlite3_stmt* s_;
    int n_ = 0;
};

// One row or none; every row. `failed` builds the error from what was being read.
template <typename From, typename Failed>
auto one_row(Use& u, From from, Failed failed) -> Result<std::optional<decltype(from(u))>> {
    using T = decltype(from(u));
    const int rc = u.step();
    if (rc == SQLITE_ROW)
        return std::optional<T>(from(u));
    if (rc == SQLITE_DONE)
        return std::optional<T>();
    return failed();
}

template <typename From, typename Failed>
auto all_rows(Use& u, From from, Failed failed) -> Result<std::vector<decltype(from(u))>> {
    std::vector<decltype(from(u))> out;
    int rc;
    while ((rc = u.step()) == SQLITE_ROW)
        out.push_back(from(u));
    if (rc != SQLITE_DONE)
        return failed();
    return out;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
    std::vector<std::string_view> out;
    if (s.empty())
        return out;
    size_t start = 0;
    while (true) {
        const size_t end = s.find(sep, start);
        out.emplace_back(s.substr(start, end == std::string_view::npos ? s.npos : end - start));
        if (end == std::string_view::npos)
            return out;
        start = end + 1;
    }
}

std::string join(const std::vector<std::string>& parts, char sep) {
    std::string out;
    for (const auto& p : parts) {
        if (!out.empty())
            out += sep;
        out += p;
    }
    return out;
}

// TARs and load files in the inventory file's notation (doc/card-inventory.md).
std::string encode_tars(const std::vector<CardTar>& tars) {
    std::string out;
    for (const auto& t : tars) {
        if (!out.empty())
            out += ';';
        out.append(t.tar).append(":").append(t.kind).append(":").append(
            to_hex(ByteView(&t.msl, 1)));
        if (!t.aid.empty())
            out.append(":").append(t.aid);
    }
    return out;
}

std::vector<CardTar> decode_tars(std::string_view text) {
    std::vector<CardTar> out;
    for (const auto& entry : split(text, ';')) {
        const auto p = split(entry, ':');
        if (p.size() < 3)
            continue;
        auto msl = parse_hex(p[2]);
        out.push_back({std::string(p[0]), std::string(p[1]),
                       msl && msl->size() == 1 ? (*msl)[0] : uint8_t{0},
                       p.size() > 3 ? std::string(p[3]) : std::string()});
    }
    return out;
}

std::string encode_load_files(const std::vector<LoadFile>& files) {
    std::vector<std::string> entries;
    for (const auto& f : files) {
        std::string e = f.aid;
        for (const auto& m : f.modules)
            e.append("/").append(m);
        entries.push_back(std::move(e));
    }
    return join(entries, ';');
}

std::vector<LoadFile> decode_load_files(std::string_view text) {
    std::vector<LoadFile> out;
    for (const auto& entry : split(text, ';')) {
        auto parts = split(entry, '/');
        LoadFile f;
        f.aid = std::string(parts[0]);
        f.modules.assign(parts.begin() + 1, parts.end());
        out.push_back(std::move(f));
    }
    return out;
}

constexpr const char* kCardColumns = "id, iccid, imsi, coalesce(msisdn, ''), status, created_at, "
                                     "updated_at";

Card card_from(const Use& u) {
    Card c;
    c.id = u.col_int(0);
    c.iccid = u.col_text(1);
    c.imsi = u.col_text(2);
    c.msisdn = u.col_text(3);
    c.status = u.col_text(4);
    c.created_at = u.col_int(5);
    c.updated_at = u.col_int(6);
    return c;
}

constexpr const char* kRequestColumns =
    "id, coalesce(idempotency_key, ''), source, actor, coalesce(card_id, 0), coalesce(msisdn, ''), "
    "coalesce(app_aid, ''), operation, coalesce(language, ''), state, coalesce(reason, ''), "
    "detail, created_at, updated_at";
constexpr const char* kFinished = "('done', 'refused', 'failed')";
// Every other state a request can be in (store.hpp): the restart's scan uses the state index.
constexpr const char* kUnfinished =
    "('accepted', 'provider', 'approved', 'loading', 'sent', 'reconciling')";

Request request_from(const Use& u) {
    Request r;
    r.id = u.col_int(0);
    r.idempotency_key = u.col_text(1);
    r.source = u.col_text(2);
    r.actor = u.col_text(3);
    r.card_id = u.col_int(4);
    r.msisdn = u.col_text(5);
    r.app_aid = u.col_text(6);
    r.operation = u.col_text(7);
    r.language = u.col_text(8);
    r.state = u.col_text(9);
    r.reason = u.col_text(10);
    r.detail = u.col_text(11);
    r.created_at = u.col_int(12);
    r.updated_at = u.col_int(13);
    return r;
}

constexpr const char* kOtaColumns = "id, coalesce(request_id, 0), card_id, kvn, counter, tar, "
                                    "user_data, coalesce(smpp_message_id, ''), state, "
                                    "coalesce(sent_at, 0)";

OtaMessage ota_message_from(const Use& u) {
    OtaMessage m;
    m.id = u.col_int(0);
    m.request_id = u.col_int(1);
    m.card_id = u.col_int(2);
    m.kvn = static_cast<uint8_t>(u.col_int(3));
    m.counter = static_cast<uint64_t>(u.col_int(4));
    m.tar = u.col_text(5);
    m.user_data = u.col_blob(6);
    m.smpp_message_id = u.col_text(7);
    m.state = u.col_text(8);
    m.sent_at = u.col_int(9);
    return m;
}

constexpr const char* kAppColumns = "id, name, aid, code, type, coalesce(load_file_aid, ''), "
                                    "coalesce(module_aid, ''), coalesce(install_params, ''), tar, "
                                    "msl, provider";

Application application_from(const Use& u) {
    Application a;
    a.id = u.col_int(0);
    a.name = u.col_text(1);
    a.aid = u.col_text(2);
    a.code = u.col_text(3);
    a.type = u.col_text(4);
    a.load_file_aid = u.col_text(5);
    a.module_aid = u.col_text(6);
    a.install_params = u.col_text(7);
    a.tar = u.col_text(8);
    a.msl = static_cast<uint8_t>(u.col_int(9));
    a.provider = u.col_text(10);
    return a;
}

constexpr const char* kCampaignColumns =
    "id, name, operation, app_aid, selection, rate, window, retries, start_at, state, actor, "
    "created_at, updated_at, started_at, finished_at, bearer";

Campaign campaign_from(const Use& u) {
    Campaign c;
    c.id = u.col_int(0);
    c.name = u.col_text(1);
    c.operation = u.col_text(2);
    c.app_aid = u.col_text(3);
    c.selection = u.col_text(4);
    c.rate = u.col_double(5);
    c.window = static_cast<uint32_t>(u.col_int(6));
    c.retries = static_cast<uint32_t>(u.col_int(7));
    c.start_at = u.col_int(8);
    c.state = u.col_text(9);
    c.actor = u.col_text(10);
    c.created_at = u.col_int(11);
    c.updated_at = u.col_int(12);
    c.started_at = u.col_int(13);
    c.finished_at = u.col_int(14);
    c.bearer = u.col_text(15);
    return c;
}

constexpr const char* kTargetColumns =
    "t.campaign_id, t.seq, t.card_id, c.iccid, coalesce(c.msisdn, ''), t.state, t.reason, "
    "t.request_id, t.attempts, t.card_state, t.por_status, t.next_at, t.started_at, "
    "t.finished_at FROM campaign_targets t JOIN cards c ON c.id = t.card_id";

CampaignTarget target_from(const Use& u) {
    CampaignTarget t;
    t.campaign_id = u.col_int(0);
    t.seq = u.col_int(1);
    t.card_id = u.col_int(2);
    t.iccid = u.col_text(3);
    t.msisdn = u.col_text(4);
    t.state = u.col_text(5);
    t.reason = u.col_text(6);
    t.request_id = u.col_int(7);
    t.attempts = static_cast<uint32_t>(u.col_int(8));
    t.card_state = u.col_text(9);
    t.por_status = u.col_text(10);
    t.next_at = u.col_int(11);
    t.started_at = u.col_int(12);
    t.finished_at = u.col_int(13);
    return t;
}

} // namespace

bool campaign_finished(std::string_view state) {
    return state == "finished" || state == "cancelled";
}

// Every statement the store runs, prepared once at open.
struct SqliteStore::Statements {
    Stmt begin, commit, rollback;
    Stmt savepoint, release, rollback_to;
    Stmt unit_begin, unit_release, unit_rollback; // group commit's savepoints
    Stmt card_by[3];                              // iccid, imsi, msisdn
    Stmt cards_matching;
    Stmt insert_card, insert_keyset, insert_psk_keyset, insert_card_app;
    Stmt count_cards, set_card_status;
    Stmt psk_keysets, psk_owner;
    Stmt keysets, ota_keyset, next_counter, packet_keys, step_counter, raise_counter,
        accept_card_counter;
    Stmt card_contents, card_apps, set_card_load_files;
    Stmt put_application, applications, application_by_aid, application_by_code;
    Stmt append_audit, audit_last, audit_after;
    Stmt set_request_detail, set_request, put_callback, delete_callback, pending_callbacks;
    Stmt insert_request, next_request_id, request_by_id, request_by_key, set_request_state,
        unfinished_requests, request_in_flight;
    Stmt insert_ota_message, next_ota_message_id, set_ota_message_state, ota_message_for,
        ota_messages_of;
    Stmt insert_por, pors_of;
    Stmt insert_campaign, campaign_by_id, campaign_by_name, campaigns, set_campaign_state,
        delete_targets, delete_campaign;
    Stmt insert_target, targets_after, open_targets_after, target_by_seq, update_target,
        campaign_tally;
};

int latest_schema_version() {
    return static_cast<int>(std::size(schema::kMigrations));
}

SqliteStore::SqliteStore(sqlite3* db, const KeyVault& vault, std::string path)
    : db_(db), vault_(vault), path_(std::move(path)), st_(std::make_unique<Statements>()) {}

SqliteStore::~SqliteStore() {
    st_.reset(); // statements before the connection
    sqlite3_close(db_);
}

// The kind of failure, from SQLite's primary result code: a lock is worth retrying soon; the
// file failing (full, unwritable, damaged) makes the store unable to keep what it is given.
Error SqliteStore::fail(const std::string& what) const {
    Error e = make_error("database " + path_ + ": " + what + ": " + sqlite3_errmsg(db_));
    switch (sqlite3_extended_errcode(db_) & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        e.code = Errc::Busy;
        break;
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_READONLY:
    case SQLITE_CANTOPEN:
    case SQLITE_NOMEM:
        e.code = Errc::Io;
        storage_failure_ = e.message;
        break;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
        e.code = Errc::Corrupt;
        storage_failure_ = e.message;
        break;
    default:
        break;
    }
    return e;
}

Result<std::unique_ptr<SqliteStore>> SqliteStore::open(const SqliteOptions& options,
                                                       const KeyVault& vault) {
    // One thread uses SQLite: no allocation statistics (each costs a mutex). Only possible
    // before SQLite initialises; later calls fail harmlessly.
    static const bool configured = [] {
        sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
        return true;
    }();
    (void)configured;
    sqlite3* db = nullptr;
    const int rc =
        sqlite3_open_v2(options.path.c_str(), &db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) {
        std::string why = db ? sqlite3_errmsg(db) : "out of memory";
        sqlite3_close(db);
        return make_error("database " + options.path + ": cannot open: " + why);
    }
    std::unique_ptr<SqliteStore> s(new SqliteStore(db, vault, options.path));
    const std::string recover =
        "; refusing to start on a damaged database. To recover: stop, keep the file aside, "
        "restore the last backup, or salvage what is readable with `sqlite3 " +
        options.path + " .recover | sqlite3 NEW.db` and point `db / path` at NEW.db";
    if (Status st = s->configure(options); !st) // fail() classified the damage already
        return make_error(st.error().message + (st.error().code == Errc::Corrupt ? recover : ""));
    if (Status st = s->quick_check(); !st)
        return make_error(st.error().message + recover);
    OTAGW_TRY_STATUS(s->migrate());
    OTAGW_TRY_STATUS(s->check_master_key());

    struct Def {
        Stmt* stmt;
        std::string sql;
    };
    Statements& t = *s->st_;
    const std::string cards = std::string("SELECT ") + kCardColumns + " FROM cards WHERE ";
    const std::string apps = std::string("SELECT ") + kAppColumns + " FROM applications ";
    const Def defs[] = {
        {&t.begin, "BEGIN IMMEDIATE"},
        {&t.commit, "COMMIT"},
        {&t.rollback, "ROLLBACK"},
        {&t.savepoint, "SAVEPOINT put_card"},
        {&t.release, "RELEASE put_card"},
        {&t.rollback_to, "ROLLBACK TO put_card"},
        {&t.unit_begin, "SAVEPOINT unit"},
        {&t.unit_release, "RELEASE unit"},
        {&t.unit_rollback, "ROLLBACK TO unit"},
        {&t.card_by[0], cards + "iccid = ?1"},
        {&t.card_by[1], cards + "imsi = ?1"},
        {&t.card_by[2], cards + "msisdn = ?1"},
        {&t.cards_matching, cards + "iccid = ?1 OR imsi = ?2 OR msisdn = ?3"},
        {&t.insert_card, "INSERT INTO cards (iccid, imsi, msisdn, status, tars, load_files, "
                         "created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)"},
        {&t.insert_keyset, "INSERT INTO keysets (card_id, kvn, algorithm, kic, kid, kik, counter) "
                           "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"},
        {&t.insert_psk_keyset, "INSERT INTO psk_keysets (card_id, kvn, kid, identity, psk, "
                               "dek_algorithm, dek) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"},
        {&t.psk_keysets, "SELECT k.kvn, k.kid, k.identity, k.psk, k.dek_algorithm, k.dek, c.iccid "
                         "FROM psk_keysets k JOIN cards c ON c.id = k.card_id WHERE k.card_id = "
                         "?1 ORDER BY k.kvn"},
        {&t.psk_owner, "SELECT k.kvn, k.kid, k.identity, k.psk, k.dek_algorithm, k.card_id, "
                       "c.iccid FROM psk_keysets k JOIN cards c ON c.id = k.card_id WHERE "
                       "k.identity = ?1"},
        {&t.insert_card_app,
         "INSERT INTO card_apps (card_id, aid, life_cycle, state, load_file_aid, module_aid, "
         "updated_at, kvn, counter) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) ON CONFLICT "
         "(card_id, aid) DO UPDATE SET life_cycle = ?3, state = ?4, load_file_aid = ?5, "
         "module_aid = ?6, updated_at = ?7, kvn = ?8, counter = ?9"},
        {&t.count_cards, "SELECT count(*) FROM cards"},
        {&t.set_card_status, "UPDATE cards SET status = ?2, updated_at = ?3 WHERE id = ?1"},
        {&t.keysets, "SELECT kvn, algorithm, kic, kid, kik, counter, (SELECT iccid FROM cards "
                     "WHERE id = ?1) FROM keysets WHERE card_id = ?1 ORDER BY kvn"},
        {&t.ota_keyset, "SELECT kvn, algorithm, kic, kid, counter, (SELECT iccid FROM cards WHERE "
                        "id = ?1) FROM keysets WHERE card_id = ?1 AND kvn = ?2"},
        {&t.next_counter, "UPDATE keysets SET counter = counter + 1 WHERE card_id = ?1 AND kvn = "
                          "?2 AND counter < 1099511627775 RETURNING counter"},
        // Read, then raise (next_counter): a RETURNING clause costs more than both (SQLite
        // collects its rows in a temporary table).
        {&t.packet_keys, "SELECT k.kvn, k.algorithm, k.kic, k.kid, k.counter + 1, c.iccid, c.tars "
                         "FROM keysets k JOIN cards c ON c.id = k.card_id WHERE k.card_id = ?1 "
                         "AND k.kvn = ?2"},
        {&t.step_counter,
         "UPDATE keysets SET counter = counter + 1 WHERE card_id = ?1 AND kvn = ?2"},
        {&t.raise_counter,
         "UPDATE keysets SET counter = max(counter, ?3) WHERE card_id = ?1 AND kvn = ?2"},
        {&t.accept_card_counter, "UPDATE keysets SET card_counter = ?3 WHERE card_id = ?1 AND "
                                 "kvn = ?2 AND card_counter < ?3"},
        {&t.card_contents, "SELECT tars, load_files FROM cards WHERE id = ?1"},
        {&t.set_card_load_files, "UPDATE cards SET load_files = ?2 WHERE id = ?1"},
        {&t.card_apps, "SELECT aid, life_cycle, state, coalesce(load_file_aid, ''), "
                       "coalesce(module_aid, ''), updated_at, kvn, counter FROM card_apps WHERE "
                       "card_id = ?1 ORDER BY aid"},
        {&t.put_application,
         "INSERT INTO applications (name, aid, code, type, load_file_aid, module_aid, "
         "install_params, tar, msl, provider) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) "
         "ON CONFLICT (name) DO UPDATE SET aid = ?2, code = ?3, type = ?4, load_file_aid = ?5, "
         "module_aid = ?6, install_params = ?7, tar = ?8, msl = ?9, provider = ?10 RETURNING id"},
        {&t.applications, apps + "ORDER BY code"},
        {&t.application_by_aid, apps + "WHERE aid = ?1"},
        {&t.application_by_code, apps + "WHERE code = ?1"},
        {&t.append_audit, "INSERT INTO audit_log (at, actor, action, subject, detail) VALUES "
                          "(?1, ?2, ?3, ?4, ?5)"},
        {&t.audit_last, "SELECT * FROM (SELECT id, at, actor, action, subject, detail FROM "
                        "audit_log ORDER BY id DESC LIMIT ?1) ORDER BY id"},
        {&t.insert_request,
         "INSERT INTO requests (idempotency_key, source, actor, card_id, msisdn, app_aid, "
         "operation, language, state, reason, detail, created_at, updated_at, id) VALUES (?1, ?2, "
         "?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12, ?13)"},
        {&t.next_request_id, "SELECT coalesce(max(id), 0) + 1 FROM requests"},
        {&t.request_by_id,
         std::string("SELECT ") + kRequestColumns + " FROM requests WHERE id = ?1"},
        {&t.request_by_key,
         std::string("SELECT ") + kRequestColumns + " FROM requests WHERE idempotency_key = ?1"},
        {&t.set_request_state,
         "UPDATE requests SET state = ?2, reason = ?3, updated_at = ?4 WHERE id = ?1"},
        {&t.set_request_detail, "UPDATE requests SET detail = ?2, updated_at = ?3 WHERE id = ?1"},
        {&t.set_request, "UPDATE requests SET state = ?2, reason = ?3, detail = ?4, updated_at = "
                         "?5 WHERE id = ?1"},
        {&t.put_callback, "INSERT OR REPLACE INTO provider_callbacks (request_id, provider, body, "
                          "created_at) VALUES (?1, ?2, ?3, ?4)"},
        {&t.delete_callback, "DELETE FROM provider_callbacks WHERE request_id = ?1"},
        {&t.pending_callbacks, "SELECT request_id, provider, body, created_at FROM "
                               "provider_callbacks ORDER BY request_id LIMIT ?1"},
        {&t.unfinished_requests, std::string("SELECT ") + kRequestColumns +
                                     " FROM requests WHERE id > ?1 AND state IN " + kUnfinished +
                                     " ORDER BY id LIMIT ?2"},
        {&t.request_in_flight, std::string("SELECT ") + kRequestColumns +
                                   " FROM requests WHERE card_id = ?1 AND app_aid = ?2 AND state "
                                   "NOT IN " +
                                   kFinished + " ORDER BY id LIMIT 1"},
        {&t.insert_ota_message,
         "INSERT INTO ota_messages (request_id, card_id, kvn, counter, tar, user_data, "
         "smpp_message_id, state, sent_at, id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"},
        {&t.next_ota_message_id, "SELECT coalesce(max(id), 0) + 1 FROM ota_messages"},
        {&t.set_ota_message_state,
         "UPDATE ota_messages SET state = ?2, smpp_message_id = coalesce(?3, smpp_message_id), "
         "sent_at = coalesce(sent_at, ?4) WHERE id = ?1"},
        {&t.ota_message_for,
         std::string("SELECT ") + kOtaColumns +
             " FROM ota_messages WHERE card_id = ?1 AND kvn = ?2 AND counter = ?3"},
        {&t.ota_messages_of, std::string("SELECT ") + kOtaColumns +
                                 " FROM ota_messages WHERE request_id = ?1 ORDER BY id"},
        {&t.insert_por, "INSERT INTO pors (ota_message_id, card_id, status, counter, data, "
                        "received_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"},
        {&t.pors_of, "SELECT id, coalesce(ota_message_id, 0), card_id, status, counter, data, "
                     "received_at FROM pors WHERE ota_message_id = ?1 ORDER BY id"},
        {&t.audit_after, "SELECT id, at, actor, action, subject, detail FROM audit_log WHERE id > "
                         "?2 ORDER BY id LIMIT ?1"},
        {&t.insert_campaign,
         "INSERT INTO campaigns (name, operation, app_aid, selection, rate, window, retries, "
         "start_at, state, actor, created_at, updated_at, bearer) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
         "?7, ?8, ?9, ?10, ?11, ?11, ?12)"},
        {&t.campaign_by_id,
         std::string("SELECT ") + kCampaignColumns + " FROM campaigns WHERE id = ?1"},
        {&t.campaign_by_name,
         std::string("SELECT ") + kCampaignColumns + " FROM campaigns WHERE name = ?1"},
        {&t.campaigns, std::string("SELECT ") + kCampaignColumns + " FROM campaigns ORDER BY id"},
        {&t.set_campaign_state,
         "UPDATE campaigns SET state = ?2, updated_at = ?3, started_at = CASE WHEN ?2 = "
         "'running' AND started_at = 0 THEN ?3 ELSE started_at END, finished_at = CASE WHEN ?2 "
         "IN ('finished', 'cancelled') THEN ?3 ELSE finished_at END WHERE id = ?1"},
        {&t.delete_targets, "DELETE FROM campaign_targets WHERE campaign_id = ?1"},
        {&t.delete_campaign, "DELETE FROM campaigns WHERE id = ?1"},
        {&t.insert_target,
         "INSERT INTO campaign_targets (campaign_id, seq, card_id, state) VALUES (?1, ?2, ?3, "
         "'pending')"},
        {&t.targets_after, std::string("SELECT ") + kTargetColumns +
                               " WHERE t.campaign_id = ?1 AND t.seq > ?2 ORDER BY t.seq LIMIT ?3"},
        {&t.open_targets_after,
         std::string("SELECT ") + kTargetColumns +
             " WHERE t.campaign_id = ?1 AND t.seq > ?2 AND t.state IN ('pending', 'running') "
             "ORDER BY t.seq LIMIT ?3"},
        {&t.target_by_seq,
         std::string("SELECT ") + kTargetColumns + " WHERE t.campaign_id = ?1 AND t.seq = ?2"},
        {&t.update_target,
         "UPDATE campaign_targets SET state = ?3, reason = ?4, request_id = ?5, attempts = ?6, "
         "card_state = ?7, por_status = ?8, next_at = ?9, started_at = ?10, finished_at = ?11 "
         "WHERE campaign_id = ?1 AND seq = ?2"},
        {&t.campaign_tally, "SELECT state, reason, count(*) FROM campaign_targets WHERE "
                            "campaign_id = ?1 GROUP BY state, reason ORDER BY state, reason"},
    };
    for (const Def& d : defs)
        if (d.stmt->prepare(db, d.sql.c_str()) != SQLITE_OK)
            return s->fail("cannot prepare \"" + d.sql + "\"");
    return s;
}

// PRAGMA quick_check: pages, records and free lists sound (not the indexes against their tables:
// that is integrity_check, too slow to run at every start on millions of cards).
Status SqliteStore::quick_check() {
    Stmt q;
    if (q.prepare(db_, "PRAGMA quick_check(3)") != SQLITE_OK)
        return fail("PRAGMA quick_check");
    Use u(q);
    std::string problems;
    int rc;
    while ((rc = u.step()) == SQLITE_ROW) {
        const std::string row = u.col_text(0);
        if (row != "ok")
            problems += (problems.empty() ? "" : "; ") + row;
    }
    if (rc != SQLITE_DONE)
        return fail("PRAGMA quick_check");
    if (!problems.empty())
        return make_error("database " + path_ + ": PRAGMA quick_check: " + problems);
    return {};
}

Status SqliteStore::configure(const SqliteOptions& options) {
    if (options.synchronous != "FULL" && options.synchronous != "NORMAL")
        return make_error("database " + path_ + ": synchronous must be FULL or NORMAL, not " +
                          options.synchronous);
    struct Setting {
        std::string set;
        std::string pragma;
        std::string expect;
    };
    const std::string cache = std::to_string(-options.cache_mib * 1024);
    const Setting settings[] = {
        {"PRAGMA journal_mode = WAL", "journal_mode", "wal"},
        {"PRAGMA synchronous = " + options.synchronous, "synchronous",
         options.synchronous == "FULL" ? "2" : "1"},
        {"PRAGMA foreign_keys = ON", "foreign_keys", "1"},
        {"PRAGMA busy_timeout = " + std::to_string(options.busy_timeout_ms), "busy_timeout",
         std::to_string(options.busy_timeout_ms)},
        {"PRAGMA cache_size = " + cache, "cache_size", cache},
        {"PRAGMA temp_store = MEMORY", "temp_store", "2"},
    };
    for (const Setting& s : settings) {
        if (sqlite3_exec(db_, s.set.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK)
            return fail(s.set);
        // Read it back: SQLite ignores unknown or misspelt PRAGMAs without a word.
        Stmt q;
        if (q.prepare(db_, ("PRAGMA " + s.pragma).c_str()) != SQLITE_OK)
            return fail("PRAGMA " + s.pragma);
        Use u(q);
        if (u.step() != SQLITE_ROW || u.col_text(0) != s.expect)
            return make_error("database " + path_ + ": PRAGMA " + s.pragma + " is " +
                              u.col_text(0) + " after \"" + s.set + "\", expected " + s.expect);
    }
    return {};
}

namespace {

// otagw_utf8(text): the text with bytes that are not UTF-8 replaced by U+FFFD (for migrations
// that repair rows written before text was checked).
void sql_valid_utf8(sqlite3_context* ctx, int, sqlite3_value** argv) {
    if (sqlite3_value_type(argv[0]) != SQLITE_TEXT) {
        sqlite3_result_value(ctx, argv[0]);
        return;
    }
    const auto* t = reinterpret_cast<const char*>(sqlite3_value_text(argv[0]));
    const std::string valid =
        to_valid_utf8(std::string_view(t, static_cast<size_t>(sqlite3_value_bytes(argv[0]))));
    sqlite3_result_text(ctx, valid.data(), static_cast<int>(valid.size()), SQLITE_TRANSIENT);
}

} // namespace

Status SqliteStore::migrate() {
    if (sqlite3_create_function(db_, "otagw_utf8", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, nullptr,
                                sql_valid_utf8, nullptr, nullptr) != SQLITE_OK)
        return fail("registering otagw_utf8()");
    Stmt q;
    if (q.prepare(db_, "PRAGMA user_version") != SQLITE_OK)
        return fail("PRAGMA user_version");
    {
        Use u(q);
        if (u.step() != SQLITE_ROW)
            return fail("PRAGMA user_version");
        schema_version_ = static_cast<int>(u.col_int(0));
    }
    if (schema_version_ > latest_schema_version())
        return make_error("database " + path_ + ": schema version " +
                          std::to_string(schema_version_) + " is newer than this program's (" +
                          std::to_string(latest_schema_version()) + "); refusing to touch it");
    for (const auto& m : schema::kMigrations) {
        if (m.version <= schema_version_)
            continue;
        const std::string sql = std::string("BEGIN IMMEDIATE;\n") + m.sql +
                                "\nPRAGMA user_version = " + std::to_string(m.version) +
                                ";\nCOMMIT;";
        char* err = nullptr;
        if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
            std::string why = err ? err : "unknown error";
            sqlite3_free(err);
            sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
            return make_error("database " + path_ + ": migration " + m.name + " failed: " + why);
        }
        schema_version_ = m.version;
    }
    return {};
}

Status SqliteStore::check_master_key() {
    static constexpr std::string_view kCheck = "ota-gateway master key check";
    Stmt get, put;
    if (get.prepare(db_, "SELECT value FROM meta WHERE key = 'master_key_check'") != SQLITE_OK ||
        put.prepare(db_, "INSERT INTO meta (key, value) VALUES ('master_key_check', ?1)") !=
            SQLITE_OK)
        return fail("reading meta");
    Use g(get);
    const int rc = g.step();
    if (rc == SQLITE_ROW) {
        auto opened = vault_.open(g.col_blob(0), kCheck);
        if (!opened)
            return make_error("database " + path_ +
                              ": the master key does not open this database (another key was "
                              "used when it was created)");
        return {};
    }
    if (rc != SQLITE_DONE)
        return fail("reading meta");
    auto sealed = vault_.seal(
        ByteView(reinterpret_cast<const uint8_t*>(kCheck.data()), kCheck.size()), kCheck);
    if (!sealed)
        return sealed.take_error();
    Use p(put);
    p.blob(*sealed);
    if (p.step() != SQLITE_DONE)
        return fail("writing meta");
    return {};
}

Result<std::string> SqliteStore::settings() {
    std::string out;
    for (const char* p : {"journal_mode", "synchronous", "foreign_keys", "busy_timeout",
                          "cache_size", "temp_store", "user_version"}) {
        Stmt q;
        if (q.prepare(db_, (std::string("PRAGMA ") + p).c_str()) != SQLITE_OK)
            return fail(std::string("PRAGMA ") + p);
        Use u(q);
        if (u.step() != SQLITE_ROW)
            return fail(std::string("PRAGMA ") + p);
        if (!out.empty())
            out += ' ';
        out.append(p).append("=").append(u.col_text(0));
    }
    return out;
}

Status SqliteStore::checkpoint() {
    if (sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_TRUNCATE, nullptr, nullptr) !=
        SQLITE_OK)
        return fail("checkpoint");
    return {};
}

Status SqliteStore::begin() {
    if (group_commit_) {
        if (depth_ > 0)
            return make_error("database " + path_ + ": a transaction is already open");
        if (!group_open_) {
            Use u(st_->begin);
            if (u.step() != SQLITE_DONE)
                return fail("begin");
            group_open_ = true;
        }
        if (Use u(st_->unit_begin); u.step() != SQLITE_DONE) // prepared: no parsing per unit
            return fail("savepoint");
        depth_ = 1;
        return {};
    }
    Use u(st_->begin);
    return u.step() == SQLITE_DONE ? Status() : Status(fail("begin"));
}

Status SqliteStore::commit() {
    if (group_commit_) {
        depth_ = 0;
        if (Use u(st_->unit_release); u.step() != SQLITE_DONE)
            return fail("release");
        return {};
    }
    Use u(st_->commit);
    if (u.step() != SQLITE_DONE) {
        failed_commits_++;
        return fail("commit");
    }
    storage_failure_.reset();
    return {};
}

Status SqliteStore::rollback() {
    if (group_commit_) {
        depth_ = 0;
        if (Use u(st_->unit_rollback); u.step() != SQLITE_DONE)
            return fail("rollback to savepoint");
        if (Use u(st_->unit_release); u.step() != SQLITE_DONE)
            return fail("release");
        return {};
    }
    Use u(st_->rollback);
    return u.step() == SQLITE_DONE ? Status() : Status(fail("rollback"));
}

Status SqliteStore::flush() {
    if (!group_open_)
        return {};
    if (depth_ > 0)
        return make_error("database " + path_ + ": flush inside a transaction");
    Use u(st_->commit);
    if (u.step() != SQLITE_DONE) {
        Error e = fail("commit");
        failed_commits_++;
        (void)sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
        group_open_ = false;
        return e;
    }
    group_open_ = false;
    storage_failure_.reset();
    return {};
}

Result<std::optional<Card>> SqliteStore::card_where(int which, std::string_view value) {
    Use u(st_->card_by[which]);
    u.text(value);
    return one_row(u, card_from, [&] { return fail("card lookup"); });
}

Result<std::optional<Card>> SqliteStore::card_by_iccid(std::string_view iccid) {
    return card_where(0, iccid);
}
Result<std::optional<Card>> SqliteStore::card_by_imsi(std::string_view imsi) {
    return card_where(1, imsi);
}
Result<std::optional<Card>> SqliteStore::card_by_msisdn(std::string_view msisdn) {
    return card_where(2, msisdn);
}

Result<PutOutcome> SqliteStore::put_card(const CardImage& image) {
    // All of a card or nothing of it, inside the caller's transaction or on its own.
    {
        Use u(st_->savepoint);
        if (u.step() != SQLITE_DONE)
            return fail("savepoint");
    }
    auto r = insert_card(image);
    Use end(r ? st_->release : st_->rollback_to);
    if (end.step() != SQLITE_DONE)
        return fail("ending savepoint");
    if (!r) {
        Use rel(st_->release); // ROLLBACK TO keeps the savepoint open
        rel.step();
    }
    return r;
}

Result<PutOutcome> SqliteStore::add_missing_psk_keysets(const Card& card,
                                                        const std::vector<PskKeyset>& keysets) {
    if (keysets.empty())
        return PutOutcome::Unchanged;
    auto held = psk_keysets(card.id);
    if (!held)
        return held.take_error();
    bool added = false;
    for (const PskKeyset& k : keysets) {
        if (std::any_of(held->begin(), held->end(),
                        [&](const PskKeyset& h) { return h.kvn == k.kvn; }))
            continue; // kept as it is: keys are not replaced by an import
        OTAGW_TRY_STATUS(insert_psk_keyset(card.id, card.iccid, k));
        added = true;
    }
    return added ? PutOutcome::Updated : PutOutcome::Unchanged;
}

// A card could not go in: the same card again (Unchanged, or Updated with SCP81 keysets it
// lacked), or which number is taken.
Result<PutOutcome> SqliteStore::explain_conflict(const CardImage& image) {
    const Card& c = image.card;
    auto existing = card_by_iccid(c.iccid);
    if (!existing)
        return existing.take_error();
    if (*existing) {
        const Card& e = **existing;
        if (e.imsi == c.imsi && e.msisdn == c.msisdn)
            return add_missing_psk_keysets(e, image.psk_keysets);
        return make_error("ICCID " + c.iccid + " is already in the inventory with another " +
                          (e.imsi != c.imsi ? "IMSI" : "MSISDN"));
    }
    for (int which : {1, 2}) {
        const std::string& v = which == 1 ? c.imsi : c.msisdn;
        if (v.empty())
            continue;
        auto other = card_where(which, v);
        if (!other)
            return other.take_error();
        if (*other)
            return make_error(std::string(which == 1 ? "IMSI " : "MSISDN ") + v +
                              " already belongs to card " + (*other)->iccid);
    }
    return fail("adding card " + c.iccid);
}

Result<PutOutcome> SqliteStore::insert_card(const CardImage& image) {
    const Card& c = image.card;
    const int64_t now = c.created_at ? c.created_at : unix_ms();
    int64_t id = 0;
    {
        // Insert first; the UNIQUE constraints find a card already there (the common case of
        // an import has no lookup at all).
        Use u(st_->insert_card);
        u.text(c.iccid).text(c.imsi).text_or_null(c.msisdn).text(c.status);
        u.text(encode_tars(image.tars)).text(encode_load_files(image.load_files)).integer(now);
        const int rc = u.step();
        if (rc == SQLITE_CONSTRAINT)
            return explain_conflict(image);
        if (rc != SQLITE_DONE)
            return fail("adding card " + c.iccid);
        id = sqlite3_last_insert_rowid(db_);
    }
    for (const Keyset& k : image.keysets) {
        Bytes sealed[3];
        const Bytes* keys[3] = {&k.kic, &k.kid, &k.kik};
        const char* roles[3] = {"kic", "kid", "kik"};
        for (int i = 0; i < 3; i++) {
            auto s = vault_.seal(*keys[i], key_aad(c.iccid, k.kvn, roles[i]));
            if (!s)
                return s.take_error();
            sealed[i] = std::move(s).value();
        }
        Use u(st_->insert_keyset);
        u.integer(id).integer(k.kvn).text(k.algorithm).blob(sealed[0]).blob(sealed[1]);
        u.blob(sealed[2]).integer(static_cast<int64_t>(k.counter));
        if (u.step() != SQLITE_DONE)
            return fail("card " + c.iccid + ": adding keyset " + std::to_string(k.kvn));
    }
    for (const PskKeyset& k : image.psk_keysets)
        OTAGW_TRY_STATUS(insert_psk_keyset(id, c.iccid, k));
    for (const CardApp& a : image.apps)
        OTAGW_TRY_STATUS(put_card_app(id, a));
    return PutOutcome::Inserted;
}

Status SqliteStore::insert_psk_keyset(int64_t card_id, const std::string& iccid,
                                      const PskKeyset& k) {
    auto psk = vault_.seal(k.psk, key_aad(iccid, k.kvn, "psk"));
    if (!psk)
        return psk.take_error();
    auto dek = vault_.seal(k.dek, key_aad(iccid, k.kvn, "dek"));
    if (!dek)
        return dek.take_error();
    Use u(st_->insert_psk_keyset);
    u.integer(card_id).integer(k.kvn).integer(k.kid).blob(k.identity).blob(*psk);
    u.text(k.dek_algorithm).blob(*dek);
    const int rc = u.step();
    if (rc == SQLITE_DONE)
        return {};
    const std::string at = "card " + iccid + ": SCP81 keyset " + to_hex(ByteView(&k.kvn, 1));
    if (rc == SQLITE_CONSTRAINT) {
        auto other = psk_owner(k.identity);
        if (other && *other && (*other)->iccid != iccid)
            return make_error(at + ": its PSK identity already belongs to card " + (*other)->iccid);
    }
    return fail(at);
}

Result<std::vector<Card>> SqliteStore::cards_matching(std::string_view iccid, std::string_view imsi,
                                                      std::string_view msisdn) {
    Use u(st_->cards_matching);
    u.text(iccid).text(imsi).text(msisdn);
    return all_rows(u, card_from, [&] { return fail("card lookup"); });
}

Result<std::vector<Card>> SqliteStore::list_cards(int64_t after_id, size_t limit,
                                                  const CardFilter& filter) {
    // Built per call (filters vary); paged by id so a listing never holds the inventory.
    std::string sql = std::string("SELECT ") + kCardColumns + " FROM cards c WHERE c.id > ?1";
    if (!filter.msisdn_prefix.empty())
        sql += " AND c.msisdn >= ?3 AND c.msisdn < ?4";
    if (!filter.app_aid.empty() && filter.app_state == "absent") {
        // Absent: no record of the application on the card, or one that says absent.
        sql += " AND NOT EXISTS (SELECT 1 FROM card_apps a WHERE a.card_id = c.id AND a.aid = ?5 "
               "AND a.state <> ?6)";
    } else if (!filter.app_aid.empty()) {
        sql += " AND EXISTS (SELECT 1 FROM card_apps a WHERE a.card_id = c.id AND a.aid = ?5";
        if (!filter.app_state.empty())
            sql += " AND a.state = ?6";
        sql += ")";
    }
    sql += " ORDER BY c.id LIMIT ?2";
    Stmt q;
    if (q.prepare(db_, sql.c_str()) != SQLITE_OK)
        return fail("listing cards");
    sqlite3_stmt* s = q.get();
    sqlite3_bind_int64(s, 1, after_id);
    sqlite3_bind_int64(s, 2, static_cast<int64_t>(limit));
    std::string upper = filter.msisdn_prefix;
    if (!upper.empty())
        upper.back() = static_cast<char>(upper.back() + 1); // digits: '9' + 1 = ':' sorts after
    sqlite3_bind_text(s, 3, filter.msisdn_prefix.c_str(), -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, upper.c_str(), -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 5, filter.app_aid.c_str(), -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 6, filter.app_state.c_str(), -1, SQLITE_STATIC);
    std::vector<Card> out;
    Use u(q);
    int rc;
    while ((rc = u.step()) == SQLITE_ROW)
        out.push_back(card_from(u));
    if (rc != SQLITE_DONE)
        return fail("listing cards");
    return out;
}

Result<uint64_t> SqliteStore::count_cards() {
    Use u(st_->count_cards);
    if (u.step() != SQLITE_ROW)
        return fail("counting cards");
    return static_cast<uint64_t>(u.col_int(0));
}

Status SqliteStore::set_card_status(int64_t card_id, std::string_view status) {
    if (status != "active" && status != "barred")
        return make_error("card status must be active or barred, not " + std::string(status));
    Use u(st_->set_card_status);
    u.integer(card_id).text(status).integer(unix_ms());
    if (u.step() != SQLITE_DONE)
        return fail("setting card status");
    if (sqlite3_changes(db_) == 0)
        return make_error("no card with id " + std::to_string(card_id));
    return {};
}

Result<std::vector<Keyset>> SqliteStore::keysets(int64_t card_id) {
    std::vector<Keyset> out;
    Use u(st_->keysets);
    u.integer(card_id);
    int rc;
    while ((rc = u.step()) == SQLITE_ROW) {
        Keyset k;
        k.kvn = static_cast<uint8_t>(u.col_int(0));
        k.algorithm = u.col_text(1);
        k.counter = static_cast<uint64_t>(u.col_int(5));
        const std::string iccid = u.col_text(6);
        Bytes* keys[3] = {&k.kic, &k.kid, &k.kik};
        const char* roles[3] = {"kic", "kid", "kik"};
        for (int i = 0; i < 3; i++) {
            auto key = vault_.open(u.col_blob(2 + i), key_aad(iccid, k.kvn, roles[i]));
            if (!key)
                return make_error("card " + iccid + " keyset " + std::to_string(k.kvn) + " " +
                                  roles[i] + ": " + key.error().message);
            *keys[i] = std::move(key).value();
        }
        out.push_back(std::move(k));
    }
    if (rc != SQLITE_DONE)
        return fail("reading keysets");
    return out;
}

namespace {

// Columns kvn, algorithm, kic, kid, counter, iccid: the keys opened, the KIK left out.
Status open_ota_keyset(const KeyVault& vault, const Use& u, Keyset& k) {
    k.kvn = static_cast<uint8_t>(u.col_int(0));
    k.algorithm = u.col_text(1);
    k.counter = static_cast<uint64_t>(u.col_int(4));
    const std::string iccid = u.col_text(5);
    Bytes* keys[2] = {&k.kic, &k.kid};
    const char* roles[2] = {"kic", "kid"};
    for (int i = 0; i < 2; i++) {
        auto key = vault.open(u.col_blob(2 + i), key_aad(iccid, k.kvn, roles[i]));
        if (!key)
            return make_error("card " + iccid + " keyset " + std::to_string(k.kvn) + " " +
                              roles[i] + ": " + key.error().message);
        *keys[i] = std::move(key).value();
    }
    return {};
}

} // namespace

namespace {

// Columns kvn, kid, identity, psk, dek_algorithm: the PSK opened.
Status open_psk_keyset(const KeyVault& vault, const Use& u, const std::string& iccid,
                       PskKeyset& k) {
    k.kvn = static_cast<uint8_t>(u.col_int(0));
    k.kid = static_cast<uint8_t>(u.col_int(1));
    k.identity = u.col_blob(2);
    k.dek_algorithm = u.col_text(4);
    auto psk = vault.open(u.col_blob(3), key_aad(iccid, k.kvn, "psk"));
    if (!psk)
        return make_error("card " + iccid + " SCP81 keyset " + to_hex(ByteView(&k.kvn, 1)) +
                          " psk: " + psk.error().message);
    k.psk = std::move(psk).value();
    return {};
}

} // namespace

Result<std::vector<PskKeyset>> SqliteStore::psk_keysets(int64_t card_id) {
    std::vector<PskKeyset> out;
    Use u(st_->psk_keysets);
    u.integer(card_id);
    int rc;
    while ((rc = u.step()) == SQLITE_ROW) {
        const std::string iccid = u.col_text(6);
        PskKeyset k;
        OTAGW_TRY_STATUS(open_psk_keyset(vault_, u, iccid, k));
        auto dek = vault_.open(u.col_blob(5), key_aad(iccid, k.kvn, "dek"));
        if (!dek)
            return make_error("card " + iccid + " SCP81 keyset " + to_hex(ByteView(&k.kvn, 1)) +
                              " dek: " + dek.error().message);
        k.dek = std::move(dek).value();
        out.push_back(std::move(k));
    }
    if (rc != SQLITE_DONE)
        return fail("reading SCP81 keysets");
    return out;
}

Result<std::optional<Store::PskOwner>> SqliteStore::psk_owner(ByteView identity) {
    Use u(st_->psk_owner);
    u.blob(identity);
    const int rc = u.step();
    if (rc == SQLITE_DONE)
        return std::optional<PskOwner>();
    if (rc != SQLITE_ROW)
        return fail("looking up a PSK identity");
    PskOwner o;
    o.card_id = u.col_int(5);
    o.iccid = u.col_text(6);
    OTAGW_TRY_STATUS(open_psk_keyset(vault_, u, o.iccid, o.keyset));
    return std::optional<PskOwner>(std::move(o));
}

Result<std::optional<Keyset>> SqliteStore::ota_keyset(int64_t card_id, uint8_t kvn) {
    Use u(st_->ota_keyset);
    u.integer(card_id).integer(kvn);
    const int rc = u.step();
    if (rc == SQLITE_DONE)
        return std::optional<Keyset>();
    if (rc != SQLITE_ROW)
        return fail("reading a keyset");
    Keyset k;
    OTAGW_TRY_STATUS(open_ota_keyset(vault_, u, k));
    return std::optional<Keyset>(std::move(k));
}

Result<std::optional<Store::PacketKeys>> SqliteStore::next_counter_with_keys(int64_t card_id,
                                                                             uint8_t kvn) {
    PacketKeys p;
    {
        Use u(st_->packet_keys);
        u.integer(card_id).integer(kvn);
        const int rc = u.step();
        if (rc == SQLITE_DONE)
            return std::optional<PacketKeys>();
        if (rc != SQLITE_ROW)
            return fail("reading a keyset");
        if (static_cast<uint64_t>(u.col_int(4)) > kCounterMax)
            return make_error("card id " + std::to_string(card_id) + " keyset " +
                              std::to_string(kvn) + ": its counter is exhausted");
        OTAGW_TRY_STATUS(open_ota_keyset(vault_, u, p.keyset));
        p.tars = decode_tars(u.col_text(6));
    }
    Use u(st_->step_counter); // the row just read, on this connection: it is there
    u.integer(card_id).integer(kvn);
    if (u.step() != SQLITE_DONE || sqlite3_changes(db_) != 1)
        return fail("raising a counter");
    return std::optional<PacketKeys>(std::move(p));
}

Result<uint64_t> SqliteStore::next_counter(int64_t card_id, uint8_t kvn) {
    Use u(st_->next_counter);
    u.integer(card_id).integer(kvn);
    const int rc = u.step();
    if (rc == SQLITE_ROW)
        return static_cast<uint64_t>(u.col_int(0));
    if (rc == SQLITE_DONE)
        return make_error("card id " + std::to_string(card_id) + " keyset " + std::to_string(kvn) +
                          ": no such keyset, or its counter is exhausted");
    return fail("raising a counter");
}

Status SqliteStore::accept_card_counter(int64_t card_id, uint8_t kvn, uint64_t counter) {
    if (counter > kCounterMax)
        return make_error("a counter is at most 5 bytes (TS 102 225 §5.1.1)");
    Use u(st_->accept_card_counter);
    u.integer(card_id).integer(kvn).integer(static_cast<int64_t>(counter));
    if (u.step() != SQLITE_DONE)
        return fail("recording a card's counter");
    if (sqlite3_changes(db_) == 0)
        return make_error("counter " + std::to_string(counter) + " of card id " +
                          std::to_string(card_id) + " keyset " + std::to_string(kvn) +
                          " is not higher than the last one it sent (a replay), or no keyset");
    return {};
}

Status SqliteStore::raise_counter(int64_t card_id, uint8_t kvn, uint64_t value) {
    if (value > kCounterMax)
        return make_error("a counter is at most 5 bytes (TS 102 225 §5.1.1)");
    Use u(st_->raise_counter);
    u.integer(card_id).integer(kvn).integer(static_cast<int64_t>(value));
    if (u.step() != SQLITE_DONE)
        return fail("raising a counter");
    if (sqlite3_changes(db_) == 0)
        return make_error("card id " + std::to_string(card_id) + ": no keyset " +
                          std::to_string(kvn));
    return {};
}

Result<std::pair<std::string, std::string>> SqliteStore::card_contents(int64_t card_id) {
    Use u(st_->card_contents);
    u.integer(card_id);
    const int rc = u.step();
    if (rc == SQLITE_ROW)
        return std::pair{u.col_text(0), u.col_text(1)};
    if (rc == SQLITE_DONE)
        return make_error("no card with id " + std::to_string(card_id));
    return fail("reading a card");
}

Result<std::vector<CardTar>> SqliteStore::card_tars(int64_t card_id) {
    auto text = card_contents(card_id);
    if (!text)
        return text.take_error();
    return decode_tars(text->first);
}

Result<std::vector<LoadFile>> SqliteStore::card_load_files(int64_t card_id) {
    auto text = card_contents(card_id);
    if (!text)
        return text.take_error();
    return decode_load_files(text->second);
}

Status SqliteStore::set_card_load_files(int64_t card_id, const std::vector<LoadFile>& files) {
    Use u(st_->set_card_load_files);
    u.integer(card_id).text(encode_load_files(files));
    if (u.step() != SQLITE_DONE)
        return fail("card id " + std::to_string(card_id) + ": storing its load files");
    if (sqlite3_changes(db_) == 0)
        return make_error("no card with id " + std::to_string(card_id), Errc::NotFound);
    return {};
}

Result<std::vector<CardApp>> SqliteStore::card_apps(int64_t card_id) {
    std::vector<CardApp> out;
    Use u(st_->card_apps);
    u.integer(card_id);
    int rc;
    while ((rc = u.step()) == SQLITE_ROW) {
        CardApp a;
        a.aid = u.col_text(0);
        if (!u.col_null(1))
            a.life_cycle = static_cast<uint8_t>(u.col_int(1));
        a.state = u.col_text(2);
        a.load_file_aid = u.col_text(3);
        a.module_aid = u.col_text(4);
        a.updated_at = u.col_int(5);
        a.kvn = static_cast<uint8_t>(u.col_int(6));
        a.counter = static_cast<uint64_t>(u.col_int(7));
        out.push_back(std::move(a));
    }
    if (rc != SQLITE_DONE)
        return fail("reading card applications");
    return out;
}

Status SqliteStore::put_card_app(int64_t card_id, const CardApp& a) {
    Use u(st_->insert_card_app);
    u.integer(card_id).text(a.aid);
    if (a.life_cycle)
        u.integer(*a.life_cycle);
    else
        u.null();
    u.text(a.state).text_or_null(a.load_file_aid).text_or_null(a.module_aid);
    u.integer(a.updated_at ? a.updated_at : unix_ms());
    u.integer(a.kvn).integer(static_cast<int64_t>(a.counter));
    if (u.step() != SQLITE_DONE)
        return fail("card id " + std::to_string(card_id) + ": storing application " + a.aid);
    return {};
}

Result<int64_t> SqliteStore::put_application(const Application& a) {
    Use u(st_->put_application);
    u.text(a.name).text(a.aid).text(a.code).text(a.type).text_or_null(a.load_file_aid);
    u.text_or_null(a.module_aid).text_or_null(a.install_params).text(a.tar).integer(a.msl);
    u.text(a.provider);
    if (u.step() != SQLITE_ROW)
        return fail("storing application " + a.name);
    return u.col_int(0);
}

Result<std::vector<Application>> SqliteStore::applications() {
    Use u(st_->applications);
    return all_rows(u, application_from, [&] { return fail("reading the catalog"); });
}

Result<std::optional<Application>> SqliteStore::application_by_aid(std::string_view aid) {
    Use u(st_->application_by_aid);
    u.text(aid);
    return one_row(u, application_from, [&] { return fail("catalog lookup"); });
}

Result<std::optional<Application>> SqliteStore::application_by_code(std::string_view code) {
    Use u(st_->application_by_code);
    u.text(code);
    return one_row(u, application_from, [&] { return fail("catalog lookup"); });
}

bool request_finished(std::string_view state) {
    return state == "done" || state == "refused" || state == "failed";
}

Result<std::pair<Request, bool>> SqliteStore::put_request(const Request& r) {
    if (!r.idempotency_key.empty()) {
        Use u(st_->request_by_key);
        u.text(r.idempotency_key);
        const int rc = u.step();
        if (rc == SQLITE_ROW)
            return std::pair{request_from(u), false};
        if (rc != SQLITE_DONE)
            return fail("reading a request");
    }
    const int64_t now = r.created_at ? r.created_at : unix_ms();
    {
        Use u(st_->insert_request);
        u.text_or_null(r.idempotency_key).text(r.source).text(r.actor);
        if (r.card_id)
            u.integer(r.card_id);
        else
            u.null();
        u.text_or_null(r.msisdn).text_or_null(r.app_aid).text(r.operation);
        u.text_or_null(r.language).text(r.state).text_or_null(r.reason).text(r.detail);
        u.integer(now);
        if (r.id) // reserved with next_request_id()
            u.integer(r.id);
        else
            u.null();
        if (u.step() != SQLITE_DONE)
            return fail("recording a request");
    }
    Request stored = r; // as written: no need to read it back
    stored.id = sqlite3_last_insert_rowid(db_);
    stored.created_at = stored.updated_at = now;
    return std::pair{std::move(stored), true};
}

Result<std::optional<Request>> SqliteStore::request(int64_t id) {
    Use u(st_->request_by_id);
    u.integer(id);
    return one_row(u, request_from, [&] { return fail("reading a request"); });
}

Status SqliteStore::set_request_state(int64_t id, std::string_view state, std::string_view reason) {
    Use u(st_->set_request_state);
    u.integer(id).text(state).text_or_null(reason).integer(unix_ms());
    if (u.step() != SQLITE_DONE)
        return fail("updating a request");
    if (sqlite3_changes(db_) == 0)
        return make_error("no request with id " + std::to_string(id));
    return {};
}

Status SqliteStore::set_request_detail(int64_t id, std::string_view detail) {
    Use u(st_->set_request_detail);
    u.integer(id).text(detail).integer(unix_ms());
    if (u.step() != SQLITE_DONE)
        return fail("updating a request");
    if (sqlite3_changes(db_) == 0)
        return make_error("no request with id " + std::to_string(id));
    return {};
}

Status SqliteStore::set_request(int64_t id, std::string_view state, std::string_view reason,
                                std::string_view detail) {
    Use u(st_->set_request);
    u.integer(id).text(state).text_or_null(reason).text(detail).integer(unix_ms());
    if (u.step() != SQLITE_DONE)
        return fail("updating a request");
    if (sqlite3_changes(db_) == 0)
        return make_error("no request with id " + std::to_string(id));
    return {};
}

Status SqliteStore::put_callback(const ProviderCallback& c) {
    Use u(st_->put_callback);
    u.integer(c.request_id)
        .text(c.provider)
        .text(c.body)
        .integer(c.created_at ? c.created_at : unix_ms());
    return u.step() == SQLITE_DONE ? Status() : Status(fail("recording a provider callback"));
}

Status SqliteStore::delete_callback(int64_t request_id) {
    Use u(st_->delete_callback);
    u.integer(request_id);
    return u.step() == SQLITE_DONE ? Status() : Status(fail("removing a provider callback"));
}

Result<std::vector<ProviderCallback>> SqliteStore::pending_callbacks(size_t limit) {
    Use u(st_->pending_callbacks);
    u.integer(static_cast<int64_t>(limit));
    return all_rows(
        u,
        [](const Use& r) {
            return ProviderCallback{r.col_int(0), r.col_text(1), r.col_text(2), r.col_int(3)};
        },
        [&] { return fail("reading provider callbacks"); });
}

Result<int64_t> SqliteStore::add_campaign(const Campaign& c) {
    Use u(st_->insert_campaign);
    u.text(c.name).text(c.operation).text(c.app_aid).text(c.selection).real(c.rate);
    u.integer(c.window).integer(c.retries).integer(c.start_at).text(c.state).text(c.actor);
    u.integer(c.created_at ? c.created_at : unix_ms()).text(c.bearer);
    const int rc = u.step();
    if (rc == SQLITE_CONSTRAINT || sqlite3_extended_errcode(db_) == SQLITE_CONSTRAINT_UNIQUE)
        return make_error("a campaign named '" + c.name + "' exists already");
    if (rc != SQLITE_DONE)
        return fail("recording a campaign");
    return sqlite3_last_insert_rowid(db_);
}

Result<std::optional<Campaign>> SqliteStore::campaign(int64_t id) {
    Use u(st_->campaign_by_id);
    u.integer(id);
    return one_row(u, campaign_from, [&] { return fail("reading a campaign"); });
}

Result<std::optional<Campaign>> SqliteStore::campaign_by_name(std::string_view name) {
    Use u(st_->campaign_by_name);
    u.text(name);
    return one_row(u, campaign_from, [&] { return fail("reading a campaign"); });
}

Result<std::vector<Campaign>> SqliteStore::campaigns() {
    Use u(st_->campaigns);
    return all_rows(u, campaign_from, [&] { return fail("reading campaigns"); });
}

Status SqliteStore::set_campaign_state(int64_t id, std::string_view state) {
    Use u(st_->set_campaign_state);
    u.integer(id).text(state).integer(unix_ms());
    if (u.step() != SQLITE_DONE)
        return fail("updating a campaign");
    if (sqlite3_changes(db_) == 0)
        return make_error("no campaign with id " + std::to_string(id));
    return {};
}

Status SqliteStore::delete_campaign(int64_t id) {
    for (Stmt* stmt : {&st_->delete_targets, &st_->delete_campaign}) {
        Use u(*stmt);
        u.integer(id);
        if (u.step() != SQLITE_DONE)
            return fail("removing campaign " + std::to_string(id));
    }
    if (sqlite3_changes(db_) == 0)
        return make_error("no campaign with id " + std::to_string(id));
    return {};
}

Status SqliteStore::add_campaign_targets(int64_t campaign_id, int64_t first_seq,
                                         const std::vector<int64_t>& card_ids) {
    int64_t seq = first_seq;
    for (int64_t card : card_ids) {
        Use u(st_->insert_target);
        u.integer(campaign_id).integer(seq).integer(card);
        if (u.step() != SQLITE_DONE) {
            if (sqlite3_extended_errcode(db_) == SQLITE_CONSTRAINT_UNIQUE ||
                sqlite3_extended_errcode(db_) == SQLITE_CONSTRAINT_PRIMARYKEY)
                return make_error("campaign " + std::to_string(campaign_id) + ": target " +
                                  std::to_string(seq) + " (card " + std::to_string(card) +
                                  ") is there already");
            return fail("recording campaign targets");
        }
        seq++;
    }
    return {};
}

Result<std::vector<CampaignTarget>> SqliteStore::campaign_targets(int64_t campaign_id,
                                                                  int64_t after_seq, size_t limit,
                                                                  bool open_only) {
    Use u(open_only ? st_->open_targets_after : st_->targets_after);
    u.integer(campaign_id).integer(after_seq).integer(static_cast<int64_t>(limit));
    return all_rows(u, target_from, [&] { return fail("reading campaign targets"); });
}

Result<std::optional<CampaignTarget>> SqliteStore::campaign_target(int64_t campaign_id,
                                                                   int64_t seq) {
    Use u(st_->target_by_seq);
    u.integer(campaign_id).integer(seq);
    return one_row(u, target_from, [&] { return fail("reading a campaign target"); });
}

Status SqliteStore::update_campaign_target(const CampaignTarget& t) {
    Use u(st_->update_target);
    u.integer(t.campaign_id).integer(t.seq).text(t.state).text(t.reason).integer(t.request_id);
    u.integer(t.attempts).text(t.card_state).text(t.por_status).integer(t.next_at);
    u.integer(t.started_at).integer(t.finished_at);
    if (u.step() != SQLITE_DONE)
        return fail("updating a campaign target");
    if (sqlite3_changes(db_) == 0)
        return make_error("campaign " + std::to_string(t.campaign_id) + " has no target " +
                          std::to_string(t.seq));
    return {};
}

Result<std::vector<CampaignTally>> SqliteStore::campaign_tally(int64_t campaign_id) {
    Use u(st_->campaign_tally);
    u.integer(campaign_id);
    return all_rows(
        u,
        [](const Use& r) {
            return CampaignTally{r.col_text(0), r.col_text(1), static_cast<uint64_t>(r.col_int(2))};
        },
        [&] { return fail("counting campaign targets"); });
}

Result<std::vector<Request>> SqliteStore::unfinished_requests(int64_t after_id, size_t limit) {
    Use u(st_->unfinished_requests);
    u.integer(after_id).integer(static_cast<int64_t>(limit));
    return all_rows(u, request_from, [&] { return fail("reading unfinished requests"); });
}

Result<std::optional<Request>> SqliteStore::request_in_flight(int64_t card_id,
                                                              std::string_view app_aid) {
    Use u(st_->request_in_flight);
    u.integer(card_id).text(app_aid);
    return one_row(u, request_from, [&] { return fail("reading requests in flight"); });
}

Result<int64_t> SqliteStore::add_ota_message(const OtaMessage& m) {
    Use u(st_->insert_ota_message);
    if (m.request_id)
        u.integer(m.request_id);
    else
        u.null();
    u.integer(m.card_id).integer(m.kvn).integer(static_cast<int64_t>(m.counter)).text(m.tar);
    u.blob(m.user_data).text_or_null(m.smpp_message_id).text(m.state);
    if (m.sent_at)
        u.integer(m.sent_at);
    else
        u.null();
    if (m.id) // reserved with next_ota_message_id()
        u.integer(m.id);
    else
        u.null(); // the next one
    const int rc = u.step();
    if (rc == SQLITE_CONSTRAINT && sqlite3_extended_errcode(db_) == SQLITE_CONSTRAINT_PRIMARYKEY)
        return make_error("OTA message id " + std::to_string(m.id) + " is taken");
    if (rc == SQLITE_CONSTRAINT)
        return make_error("card id " + std::to_string(m.card_id) + " keyset " +
                          std::to_string(m.kvn) + ": counter " + std::to_string(m.counter) +
                          " was used before");
    if (rc != SQLITE_DONE)
        return fail("recording an OTA message");
    return sqlite3_last_insert_rowid(db_);
}

Result<int64_t> SqliteStore::next_request_id() {
    Use u(st_->next_request_id);
    if (u.step() != SQLITE_ROW)
        return fail("reading the last request id");
    return u.col_int(0);
}

Result<int64_t> SqliteStore::next_ota_message_id() {
    Use u(st_->next_ota_message_id);
    if (u.step() != SQLITE_ROW)
        return fail("reading the last OTA message id");
    return u.col_int(0);
}

Status SqliteStore::set_ota_message_state(int64_t id, std::string_view state,
                                          std::string_view smpp_message_id) {
    Use u(st_->set_ota_message_state);
    u.integer(id).text(state).text_or_null(smpp_message_id);
    if (state == ota_message_state::kSubmitted)
        u.integer(unix_ms());
    else
        u.null();
    if (u.step() != SQLITE_DONE)
        return fail("updating an OTA message");
    if (sqlite3_changes(db_) == 0)
        return make_error("no OTA message with id " + std::to_string(id));
    return {};
}

Result<std::optional<OtaMessage>> SqliteStore::ota_message_for(int64_t card_id, uint8_t kvn,
                                                               uint64_t counter) {
    Use u(st_->ota_message_for);
    u.integer(card_id).integer(kvn).integer(static_cast<int64_t>(counter));
    return one_row(u, ota_message_from, [&] { return fail("reading an OTA message"); });
}

Result<std::vector<OtaMessage>> SqliteStore::ota_messages_of(int64_t request_id) {
    Use u(st_->ota_messages_of);
    u.integer(request_id);
    return all_rows(u, ota_message_from, [&] { return fail("reading OTA messages"); });
}

Result<int64_t> SqliteStore::add_por(const Por& p) {
    Use u(st_->insert_por);
    if (p.ota_message_id)
        u.integer(p.ota_message_id);
    else
        u.null();
    u.integer(p.card_id).integer(p.status);
    if (p.counter)
        u.integer(static_cast<int64_t>(*p.counter));
    else
        u.null();
    u.blob(p.data).integer(p.received_at ? p.received_at : unix_ms());
    if (u.step() != SQLITE_DONE)
        return fail("recording a PoR");
    return sqlite3_last_insert_rowid(db_);
}

Result<std::vector<Por>> SqliteStore::pors_of(int64_t ota_message_id) {
    std::vector<Por> out;
    Use u(st_->pors_of);
    u.integer(ota_message_id);
    int rc;
    while ((rc = u.step()) == SQLITE_ROW) {
        Por p;
        p.id = u.col_int(0);
        p.ota_message_id = u.col_int(1);
        p.card_id = u.col_int(2);
        p.status = static_cast<uint8_t>(u.col_int(3));
        if (!u.col_null(4))
            p.counter = static_cast<uint64_t>(u.col_int(4));
        p.data = u.col_blob(5);
        p.received_at = u.col_int(6);
        out.push_back(std::move(p));
    }
    if (rc != SQLITE_DONE)
        return fail("reading PoRs");
    return out;
}

Result<int64_t> SqliteStore::append_audit(const AuditEntry& e) {
    Use u(st_->append_audit);
    u.integer(e.at ? e.at : unix_ms()).text(e.actor).text(e.action).text(e.subject).text(e.detail);
    if (u.step() != SQLITE_DONE)
        return fail("appending to the audit log");
    return sqlite3_last_insert_rowid(db_);
}

Result<std::vector<AuditEntry>> SqliteStore::audit_tail(size_t limit, int64_t after_id) {
    std::vector<AuditEntry> out;
    Use u(after_id ? st_->audit_after : st_->audit_last);
    u.integer(static_cast<int64_t>(limit));
    if (after_id)
        u.integer(after_id);
    int rc;
    while ((rc = u.step()) == SQLITE_ROW)
        out.push_back({u.col_int(0), u.col_int(1), u.col_text(2), u.col_text(3), u.col_text(4),
                       u.col_text(5)});
    if (rc != SQLITE_DONE)
        return fail("reading the audit log");
    return out;
}

} // namespace otagw::db
