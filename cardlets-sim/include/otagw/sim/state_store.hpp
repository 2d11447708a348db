// SPDX-License-Identifier: GPL-2.0-or-later
// The simulator's SQLite state store (--state FILE): the population survives restarts with its
// counters, registries and cardlet data. Writes are batched: the caller collects changed cards
// and saves them in one transaction.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "otagw/common/result.hpp"
#include "otagw/sim/population.hpp"

struct sqlite3;

namespace otagw::sim {

class StateStore {
public:
    static Result<std::unique_ptr<StateStore>> open(const std::string& path);
    ~StateStore();
    StateStore(const StateStore&) = delete;
    StateStore& operator=(const StateStore&) = delete;

    // The population kept here and the origin it was created with ("seed=1 cards=10 ..."), or
    // nullopt for a new store.
    struct Stored {
        std::string origin;
        std::vector<Uicc> cards;
    };
    Result<std::optional<Stored>> load();
    // Replaces whatever is stored by `population` (one transaction).
    Status save_all(const Population& population, const std::string& origin);
    // Saves the cards at these population indexes (one transaction).
    Status save(const Population& population, const std::vector<uint32_t>& indexes);

private:
    explicit StateStore(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
    Status exec(const char* sql);
    Error failure(const std::string& what);
    sqlite3* db_;
    std::string path_;
};

} // namespace otagw::sim
