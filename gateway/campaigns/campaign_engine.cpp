// SPDX-License-Identifier: GPL-2.0-or-later
#include "campaigns/campaign_engine.hpp"
#include "intake/msisdn.hpp"

#include <algorithm>
#include <cmath>

#include "otagw/common/clock.hpp"
#include "otagw/common/log.hpp"
#include "requests/operations.hpp"

namespace otagw::gateway {

namespace {

constexpr const char* kLog = "campaign";
constexpr size_t kReadAhead = 1000;      // targets read from the store at once
constexpr size_t kLaunchesPerTurn = 500; // then the loop serves I/O before more
constexpr size_t kBulkQueueCap = 2000;   // campaign packets waiting in the ESME at most
constexpr int64_t kRateWindowMs = 10000; // the rate shown is over this long
constexpr uint64_t kCoalesceMs = 10;     // kicks within this of a pump set join it

bool valid_name(std::string_view s) {
    return !s.empty() && s.size() <= 64 && !all_digits(s) &&
           std::all_of(s.begin(), s.end(), [](char c) {
               return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '_' || c == '.';
           });
}

bool in_state(const db::CampaignTarget& t, TargetState s) {
    return t.state == target_state_name(s);
}

bool in_state(const db::Campaign& c, CampaignState s) {
    return c.state == campaign_state_name(s);
}

std::optional<CampaignEvent> control_event(std::string_view action) {
    for (auto e :
         {CampaignEvent::Start, CampaignEvent::Pause, CampaignEvent::Resume, CampaignEvent::Cancel})
        if (action == campaign_event_name(e))
            return e;
    return std::nullopt;
}

} // namespace

struct CampaignEngine::Run {
    db::Campaign c;
    Operation op = Operation::Query;
    int64_t cursor = 0;     // the last target read from the store
    bool exhausted = false; // nothing pending after the cursor
    // Targets to start: read ahead in order (each seq at most once: `queued`), and those waiting
    // to be tried again (next_at set in the store: only here, never read ahead).
    std::deque<db::CampaignTarget> ready;
    std::set<int64_t> queued;
    std::multimap<int64_t, int64_t> retries;       // next_at -> seq
    std::map<int64_t, db::CampaignTarget> running; // by seq: in flight, as last written
    double tokens = 1;
    int64_t refilled_at = 0;
    std::deque<int64_t> finished_at; // within the last kRateWindowMs
    int64_t resumed_at = 0;
    // The tally kept here rather than counted in the store at every status call: the targets
    // settled (succeeded, failed, skipped, cancelled; never undone) by state and reason, read
    // once when the run starts and counted up by settle(); the rest are running or pending.
    uint64_t total = 0;
    std::map<std::pair<std::string, std::string>, uint64_t> settled;
};

CampaignEngine::CampaignEngine(uv_loop_t* loop, db::Store& store, RequestPipeline& pipeline,
                               const GatewayConfig& config, const Clock& clock)
    : loop_(loop), store_(store), pipeline_(pipeline), config_(config), clock_(clock),
      pump_timer_(std::make_unique<uv::Timer>(loop)) {}

CampaignEngine::~CampaignEngine() {
    *alive_ = false;
}

void CampaignEngine::stop() {
    stopped_ = true;
    creating_.clear();
    pump_timer_->stop();
    scheduled_.clear();
    runs_.clear();
}

void CampaignEngine::in_one(const char* what, const std::function<void()>& work) {
    if (Status st = pipeline_.transactions().in_one(work); !st)
        log::error(kLog, std::string(what) + ": " + st.error().message);
}

void CampaignEngine::audit(const std::string& actor, const std::string& action,
                           const std::string& subject, const std::string& detail) {
    if (auto r = store_.append_audit({0, 0, actor, action, subject, detail}); !r)
        log::error(kLog, "audit log: " + r.error().message);
}

CampaignEngine::Run* CampaignEngine::run_of(int64_t campaign_id) {
    auto it = runs_.find(campaign_id);
    return it == runs_.end() ? nullptr : it->second.get();
}

Result<std::optional<db::Campaign>> CampaignEngine::find(std::string_view ref) {
    if (all_digits(ref) && ref.size() <= 18)
        return store_.campaign(std::stoll(std::string(ref)));
    return store_.campaign_by_name(ref);
}

// ---- creating --------------------------------------------------------------------------------

// A campaign being created, a step per turn of the loop (create()).
struct CampaignEngine::Creation {
    CampaignSpec spec;
    Created done;
    db::Application app;
    std::string selection;
    // From a target file: the lines not read yet, and the cards of those read.
    std::string_view rest;
    size_t line = 0;
    std::vector<std::pair<int64_t, size_t>> by_line; // card id, line
    std::vector<TargetLineError> bad;
    // From a filter: the inventory in card id order, from `after`.
    db::CardFilter filter;
    int64_t after = 0;
    bool looked_up = false;
    std::vector<int64_t> cards; // the targets, in order
    int64_t id = 0;             // the campaign, once recorded `creating`
    size_t inserted = 0;        // targets written
};

// Lines (or cards of a filter) looked up per turn of the loop: ~10 ms; targets written: ~20 ms.
constexpr size_t kCreationSlice = 2000;
constexpr size_t kInsertSlice = 10000;

Status CampaignEngine::name_is_free(const std::string& name) {
    std::optional<db::Campaign> taken;
    OTAGW_TRY_ASSIGN(taken, store_.campaign_by_name(name));
    if (taken)
        return make_error("a campaign named '" + name + "' exists already (id " +
                          std::to_string(taken->id) + ")");
    return {};
}

void CampaignEngine::create(CampaignSpec spec, Created done) {
    auto c = std::make_unique<Creation>();
    c->spec = std::move(spec);
    c->done = std::move(done);
    if (Status st = begin_creation(*c); !st) {
        c->done(st.take_error(), {});
        return;
    }
    Creation* raw = c.get();
    creating_.push_back(std::move(c));
    step_creation(raw);
}

Status CampaignEngine::begin_creation(Creation& c) {
    const CampaignSpec& spec = c.spec;
    if (!valid_name(spec.name))
        return make_error("name: 1 to 64 letters, digits, '-', '_' or '.', not only digits");
    auto op = campaign_operation(spec.operation);
    if (!op)
        return make_error("op: '" + spec.operation + "' is not " + kCampaignOperations);
    if (spec.rate < 0 || spec.rate > 1e6)
        return make_error("rate: 0 (no limit) to 1000000 per second");
    if (spec.window > kMaxWindow)
        return make_error("window: at most " + std::to_string(kMaxWindow));
    if (spec.retries > 100)
        return make_error("retries: at most 100");
    if (!spec.bearer.empty() && spec.bearer != "sms-pp" && spec.bearer != "bip" &&
        spec.bearer != "auto")
        return make_error("bearer: '" + spec.bearer + "' is none of sms-pp, bip, auto");
    if (spec.bearer == "bip" && !config_.ras.enabled())
        return make_error("bearer bip: this gateway has no ras node (doc/bip.md)");
    if (spec.targets_name.empty() == spec.filter.empty())
        return make_error("give either a target file or a filter");
    if (std::any_of(creating_.begin(), creating_.end(),
                    [&](const auto& other) { return other->spec.name == spec.name; }))
        return make_error("a campaign named '" + spec.name + "' is being created already");
    OTAGW_TRY_STATUS(name_is_free(spec.name));
    std::optional<db::Application> app;
    OTAGW_TRY_ASSIGN(app, store_.application_by_aid(spec.aid));
    if (!app)
        return make_error("aid: no application with AID " + spec.aid + " in the catalog");
    c.app = *app;
    if (spec.filter.empty()) {
        c.rest = spec.targets;
        c.selection = "file " + spec.targets_name;
        return {};
    }
    CampaignFilter f;
    OTAGW_TRY_ASSIGN(f, parse_campaign_filter(spec.filter));
    c.filter.msisdn_prefix = f.msisdn_prefix;
    c.filter.app_state = f.state;
    if (!f.app.empty()) {
        std::optional<db::Application> fa;
        OTAGW_TRY_ASSIGN(fa, store_.application_by_code(f.app));
        if (!fa)
            OTAGW_TRY_ASSIGN(fa, store_.application_by_aid(f.app));
        if (!fa) {
            std::vector<db::Application> all;
            OTAGW_TRY_ASSIGN(all, store_.applications());
            for (const auto& a : all)
                if (a.name == f.app)
                    fa = a;
        }
        if (!fa)
            return make_error("filter: no application '" + f.app +
                              "' (by code, AID or name) in the catalog");
        c.filter.app_aid = fa->aid;
    }
    c.selection = "filter " + spec.filter;
    return {};
}

Result<bool> CampaignEngine::look_up_slice(Creation& c) {
    if (!c.spec.filter.empty()) {
        std::vector<db::Card> page;
        OTAGW_TRY_ASSIGN(page, store_.list_cards(c.after, kCreationSlice, c.filter));
        for (const auto& card : page)
            c.cards.push_back(card.id);
        if (!page.empty())
            c.after = page.back().id;
        return page.size() < kCreationSlice;
    }
    // Every line is checked; the campaign is created only when every line is good.
    for (size_t n = 0; n < kCreationSlice && !c.rest.empty(); n++) {
        c.line++;
        const size_t nl = c.rest.find('\n');
        std::string_view l = c.rest.substr(0, nl);
        c.rest = nl == std::string_view::npos ? std::string_view() : c.rest.substr(nl + 1);
        auto ref = parse_target_line(l, c.line == 1);
        if (!ref) {
            c.bad.push_back({c.line, ref.error().message});
            continue;
        }
        if (!*ref)
            continue;
        std::optional<db::Card> card;
        const bool by_iccid = (*ref)->kind == TargetRef::Kind::Iccid;
        OTAGW_TRY_ASSIGN(card, by_iccid ? store_.card_by_iccid((*ref)->value)
                                        : store_.card_by_msisdn((*ref)->value));
        if (!card) {
            c.bad.push_back({c.line, std::string("no card with ") +
                                         (by_iccid ? "ICCID " : "MSISDN ") + (*ref)->value +
                                         " in the inventory"});
            continue;
        }
        c.by_line.emplace_back(card->id, c.line);
    }
    return c.rest.empty();
}

void CampaignEngine::step_creation(Creation* c) {
    counters_.inc("campaign:creation_slices");
    // Looked up, checked, the campaign recorded as `creating`, its targets written a slice at a
    // time, then `created` (or `scheduled`): each step in a turn of its own.
    Result<bool> done = false;
    if (!c->looked_up) {
        done = look_up_slice(*c);
        if (done && *done) {
            c->looked_up = true;
            Status st = begin_insert(*c);
            done = st ? Result<bool>(false) : Result<bool>(st.take_error());
        }
    } else {
        done = insert_slice(*c);
    }
    if (done && !*done) {
        uv::after_io(loop_, [this, alive = std::weak_ptr<bool>(alive_), c] {
            // Gone with stop(): nobody is answered any more (the next start removes a campaign
            // left `creating`).
            if (!alive.expired() && !stopped_)
                step_creation(c);
        });
        return;
    }
    Result<db::Campaign> created =
        done ? end_creation(*c) : Result<db::Campaign>(done.take_error());
    if (!created && c->id) // the targets written so far go with it
        if (Status st =
                pipeline_.transactions().atomically([&] { return store_.delete_campaign(c->id); });
            !st)
            log::error(kLog, "campaign " + c->spec.name + " (creating): " + st.error().message);
    auto it = std::find_if(creating_.begin(), creating_.end(),
                           [c](const auto& p) { return p.get() == c; });
    std::unique_ptr<Creation> ended = std::move(*it);
    creating_.erase(it);
    ended->done(std::move(created), std::move(ended->bad));
}

Status CampaignEngine::begin_insert(Creation& c) {
    const CampaignSpec& spec = c.spec;
    std::vector<int64_t>& cards = c.cards;
    if (spec.filter.empty()) {
        // The same card twice (by ICCID and by MSISDN, say): found by sorting, not by a hash
        // table of a million entries.
        std::vector<std::pair<int64_t, size_t>> sorted = c.by_line;
        std::sort(sorted.begin(), sorted.end());
        for (size_t i = 1, first = 0; i < sorted.size(); i++) {
            if (sorted[i].first != sorted[first].first)
                first = i; // (card, line) pairs sort each card's first line first
            else
                c.bad.push_back({sorted[i].second,
                                 "the same card as line " + std::to_string(sorted[first].second)});
        }
        sorted = {};
        std::sort(
            c.bad.begin(), c.bad.end(),
            [](const TargetLineError& x, const TargetLineError& y) { return x.line < y.line; });
        if (!c.bad.empty())
            return make_error(std::to_string(c.bad.size()) + " bad line" +
                              (c.bad.size() == 1 ? "" : "s") + " in the target file " +
                              spec.targets_name + "; no campaign created");
        cards.reserve(c.by_line.size());
        for (const auto& [card, at] : c.by_line)
            cards.push_back(card);
        c.by_line = {};
    }
    if (cards.empty())
        return make_error("no target: " + c.selection + " names no card");

    db::Campaign campaign;
    campaign.name = spec.name;
    campaign.operation = spec.operation;
    campaign.app_aid = c.app.aid;
    campaign.selection = c.selection;
    campaign.rate = spec.rate;
    campaign.window = spec.window ? spec.window : kDefaultWindow;
    campaign.retries = spec.retries;
    campaign.start_at = spec.start_at;
    campaign.state = campaign_state_name(CampaignState::Creating);
    campaign.actor = spec.actor;
    campaign.bearer = spec.bearer;
    return pipeline_.transactions().atomically([&]() -> Status {
        // Checked again in the transaction that takes the name: the lookup took turns.
        OTAGW_TRY_STATUS(name_is_free(spec.name));
        OTAGW_TRY_ASSIGN(c.id, store_.add_campaign(campaign));
        return {};
    });
}

Result<bool> CampaignEngine::insert_slice(Creation& c) {
    const size_t n = std::min(kInsertSlice, c.cards.size() - c.inserted);
    const std::vector<int64_t> slice(c.cards.begin() + static_cast<ptrdiff_t>(c.inserted),
                                     c.cards.begin() + static_cast<ptrdiff_t>(c.inserted + n));
    Status st = pipeline_.transactions().atomically([&] {
        return store_.add_campaign_targets(c.id, static_cast<int64_t>(c.inserted) + 1, slice);
    });
    OTAGW_TRY_STATUS(std::move(st));
    c.inserted += n;
    return c.inserted == c.cards.size();
}

Result<db::Campaign> CampaignEngine::end_creation(Creation& c) {
    const CampaignSpec& spec = c.spec;
    const CampaignStep step = campaign_step(CampaignState::Creating, CampaignEvent::Created,
                                            CampaignFacts{spec.start_at != 0});
    Status st = pipeline_.transactions().atomically([&]() -> Status {
        OTAGW_TRY_STATUS(store_.set_campaign_state(c.id, campaign_state_name(step.to)));
        audit(spec.actor, "campaign.created", spec.name,
              "campaign " + std::to_string(c.id) + ": " + spec.operation + " " + c.app.name +
                  " on " + std::to_string(c.cards.size()) + " cards (" + c.selection + ")");
        return {};
    });
    OTAGW_TRY_STATUS(std::move(st));
    counters_.inc("campaign:created");
    counters_.inc("campaign:targets", c.cards.size());
    log::notice(kLog, "campaign " + spec.name + " created: " + spec.operation + " on " +
                          std::to_string(c.cards.size()) + " cards");
    std::optional<db::Campaign> stored;
    OTAGW_TRY_ASSIGN(stored, store_.campaign(c.id));
    if (!stored)
        return make_error("campaign " + spec.name + " vanished while it was created");
    if (step.schedule)
        schedule(*stored);
    return *stored;
}

// ---- start, pause, resume, cancel -------------------------------------------------------------

void CampaignEngine::schedule(const db::Campaign& c) {
    auto& timer = scheduled_[c.id];
    timer = std::make_unique<uv::Timer>(loop_);
    const int64_t wait = std::max<int64_t>(c.start_at - clock_.now_ms(), 0);
    const int64_t id = c.id;
    timer->start(static_cast<uint64_t>(wait), [this, id] {
        std::shared_ptr<uv::Timer> fired(std::move(scheduled_[id]));
        scheduled_.erase(id);
        uv::defer(loop_, [fired] {});
        auto r = control(std::to_string(id), campaign_event_name(CampaignEvent::Start), "daemon");
        if (!r)
            log::notice(kLog, "scheduled campaign " + std::to_string(id) +
                                  " not started: " + r.error().message);
    });
}

Result<db::Campaign> CampaignEngine::control(std::string_view ref, std::string_view action,
                                             const std::string& actor) {
    const auto event = control_event(action);
    if (!event)
        return make_error("action: start, pause, resume or cancel, not '" + std::string(action) +
                              "'",
                          Errc::Invalid);
    std::optional<db::Campaign> found;
    OTAGW_TRY_ASSIGN(found, find(ref));
    if (!found)
        return make_error("no campaign '" + std::string(ref) + "'", Errc::NotFound);
    db::Campaign c = *found;
    const auto from = campaign_state_named(c.state);
    if (!from)
        return make_error("campaign " + c.name + ": unknown state '" + c.state + "'",
                          Errc::Corrupt);
    if (*from == CampaignState::Creating)
        return make_error("campaign " + c.name + " is still being created; it cannot be " +
                              campaign_event_past(*event) + " yet",
                          Errc::Conflict);
    CampaignFacts facts;
    facts.wait_for_start_at = !c.started_at && c.start_at && c.start_at > clock_.now_ms();
    const CampaignStep step = campaign_step(*from, *event, facts);
    if (!step.handled)
        return make_error("campaign " + c.name + " is " + c.state + "; it cannot be " +
                              campaign_event_past(*event),
                          Errc::Conflict);
    const std::string next = campaign_state_name(step.to);
    Status st = pipeline_.transactions().atomically([&]() -> Status {
        OTAGW_TRY_STATUS(store_.set_campaign_state(c.id, next));
        if (step.cancel_targets)
            OTAGW_TRY_STATUS(cancel_open_targets(run_of(c.id), c.id));
        audit(actor, std::string("campaign.") + campaign_event_past(*event), c.name,
              "campaign " + std::to_string(c.id) + " " + c.state + " -> " + next);
        return {};
    });
    OTAGW_TRY_STATUS(std::move(st));
    counters_.inc("campaign:" + std::string(action));
    log::notice(kLog, "campaign " + c.name + ": " + c.state + " -> " + next + " (" + actor + ")");
    if (*from == CampaignState::Scheduled)
        scheduled_.erase(c.id);
    OTAGW_TRY_ASSIGN(found, store_.campaign(c.id));
    c = *found;
    if (step.schedule)
        schedule(c);
    if (Run* run = run_of(c.id))
        run->c.state = c.state;
    else if (step.to == CampaignState::Running || step.to == CampaignState::Paused)
        OTAGW_TRY_STATUS(start_run(c));
    if (Run* run = run_of(c.id))
        maybe_finish(*run);
    kick();
    return c;
}

Status CampaignEngine::cancel_open_targets(Run* run, int64_t campaign_id) {
    const int64_t now = clock_.now_ms();
    for (int64_t after = 0;;) {
        std::vector<db::CampaignTarget> page;
        OTAGW_TRY_ASSIGN(page, store_.campaign_targets(campaign_id, after, kReadAhead, true));
        for (auto& t : page) {
            after = t.seq;
            const TargetStep step =
                target_step(target_state_named(t.state).value_or(TargetState::Running),
                            TargetEvent::Cancel, {});
            if (!step.handled)
                continue; // in flight: it ends as its request does
            t.state = target_state_name(step.to);
            t.reason = step.reason;
            t.finished_at = now;
            OTAGW_TRY_STATUS(store_.update_campaign_target(t));
            if (run)
                run->settled[{t.state, t.reason}]++;
            counters_.inc("campaign:cancelled_targets");
        }
        if (page.size() < kReadAhead)
            break;
    }
    if (run) {
        run->ready.clear();
        run->queued.clear();
        run->retries.clear();
        run->exhausted = true;
    }
    return {};
}

// A campaign that runs (or is paused with targets in flight): what this process knows of it,
// read back from the store after a restart.
Status CampaignEngine::start_run(const db::Campaign& c) {
    auto run = std::make_unique<Run>();
    run->c = c;
    run->op = campaign_operation(c.operation).value_or(Operation::Query);
    run->refilled_at = clock_.now_ms();
    run->resumed_at = run->refilled_at;
    std::vector<db::CampaignTally> tally;
    OTAGW_TRY_ASSIGN(tally, store_.campaign_tally(c.id));
    for (const auto& t : tally) {
        run->total += t.count;
        if (auto state = target_state_named(t.state); state && target_settled(*state))
            run->settled[{t.state, t.reason}] += t.count;
    }
    std::vector<db::CampaignTarget> orphans;
    for (int64_t after = 0;;) {
        std::vector<db::CampaignTarget> page;
        OTAGW_TRY_ASSIGN(page, store_.campaign_targets(c.id, after, kReadAhead, true));
        for (auto& t : page) {
            after = t.seq;
            if (in_state(t, TargetState::Running)) {
                run->running[t.seq] = t;
                orphans.push_back(t);
            } else if (t.next_at) {
                run->retries.emplace(t.next_at, t.seq);
            }
        }
        if (page.size() < kReadAhead)
            break;
    }
    Run& r = *run;
    runs_[c.id] = std::move(run);
    // A target in flight follows its request, which the pipeline resumed; one whose request
    // already ended (or never started) is settled now.
    for (auto& t : orphans) {
        std::optional<db::Request> req;
        if (t.request_id)
            OTAGW_TRY_ASSIGN(req, store_.request(t.request_id));
        if (!req) { // never started: pending again, read ahead like the others
            r.running.erase(t.seq);
            t.state =
                target_state_name(target_step(TargetState::Running, TargetEvent::Orphaned, {}).to);
            OTAGW_TRY_STATUS(store_.update_campaign_target(t));
        } else if (db::request_finished(req->state)) {
            auto ctx = request_context(*req);
            if (!ctx)
                log::error(kLog, "campaign " + c.name + ": " + ctx.error().message);
            else
                in_one("campaign resume", [&] { on_request_finished(*req, *ctx); });
        }
    }
    return {};
}

Status CampaignEngine::resume() {
    std::vector<db::Campaign> all;
    OTAGW_TRY_ASSIGN(all, store_.campaigns());
    size_t n = 0;
    for (const auto& c : all) {
        if (in_state(c, CampaignState::Creating)) {
            // Its creation did not end (the daemon stopped meanwhile) and nobody was told it
            // was created: it goes, with the targets written so far.
            Status removed = pipeline_.transactions().atomically([&]() -> Status {
                OTAGW_TRY_STATUS(store_.delete_campaign(c.id));
                audit("daemon", "campaign.abandoned", c.name,
                      "campaign " + std::to_string(c.id) +
                          ": its creation did not end before the daemon stopped; removed");
                return {};
            });
            OTAGW_TRY_STATUS(std::move(removed));
            log::notice(kLog, "campaign " + c.name +
                                  " was being created when the daemon stopped: removed");
            continue;
        }
        if (in_state(c, CampaignState::Running) || in_state(c, CampaignState::Paused)) {
            OTAGW_TRY_STATUS(start_run(c));
            n++;
        } else if (in_state(c, CampaignState::Scheduled)) {
            schedule(c);
            n++;
        }
    }
    if (n)
        log::notice(kLog, "resumed " + std::to_string(n) + " campaigns");
    for (auto& [id, run] : runs_)
        maybe_finish(*run);
    kick();
    return {};
}

// ---- pacing ----------------------------------------------------------------------------------

void CampaignEngine::kick() {
    // A pump due within kCoalesceMs is enough (launches then go out in batches, one commit
    // each); one set for later (a retry's wake) is brought forward.
    if (stopped_ || (kicked_ && pump_due_ <= uv_now(loop_) + kCoalesceMs))
        return;
    kicked_ = true;
    pump_due_ = uv_now(loop_);
    pump_timer_->start(0, [this] { pump(); });
}

bool CampaignEngine::refill(Run& run) {
    if (run.exhausted)
        return false;
    auto page = store_.campaign_targets(run.c.id, run.cursor, kReadAhead, true);
    if (!page) {
        log::error(kLog, "campaign " + run.c.name + ": " + page.error().message);
        return false;
    }
    for (auto& t : *page) {
        run.cursor = t.seq;
        if (!in_state(t, TargetState::Pending) || t.next_at || run.running.count(t.seq) ||
            !run.queued.insert(t.seq).second)
            continue; // in flight, waiting for a retry (in `retries`), or read already
        run.ready.push_back(std::move(t));
    }
    if (page->size() < kReadAhead)
        run.exhausted = true;
    return !run.ready.empty();
}

std::optional<db::CampaignTarget> CampaignEngine::next_target(Run& run, int64_t now) {
    while (!run.retries.empty() && run.retries.begin()->first <= now) {
        const int64_t seq = run.retries.begin()->second;
        run.retries.erase(run.retries.begin());
        auto t = store_.campaign_target(run.c.id, seq);
        if (t && *t && in_state(**t, TargetState::Pending) && !run.running.count(seq) &&
            !run.queued.count(seq))
            return std::move(**t);
    }
    if (run.ready.empty())
        refill(run);
    while (!run.ready.empty()) {
        db::CampaignTarget t = std::move(run.ready.front());
        run.ready.pop_front();
        run.queued.erase(t.seq);
        if (!run.running.count(t.seq))
            return t;
    }
    return std::nullopt;
}

void CampaignEngine::pump() {
    kicked_ = false;
    if (stopped_ || runs_.empty())
        return;
    const int64_t now = clock_.now_ms();
    int64_t wake = -1; // ms until a paced campaign may start its next target
    auto wake_in = [&](int64_t ms) {
        wake = wake < 0 ? ms : std::min(wake, ms);
    };
    size_t launched = 0;
    bool more = false;
    in_one("campaign pump", [&] {
        bool progress = true;
        while (progress && launched < kLaunchesPerTurn) {
            progress = false;
            // Fair shares: one target per running campaign per round, starting after the one
            // that went last.
            std::vector<Run*> order;
            for (auto it = runs_.upper_bound(turn_); it != runs_.end(); ++it)
                order.push_back(it->second.get());
            for (auto it = runs_.begin(); it != runs_.end() && it->first <= turn_; ++it)
                order.push_back(it->second.get());
            for (Run* run : order) {
                if (!in_state(run->c, CampaignState::Running) ||
                    run->running.size() >= run->c.window)
                    continue;
                if (esme_ && esme_->bulk_queued() >= kBulkQueueCap) {
                    wake_in(10); // the SMSC's pace: wait for the bulk lane to drain
                    break;
                }
                if (run->c.rate > 0) {
                    const double burst = std::max(1.0, run->c.rate / 20);
                    run->tokens = std::min(
                        burst, run->tokens + run->c.rate * double(now - run->refilled_at) / 1000.0);
                    run->refilled_at = now;
                    if (run->tokens < 1) {
                        wake_in(std::max<int64_t>(
                            1, static_cast<int64_t>((1 - run->tokens) * 1000 / run->c.rate)));
                        continue;
                    }
                }
                auto t = next_target(*run, now);
                if (!t) {
                    if (!run->retries.empty())
                        wake_in(std::max<int64_t>(1, run->retries.begin()->first - now));
                    continue;
                }
                if (run->c.rate > 0)
                    run->tokens -= 1;
                turn_ = run->c.id;
                launch(*run, std::move(*t), false);
                launched++;
                progress = true;
            }
        }
        more = progress;
    });
    counters_.inc("campaign:targets_started", launched);
    size_t in_flight = 0;
    std::vector<Run*> idle;
    for (auto& [id, run] : runs_) {
        in_flight += run->running.size();
        idle.push_back(run.get());
    }
    counters_.set("campaign:in_flight", in_flight);
    for (Run* run : idle)
        maybe_finish(*run);
    if (more)
        kick(); // the loop serves I/O first
    else if (wake >= 0 && !kicked_) {
        kicked_ = true;
        pump_due_ = uv_now(loop_) + static_cast<uint64_t>(wake);
        pump_timer_->start(static_cast<uint64_t>(wake), [this] { pump(); });
    }
}

void CampaignEngine::launch(Run& run, db::CampaignTarget t, bool audit_first) {
    const int64_t now = clock_.now_ms();
    NewRequest n;
    n.source = "campaign";
    n.actor = "campaign:" + run.c.name;
    n.iccid = t.iccid;
    n.app_aid = run.c.app_aid;
    n.operation = operation_name(audit_first ? Operation::Query : run.op);
    n.related = !audit_first && run.c.operation == kDeletePackage;
    n.bearer = run.c.bearer;
    n.campaign_id = run.c.id;
    n.campaign_seq = t.seq;
    TargetFacts facts = facts_of(run, t);
    facts.audit = audit_first;
    const TargetStep launched = target_step(TargetState::Pending, TargetEvent::Launch, facts);
    t.state = target_state_name(launched.to);
    t.reason.clear();
    t.attempts = static_cast<uint32_t>(static_cast<int64_t>(t.attempts) + launched.attempts_delta);
    if (!t.started_at)
        t.started_at = now;
    t.next_at = 0;
    // The target is written once, with its request, in the transaction that creates it.
    auto submitted = pipeline_.submit(n);
    if (!submitted) {
        settle(run, t, TargetState::Failed, "internal_error");
        log::error(kLog, "campaign " + run.c.name + " target " + std::to_string(t.seq) + ": " +
                             submitted.error().message);
        return;
    }
    const RequestContext& ctx = submitted->ctx;
    t.request_id = submitted->request.id;
    if (is_final(ctx.state)) { // refused at intake, or it ended inside submit() (no SMSC, say)
        const TargetEvent e =
            ctx.state == RequestState::Refused ? TargetEvent::Refused : TargetEvent::Ended;
        apply(&run, std::move(t), e, &ctx);
        return;
    }
    if (Status st = store_.update_campaign_target(t); !st)
        log::error(kLog, st.error().message);
    run.running[t.seq] = std::move(t);
}

TargetFacts CampaignEngine::facts_of(const Run& run, const db::CampaignTarget& t) const {
    TargetFacts f;
    f.op = run.op;
    f.may_retry = runs_.count(run.c.id) && !in_state(run.c, CampaignState::Cancelled);
    f.attempts = t.attempts;
    f.retries = run.c.retries;
    return f;
}

void CampaignEngine::apply(Run* run, db::CampaignTarget t, TargetEvent event,
                           const RequestContext* request) {
    Run fallback; // a campaign not running here (cancelled): the target is still settled
    if (!run) {
        if (auto c = store_.campaign(t.campaign_id); c && *c) {
            fallback.c = **c;
            fallback.op = campaign_operation(fallback.c.operation).value_or(Operation::Query);
        }
        run = &fallback;
    }
    TargetFacts facts = facts_of(*run, t);
    facts.request = request;
    const auto from = target_state_named(t.state);
    const TargetStep step = from ? target_step(*from, event, facts) : TargetStep{};
    if (!step.handled) {
        log::info(kLog, "campaign " + run->c.name + " target " + std::to_string(t.seq) + ": " +
                            target_event_name(event) + " in state " + t.state + ": ignored");
        return;
    }
    if (log::enabled(log::Level::Debug, kLog))
        log::debug(kLog, "campaign " + run->c.name + " target " + std::to_string(t.seq) +
                             " (ICCID " + t.iccid + "): " + t.state + " --" +
                             target_event_name(event) + "--> " + target_state_name(step.to) +
                             (step.reason.empty() ? "" : " (" + step.reason + ")"));
    t.attempts = static_cast<uint32_t>(
        std::max<int64_t>(0, static_cast<int64_t>(t.attempts) + step.attempts_delta));
    if (!step.card_state.empty())
        t.card_state = step.card_state;
    if (request && request->data.por_status)
        t.por_status = ota::por_status_name(*request->data.por_status);
    switch (step.action) {
    case TargetAction::Settle:
        settle(*run, t, step.to, step.reason);
        break;
    case TargetAction::RetryLater:
        retry_later(*run, t, step.reason);
        break;
    case TargetAction::Requeue: // the operation is still to do: next
        t.state = target_state_name(step.to);
        run->running.erase(t.seq);
        if (Status st = store_.update_campaign_target(t); !st)
            log::error(kLog, st.error().message);
        if (run->queued.insert(t.seq).second)
            run->ready.push_front(t);
        break;
    case TargetAction::AuditFirst:
        counters_.inc("campaign:audit_first");
        launch(*run, std::move(t), true);
        break;
    case TargetAction::None:
        break;
    }
    kick();
}

void CampaignEngine::settle(Run& run, db::CampaignTarget& t, TargetState outcome,
                            const std::string& reason) {
    const int64_t now = clock_.now_ms();
    const std::string name = target_state_name(outcome);
    t.state = name;
    t.reason = reason;
    t.finished_at = now;
    t.next_at = 0;
    if (Status st = store_.update_campaign_target(t); !st)
        log::error(kLog, st.error().message);
    run.settled[{name, reason}]++;
    run.running.erase(t.seq);
    run.finished_at.push_back(now);
    while (!run.finished_at.empty() && run.finished_at.front() < now - kRateWindowMs)
        run.finished_at.pop_front();
    counters_.inc("campaign:" + name);
    if (!reason.empty())
        counters_.inc("campaign:" + name + ":" + reason);
}

void CampaignEngine::retry_later(Run& run, db::CampaignTarget& t, const std::string& reason) {
    const uint64_t base = uint64_t{config_.ota.campaign_retry_delay_s} * 1000;
    const uint64_t delay =
        std::min(uint64_t{config_.ota.campaign_retry_max_s} * 1000,
                 base << std::min<uint32_t>(t.attempts ? t.attempts - 1 : 0, 10));
    t.state = target_state_name(TargetState::Pending);
    t.reason = reason;
    t.next_at = clock_.now_ms() + static_cast<int64_t>(delay);
    if (Status st = store_.update_campaign_target(t); !st)
        log::error(kLog, st.error().message);
    run.running.erase(t.seq);
    run.retries.emplace(t.next_at, t.seq);
    counters_.inc("campaign:retried");
    counters_.inc("campaign:retried:" + reason);
}

void CampaignEngine::on_request_finished(const db::Request& r, const RequestContext& ctx) {
    if (r.source != "campaign" || !ctx.data.campaign_id)
        return;
    const int64_t id = ctx.data.campaign_id, seq = ctx.data.campaign_seq;
    Run* run = run_of(id);
    std::optional<db::CampaignTarget> t;
    if (run)
        if (auto it = run->running.find(seq); it != run->running.end())
            t = it->second;
    if (!t) {
        auto found = store_.campaign_target(id, seq);
        if (!found || !*found || !in_state(**found, TargetState::Running))
            return; // a stale request (its target moved on)
        t = std::move(**found);
    }
    t->request_id = r.id;
    apply(run, std::move(*t), TargetEvent::Ended, &ctx);
}

void CampaignEngine::maybe_finish(Run& run) {
    const bool drained = run.exhausted && run.ready.empty() && run.retries.empty();
    if (!run.running.empty())
        return;
    const CampaignStep finished =
        campaign_step(campaign_state_named(run.c.state).value_or(CampaignState::Paused),
                      CampaignEvent::Drained, {});
    if (finished.handled && drained) {
        auto tally = store_.campaign_tally(run.c.id);
        std::string summary;
        if (tally)
            for (const auto& t : *tally)
                summary += (summary.empty() ? "" : ", ") + std::to_string(t.count) + " " + t.state +
                           (t.reason.empty() ? "" : " (" + t.reason + ")");
        in_one("campaign finished", [&] {
            if (Status st = store_.set_campaign_state(run.c.id, campaign_state_name(finished.to));
                !st)
                log::error(kLog, st.error().message);
            audit("daemon", "campaign.finished", run.c.name,
                  "campaign " + std::to_string(run.c.id) + ": " + summary);
        });
        counters_.inc("campaign:finished");
        log::notice(kLog, "campaign " + run.c.name + " finished: " + summary);
        run.c.state = campaign_state_name(finished.to);
    }
    if (db::campaign_finished(run.c.state)) {
        const int64_t id = run.c.id;
        uv::defer(loop_, [this, alive = std::weak_ptr<bool>(alive_), id] {
            if (!alive.expired())
                runs_.erase(id);
        });
    }
}

// ---- status ----------------------------------------------------------------------------------

CampaignEngine::Json CampaignEngine::target_json(const db::CampaignTarget& t) {
    return Json{{"seq", t.seq},
                {"iccid", t.iccid},
                {"msisdn", t.msisdn},
                {"state", t.state},
                {"reason", t.reason},
                {"card_state", t.card_state},
                {"por_status", t.por_status},
                {"attempts", t.attempts},
                {"request_id", t.request_id ? Json(t.request_id) : Json(nullptr)},
                {"started_at", t.started_at ? Json(t.started_at) : Json(nullptr)},
                {"finished_at", t.finished_at ? Json(t.finished_at) : Json(nullptr)}};
}

Result<CampaignEngine::Json> CampaignEngine::status(const db::Campaign& c) {
    std::vector<db::CampaignTally> tally;
    if (const Run* run = run_of(c.id)) {
        uint64_t settled = 0;
        for (const auto& [key, count] : run->settled) {
            tally.push_back({key.first, key.second, count});
            settled += count;
        }
        const uint64_t running = run->running.size();
        tally.push_back({target_state_name(TargetState::Running), "", running});
        tally.push_back({target_state_name(TargetState::Pending), "",
                         run->total - std::min(run->total, settled + running)});
    } else {
        OTAGW_TRY_ASSIGN(tally, store_.campaign_tally(c.id));
    }
    Json counts = {{"total", 0}};
    for (size_t i = 0; i < kTargetStateCount; i++)
        counts[target_state_name(static_cast<TargetState>(i))] = 0;
    Json failed = Json::object(), skipped = Json::object();
    uint64_t total = 0, open = 0;
    for (const auto& t : tally) {
        total += t.count;
        counts[t.state] = counts.value(t.state, uint64_t{0}) + t.count;
        const auto state = target_state_named(t.state);
        if (state == TargetState::Failed)
            failed[t.reason] = t.count;
        if (state == TargetState::Skipped)
            skipped[t.reason] = t.count;
        if (state && !target_settled(*state))
            open += t.count;
    }
    counts["total"] = total;
    const uint64_t done = total - open;
    double rate = 0;
    if (Run* run = run_of(c.id)) {
        const int64_t now = clock_.now_ms();
        while (!run->finished_at.empty() && run->finished_at.front() < now - kRateWindowMs)
            run->finished_at.pop_front();
        const int64_t span =
            std::min(kRateWindowMs, std::max<int64_t>(now - run->resumed_at, 1000));
        rate = double(run->finished_at.size()) * 1000.0 / double(span);
    } else if (c.started_at && c.finished_at > c.started_at) {
        rate = double(done) * 1000.0 / double(c.finished_at - c.started_at); // the average
    }
    const uint64_t left = total - done;
    Json eta = nullptr;
    if (left && rate > 0)
        eta = static_cast<int64_t>(double(left) / rate);
    else if (!left)
        eta = 0;
    Json j{{"id", c.id},
           {"name", c.name},
           {"state", c.state},
           {"operation", c.operation},
           {"aid", c.app_aid},
           {"selection", c.selection},
           {"rate_limit", c.rate},
           {"window", c.window},
           {"retries", c.retries},
           {"bearer", c.bearer.empty() ? Json(nullptr) : Json(c.bearer)},
           {"start_at", c.start_at ? Json(c.start_at) : Json(nullptr)},
           {"actor", c.actor},
           {"created_at", c.created_at},
           {"started_at", c.started_at ? Json(c.started_at) : Json(nullptr)},
           {"finished_at", c.finished_at ? Json(c.finished_at) : Json(nullptr)},
           {"done", done},
           {"counts", counts},
           {"failed_by_reason", failed},
           {"skipped_by_reason", skipped},
           {"rate", std::round(rate * 10) / 10},
           {"eta_s", eta}};
    return j;
}

std::vector<std::string> CampaignEngine::show() const {
    std::vector<std::string> out;
    for (const auto& [id, run] : runs_)
        out.push_back("campaign " + std::to_string(id) + " " + run->c.name + " " + run->c.state +
                      ": " + std::to_string(run->running.size()) + " in flight, " +
                      std::to_string(run->ready.size()) + " read ahead, " +
                      std::to_string(run->retries.size()) + " waiting to retry");
    if (out.empty())
        out.push_back("No campaign running");
    return out;
}

} // namespace otagw::gateway
