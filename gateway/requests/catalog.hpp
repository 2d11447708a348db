// SPDX-License-Identifier: GPL-2.0-or-later
// The application catalog as requests read it: fixed while the daemon runs (the config is its
// source, mirrored into the store at start), so entries by AID are read once and kept.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "otagw/db/store.hpp"

namespace otagw::gateway {

class Catalog {
public:
    explicit Catalog(db::Store& store) : store_(store) {}
    Result<std::optional<db::Application>> by_aid(std::string_view aid) {
        if (auto it = by_aid_.find(aid); it != by_aid_.end())
            return std::optional<db::Application>(it->second);
        std::optional<db::Application> app;
        OTAGW_TRY_ASSIGN(app, store_.application_by_aid(aid));
        if (app)
            by_aid_.emplace(std::string(aid), *app);
        return app;
    }
    Result<std::optional<db::Application>> by_code(std::string_view code) {
        return store_.application_by_code(code);
    }

private:
    db::Store& store_;
    std::map<std::string, db::Application, std::less<>> by_aid_;
};

} // namespace otagw::gateway
