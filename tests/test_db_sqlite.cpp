// SPDX-License-Identifier: GPL-2.0-or-later
// The SQLite store: the storage contract, then what is SQLite's own: PRAGMAs read back,
// migrations by user_version (and refusal of a newer schema), keys never in clear in the
// database file or its WAL, the audit log append-only for any writer, and a kill -9 in the
// middle of a large batched import that leaves a consistent database a rerun completes.
#include <signal.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "otagw/db/sqlite_store.hpp"
#include "store_contract.hpp"

using namespace otagw;

namespace {

std::string g_dir;
const char* kMasterHex = "8a1f0c3e5b7d9a2c4e6f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5";

db::KeyVault& vault() {
    static db::KeyVault v = std::move(db::KeyVault::from_hex(kMasterHex, "test").value());
    return v;
}

std::string db_path() {
    return g_dir + "/store.db";
}

void remove_db() {
    for (const char* suffix : {"", "-wal", "-shm"})
        unlink((db_path() + suffix).c_str());
}

std::unique_ptr<db::SqliteStore> open_store(bool fresh) {
    if (fresh)
        remove_db();
    auto s = db::SqliteStore::open({db_path()}, vault());
    assert_ok(s);
    return std::move(s).value();
}

std::string file_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

void test_pragmas_read_back(void**) {
    auto s = open_store(true);
    auto settings = s->settings();
    assert_ok(settings);
    assert_string_equal(settings->c_str(),
                        ("journal_mode=wal synchronous=2 foreign_keys=1 busy_timeout=200 "
                         "cache_size=-16384 temp_store=2 user_version=" +
                         std::to_string(db::latest_schema_version()))
                            .c_str());
    s.reset();
    db::SqliteOptions bad{db_path()};
    bad.synchronous = "SOMETIMES";
    assert_error_contains(db::SqliteStore::open(bad, vault()),
                          "synchronous must be FULL or NORMAL");
}

// A database with damaged pages is refused at start, naming what PRAGMA quick_check found and
// how to recover (9274d6b started on it, reported health ok and then dropped every answer).
void test_damaged_database_refused(void**) {
    open_store(true).reset();
    sqlite3* raw = nullptr;
    assert_int_equal(sqlite3_open(db_path().c_str(), &raw), SQLITE_OK);
    assert_int_equal(sqlite3_exec(raw,
                                  "CREATE TABLE filler (x TEXT); WITH RECURSIVE n(i) AS (SELECT 1 "
                                  "UNION ALL SELECT i + 1 FROM n WHERE i < 2000) INSERT INTO "
                                  "filler SELECT hex(randomblob(100)) FROM n",
                                  nullptr, nullptr, nullptr),
                     SQLITE_OK);
    sqlite3_close(raw); // the last connection: the WAL goes into the file
    std::string bytes = file_bytes(db_path());
    assert_true(bytes.size() > 40 * 4096);
    for (size_t i = bytes.size() - 20 * 4096; i < bytes.size() - 10 * 4096; i++)
        bytes[i] = static_cast<char>(i * 31);
    std::ofstream(db_path(), std::ios::binary | std::ios::trunc) << bytes;
    auto damaged = db::SqliteStore::open({db_path()}, vault());
    assert_error_contains(damaged, "PRAGMA quick_check");
    assert_error_contains(damaged, "refusing to start on a damaged database");
    assert_error_contains(damaged, ".recover");
}

void test_migrations(void**) {
    remove_db();
    // A database from a newer program is left alone.
    sqlite3* raw = nullptr;
    assert_int_equal(sqlite3_open(db_path().c_str(), &raw), SQLITE_OK);
    const std::string newer =
        "PRAGMA user_version = " + std::to_string(db::latest_schema_version() + 1);
    assert_int_equal(sqlite3_exec(raw, newer.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(raw);
    assert_error_contains(db::SqliteStore::open({db_path()}, vault()),
                          "is newer than this program");
    // An empty file is migrated to the latest schema, and opening again changes nothing.
    auto s = open_store(true);
    assert_int_equal(s->schema_version(), db::latest_schema_version());
    s = open_store(false);
    assert_int_equal(s->schema_version(), db::latest_schema_version());
}

// Keys are sealed: not one key's bytes appear in the database file or the WAL, a sealed key
// moved to another card does not open, and a wrong master key opens nothing.
void test_keys_never_in_clear(void**) {
    auto s = open_store(true);
    auto card = contract::sample_card(1);
    assert_ok(s->put_card(card));
    assert_ok(s->put_card(contract::sample_card(2)));
    std::string everything = file_bytes(db_path()) + file_bytes(db_path() + "-wal");
    assert_ok(s->checkpoint());
    everything += file_bytes(db_path());
    assert_true(everything.find(card.card.iccid) != std::string::npos); // the check can see
    for (const auto& k : card.keysets)
        for (const Bytes* key : {&k.kic, &k.kid, &k.kik}) {
            const std::string raw(key->begin(), key->end());
            assert_true(everything.find(raw) == std::string::npos);
            assert_true(everything.find(to_hex(*key)) == std::string::npos);
        }
    for (const auto& k : card.psk_keysets)
        for (const Bytes* key : {&k.psk, &k.dek}) {
            const std::string raw(key->begin(), key->end());
            assert_true(everything.find(raw) == std::string::npos);
            assert_true(everything.find(to_hex(*key)) == std::string::npos);
        }
    const int64_t id1 = s->card_by_iccid(card.card.iccid)->value().id;
    const int64_t id2 = s->card_by_iccid(contract::sample_card(2).card.iccid)->value().id;
    s.reset();
    // Move card 1's KIc onto card 2: it must not open there.
    sqlite3* raw = nullptr;
    assert_int_equal(sqlite3_open(db_path().c_str(), &raw), SQLITE_OK);
    const std::string move =
        "UPDATE keysets SET kic = (SELECT kic FROM keysets WHERE card_id = " + std::to_string(id1) +
        " AND kvn = 1) WHERE card_id = " + std::to_string(id2) + " AND kvn = 1";
    assert_int_equal(sqlite3_exec(raw, move.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(raw);
    s = open_store(false);
    assert_ok(s->keysets(id1));
    assert_error_contains(s->keysets(id2), "does not open");
    s.reset();
    // Another master key: the database is refused at once.
    auto other = db::KeyVault::from_hex(std::string(64, '1'), "other");
    assert_ok(other);
    auto refused = db::SqliteStore::open({db_path()}, *other);
    assert_error_contains(refused, "the master key does not open this database");
    assert_true(refused.error().message.find("1111") == std::string::npos);
}

void test_master_key_sources(void**) {
    assert_error_contains(db::KeyVault::from_hex("abcd", "file x"),
                          "file x: the master key must be 64 hex digits");
    assert_error_contains(db::KeyVault::from_file(g_dir + "/missing.key"),
                          "missing.key: No such file or directory");
    const std::string path = g_dir + "/master.key";
    std::ofstream(path) << kMasterHex << "\n";
    chmod(path.c_str(), 0640); // a key its group may read is refused, its content never shown
    auto open_to_group = db::KeyVault::from_file(path);
    assert_error_contains(open_to_group, "may be read by group or others (mode 640): chmod 600 it");
    assert_true(open_to_group.error().message.find(kMasterHex) == std::string::npos);
    chmod(path.c_str(), 0600);
    auto from_file = db::KeyVault::from_file(path);
    assert_ok(from_file);
    auto sealed = vault().seal(test::hex("00112233"), "a/1/kic");
    assert_ok(sealed);
    assert_int_equal(sealed->size(), 4 + db::KeyVault::kOverhead);
    assert_hex_equal(*from_file->open(*sealed, "a/1/kic"), "00112233");
    assert_error_contains(from_file->open(*sealed, "a/1/kid"), "does not open");
    setenv("OTAGW_TEST_MASTER_KEY", "not-hex-at-all", 1);
    auto bad_env = db::KeyVault::from_env("OTAGW_TEST_MASTER_KEY");
    assert_error_contains(bad_env, "environment variable OTAGW_TEST_MASTER_KEY");
    assert_true(bad_env.error().message.find("not-hex") == std::string::npos);
    unsetenv("OTAGW_TEST_MASTER_KEY");
    assert_error_contains(db::KeyVault::from_env("OTAGW_TEST_MASTER_KEY"), "is not set");
}

void test_audit_log_is_append_only(void**) {
    auto s = open_store(true);
    assert_ok(s->append_audit({0, 0, "test", "x", "y", ""}));
    s.reset();
    sqlite3* raw = nullptr;
    assert_int_equal(sqlite3_open(db_path().c_str(), &raw), SQLITE_OK);
    for (const char* sql :
         {"UPDATE audit_log SET actor = 'someone else'", "DELETE FROM audit_log"}) {
        char* err = nullptr;
        assert_int_not_equal(sqlite3_exec(raw, sql, nullptr, nullptr, &err), SQLITE_OK);
        assert_non_null(strstr(err, "append-only"));
        sqlite3_free(err);
    }
    sqlite3_close(raw);
}

// kill -9 while a child imports in batches of 500 cards: the database opens, passes
// integrity_check, holds whole batches only, and a rerun of the same import completes it.
void test_crash_during_batched_import(void**) {
    remove_db();
    open_store(true).reset();
    constexpr int kCards = 200000, kBatch = 500;
    const pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        auto s = db::SqliteStore::open({db_path()}, vault());
        if (!s)
            _exit(3);
        for (int i = 0; i < kCards; i += kBatch) {
            if (!(*s)->begin())
                _exit(4);
            for (int j = i; j < i + kBatch; j++)
                if (!(*s)->put_card(contract::sample_card(j)))
                    _exit(5);
            if (!(*s)->commit())
                _exit(6);
        }
        _exit(0);
    }
    // Kill it once it is well into the import.
    for (int waited = 0; waited < 30000; waited += 20) {
        usleep(20000);
        auto s = db::SqliteStore::open({db_path()}, vault());
        if (s && (*s)->count_cards().ok() && *(*s)->count_cards() >= 5 * kBatch)
            break;
    }
    kill(child, SIGKILL);
    int status = 0;
    waitpid(child, &status, 0);
    assert_true(WIFSIGNALED(status));
    auto s = open_store(false);
    sqlite3* raw = nullptr;
    assert_int_equal(sqlite3_open(db_path().c_str(), &raw), SQLITE_OK);
    sqlite3_stmt* q = nullptr;
    sqlite3_prepare_v2(raw, "PRAGMA integrity_check", -1, &q, nullptr);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_string_equal(reinterpret_cast<const char*>(sqlite3_column_text(q, 0)), "ok");
    sqlite3_finalize(q);
    sqlite3_close(raw);
    const uint64_t survived = *s->count_cards();
    assert_true(survived >= 5 * kBatch);
    assert_true(survived < kCards);
    assert_int_equal(survived % kBatch, 0); // no half batch
    // Rerun the first part: what is there is unchanged, the rest goes in.
    int inserted = 0, unchanged = 0;
    assert_ok(s->begin());
    for (int j = 0; j < static_cast<int>(survived) + 1000; j++) {
        auto r = s->put_card(contract::sample_card(j));
        assert_ok(r);
        (*r == db::PutOutcome::Inserted ? inserted : unchanged)++;
    }
    assert_ok(s->commit());
    assert_int_equal(unchanged, survived);
    assert_int_equal(inserted, 1000);
    const auto last = contract::sample_card(static_cast<int>(survived) - 1).card.iccid;
    const int64_t id = s->card_by_iccid(last)->value().id;
    assert_int_equal(s->keysets(id)->size(), 2);
}

// Group commit: units are savepoints in one transaction that flush() commits; a unit rolled
// back takes only its own writes; another connection sees nothing before the flush.
void test_group_commit(void**) {
    using contract::ok;
    auto s = open_store(true);
    auto reader = open_store(false);
    s->set_group_commit(true);
    db::Request r;
    r.source = "api";
    r.operation = "query";
    r.state = "accepted";
    assert_ok(s->begin());
    r.actor = "kept";
    const int64_t kept = ok(s->put_request(r)).first.id;
    assert_ok(s->commit());
    assert_ok(s->begin());
    r.actor = "undone";
    ok(s->put_request(r));
    assert_ok(s->rollback());
    assert_ok(s->begin());
    assert_error_contains(s->begin(), "already open");
    assert_ok(s->commit());
    assert_true(s->unflushed());
    assert_false(ok(reader->request(kept)).has_value()); // not committed yet
    assert_ok(s->flush());
    assert_false(s->unflushed());
    auto seen = ok(reader->unfinished_requests(0, 10));
    assert_int_equal(seen.size(), 1);
    assert_string_equal(seen[0].actor.c_str(), "kept");
    assert_ok(s->flush()); // nothing pending: nothing to do
}

} // namespace

int main() {
    contract::g_open = [](bool fresh) -> std::unique_ptr<db::Store> {
        return open_store(fresh);
    };
    const CMUnitTest own[] = {
        cmocka_unit_test(test_pragmas_read_back),
        cmocka_unit_test(test_migrations),
        cmocka_unit_test(test_damaged_database_refused),
        cmocka_unit_test(test_keys_never_in_clear),
        cmocka_unit_test(test_master_key_sources),
        cmocka_unit_test(test_audit_log_is_append_only),
        cmocka_unit_test(test_crash_during_batched_import),
        cmocka_unit_test(test_group_commit),
    };
    const int rc = test::run_in_temp_dir("otagw-db", g_dir, contract::kTests);
    if (rc)
        return rc;
    return test::run_in_temp_dir("otagw-db-sqlite", g_dir, own);
}
