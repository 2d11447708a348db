// SPDX-License-Identifier: GPL-2.0-or-later
// The campaign engine (doc/campaigns.md): one operation on many cards, each target a durable
// job that runs as a request through the request pipeline (same checks, secured packets,
// PoRs, reconciliation), paced on the daemon's one loop.
//
//  create    targets fixed from a file (every bad line reported, nothing created) or a filter
//  pace      per campaign: at most `window` targets in flight and `rate` started per second;
//            per SMSC bind: the ESME's TPS; campaign packets go in the ESME's bulk lane, so a
//            subscriber's own request never waits behind a campaign; running campaigns take
//            turns, one target each
//  outcome   succeeded (the card reports the aimed state), skipped (the operation makes no
//            sense on the card: not allowed in its state, barred), failed with the pipeline's
//            reason; a transient failure (SMSC refused or down, PoR lost, another request in
//            flight) is tried again after a delay doubling up to 10 minutes, `retries` times;
//            a target whose state went unknown is audited (GET STATUS) before it is tried again
//  crash     a target's state changes in the transaction that finishes its request, and it
//            points at its request from the transaction that creates it: after kill -9 the
//            pipeline resumes the request and the target follows it; none is lost or run twice
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "campaigns/campaign_fsm.hpp"
#include "campaigns/campaign_input.hpp"
#include "config/config.hpp"
#include "otagw/common/clock.hpp"
#include "otagw/common/counters.hpp"
#include "otagw/common/uv.hpp"
#include "otagw/db/store.hpp"
#include "requests/request_pipeline.hpp"

namespace otagw::gateway {

// A campaign as the operator asks for it.
struct CampaignSpec {
    std::string name;
    std::string operation; // install, lock, unlock, delete, delete-package, audit, activate
    std::string aid;       // the application's instance AID (hex)
    std::string targets;   // the target file's text, or
    std::string targets_name;
    std::string filter;   // a filter over the inventory
    double rate = 0;      // per second; 0: no limit
    uint32_t window = 0;  // 0: the default
    uint32_t retries = 3; // for transient failures
    int64_t start_at = 0; // Unix ms: scheduled; 0: started by `start`
    std::string actor;
    std::string bearer; // sms-pp, bip or auto; empty: the gateway's ota / bearer
};

struct TargetLineError {
    size_t line = 0;
    std::string message;
};

class CampaignEngine {
public:
    using Json = nlohmann::ordered_json;
    static constexpr uint32_t kDefaultWindow = 1000;
    static constexpr uint32_t kMaxWindow = 100000;

    CampaignEngine(uv_loop_t* loop, db::Store& store, RequestPipeline& pipeline,
                   const GatewayConfig& config, const Clock& clock = SystemClock::instance());
    ~CampaignEngine();

    void set_esme(smpp::Esme* esme) { esme_ = esme; }
    // Picks up running and scheduled campaigns where they were (at start, after resume() of
    // the pipeline).
    Status resume();
    void stop();

    // Creates a campaign and its targets, then calls `done` with it, or with the error and,
    // for a target file, each bad line. Done in steps, other work running in between (a
    // million lines would hold the loop for seconds): the targets looked up a slice at a time,
    // the campaign recorded as `creating`, its targets written a slice at a time, then
    // `created`. `done` is not called once stop() ran; resume() removes a campaign left
    // `creating`.
    using Created = std::function<void(Result<db::Campaign>, std::vector<TargetLineError> bad)>;
    void create(CampaignSpec spec, Created done);
    // start, pause, resume, cancel; an error names why not (e.g. "it is finished").
    Result<db::Campaign> control(std::string_view ref, std::string_view action,
                                 const std::string& actor);
    // By id or name.
    Result<std::optional<db::Campaign>> find(std::string_view ref);
    // State, counts by outcome and reason, rate and ETA.
    Result<Json> status(const db::Campaign& campaign);
    static Json target_json(const db::CampaignTarget& target);

    // From the pipeline, inside the transaction that finishes a campaign's request.
    void on_request_finished(const db::Request& request, const RequestContext& ctx);

    Counters& counters() { return counters_; }
    std::vector<std::string> show() const;

private:
    struct Run;
    struct Creation;
    Status name_is_free(const std::string& name);
    Status begin_creation(Creation& c);
    // Looks up the next slice of targets; true once all are.
    Result<bool> look_up_slice(Creation& c);
    // Checks the targets looked up and records the campaign as `creating`.
    Status begin_insert(Creation& c);
    // Writes the next slice of targets; true once all are.
    Result<bool> insert_slice(Creation& c);
    Result<db::Campaign> end_creation(Creation& c);
    void step_creation(Creation* c);
    Run* run_of(int64_t campaign_id);
    Status start_run(const db::Campaign& campaign);
    void schedule(const db::Campaign& campaign);
    void kick(); // pump soon (coalesced)
    void pump();
    bool refill(Run& run);
    // Takes the next target due, if any.
    std::optional<db::CampaignTarget> next_target(Run& run, int64_t now);
    void launch(Run& run, db::CampaignTarget target, bool audit_first);
    TargetFacts facts_of(const Run& run, const db::CampaignTarget& target) const;
    // The target's table decides what `event` does to it (`request`: the request as it ended);
    // `run` is null for a campaign not running here.
    void apply(Run* run, db::CampaignTarget target, TargetEvent event,
               const RequestContext* request);
    void settle(Run& run, db::CampaignTarget& target, TargetState outcome,
                const std::string& reason);
    void retry_later(Run& run, db::CampaignTarget& target, const std::string& reason);
    void maybe_finish(Run& run);
    void audit(const std::string& actor, const std::string& action, const std::string& subject,
               const std::string& detail);
    void in_one(const char* what, const std::function<void()>& work); // logs a failed commit
    Status cancel_open_targets(Run* run, int64_t campaign_id);

    uv_loop_t* loop_;
    db::Store& store_;
    RequestPipeline& pipeline_;
    const GatewayConfig& config_;
    const Clock& clock_;
    smpp::Esme* esme_ = nullptr;
    Counters counters_;
    std::map<int64_t, std::unique_ptr<Run>> runs_; // running campaigns by id
    std::map<int64_t, std::unique_ptr<uv::Timer>> scheduled_;
    int64_t turn_ = 0; // the campaign whose turn it is (fair sharing)
    std::unique_ptr<uv::Timer> pump_timer_;
    bool kicked_ = false;   // a pump is set...
    uint64_t pump_due_ = 0; // ...for then (loop time)
    std::vector<std::unique_ptr<Creation>> creating_;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
    bool stopped_ = false;
};

} // namespace otagw::gateway
