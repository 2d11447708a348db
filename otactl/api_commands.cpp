// SPDX-License-Identifier: GPL-2.0-or-later
// otactl's online commands, through the daemon's admin API (doc/api.yaml): cards, apps,
// catalog, audit, inventory import. Human tables by default, the API's JSON with --json.
// The API address: --api or OTAGW_API (default http://127.0.0.1:8080); the bearer token:
// --token-file or OTAGW_API_TOKEN; it is never printed.
// Exit codes: 0 done, 1 the API refused or could not be reached (or the import had bad lines),
// 2 bad input.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <thread>

#include "api_client.hpp"
#include "cli.hpp"
#include "otagw/common/text.hpp"
#include "otagw/common/uv.hpp"
#include "otagw/http/http.hpp"

namespace otactl {

using namespace otagw;

namespace {

struct Endpoint {
    std::string host;
    uint16_t port = 8080;
};

Endpoint endpoint_of(const ApiOptions& o) {
    std::string url = o.api;
    if (url.empty()) {
        const char* env = std::getenv("OTAGW_API");
        url = env && *env ? env : "http://127.0.0.1:8080";
    }
    const std::string scheme = "http://";
    if (url.rfind(scheme, 0) != 0)
        usage_error("--api", "an http:// URL, e.g. http://127.0.0.1:8080 (the API listens on "
                             "loopback; put TLS in front of it for remote use)");
    std::string rest = url.substr(scheme.size());
    if (!rest.empty() && rest.back() == '/')
        rest.pop_back();
    const size_t colon = rest.rfind(':');
    Endpoint e;
    e.host = rest.substr(0, colon);
    if (colon != std::string::npos) {
        const std::string port = rest.substr(colon + 1);
        char* end = nullptr;
        const long p = std::strtol(port.c_str(), &end, 10);
        if (port.empty() || *end || p < 1 || p > 65535)
            usage_error("--api", "the port must be 1 to 65535");
        e.port = static_cast<uint16_t>(p);
    }
    if (e.host.empty())
        usage_error("--api", "no host in the URL");
    return e;
}

} // namespace

std::string token_of(const ApiOptions& o) {
    std::string token;
    if (!o.token_file.empty()) {
        std::ifstream in(o.token_file);
        if (!in)
            usage_error("--token-file", "cannot read " + o.token_file);
        std::getline(in, token);
    } else if (const char* env = std::getenv("OTAGW_API_TOKEN")) {
        token = env;
    }
    while (!token.empty() && (token.back() == '\r' || token.back() == ' '))
        token.pop_back();
    if (token.empty())
        usage_error("--token-file", "no API token (give --token-file FILE or set OTAGW_API_TOKEN)");
    return token;
}

std::string url_encode(std::string_view s) {
    std::string out;
    for (unsigned char c : s) {
        if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            out.push_back(static_cast<char>(c));
        } else {
            char b[4];
            std::snprintf(b, sizeof b, "%%%02X", c);
            out += b;
        }
    }
    return out;
}

// Calls the API once; prints nothing. Errors: the API's own message, or why it was unreachable.
Result<http::ClientResponse> call(const ApiOptions& o, http::ClientRequest req) {
    const Endpoint e = endpoint_of(o);
    req.headers.emplace_back("Authorization", "Bearer " + token_of(o));
    req.headers.emplace_back("Accept", "application/json");
    uv_loop_t loop;
    uv_loop_init(&loop);
    std::optional<Result<http::ClientResponse>> result;
    http::fetch(&loop, e.host, e.port, std::move(req), static_cast<uint64_t>(o.timeout * 1000),
                [&](Result<http::ClientResponse> r) { result.emplace(std::move(r)); });
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    if (!result)
        return make_error("the request did not finish");
    return std::move(*result);
}

// The JSON body of a good answer; anything else is an error naming the API's reason.
Result<Json> call_json(const ApiOptions& o, http::ClientRequest req) {
    auto r = call(o, std::move(req));
    if (!r)
        return make_error("API: " + r.error().message);
    auto j = Json::parse(r->body, nullptr, false);
    if (r->status / 100 != 2) {
        std::string why =
            !j.is_discarded() && j.is_object() && j.contains("error") && j["error"].is_string()
                ? j["error"].get<std::string>()
                : r->body;
        return make_error("API answered " + std::to_string(r->status) + ": " + why);
    }
    if (j.is_discarded())
        return make_error("API: the answer is not JSON");
    return j;
}

std::string text(const Json& v) {
    if (v.is_string())
        return v.get<std::string>();
    if (v.is_null())
        return "-";
    return v.dump();
}

// Columns padded to their widest cell.
void print_table(const std::vector<std::string>& head,
                 const std::vector<std::vector<std::string>>& rows) {
    std::vector<size_t> w(head.size());
    for (size_t i = 0; i < head.size(); i++)
        w[i] = head[i].size();
    for (const auto& r : rows)
        for (size_t i = 0; i < r.size() && i < w.size(); i++)
            w[i] = std::max(w[i], r[i].size());
    auto line = [&](const std::vector<std::string>& cells) {
        std::string s;
        for (size_t i = 0; i < cells.size(); i++) {
            s += cells[i];
            if (i + 1 < cells.size())
                s += std::string(w[i] - cells[i].size() + 2, ' ');
        }
        std::cout << s << '\n';
    };
    line(head);
    for (const auto& r : rows)
        line(r);
}

int fail(const Error& e) {
    std::cerr << "otactl: " << e.message << '\n';
    return 1;
}

namespace {

int cards_list(const ApiOptions& o, int limit, int64_t after, const std::string& prefix,
               const std::string& app, const std::string& state) {
    std::string q = "/v1/cards?limit=" + std::to_string(limit) + "&after=" + std::to_string(after);
    if (!prefix.empty())
        q += "&msisdn_prefix=" + url_encode(prefix);
    if (!app.empty())
        q += "&app=" + url_encode(app);
    if (!state.empty())
        q += "&state=" + url_encode(state);
    auto j = call_json(o, {"GET", q, {}, {}, {}});
    if (!j)
        return fail(j.error());
    if (o.json) {
        print_json(*j);
        return 0;
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& c : (*j)["cards"])
        rows.push_back({text(c["iccid"]), text(c["imsi"]), text(c["msisdn"]), text(c["status"])});
    print_table({"ICCID", "IMSI", "MSISDN", "STATUS"}, rows);
    if (!(*j)["next_after"].is_null())
        std::cout << "(more: --after " << (*j)["next_after"].dump() << ")\n";
    return 0;
}

Result<Json> card_by(const ApiOptions& o, const std::string& iccid, const std::string& msisdn) {
    std::string id = iccid;
    if (id.empty()) {
        auto j = call_json(o, {"GET", "/v1/cards?msisdn=" + url_encode(msisdn), {}, {}, {}});
        if (!j)
            return j;
        if ((*j)["cards"].empty())
            return make_error("no card with MSISDN " + msisdn);
        id = (*j)["cards"][0]["iccid"].get<std::string>();
    }
    return call_json(o, {"GET", "/v1/cards/" + url_encode(id), {}, {}, {}});
}

void print_apps(const Json& apps) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& a : apps)
        rows.push_back(
            {text(a["aid"]), text(a["state"]), text(a["life_cycle"]), text(a["load_file"])});
    print_table({"AID", "STATE", "LIFE CYCLE", "LOAD FILE"}, rows);
}

int cards_show(const ApiOptions& o, const std::string& iccid, const std::string& msisdn) {
    auto j = card_by(o, iccid, msisdn);
    if (!j)
        return fail(j.error());
    if (o.json) {
        print_json(*j);
        return 0;
    }
    const Json& c = *j;
    std::cout << "ICCID   " << text(c["iccid"]) << "\nIMSI    " << text(c["imsi"]) << "\nMSISDN  "
              << text(c["msisdn"]) << "\nSTATUS  " << text(c["status"]) << "\n\n";
    std::vector<std::vector<std::string>> ks;
    for (const auto& k : c["keysets"])
        ks.push_back({text(k["kvn"]), text(k["algorithm"]), text(k["counter"])});
    print_table({"KVN", "ALGORITHM", "COUNTER"}, ks);
    if (c.contains("scp81_keysets") && !c["scp81_keysets"].empty()) {
        std::vector<std::vector<std::string>> ps;
        for (const auto& k : c["scp81_keysets"])
            ps.push_back({text(k["kvn"]), text(k["kid"]), text(k["identity"])});
        std::cout << '\n';
        print_table({"SCP81 KVN", "KID", "PSK IDENTITY"}, ps);
    }
    std::cout << '\n';
    print_apps(c["apps"]);
    return 0;
}

int apps_show(const ApiOptions& o, const std::string& iccid, const std::string& msisdn) {
    auto card = card_by(o, iccid, msisdn);
    if (!card)
        return fail(card.error());
    if (o.json) {
        print_json(Json{{"iccid", (*card)["iccid"]}, {"apps", (*card)["apps"]}});
        return 0;
    }
    print_apps((*card)["apps"]);
    return 0;
}

int catalog_list(const ApiOptions& o) {
    auto j = call_json(o, {"GET", "/v1/catalog", {}, {}, {}});
    if (!j)
        return fail(j.error());
    if (o.json) {
        print_json(*j);
        return 0;
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& a : (*j)["applications"])
        rows.push_back({text(a["code"]), text(a["name"]), text(a["type"]), text(a["aid"]),
                        text(a["tar"]), text(a["provider"])});
    print_table({"CODE", "NAME", "TYPE", "AID", "TAR", "PROVIDER"}, rows);
    return 0;
}

int audit_tail(const ApiOptions& o, int n) {
    auto j = call_json(o, {"GET", "/v1/audit?limit=" + std::to_string(n), {}, {}, {}});
    if (!j)
        return fail(j.error());
    if (o.json) {
        print_json(*j);
        return 0;
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& e : (*j)["entries"]) {
        const time_t secs = e["at"].get<int64_t>() / 1000;
        char when[32];
        std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&secs));
        rows.push_back({text(e["id"]), when, text(e["actor"]), text(e["action"]),
                        text(e["subject"]), text(e["detail"])});
    }
    print_table({"ID", "AT", "ACTOR", "ACTION", "SUBJECT", "DETAIL"}, rows);
    return 0;
}

// One pass of the file through /v1/inventory/import, streamed from disk.
Result<Json> import_pass(const ApiOptions& o, const std::string& file, const std::string& mode,
                         const std::string& on_error) {
    // A file name is bytes; the API takes UTF-8 (what is not is shown as U+FFFD).
    const size_t slash = file.rfind('/');
    const std::string name =
        to_valid_utf8(slash == std::string::npos ? file : file.substr(slash + 1));
    http::ClientRequest req;
    req.method = "POST";
    req.target =
        "/v1/inventory/import?mode=" + mode + "&on_error=" + on_error + "&name=" + url_encode(name);
    req.headers.emplace_back("Content-Type", "text/csv");
    req.next_chunk = file_chunks(file, "FILE");
    return call_json(o, std::move(req));
}

void print_report(const Json& r) {
    std::cout << r["mode"].get<std::string>() << ": " << r["lines"] << " lines, " << r["cards"]
              << " cards";
    if (r["mode"] == "apply")
        std::cout << ", " << r["inserted"] << " added, " << r["unchanged"] << " already there"
                  << (r.value("updated", 0)
                          ? ", " + std::to_string(r["updated"].get<int>()) + " given SCP81 keysets"
                          : std::string());
    std::cout << ", " << r["issues_total"] << " bad\n";
    constexpr size_t kShown = 50; // the rest with --json (up to the API's 1000)
    size_t shown = 0;
    for (const auto& i : r["issues"]) {
        if (shown++ == kShown)
            break;
        std::cout << "  " << i["message"].get<std::string>() << '\n';
    }
    const uint64_t total = r["issues_total"].get<uint64_t>();
    if (total > std::min<uint64_t>(kShown, r["issues"].size()))
        std::cout << "  (" << total - std::min<uint64_t>(kShown, r["issues"].size())
                  << " more not listed; --json lists up to 1000)\n";
}

int inventory_import(const ApiOptions& o, const std::string& file, bool skip_bad) {
    Json out = Json::object();
    if (!skip_bad) {
        // All or nothing: the whole file is checked before a single card is written.
        auto v = import_pass(o, file, "validate", "stop");
        if (!v)
            return fail(v.error());
        if (!(*v)["ok"].get<bool>()) {
            if (o.json)
                print_json(Json{{"ok", false}, {"validate", *v}});
            else {
                print_report(*v);
                std::cout << "nothing imported: fix the lines above, or import with --skip-bad\n";
            }
            return 1;
        }
        out["validate"] = *v;
    }
    auto a = import_pass(o, file, "apply", skip_bad ? "skip" : "stop");
    if (!a)
        return fail(a.error());
    out["apply"] = *a;
    const bool ok = skip_bad ? (*a)["error"].is_null() : (*a)["ok"].get<bool>();
    out = Json{{"ok", ok}, {"validate", out.value("validate", Json(nullptr))}, {"apply", *a}};
    if (o.json)
        print_json(out);
    else
        print_report(*a);
    return ok && (*a)["issues_total"].get<uint64_t>() == 0 ? 0 : 1;
}

struct RequestArgs {
    std::string msisdn, iccid, app, aid, op, language, key, bearer;
    bool related = false; // terminate: DELETE of the load file with its related objects
    double wait = -1;     // seconds; < 0: do not wait
};

bool finished(const Json& r) {
    const std::string s = text(r["state"]);
    return s == "done" || s == "refused" || s == "failed";
}

void print_request(const Json& r) {
    std::cout << "request " << text(r["id"]) << ": " << text(r["operation"]) << " "
              << text(r["app"]) << " on " << text(r["msisdn"]) << " (ICCID " << text(r["iccid"])
              << "): " << text(r["state"]);
    if (!r["reason"].is_null())
        std::cout << ", " << text(r["reason"]);
    if (!r["message"].is_null())
        std::cout << " (" << text(r["message"]) << ")";
    if (!r["app_state"].is_null())
        std::cout << "; application " << text(r["app_state"]);
    std::cout << '\n';
}

// Exit status for a request: 0 done (or still running when not waited for), 1 refused/failed.
int request_outcome(const ApiOptions& o, const Json& r) {
    if (o.json)
        print_json(r);
    else
        print_request(r);
    const std::string s = text(r["state"]);
    return s == "refused" || s == "failed" ? 1 : 0;
}

Result<Json> wait_for(const ApiOptions& o, Json r, double seconds) {
    const auto deadline = std::chrono::steady_clock::now() +
                          std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
    while (!finished(r) && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100)); // a CLI, not the daemon
        auto next = call_json(o, {"GET", "/v1/requests/" + text(r["id"]), {}, {}, {}});
        if (!next)
            return next;
        r = std::move(*next);
    }
    return r;
}

int request_create(const ApiOptions& o, const RequestArgs& a) {
    Json body = {{"operation", a.op}, {"source", "otactl"}};
    if (!a.msisdn.empty())
        body["msisdn"] = a.msisdn;
    if (!a.iccid.empty())
        body["iccid"] = a.iccid;
    if (!a.app.empty())
        body["app"] = a.app;
    if (!a.aid.empty())
        body["aid"] = a.aid;
    if (!a.language.empty())
        body["language"] = a.language;
    if (a.related)
        body["related"] = true;
    if (!a.bearer.empty())
        body["bearer"] = a.bearer;
    http::ClientRequest req{"POST", "/v1/requests", {}, body.dump(), {}};
    req.headers.emplace_back("Content-Type", "application/json");
    if (!a.key.empty())
        req.headers.emplace_back("Idempotency-Key", a.key);
    auto r = call_json(o, std::move(req));
    if (!r)
        return fail(r.error());
    if (a.wait >= 0) {
        r = wait_for(o, std::move(*r), a.wait);
        if (!r)
            return fail(r.error());
        if (!finished(*r)) {
            request_outcome(o, *r);
            std::cerr << "otactl: request " << text((*r)["id"]) << " not finished within " << a.wait
                      << " s\n";
            return 1;
        }
    }
    return request_outcome(o, *r);
}

int request_show(const ApiOptions& o, int64_t id) {
    auto r = call_json(o, {"GET", "/v1/requests/" + std::to_string(id), {}, {}, {}});
    if (!r)
        return fail(r.error());
    return request_outcome(o, *r);
}

// Withdraws a request not sent to the card yet; exit 0 when it was withdrawn.
int request_cancel(const ApiOptions& o, int64_t id) {
    auto r = call_json(o, {"POST", "/v1/requests/" + std::to_string(id) + "/cancel", {}, {}, {}});
    if (!r)
        return fail(r.error());
    if (o.json)
        print_json(*r);
    else
        print_request(*r);
    return 0;
}

} // namespace

std::function<Result<std::string>()> file_chunks(const std::string& path, const char* option) {
    auto in = std::make_shared<std::ifstream>(path, std::ios::binary);
    if (!*in)
        usage_error(option, "cannot read " + path);
    return [in, path]() -> Result<std::string> {
        std::string buf(256 * 1024, '\0');
        in->read(buf.data(), static_cast<std::streamsize>(buf.size()));
        if (in->bad())
            return make_error("reading " + path + " failed");
        buf.resize(static_cast<size_t>(in->gcount()));
        return buf;
    };
}

void add_api_options(CLI::App* cmd, const std::shared_ptr<ApiOptions>& o) {
    cmd->add_option("--api", o->api, "API URL (default $OTAGW_API or http://127.0.0.1:8080)");
    cmd->add_option("--token-file", o->token_file,
                    "file holding the bearer token "
                    "(default $OTAGW_API_TOKEN)");
    cmd->add_flag("--json", o->json, "print the API's JSON");
    cmd->add_option("--timeout", o->timeout, "seconds to wait for the API (default 30)");
}

namespace {

// A command about one card, named by ICCID or --msisdn.
void add_card_command(CLI::App* parent, const char* name, const char* what,
                      const std::shared_ptr<ApiOptions>& o, int& exit_code,
                      int (*run)(const ApiOptions&, const std::string&, const std::string&)) {
    CLI::App* cmd = parent->add_subcommand(name, what);
    auto iccid = std::make_shared<std::string>();
    auto msisdn = std::make_shared<std::string>();
    cmd->add_option("iccid", *iccid, "ICCID");
    cmd->add_option("--msisdn", *msisdn, "find the card by MSISDN instead");
    add_api_options(cmd, o);
    cmd->callback([=, &exit_code] {
        if (iccid->empty() == msisdn->empty())
            usage_error("ICCID", "give an ICCID or --msisdn");
        exit_code = run(*o, *iccid, *msisdn);
    });
}

} // namespace

void add_api_commands(CLI::App& app, int& exit_code) {
    auto o = std::make_shared<ApiOptions>();

    CLI::App* cards = app.add_subcommand("cards", "cards of the inventory");
    cards->require_subcommand(1);
    {
        CLI::App* list = cards->add_subcommand("list", "list cards, paged");
        auto limit = std::make_shared<int>(100);
        auto after = std::make_shared<int64_t>(0);
        auto prefix = std::make_shared<std::string>();
        auto appf = std::make_shared<std::string>();
        auto state = std::make_shared<std::string>();
        list->add_option("--limit", *limit, "cards per page (1 to 10000, default 100)");
        list->add_option("--after", *after, "start after this card id (paging)");
        list->add_option("--msisdn-prefix", *prefix, "only MSISDNs starting with these digits");
        list->add_option("--app", *appf, "only cards holding this application (AID)");
        list->add_option("--state", *state, "... in this state (with --app)");
        add_api_options(list, o);
        list->callback([=, &exit_code] {
            exit_code = cards_list(*o, *limit, *after, *prefix, *appf, *state);
        });
        add_card_command(cards, "show", "one card: identities, keysets (never keys), applications",
                         o, exit_code, cards_show);
    }
    CLI::App* apps = app.add_subcommand("apps", "applications on a card");
    apps->require_subcommand(1);
    add_card_command(apps, "show", "the applications of one card", o, exit_code, apps_show);
    CLI::App* catalog = app.add_subcommand("catalog", "the application catalog");
    catalog->require_subcommand(1);
    {
        CLI::App* list = catalog->add_subcommand("list", "every application of the catalog");
        add_api_options(list, o);
        list->callback([=, &exit_code] { exit_code = catalog_list(*o); });
    }
    CLI::App* audit = app.add_subcommand("audit", "the audit log");
    audit->require_subcommand(1);
    {
        CLI::App* tail = audit->add_subcommand("tail", "the last entries");
        auto n = std::make_shared<int>(20);
        tail->add_option("-n,--lines", *n, "how many (1 to 10000, default 20)");
        add_api_options(tail, o);
        tail->callback([=, &exit_code] {
            if (*n < 1 || *n > 10000)
                usage_error("--lines", "1 to 10000");
            exit_code = audit_tail(*o, *n);
        });
    }
    CLI::App* request = app.add_subcommand("request", "application requests");
    request->require_subcommand(1);
    {
        CLI::App* create = request->add_subcommand(
            "create", "ask for an operation on a card application (exit 1 if refused or failed)");
        auto a = std::make_shared<RequestArgs>();
        create->add_option("--msisdn", a->msisdn, "the subscriber's number");
        create->add_option("--iccid", a->iccid, "the card (checked against --msisdn if both)");
        create->add_option("--app", a->app, "the application's catalog code, e.g. 01");
        create->add_option("--aid", a->aid, "or its instance AID, hex");
        create->add_option("--op", a->op, "activate, suspend, resume, terminate, query or install")
            ->required();
        create->add_option("--language", a->language, "of the reply SMS: en (default) or zh");
        create->add_flag("--related", a->related,
                         "terminate: delete the application's load file with its related objects "
                         "(every instance of the package; GP 2.3 §11.2.2.1)");
        create
            ->add_option("--bearer", a->bearer,
                         "sms-pp, bip or auto (default: the gateway's ota / bearer)")
            ->check(CLI::IsMember({"sms-pp", "bip", "auto"}));
        create->add_option("--idempotency-key", a->key,
                           "the same key again returns the first request instead of a new one");
        create->add_option("--wait", a->wait, "wait up to this many seconds for the outcome")
            ->expected(0, 1)
            ->default_str("120");
        add_api_options(create, o);
        create->callback([=, &exit_code] {
            if (a->msisdn.empty() && a->iccid.empty())
                usage_error("--msisdn", "give --msisdn or --iccid");
            if (a->app.empty() == a->aid.empty())
                usage_error("--app", "give --app CODE or --aid AID");
            if (create->count("--wait") && a->wait < 0)
                a->wait = 120;
            exit_code = request_create(*o, *a);
        });
        CLI::App* show = request->add_subcommand("show", "one request and its outcome");
        auto id = std::make_shared<int64_t>(0);
        show->add_option("ID", *id, "the request id")->required();
        add_api_options(show, o);
        show->callback([=, &exit_code] { exit_code = request_show(*o, *id); });
        CLI::App* cancel = request->add_subcommand(
            "cancel",
            "withdraw a request not sent to the card yet (one sent ends as the card answers)");
        auto cancel_id = std::make_shared<int64_t>(0);
        cancel->add_option("ID", *cancel_id, "the request id")->required();
        add_api_options(cancel, o);
        cancel->callback([=, &exit_code] { exit_code = request_cancel(*o, *cancel_id); });
    }
    CLI::App* inventory = app.add_subcommand("inventory", "the card inventory");
    inventory->require_subcommand(1);
    {
        CLI::App* imp = inventory->add_subcommand(
            "import", "import a card inventory file (doc/card-inventory.md): all or nothing "
                      "unless --skip-bad");
        auto file = std::make_shared<std::string>();
        auto skip = std::make_shared<bool>(false);
        imp->add_option("FILE", *file, "the inventory file")->required();
        imp->add_flag("--skip-bad", *skip, "import the good lines, report the bad ones");
        add_api_options(imp, o);
        imp->callback([=, &exit_code] {
            if (o->timeout == 30)
                o->timeout = 3600; // a million cards take a while
            exit_code = inventory_import(*o, *file, *skip);
        });
    }
    add_campaign_commands(app, o, exit_code);
}

} // namespace otactl
