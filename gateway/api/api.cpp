// SPDX-License-Identifier: GPL-2.0-or-later
#include "api/api.hpp"
#include "intake/msisdn.hpp"

#include <cctype>
#include <charconv>
#include <cstring>

#include "inventory/importer.hpp"
#include "otagw/common/crypto.hpp"
#include "otagw/common/log.hpp"
#include "otagw/common/text.hpp"
#include "requests/request_data.hpp"

namespace otagw::gateway {

namespace {

// A JSON answer. Stored text is UTF-8 (the store replaces what is not), and bytes that are not
// would be replaced here too: a JSON text never aborts the daemon.
http::Response json_response(int status, const Json& body) {
    return {
        status, "application/json", body.dump(-1, ' ', false, Json::error_handler_t::replace), {}};
}

http::Response error(int status, const std::string& message) {
    return json_response(status, Json{{"error", message}});
}

} // namespace

http::Response storage_error_response(const Error& e) {
    if (!storage_unavailable(e))
        return error(500, e.message);
    const bool busy = e.code == Errc::Busy;
    http::Response r = error(
        503, (busy ? "database busy, nothing was changed; retry: " : "database cannot store: ") +
                 e.message);
    r.headers.emplace_back("Retry-After", busy ? "1" : "10");
    return r;
}

namespace {

std::string sha256_hex(std::string_view text) {
    return to_hex(
        crypto::sha256(ByteView(reinterpret_cast<const uint8_t*>(text.data()), text.size())));
}

// A number query parameter within [min, max]; the error names it.
Result<int64_t> int_param(const http::Request& r, const char* name, int64_t fallback, int64_t min,
                          int64_t max) {
    const std::string* v = r.param(name);
    if (!v)
        return fallback;
    int64_t out = 0;
    const auto res = std::from_chars(v->data(), v->data() + v->size(), out);
    if (res.ec != std::errc() || res.ptr != v->data() + v->size() || out < min || out > max)
        return make_error(std::string("query parameter ") + name + ": a number from " +
                          std::to_string(min) + " to " + std::to_string(max));
    return out;
}

Json card_summary(const db::Card& c) {
    return Json{{"iccid", c.iccid},           {"imsi", c.imsi},
                {"msisdn", c.msisdn},         {"status", c.status},
                {"created_at", c.created_at}, {"updated_at", c.updated_at}};
}

Json app_json(const db::CardApp& a) {
    Json j{{"aid", a.aid}, {"state", a.state}};
    j["life_cycle"] = a.life_cycle ? Json(to_hex(ByteView(&*a.life_cycle, 1))) : Json(nullptr);
    j["load_file"] = a.load_file_aid;
    j["module"] = a.module_aid;
    j["updated_at"] = a.updated_at;
    return j;
}

// Streams an inventory file into the importer as the body arrives.
class ImportSink final : public http::BodySink {
public:
    ImportSink(db::Store& store, bool apply, bool stop_first, std::string who, std::string name,
               Counters& counters)
        : store_(store), importer_(store, apply, stop_first), who_(std::move(who)),
          name_(std::move(name)), counters_(counters),
          failed_commits_at_start_(store.failed_commits()) {}

    Result<bool> data(std::string_view chunk) override {
        importer_.feed(chunk); // once stopped, the rest of the body is read and dropped
        return true;
    }

    void end(http::Responder respond) override {
        const ImportReport& r = importer_.finish();
        if (store_.failed_commits() != failed_commits_at_start_) {
            // Batches counted as inserted were lost with a failed commit: say so, not "200".
            counters_.inc("api:import:lost");
            log::error("api", "inventory import of " + name_ + " by " + who_ +
                                  ": a commit failed while it ran, the import is incomplete");
            respond(storage_error_response(
                make_error("a commit failed during the import, part of it was not stored; "
                           "run it again once the database can be written (cards already "
                           "stored count as unchanged)" +
                               (r.error.empty() ? std::string() : ": " + r.error),
                           Errc::Io)));
            return;
        }
        counters_.inc("api:import:" + r.mode);
        counters_.inc("api:import:cards_inserted", r.inserted);
        Json detail{{"mode", r.mode},          {"lines", r.lines},         {"cards", r.cards},
                    {"inserted", r.inserted},  {"unchanged", r.unchanged}, {"updated", r.updated},
                    {"issues", r.issues_total}};
        if (r.mode == "apply") {
            auto audit =
                store_.append_audit({0, 0, who_, "inventory.import", name_, detail.dump()});
            if (!audit)
                log::error("api", "audit log: " + audit.error().message);
        }
        log::notice("api", "inventory " + r.mode + " of " + name_ + " by " + who_ + ": " +
                               detail.dump() +
                               (r.mode == "apply" ? ", answered once committed" : ""));
        respond(json_response(r.error.empty() ? 200 : 500, r.to_json()));
    }

private:
    db::Store& store_;
    Importer importer_;
    std::string who_, name_;
    Counters& counters_;
    const uint64_t failed_commits_at_start_;
};

// POST /v1/campaigns: the parameters in the query, the target file (if any) as the body, up to
// 64 MiB (a million ICCIDs); created once the body is in.
class CampaignSink final : public http::BodySink {
public:
    static constexpr size_t kMaxTargets = 64u << 20;
    CampaignSink(CampaignEngine& engine, CampaignSpec spec, Counters& counters)
        : engine_(engine), spec_(std::move(spec)), counters_(counters) {}

    Result<bool> data(std::string_view chunk) override {
        if (spec_.targets.size() + chunk.size() > kMaxTargets)
            return make_error("the target file is larger than " +
                              std::to_string(kMaxTargets >> 20) + " MiB");
        spec_.targets.append(chunk);
        return true;
    }

    void end(http::Responder respond) override {
        if (spec_.filter.empty() && spec_.targets_name.empty())
            spec_.targets_name = "(upload)";
        // Answered once created: the engine outlives its creations (stop() drops them), the
        // sink does not.
        CampaignEngine& engine = engine_;
        Counters& counters = counters_;
        engine_.create(std::move(spec_), [&engine, &counters, respond = std::move(respond)](
                                             Result<db::Campaign> created,
                                             std::vector<TargetLineError> bad) {
            if (!created && storage_unavailable(created.error())) {
                respond(storage_error_response(created.error()));
                return;
            }
            if (!created) {
                counters.inc("api:campaign:refused");
                Json body{{"error", created.error().message}};
                if (!bad.empty()) {
                    Json lines = Json::array();
                    for (size_t i = 0; i < bad.size() && i < 10000; i++)
                        lines.push_back({{"line", bad[i].line}, {"error", bad[i].message}});
                    body["bad_lines"] = bad.size();
                    body["lines"] = lines;
                }
                respond(json_response(400, body));
                return;
            }
            auto status = engine.status(*created);
            respond(status ? json_response(201, *status) : storage_error_response(status.error()));
        });
    }

private:
    CampaignEngine& engine_;
    CampaignSpec spec_;
    Counters& counters_;
};

Result<double> number_param(const http::Request& r, const char* name, double fallback, double min,
                            double max) {
    const std::string* v = r.param(name);
    if (!v)
        return fallback;
    char* end = nullptr;
    const double d = v->empty() ? -1 : std::strtod(v->c_str(), &end);
    if (v->empty() || *end || !(d >= min && d <= max))
        return make_error(std::string("query parameter ") + name + ": a number from " +
                          std::to_string(static_cast<int64_t>(min)) + " to " +
                          std::to_string(static_cast<int64_t>(max)));
    return d;
}

} // namespace

Json application_json(const db::Application& a) {
    return Json{{"name", a.name},
                {"aid", a.aid},
                {"code", a.code},
                {"type", a.type},
                {"load_file", a.load_file_aid},
                {"module", a.module_aid},
                {"install_params", a.install_params},
                {"tar", a.tar},
                {"msl", to_hex(ByteView(&a.msl, 1))},
                {"provider", a.provider}};
}

Result<Json> card_view(db::Store& store, const db::Card& c) {
    Json j = card_summary(c);
    auto keysets = store.keysets(c.id);
    if (!keysets)
        return keysets.take_error();
    Json ks = Json::array();
    for (const auto& k : *keysets) // KVN, algorithm and counter: never the keys
        ks.push_back({{"kvn", k.kvn}, {"algorithm", k.algorithm}, {"counter", k.counter}});
    j["keysets"] = ks;
    auto psk = store.psk_keysets(c.id);
    if (!psk)
        return psk.take_error();
    Json ps = Json::array();
    for (const auto& k : *psk) // KVN, KID, identity and DEK algorithm: never the keys
        ps.push_back({{"kvn", to_hex(ByteView(&k.kvn, 1))},
                      {"kid", to_hex(ByteView(&k.kid, 1))},
                      {"identity", to_hex(k.identity)},
                      {"dek_algorithm", k.dek_algorithm}});
    j["scp81_keysets"] = ps;
    auto tars = store.card_tars(c.id);
    if (!tars)
        return tars.take_error();
    Json ts = Json::array();
    for (const auto& t : *tars) {
        Json tj{{"tar", t.tar}, {"kind", t.kind}, {"msl", to_hex(ByteView(&t.msl, 1))}};
        if (!t.aid.empty())
            tj["aid"] = t.aid;
        ts.push_back(tj);
    }
    j["tars"] = ts;
    auto files = store.card_load_files(c.id);
    if (!files)
        return files.take_error();
    Json fs = Json::array();
    for (const auto& f : *files)
        fs.push_back({{"aid", f.aid}, {"modules", f.modules}});
    j["load_files"] = fs;
    auto apps = store.card_apps(c.id);
    if (!apps)
        return apps.take_error();
    Json as = Json::array();
    for (const auto& a : *apps)
        as.push_back(app_json(a));
    j["apps"] = as;
    return j;
}

// The text an API call brings that the API reads (its path, its query, the headers it uses) is
// UTF-8, else the 400 names the part that is not. (JSON bodies: the parser refuses it.)
std::optional<http::Response> not_utf8(const http::Request& r) {
    if (!is_valid_utf8(r.path))
        return error(400, "the path is not valid UTF-8");
    for (const auto& [name, value] : r.query)
        if (!is_valid_utf8(name) || !is_valid_utf8(value))
            return error(400, "query parameter " + to_valid_utf8(name) + ": not valid UTF-8");
    for (const char* name : {"idempotency-key"})
        if (const std::string* v = r.header(name); v && !is_valid_utf8(*v))
            return error(400, std::string("header ") + name + ": not valid UTF-8");
    return std::nullopt;
}

Api::Api(db::Store& store, const ApiConfig& config, Hooks hooks)
    : store_(store), config_(config), hooks_(std::move(hooks)) {}

std::string Api::authenticate(const http::Request& r) const {
    // RFC 9110 §11.1, §11.4: "Bearer" in any case, then one or more spaces, then the token.
    const std::string* h = r.header("authorization");
    if (!h || h->size() < 8)
        return {};
    const std::string_view v = *h;
    for (size_t i = 0; i < 6; i++)
        if (std::tolower(static_cast<unsigned char>(v[i])) != "bearer"[i])
            return {};
    const size_t token = v.find_first_not_of(' ', 6);
    if (v[6] != ' ' || token == std::string_view::npos)
        return {};
    const std::string digest = sha256_hex(v.substr(token));
    std::string who;
    for (const auto& t : config_.tokens)
        if (equal_ct(ByteView(reinterpret_cast<const uint8_t*>(digest.data()), digest.size()),
                     ByteView(reinterpret_cast<const uint8_t*>(t.sha256.data()), t.sha256.size())))
            who = t.name;
    return who;
}

std::unique_ptr<http::BodySink> Api::stream(const http::Request& r,
                                            std::optional<http::Response>& reject) {
    const bool campaign = r.path == "/v1/campaigns" && r.method == "POST";
    if (r.path != "/v1/inventory/import" && !campaign)
        return nullptr; // buffered, handled (and authenticated) in handle()
    const std::string who = authenticate(r);
    if (who.empty()) {
        counters_.inc("api:unauthorized");
        reject = error(401, "missing or unknown bearer token");
        reject->headers.emplace_back("WWW-Authenticate", "Bearer");
        return nullptr;
    }
    if ((reject = not_utf8(r))) {
        counters_.inc("api:errors");
        return nullptr;
    }
    if (campaign) {
        counters_.inc("api:requests");
        if (!hooks_.campaigns) {
            reject = error(503, "the campaign engine is not running");
            return nullptr;
        }
        CampaignSpec spec;
        spec.actor = "api:" + who;
        for (const auto& [key, field] : std::initializer_list<std::pair<const char*, std::string*>>{
                 {"name", &spec.name},
                 {"op", &spec.operation},
                 {"aid", &spec.aid},
                 {"filter", &spec.filter},
                 {"targets_name", &spec.targets_name},
                 {"bearer", &spec.bearer}})
            if (const std::string* v = r.param(key))
                *field = *v;
        auto aid = parse_hex(spec.aid, "aid");
        if (!aid || aid->size() < 5 || aid->size() > 16) {
            reject = error(400, "query parameter aid: the application's AID, 5 to 16 bytes in hex");
            return nullptr;
        }
        spec.aid = to_hex(*aid);
        auto rate = number_param(r, "rate", 0, 0, 1e6);
        auto window = int_param(r, "window", 0, 0, CampaignEngine::kMaxWindow);
        auto retries = int_param(r, "retries", 3, 0, 100);
        auto start_at = int_param(r, "start_at", 0, 0, INT64_MAX);
        for (const Status& st :
             {rate ? Status() : Status(rate.error()), window ? Status() : Status(window.error()),
              retries ? Status() : Status(retries.error()),
              start_at ? Status() : Status(start_at.error())})
            if (!st) {
                reject = storage_unavailable(st.error()) ? storage_error_response(st.error())
                                                         : error(400, st.error().message);
                return nullptr;
            }
        spec.rate = *rate;
        spec.window = static_cast<uint32_t>(*window);
        spec.retries = static_cast<uint32_t>(*retries);
        spec.start_at = *start_at;
        return std::make_unique<CampaignSink>(*hooks_.campaigns, std::move(spec), counters_);
    }
    if (r.method != "POST") {
        reject = error(405, "POST the inventory file to /v1/inventory/import");
        return nullptr;
    }
    const std::string* mode = r.param("mode");
    const std::string* on_error = r.param("on_error");
    const std::string* name = r.param("name");
    if (mode && *mode != "validate" && *mode != "apply") {
        reject = error(400, "query parameter mode: validate or apply");
        return nullptr;
    }
    if (on_error && *on_error != "stop" && *on_error != "skip") {
        reject = error(400, "query parameter on_error: stop or skip");
        return nullptr;
    }
    const bool apply = mode && *mode == "apply";
    const bool stop_first = !on_error || *on_error == "stop";
    counters_.inc("api:requests");
    return std::make_unique<ImportSink>(store_, apply, stop_first, "api:" + who,
                                        name ? *name : std::string("(upload)"), counters_);
}

void Api::handle(http::Request&& r, http::Responder respond) {
    const std::string who = authenticate(r);
    if (who.empty()) {
        counters_.inc("api:unauthorized");
        auto resp = error(401, "missing or unknown bearer token");
        resp.headers.emplace_back("WWW-Authenticate", "Bearer");
        respond(std::move(resp));
        return;
    }
    counters_.inc("api:requests");
    auto bad = not_utf8(r);
    http::Response resp = bad ? std::move(*bad) : route(r, who);
    if (resp.status >= 400)
        counters_.inc("api:errors");
    respond(std::move(resp));
}

Json request_json(const db::Request& r) {
    // The working data, read by its one codec; a row it cannot read still shows its columns.
    auto data = decode_request_data(r.detail);
    auto text = [&](std::string RequestData::*field) {
        return data && !((*data).*field).empty() ? Json(to_valid_utf8((*data).*field))
                                                 : Json(nullptr);
    };
    Json app_state = nullptr;
    if (data && data->card_state)
        app_state = data->card_state->name();
    Json load = nullptr; // an install loading its CAP file: how far it got
    if (data && data->load)
        load = Json{{"blocks_done", data->load->blocks_done},
                    {"blocks", data->load->blocks},
                    {"restarts", data->load->restarts},
                    {"loaded", data->load->loaded}};
    Json out = Json{
        {"id", r.id},
        {"state", r.state},
        {"reason", r.reason.empty() ? Json(nullptr) : Json(r.reason)},
        {"message", text(&RequestData::message)},
        {"operation", r.operation},
        {"msisdn", r.msisdn},
        {"iccid", text(&RequestData::iccid)},
        {"app", text(&RequestData::app_code)},
        {"aid", r.app_aid},
        {"app_state", app_state},
        {"language", r.language},
        {"source", r.source},
        {"actor", r.actor},
        // stored as "<token name>:<key>" so that callers' keys never collide
        {"idempotency_key", r.idempotency_key.empty()
                                ? Json(nullptr)
                                : Json(r.idempotency_key.substr(r.idempotency_key.find(':') + 1))},
        {"created_at", r.created_at},
        {"updated_at", r.updated_at}};
    if (!load.is_null())
        out["load"] = std::move(load);
    return out;
}

http::Response Api::create_request(const http::Request& r, const std::string& who) {
    if (!hooks_.submit_request)
        return error(503, "the request pipeline is not running");
    auto body = Json::parse(r.body, nullptr, false);
    if (body.is_discarded() || !body.is_object())
        return error(400, "body: a JSON object with operation, msisdn or iccid, app or aid");
    NewRequest n;
    for (const auto& [key, field] :
         std::initializer_list<std::pair<const char*, std::string*>>{{"operation", &n.operation},
                                                                     {"msisdn", &n.msisdn},
                                                                     {"iccid", &n.iccid},
                                                                     {"app", &n.app_code},
                                                                     {"aid", &n.app_aid},
                                                                     {"language", &n.language},
                                                                     {"source", &n.source},
                                                                     {"bearer", &n.bearer}}) {
        if (!body.contains(key))
            continue;
        if (!body[key].is_string() || body[key].get<std::string>().size() > 64)
            return error(400, std::string("body: ") + key + " must be a string (at most 64)");
        *field = body[key].get<std::string>();
    }
    if (body.contains("related")) {
        if (!body["related"].is_boolean())
            return error(400, "body: related must be true or false");
        n.related = body["related"].get<bool>();
    }
    if (n.source.empty())
        n.source = "api";
    if (n.source != "api" && n.source != "otactl" && n.source != "provider")
        return error(400, "body: source is api, otactl or provider");
    if (!n.iccid.empty() && (!all_digits(n.iccid) || n.iccid.size() < 18 || n.iccid.size() > 20))
        return error(400, "body: iccid is 18 to 20 digits");
    if (!n.app_aid.empty()) {
        auto aid = parse_hex(n.app_aid, "aid");
        if (!aid || aid->size() < 5 || aid->size() > 16)
            return error(400, "body: aid is 5 to 16 bytes in hex");
        n.app_aid = to_hex(*aid);
    }
    if (n.language.empty())
        n.language = "en";
    if (n.language != "en" && n.language != "zh")
        return error(400, "body: language is en or zh");
    n.actor = n.source + ":" + who;
    if (const std::string* key = r.header("idempotency-key")) {
        if (key->empty() || key->size() > 128)
            return error(400, "Idempotency-Key: 1 to 128 characters");
        n.idempotency_key = who + ":" + *key; // keys of different callers never collide
    }
    auto submitted = hooks_.submit_request(n);
    if (!submitted) {
        return storage_unavailable(submitted.error()) ? storage_error_response(submitted.error())
                                                      : error(400, submitted.error().message);
    }
    return json_response(submitted->created ? 202 : 200, request_json(submitted->request));
}

// GET /v1/campaigns, GET /v1/campaigns/{id|name}, GET /v1/campaigns/{ref}/targets,
// POST /v1/campaigns/{ref}/{start|pause|resume|cancel} (POST /v1/campaigns is streamed).
http::Response Api::campaigns(const http::Request& r, const std::string& who) {
    CampaignEngine* engine = hooks_.campaigns;
    if (!engine)
        return error(503, "the campaign engine is not running");
    const bool get = r.method == "GET";
    std::string rest = r.path.size() > 14 ? r.path.substr(14) : std::string();
    if (rest.empty()) {
        if (!get)
            return error(405, "GET the list, or POST a new campaign");
        auto all = store_.campaigns();
        if (!all)
            return storage_error_response(all.error());
        Json list = Json::array();
        for (const auto& c : *all) {
            auto st = engine->status(c);
            if (!st)
                return storage_error_response(st.error());
            list.push_back(std::move(*st));
        }
        return json_response(200, Json{{"campaigns", list}});
    }
    std::string sub;
    if (const size_t slash = rest.find('/'); slash != std::string::npos) {
        sub = rest.substr(slash + 1);
        rest.resize(slash);
    }
    if (sub == "start" || sub == "pause" || sub == "resume" || sub == "cancel") {
        if (r.method != "POST")
            return error(405, "POST to " + sub + " a campaign");
        auto found = engine->find(rest);
        if (!found)
            return storage_error_response(found.error());
        if (!*found)
            return error(404, "no campaign '" + rest + "'");
        auto c = engine->control(rest, sub, "api:" + who);
        if (!c)
            return storage_unavailable(c.error()) ? storage_error_response(c.error())
                                                  : error(409, c.error().message);
        auto st = engine->status(*c);
        return st ? json_response(200, *st) : storage_error_response(st.error());
    }
    if (!get)
        return error(405, "GET only");
    auto found = engine->find(rest);
    if (!found)
        return storage_error_response(found.error());
    if (!*found)
        return error(404, "no campaign '" + rest + "'");
    if (sub.empty()) {
        auto st = engine->status(**found);
        return st ? json_response(200, *st) : storage_error_response(st.error());
    }
    if (sub != "targets")
        return error(404, "no such resource: " + r.path);
    auto limit = int_param(r, "limit", 1000, 1, 10000);
    auto after = int_param(r, "after", 0, 0, INT64_MAX);
    if (!limit)
        return error(400, limit.error().message);
    if (!after)
        return error(400, after.error().message);
    auto targets =
        store_.campaign_targets((*found)->id, *after, static_cast<size_t>(*limit), false);
    if (!targets)
        return storage_error_response(targets.error());
    Json list = Json::array();
    for (const auto& t : *targets)
        list.push_back(CampaignEngine::target_json(t));
    Json next =
        targets->size() == static_cast<size_t>(*limit) ? Json(targets->back().seq) : Json(nullptr);
    return json_response(200, Json{{"targets", list}, {"next_after", next}});
}

http::Response Api::route(const http::Request& r, const std::string& who) {
    const std::string& p = r.path;
    const bool get = r.method == "GET";
    if (p == "/v1/health") {
        if (!get)
            return error(405, "GET only");
        return json_response(200, hooks_.health ? hooks_.health() : Json{{"status", "ok"}});
    }
    if (p == "/v1/metrics") {
        if (!get)
            return error(405, "GET only");
        // Prometheus text format: otagw_<module>_<event> counter.
        std::vector<const Counters*> all;
        if (hooks_.counters)
            all = hooks_.counters();
        all.push_back(&counters_);
        std::string out;
        for (const Counters* c : all)
            for (const auto& [name, value] : c->all()) {
                std::string metric = "otagw_" + name;
                for (char& ch : metric)
                    if (!isalnum(static_cast<unsigned char>(ch)))
                        ch = '_';
                out += metric + " " + std::to_string(value) + "\n";
            }
        return {200, "text/plain; version=0.0.4", out, {}};
    }
    if (p == "/v1/catalog") {
        if (!get)
            return error(405, "GET only");
        auto apps = store_.applications();
        if (!apps)
            return storage_error_response(apps.error());
        Json list = Json::array();
        for (const auto& a : *apps)
            list.push_back(application_json(a));
        return json_response(200, Json{{"applications", list}});
    }
    if (p == "/v1/audit") {
        if (!get)
            return error(405, "GET only");
        auto limit = int_param(r, "limit", 50, 1, 10000);
        auto after = int_param(r, "after", 0, 0, INT64_MAX);
        if (!limit)
            return error(400, limit.error().message);
        if (!after)
            return error(400, after.error().message);
        auto entries = store_.audit_tail(static_cast<size_t>(*limit), *after);
        if (!entries)
            return storage_error_response(entries.error());
        Json list = Json::array();
        for (const auto& e : *entries)
            list.push_back({{"id", e.id},
                            {"at", e.at},
                            {"actor", e.actor},
                            {"action", e.action},
                            {"subject", e.subject},
                            {"detail", e.detail}});
        return json_response(200, Json{{"entries", list}});
    }
    if (p == "/v1/requests") {
        if (r.method != "POST")
            return error(405, "POST a request to /v1/requests");
        return create_request(r, who);
    }
    if (p.starts_with("/v1/requests/")) {
        std::string id = p.substr(strlen("/v1/requests/"));
        const bool cancel = id.ends_with("/cancel");
        if (cancel)
            id.resize(id.size() - strlen("/cancel"));
        if (id.empty() || id.size() > 18 || !all_digits(id))
            return error(400, "a request id is a number");
        if (cancel) {
            if (r.method != "POST")
                return error(405, "POST to cancel a request");
            if (!hooks_.cancel_request)
                return error(503, "the request pipeline is not running");
            auto cancelled = hooks_.cancel_request(std::stoll(id), "api:" + who);
            if (!cancelled)
                return error(cancelled.error().code == Errc::NotFound   ? 404
                             : cancelled.error().code == Errc::Conflict ? 409
                                                                        : 500,
                             cancelled.error().message);
            return json_response(200, request_json(*cancelled));
        }
        if (!get)
            return error(405, "GET a request, or POST to /v1/requests/{id}/cancel");
        auto req = store_.request(std::stoll(id));
        if (!req)
            return storage_error_response(req.error());
        if (!*req)
            return error(404, "no request " + id);
        return json_response(200, request_json(**req));
    }
    if (p == "/v1/campaigns" || p.starts_with("/v1/campaigns/"))
        return campaigns(r, who);
    if (p == "/v1/cards") {
        if (!get)
            return error(405, "GET only");
        if (const std::string* msisdn = r.param("msisdn")) {
            if (!all_digits(*msisdn))
                return error(400, "query parameter msisdn: digits only (E.164 without '+')");
            auto c = store_.card_by_msisdn(*msisdn);
            if (!c)
                return storage_error_response(c.error());
            Json list = Json::array();
            if (*c)
                list.push_back(card_summary(**c));
            return json_response(200, Json{{"cards", list}, {"next_after", nullptr}});
        }
        auto limit = int_param(r, "limit", 100, 1, 10000);
        auto after = int_param(r, "after", 0, 0, INT64_MAX);
        if (!limit)
            return error(400, limit.error().message);
        if (!after)
            return error(400, after.error().message);
        db::CardFilter f;
        if (const std::string* v = r.param("msisdn_prefix")) {
            if (!all_digits(*v))
                return error(400, "query parameter msisdn_prefix: digits only");
            f.msisdn_prefix = *v;
        }
        if (const std::string* v = r.param("app"))
            f.app_aid = *v;
        if (const std::string* v = r.param("state")) {
            if (f.app_aid.empty())
                return error(400, "query parameter state needs app (an AID)");
            f.app_state = *v;
        }
        auto cards = store_.list_cards(*after, static_cast<size_t>(*limit), f);
        if (!cards)
            return storage_error_response(cards.error());
        Json list = Json::array();
        for (const auto& c : *cards)
            list.push_back(card_summary(c));
        Json next =
            cards->size() == static_cast<size_t>(*limit) ? Json(cards->back().id) : Json(nullptr);
        return json_response(200, Json{{"cards", list}, {"next_after", next}});
    }
    if (p.rfind("/v1/cards/", 0) == 0) {
        std::string rest = p.substr(10);
        std::string sub;
        if (const size_t slash = rest.find('/'); slash != std::string::npos) {
            sub = rest.substr(slash + 1);
            rest.resize(slash);
        }
        if (!all_digits(rest) || rest.size() < 18 || rest.size() > 20)
            return error(400, "an ICCID is 18 to 20 digits");
        auto c = store_.card_by_iccid(rest);
        if (!c)
            return storage_error_response(c.error());
        if (!*c)
            return error(404, "no card with ICCID " + rest);
        if (sub.empty()) {
            if (!get)
                return error(405, "GET only");
            auto view = card_view(store_, **c);
            if (!view)
                return storage_error_response(view.error());
            return json_response(200, *view);
        }
        if (sub == "apps") {
            if (!get)
                return error(405, "GET only");
            auto apps = store_.card_apps((*c)->id);
            if (!apps)
                return storage_error_response(apps.error());
            Json list = Json::array();
            for (const auto& a : *apps)
                list.push_back(app_json(a));
            return json_response(200, Json{{"iccid", rest}, {"apps", list}});
        }
        if (sub == "status") {
            if (r.method != "PUT")
                return error(405, "PUT {\"status\": \"active\"|\"barred\", \"reason\": \"...\"}");
            auto body = Json::parse(r.body, nullptr, false);
            if (body.is_discarded() || !body.is_object() || !body.contains("status") ||
                !body["status"].is_string())
                return error(400, "body: a JSON object with \"status\": \"active\" or \"barred\"");
            const std::string status = body["status"];
            const std::string reason = body.contains("reason") && body["reason"].is_string()
                                           ? std::string(body["reason"])
                                           : "";
            if (Status st = store_.begin(); !st)
                return storage_error_response(st.error());
            Status st = store_.set_card_status((*c)->id, status);
            if (!st) {
                (void)store_.rollback();
                return storage_unavailable(st.error()) ? storage_error_response(st.error())
                                                       : error(400, st.error().message);
            }
            auto audit = store_.append_audit(
                {0, 0, "api:" + who, status == "barred" ? "card.bar" : "card.unbar", rest, reason});
            if (!audit || !store_.commit()) {
                (void)store_.rollback();
                return error(500, "could not record the change");
            }
            auto updated = store_.card_by_iccid(rest);
            if (!updated || !*updated)
                return error(500, "the card changed under the update");
            return json_response(200, card_summary(**updated));
        }
        return error(404, "no such resource: " + p);
    }
    if (p == "/v1/inventory/import")
        return error(405, "POST the inventory file to /v1/inventory/import");
    return error(404, "no such resource: " + p);
}

} // namespace otagw::gateway
