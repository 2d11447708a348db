// SPDX-License-Identifier: GPL-2.0-or-later
// ota-gatewayd's wiring on the one libuv loop: the state store, the SMPP binds, the admin API,
// the telnet VTY (through the libosmocore bridge), and a graceful shutdown on SIGTERM/SIGINT:
// stop intake, unbind, flush, close the database.
#pragma once

#include <memory>
#include <string>

#include <uv.h>

#include "api/api.hpp"
#include "bip/admin_sessions.hpp"
#include "bip/ras_server.hpp"
#include "campaigns/campaign_engine.hpp"
#include "config/config.hpp"
#include "config/vty.hpp"
#include "daemon/group_commit.hpp"
#include "intake/mo_router.hpp"
#include "otagw/common/counters.hpp"
#include "otagw/common/osmo_loop.hpp"
#include "otagw/common/uv.hpp"
#include "otagw/db/sqlite_store.hpp"
#include "otagw/http/curl_client.hpp"
#include "otagw/http/http.hpp"
#include "otagw/smpp/esme.hpp"
#include "requests/cap_loads.hpp"
#include "requests/request_pipeline.hpp"

namespace otagw::gateway {

class Daemon final : public VtyBackend {
public:
    Daemon(uv_loop_t* loop, GatewayConfig& config);
    ~Daemon() override;

    // Opens the store, syncs the catalog, listens (API, VTY) and binds. An error names what
    // could not start.
    Status start(void* talloc_ctx);
    // The first half of start(): the store and every module, without a socket (the robustness
    // harness, fuzz/fuzz_daemon_input.cpp, drives them so).
    Status open();
    // The API as the server calls it (answers held until durable).
    http::Handler& api_handler() { return *durable_api_; }
    // An MO SMS as the ESME hands it over.
    smpp::MoVerdict on_mo(const smpp::Mo& mo);
    db::SqliteStore& store() { return *store_; }
    // Graceful shutdown; the loop ends when everything is closed.
    void shutdown(const char* why);

    std::vector<std::string> show_smpp() override;
    std::vector<std::string> show_health() override;
    Result<std::vector<std::string>> show_card(const std::string& by,
                                               const std::string& value) override;
    std::vector<std::string> show_applications() override;
    std::vector<std::string> show_stats() override;
    std::vector<std::string> show_requests() override;
    std::vector<std::string> show_campaigns() override;
    std::vector<std::string> show_ras() override;

private:
    Status listen(void* talloc_ctx); // the second half of start()
    Status sync_catalog();
    Json health();
    // The daemon's and the SMPP layer's counters (the API adds its own).
    std::vector<const Counters*> module_counters() const;

    uv_loop_t* loop_;
    GatewayConfig& config_;
    std::unique_ptr<db::KeyVault> vault_;
    std::unique_ptr<db::SqliteStore> store_;
    std::unique_ptr<GroupCommit> group_;
    std::unique_ptr<Api> api_;
    std::unique_ptr<DurableHandler> durable_api_;
    std::unique_ptr<http::Server> http_;
    std::unique_ptr<smpp::Esme> esme_;
    std::unique_ptr<http::CurlClient> curl_;
    std::unique_ptr<Transactions> transactions_;
    std::unique_ptr<Catalog> catalog_;
    CapLoads caps_;
    std::unique_ptr<Providers> providers_;
    std::unique_ptr<ResultCallbacks> callbacks_;
    std::unique_ptr<RequestPipeline> pipeline_;
    std::unique_ptr<bip::AdminSessions> bip_sessions_; // with a ras node
    std::unique_ptr<bip::RasServer> ras_;
    std::unique_ptr<MoRouter> mo_router_;
    std::unique_ptr<CampaignEngine> campaigns_;
    std::unique_ptr<osmo::LoopBridge> bridge_;
    std::map<std::string, bool> bind_up_;
    Counters counters_;          // daemon-wide ("daemon:...")
    Counters provider_counters_; // the providers' results ("provider:...")
    uv::Handle<uv_signal_t> sigterm_, sigint_;
    bool stopping_ = false;
    bool telnet_up_ = false;
    int lock_fd_ = -1;
    int64_t started_at_ = 0;
};

} // namespace otagw::gateway
