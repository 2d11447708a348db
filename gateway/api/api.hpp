// SPDX-License-Identifier: GPL-2.0-or-later
// The admin HTTP/JSON API (doc/api.yaml): cards, card applications, catalog, audit, health,
// metrics, inventory import, requests, campaigns. Every call needs a bearer token whose SHA-256 is
// configured (401 otherwise); errors are JSON {"error": "..."} naming what was wrong; no key ever
// leaves.
#pragma once

#include <functional>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "campaigns/campaign_engine.hpp"
#include "config/config.hpp"
#include "otagw/common/counters.hpp"
#include "otagw/db/store.hpp"
#include "otagw/http/http.hpp"
#include "requests/request_pipeline.hpp"

namespace otagw::gateway {

using Json = nlohmann::ordered_json;

// A card with what the store knows of it, for the API, the VTY and otactl: keysets show KVN,
// algorithm and counter, never keys.
Result<Json> card_view(db::Store& store, const db::Card& card);
Json application_json(const db::Application& a);
Json request_json(const db::Request& r);
// The answer to a call the store failed: 503 with Retry-After when the database is locked or
// cannot be written (worth trying again: nothing was kept), 500 for anything else.
http::Response storage_error_response(const Error& e);

class Api final : public http::Handler {
public:
    struct Hooks {
        std::function<Json()> health;                           // daemon state
        std::function<std::vector<const Counters*>()> counters; // every module's counters
        std::function<Result<Submitted>(const NewRequest&)> submit_request; // the pipeline
        std::function<Result<db::Request>(int64_t, const std::string& actor)> cancel_request;
        CampaignEngine* campaigns = nullptr;
    };
    Api(db::Store& store, const ApiConfig& config, Hooks hooks);

    std::unique_ptr<http::BodySink> stream(const http::Request& request,
                                           std::optional<http::Response>& reject) override;
    void handle(http::Request&& request, http::Responder respond) override;
    bool authenticated(const http::Request& request) override {
        return !authenticate(request).empty();
    }

    Counters& counters() { return counters_; }

private:
    // The token's holder, or empty when the call is not authenticated.
    std::string authenticate(const http::Request& request) const;
    http::Response route(const http::Request& request, const std::string& who);
    http::Response create_request(const http::Request& request, const std::string& who);
    http::Response campaigns(const http::Request& request, const std::string& who);

    db::Store& store_;
    const ApiConfig& config_;
    Hooks hooks_;
    Counters counters_;
};

} // namespace otagw::gateway
