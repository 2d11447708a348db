// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/daemon.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "otagw/common/clock.hpp"
#include "otagw/common/log.hpp"
#include "otagw/common/osmo.hpp"

namespace otagw::gateway {

namespace {} // namespace

Daemon::Daemon(uv_loop_t* loop, GatewayConfig& config) : loop_(loop), config_(config) {}

Daemon::~Daemon() {
    set_vty_backend(nullptr);
    if (lock_fd_ >= 0)
        ::close(lock_fd_); // releases the lock
}

Status Daemon::start(void* talloc_ctx) {
    OTAGW_TRY_STATUS(open());
    OTAGW_TRY_STATUS(listen(talloc_ctx));
    log::notice("daemon", "started");
    return {};
}

Status Daemon::open() {
    started_at_ = unix_ms();
    // The master key: from its file, else from the environment; its value is never logged.
    auto vault = config_.db.master_key_file.empty()
                     ? db::KeyVault::from_env(config_.db.master_key_env.c_str())
                     : db::KeyVault::from_file(config_.db.master_key_file);
    if (!vault)
        return vault.take_error();
    vault_ = std::make_unique<db::KeyVault>(std::move(vault).value());
    // One daemon per database: a second one would hand out the same counters.
    const std::string lock = config_.db.path + ".lock";
    lock_fd_ = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock_fd_ < 0)
        return make_error("database " + config_.db.path + ": cannot open " + lock + ": " +
                          std::strerror(errno));
    if (flock(lock_fd_, LOCK_EX | LOCK_NB) != 0)
        return make_error("database " + config_.db.path + " is in use by another ota-gatewayd (" +
                          lock + " is locked)");
    db::SqliteOptions opts;
    opts.path = config_.db.path;
    opts.synchronous = config_.db.synchronous;
    opts.busy_timeout_ms = config_.db.busy_timeout_ms;
    auto store = db::SqliteStore::open(opts, *vault_);
    if (!store)
        return store.take_error();
    store_ = std::move(store).value();
    if (auto s = store_->settings())
        log::notice("db", "opened " + config_.db.path + " (" + *s + ")");
    OTAGW_TRY_STATUS(sync_catalog());
    group_ = std::make_unique<GroupCommit>(loop_, *store_);

    if (!config_.providers.empty())
        curl_ = std::make_unique<http::CurlClient>(loop_);
    transactions_ = std::make_unique<Transactions>(*store_);
    transactions_->set_durable(
        [this](std::function<void()> action) { group_->after_flush(std::move(action)); });
    catalog_ = std::make_unique<Catalog>(*store_);
    OTAGW_TRY_STATUS(caps_.read(config_));
    providers_ = std::make_unique<Providers>(loop_, curl_.get(), config_.providers);
    callbacks_ = std::make_unique<ResultCallbacks>(loop_, *store_, *providers_, config_.ota,
                                                   provider_counters_);
    pipeline_ =
        std::make_unique<RequestPipeline>(loop_, *store_, *transactions_, *catalog_, config_,
                                          *providers_, *callbacks_, *vault_, caps_);
    if (config_.ras.enabled()) {
        bip_sessions_ = std::make_unique<bip::AdminSessions>(loop_, *store_, config_);
        bip_sessions_->set_scripts(pipeline_.get());
        pipeline_->set_bip(bip_sessions_.get());
    }
    mo_router_ = std::make_unique<MoRouter>(*pipeline_, *store_, *catalog_, config_);
    campaigns_ = std::make_unique<CampaignEngine>(loop_, *store_, *pipeline_, config_);
    pipeline_->set_on_finished([this](const db::Request& r, const RequestContext& ctx) {
        if (campaigns_)
            campaigns_->on_request_finished(r, ctx);
    });

    Api::Hooks hooks;
    hooks.submit_request = [this](const NewRequest& n) -> Result<Submitted> {
        if (stopping_)
            return make_error("the gateway is shutting down");
        return pipeline_->submit(n);
    };
    hooks.cancel_request = [this](int64_t id, const std::string& actor) -> Result<db::Request> {
        if (stopping_)
            return make_error("the gateway is shutting down");
        return pipeline_->cancel(id, actor);
    };
    hooks.health = [this] {
        return health();
    };
    hooks.campaigns = campaigns_.get();
    hooks.counters = [this] {
        return module_counters();
    };
    api_ = std::make_unique<Api>(*store_, config_.api, hooks);
    durable_api_ = std::make_unique<DurableHandler>(*api_, *group_);
    return {};
}

smpp::MoVerdict Daemon::on_mo(const smpp::Mo& mo) {
    counters_.inc("daemon:mo:received");
    // Stopping: not taken, the SMSC delivers it again to the next run.
    return stopping_ ? smpp::MoVerdict::RetryLater : mo_router_->on_mo(mo);
}

Status Daemon::listen(void* talloc_ctx) {
    http::ServerOptions http_opts;
    http_opts.max_connections = config_.api.max_connections;
    http_opts.max_per_address = config_.api.max_per_address;
    http_opts.head_timeout_ms = config_.api.head_timeout_s * 1000ull;
    http_opts.body_timeout_ms = config_.api.body_timeout_s * 1000ull;
    http_ = std::make_unique<http::Server>(loop_, *durable_api_, http_opts);
    OTAGW_TRY_STATUS(http_->listen(config_.api.ip, config_.api.port));
    log::notice("api", "listening on " + config_.api.ip + ":" + std::to_string(http_->port()));
    if (bip_sessions_) {
        ras_ = std::make_unique<bip::RasServer>(loop_, *store_, config_.ras, *bip_sessions_);
        bip_sessions_->set_server(ras_.get());
        OTAGW_TRY_STATUS(ras_->listen());
    }

    if (!config_.smpp.binds.empty()) {
        smpp::Esme::Handlers h;
        h.on_bind_state = [this](const std::string& bind, bool up) {
            bind_up_[bind] = up;
            log::notice("smpp", "bind " + bind + (up ? " up" : " down"));
        };
        h.on_bind_error = [this](const std::string&, const std::string&) {
            counters_.inc("daemon:smpp:bind_errors"); // the ESME logs the reason itself
        };
        h.on_mo = [this](const smpp::Mo& mo) {
            return on_mo(mo);
        };
        h.on_receipt = [this](const smpp::Receipt&) {
            counters_.inc("daemon:receipts");
        };
        // An MO request is answered to the SMSC once it is in the database (ESME_RX_T_APPN
        // when the commit failed: delivered again).
        h.durable = [this](std::function<void(bool)> answer) {
            group_->after_flush([answer] { answer(true); },
                                [answer](const Error&) { answer(false); });
        };
        esme_ = std::make_unique<smpp::Esme>(loop_, config_.smpp, h);
        esme_->start();
        pipeline_->set_esme(esme_.get());
        campaigns_->set_esme(esme_.get());
    }
    OTAGW_TRY_STATUS(pipeline_->resume());
    OTAGW_TRY_STATUS(campaigns_->resume());

    if (telnet_init_default(talloc_ctx, nullptr, 4270) < 0)
        return make_error("VTY: cannot listen for telnet (see `line vty` in the config)");
    telnet_up_ = true;
    bridge_ = std::make_unique<osmo::LoopBridge>(loop_);
    set_vty_backend(this);

    for (auto [handle, signum] : {std::pair{&sigterm_, SIGTERM}, std::pair{&sigint_, SIGINT}}) {
        *handle = uv::Handle<uv_signal_t>::make(
            {}, [&](uv_signal_t* h) { return uv_signal_init(loop_, h); });
        (*handle)->data = this;
        uv_signal_start(
            handle->get(),
            [](uv_signal_t* h, int n) {
                static_cast<Daemon*>(h->data)->shutdown(n == SIGTERM ? "SIGTERM" : "SIGINT");
            },
            signum);
    }
    return {};
}

Status Daemon::sync_catalog() {
    // The config's catalog is the source; the store mirrors it for lookups and joins.
    OTAGW_TRY_STATUS(store_->begin());
    for (const auto& a : config_.applications) {
        auto r = store_->put_application(a);
        if (!r) {
            (void)store_->rollback();
            return make_error("catalog: application " + a.name + ": " + r.error().message);
        }
    }
    return store_->commit();
}

void Daemon::shutdown(const char* why) {
    if (stopping_)
        return;
    stopping_ = true;
    log::notice("daemon", std::string("shutting down (") + why + ")");
    sigterm_.close();
    sigint_.close();
    // 1. Stop intake: no new API calls, no new VTY sessions.
    if (http_)
        http_->close();
    if (ras_) {
        // The cards' sessions end; their requests hear nothing more (they stay as stored, and
        // the next start reads the cards for the scripts they had out).
        bip_sessions_->set_scripts(nullptr);
        ras_->close();
    }
    set_vty_backend(nullptr);
    if (telnet_up_)
        telnet_exit();
    telnet_up_ = false;
    if (bridge_)
        bridge_->close();
    // 2. Unbind from the SMSC, then 3. flush and close the store. Requests stay where they
    // are in the database; the next start resumes them.
    if (campaigns_)
        campaigns_->stop();
    if (pipeline_)
        pipeline_->stop();
    if (callbacks_)
        callbacks_->stop();
    auto finish = [this] {
        campaigns_.reset();
        mo_router_.reset();
        if (bip_sessions_)
            bip_sessions_->set_server(nullptr);
        ras_.reset();
        pipeline_.reset();
        bip_sessions_.reset();
        callbacks_.reset();
        providers_.reset();
        curl_.reset();
        group_.reset(); // the last writes committed
        if (store_) {
            if (Status st = store_->checkpoint(); !st)
                log::error("db", st.error().message);
            store_.reset();
        }
        http_.reset();
        log::notice("daemon", "stopped");
    };
    if (esme_)
        esme_->stop([this, finish] {
            uv::defer(loop_, [this, finish] {
                esme_.reset();
                finish();
            });
        });
    else
        finish();
}

// Degraded while the database cannot be written or read (disk full, I/O error, damage): what
// callers send is refused with 503 until a commit succeeds again.
Json Daemon::health() {
    Json binds = Json::object();
    for (const auto& b : config_.smpp.binds)
        binds[b.name] = bind_up_[b.name] ? "up" : "down";
    auto cards = store_->count_cards();
    const auto& failure = store_->storage_failure();
    Json h{{"status", stopping_ ? "stopping" : failure ? "degraded" : "ok"}};
    if (failure)
        h["reason"] = *failure;
    h["uptime_s"] = (unix_ms() - started_at_) / 1000;
    h["cards"] = cards ? Json(*cards) : Json(nullptr);
    h["smpp"] = binds;
    h["schema_version"] = store_->schema_version();
    return h;
}

std::vector<std::string> Daemon::show_health() {
    const Json h = health();
    std::vector<std::string> out{"status " + h["status"].get<std::string>()};
    if (h.contains("reason"))
        out.push_back("reason " + h["reason"].get<std::string>());
    return out;
}

std::vector<std::string> Daemon::show_smpp() {
    std::vector<std::string> out;
    if (config_.smpp.binds.empty())
        return {"No SMPP bind configured"};
    for (const auto& b : config_.smpp.binds)
        out.push_back("bind " + b.name + " " + b.host + ":" + std::to_string(b.port) +
                      " system-id " + b.system_id + ": " + (bind_up_[b.name] ? "up" : "down"));
    if (esme_)
        out.push_back("queued " + std::to_string(esme_->queued()) + ", in flight " +
                      std::to_string(esme_->in_flight()) + ", bound sessions " +
                      std::to_string(esme_->bound_sessions()));
    return out;
}

Result<std::vector<std::string>> Daemon::show_card(const std::string& by,
                                                   const std::string& value) {
    const bool digits =
        !value.empty() && value.find_first_not_of("0123456789") == std::string::npos;
    if (by == "iccid" && (!digits || value.size() < 18 || value.size() > 20))
        return make_error("an ICCID is 18 to 20 digits");
    if (by == "msisdn" && (!digits || value.size() > 15))
        return make_error("an MSISDN is up to 15 digits (E.164 without '+')");
    auto card = by == "iccid" ? store_->card_by_iccid(value) : store_->card_by_msisdn(value);
    if (!card)
        return card.take_error();
    if (!*card)
        return make_error("no card with " + std::string(by == "iccid" ? "ICCID " : "MSISDN ") +
                          value);
    auto view = card_view(*store_, **card);
    if (!view)
        return view.take_error();
    const Json& v = *view;
    std::vector<std::string> out;
    out.push_back("Card " + v["iccid"].get<std::string>() + ": IMSI " +
                  v["imsi"].get<std::string>() + ", MSISDN " + v["msisdn"].get<std::string>() +
                  ", " + v["status"].get<std::string>());
    for (const auto& k : v["keysets"])
        out.push_back(" keyset " + std::to_string(k["kvn"].get<int>()) + " " +
                      k["algorithm"].get<std::string>() + " counter " +
                      std::to_string(k["counter"].get<uint64_t>()));
    for (const auto& k : v["scp81_keysets"])
        out.push_back(" SCP81 keyset " + k["kvn"].get<std::string>() + " kid " +
                      k["kid"].get<std::string>() + " identity " +
                      k["identity"].get<std::string>());
    for (const auto& t : v["tars"])
        out.push_back(" TAR " + t["tar"].get<std::string>() + " " + t["kind"].get<std::string>() +
                      " msl " + t["msl"].get<std::string>());
    for (const auto& a : v["apps"])
        out.push_back(
            " application " + a["aid"].get<std::string>() + " " + a["state"].get<std::string>() +
            " (life cycle " +
            (a["life_cycle"].is_null() ? std::string("?") : a["life_cycle"].get<std::string>()) +
            ")");
    return out;
}

std::vector<std::string> Daemon::show_applications() {
    auto apps = store_->applications();
    if (!apps)
        return {"% " + apps.error().message};
    std::vector<std::string> out;
    for (const auto& a : *apps)
        out.push_back("application " + a.name + " code " + a.code + " aid " + a.aid + " tar " +
                      a.tar + " type " + a.type +
                      (a.provider.empty() ? "" : " provider " + a.provider));
    if (out.empty())
        out.push_back("No application in the catalog");
    return out;
}

std::vector<const Counters*> Daemon::module_counters() const {
    std::vector<const Counters*> all{&counters_, &provider_counters_};
    if (pipeline_)
        all.push_back(&pipeline_->counters());
    if (campaigns_)
        all.push_back(&campaigns_->counters());
    if (esme_)
        all.push_back(&esme_->counters());
    if (ras_)
        all.push_back(&ras_->counters());
    if (bip_sessions_)
        all.push_back(&bip_sessions_->counters());
    return all;
}

std::vector<std::string> Daemon::show_ras() {
    if (!ras_)
        return {"No RAS configured (ras / listen)"};
    std::vector<std::string> out = ras_->show();
    for (auto& l : bip_sessions_->show())
        out.push_back(std::move(l));
    return out;
}

std::vector<std::string> Daemon::show_stats() {
    std::vector<std::string> out;
    std::vector<const Counters*> all = module_counters();
    all.insert(all.begin() + 1, &api_->counters());
    for (const Counters* c : all)
        for (const auto& [name, value] : c->all())
            out.push_back(name + ": " + std::to_string(value));
    if (out.empty())
        out.push_back("No events counted yet");
    return out;
}

std::vector<std::string> Daemon::show_requests() {
    return pipeline_ ? pipeline_->show() : std::vector<std::string>{"No request in flight"};
}

std::vector<std::string> Daemon::show_campaigns() {
    return campaigns_ ? campaigns_->show() : std::vector<std::string>{"No campaign running"};
}

} // namespace otagw::gateway
