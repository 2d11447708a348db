// SPDX-License-Identifier: GPL-2.0-or-later
// SQLite state store: table meta (origin, format), table cards (population index, ICCID, state
// as card_state.cpp encodes it). WAL journal, synchronous NORMAL: a committed batch survives a
// crash of the simulator.
#include "otagw/sim/state_store.hpp"

#include <sqlite3.h>

#include "otagw/sim/card_state.hpp"

namespace otagw::sim {

namespace {

constexpr const char* kSchema =
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS cards (seq INTEGER PRIMARY KEY, "
    "iccid TEXT NOT NULL UNIQUE, state BLOB NOT NULL);";

// A prepared statement, finalized on scope exit.
class Statement {
public:
    Statement(sqlite3* db, const char* sql) { sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr); }
    ~Statement() { sqlite3_finalize(stmt_); }
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;
    sqlite3_stmt* get() const { return stmt_; }
    explicit operator bool() const { return stmt_ != nullptr; }

private:
    sqlite3_stmt* stmt_ = nullptr;
};

} // namespace

Result<std::unique_ptr<StateStore>> StateStore::open(const std::string& path) {
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
        SQLITE_OK) {
        std::string why = db ? sqlite3_errmsg(db) : "out of memory";
        sqlite3_close(db);
        return make_error("--state " + path + ": " + why);
    }
    std::unique_ptr<StateStore> s(new StateStore(db, path));
    sqlite3_busy_timeout(db, 2000);
    if (Status st = s->exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"); !st)
        return st.take_error();
    if (Status st = s->exec(kSchema); !st)
        return st.take_error();
    return s;
}

StateStore::~StateStore() {
    sqlite3_close(db_);
}

Error StateStore::failure(const std::string& what) {
    return make_error("state store " + path_ + ": " + what + ": " + sqlite3_errmsg(db_));
}

Status StateStore::exec(const char* sql) {
    char* msg = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &msg) != SQLITE_OK) {
        std::string why = msg ? msg : "error";
        sqlite3_free(msg);
        return make_error("state store " + path_ + ": " + why);
    }
    return Status::success();
}

Result<std::optional<StateStore::Stored>> StateStore::load() {
    Statement origin(db_, "SELECT value FROM meta WHERE key = 'origin'");
    if (!origin)
        return failure("reading meta");
    if (sqlite3_step(origin.get()) != SQLITE_ROW)
        return std::optional<Stored>{};
    Stored stored;
    stored.origin = reinterpret_cast<const char*>(sqlite3_column_text(origin.get(), 0));
    Statement cards(db_, "SELECT seq, state FROM cards ORDER BY seq");
    if (!cards)
        return failure("reading cards");
    int rc;
    while ((rc = sqlite3_step(cards.get())) == SQLITE_ROW) {
        const auto seq = sqlite3_column_int64(cards.get(), 0);
        if (seq != static_cast<int64_t>(stored.cards.size()))
            return make_error("state store " + path_ + ": card " + std::to_string(seq) +
                              " out of sequence");
        const auto* blob = static_cast<const uint8_t*>(sqlite3_column_blob(cards.get(), 1));
        const auto size = static_cast<size_t>(sqlite3_column_bytes(cards.get(), 1));
        auto card = restore_card(ByteView(blob, size));
        if (!card)
            return make_error("state store " + path_ + ": card " + std::to_string(seq) + ": " +
                              card.error().message);
        stored.cards.push_back(std::move(*card));
    }
    if (rc != SQLITE_DONE)
        return failure("reading cards");
    return std::optional<Stored>(std::move(stored));
}

Status StateStore::save_all(const Population& population, const std::string& origin) {
    OTAGW_TRY_STATUS(exec("BEGIN; DELETE FROM cards; DELETE FROM meta;"));
    Statement meta(db_, "INSERT INTO meta (key, value) VALUES ('origin', ?), ('format', '1')");
    Statement insert(db_, "INSERT INTO cards (seq, iccid, state) VALUES (?, ?, ?)");
    bool good = meta && insert;
    if (good) {
        sqlite3_bind_text(meta.get(), 1, origin.c_str(), -1, SQLITE_TRANSIENT);
        good = sqlite3_step(meta.get()) == SQLITE_DONE;
    }
    for (size_t i = 0; good && i < population.size(); i++) {
        const Uicc& c = population.at(i);
        const Bytes state = save_card(c);
        sqlite3_reset(insert.get());
        sqlite3_bind_int64(insert.get(), 1, static_cast<int64_t>(i));
        sqlite3_bind_text(insert.get(), 2, c.iccid.c_str(), -1, SQLITE_STATIC);
        sqlite3_bind_blob(insert.get(), 3, state.data(), static_cast<int>(state.size()),
                          SQLITE_STATIC);
        good = sqlite3_step(insert.get()) == SQLITE_DONE;
    }
    if (!good) {
        Error e = failure("writing the population");
        (void)exec("ROLLBACK");
        return e;
    }
    return exec("COMMIT");
}

Status StateStore::save(const Population& population, const std::vector<uint32_t>& indexes) {
    if (indexes.empty())
        return Status::success();
    OTAGW_TRY_STATUS(exec("BEGIN"));
    Statement update(db_, "UPDATE cards SET state = ? WHERE seq = ?");
    bool good = static_cast<bool>(update);
    for (size_t i = 0; good && i < indexes.size(); i++) {
        const Bytes state = save_card(population.at(indexes[i]));
        sqlite3_reset(update.get());
        sqlite3_bind_blob(update.get(), 1, state.data(), static_cast<int>(state.size()),
                          SQLITE_STATIC);
        sqlite3_bind_int64(update.get(), 2, indexes[i]);
        good = sqlite3_step(update.get()) == SQLITE_DONE;
    }
    if (!good) {
        Error e = failure("saving cards");
        (void)exec("ROLLBACK");
        return e;
    }
    return exec("COMMIT");
}

} // namespace otagw::sim
