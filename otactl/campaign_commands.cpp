// SPDX-License-Identifier: GPL-2.0-or-later
// otactl campaign ...: create, start, pause, resume, cancel, status [--follow], list, report,
// through the daemon's admin API (doc/campaigns.md).
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>
#include <thread>

#include "api_client.hpp"
#include "otagw/common/clock.hpp"
#include "otagw/common/text.hpp"

namespace otactl {

using namespace otagw;

namespace {

struct CreateArgs {
    std::string name, op, aid, targets, filter, rate, start_at, bearer;
    int64_t window = 0;
    int64_t retries = 3;
    bool start = false;
};

// "200/s", "200", "12000/min", "0" (no limit) -> per second.
double parse_rate(const std::string& s) {
    std::string num = s;
    double per = 1;
    if (const size_t slash = s.find('/'); slash != std::string::npos) {
        const std::string unit = s.substr(slash + 1);
        num = s.substr(0, slash);
        if (unit == "s")
            per = 1;
        else if (unit == "min")
            per = 60;
        else if (unit == "h")
            per = 3600;
        else
            usage_error("--rate", "a number per s, min or h, e.g. 200/s");
    }
    char* end = nullptr;
    const double v = std::strtod(num.c_str(), &end);
    if (num.empty() || *end || !(v >= 0) || v / per > 1e6)
        usage_error("--rate", "a number per s, min or h, e.g. 200/s (0: no limit)");
    return v / per;
}

// "+30s", "+15m", "+2h", "2026-11-27T02:00:00Z" (UTC), "2026-11-27T02:00" (local) -> Unix ms.
int64_t parse_time(const std::string& s) {
    const int64_t now = unix_ms();
    if (s.size() >= 3 && s[0] == '+') {
        char* end = nullptr;
        const long v = std::strtol(s.c_str() + 1, &end, 10);
        const std::string unit = end;
        const int64_t mult = unit == "s" ? 1000 : unit == "m" ? 60000 : unit == "h" ? 3600000 : 0;
        if (v < 0 || !mult || end == s.c_str() + 1)
            usage_error("--start-at", "+N followed by s, m or h, e.g. +30m");
        return now + v * mult;
    }
    std::tm tm{};
    int sec = 0;
    char zone = 0;
    const int n = std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%c", &tm.tm_year, &tm.tm_mon,
                              &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &sec, &zone);
    if (n < 5 || (n == 7 && zone != 'Z'))
        usage_error("--start-at",
                    "YYYY-MM-DDTHH:MM[:SS][Z] (Z: UTC, else local time) or +N{s,m,h}");
    tm.tm_sec = n >= 6 ? sec : 0;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    tm.tm_isdst = -1;
    const time_t t = n == 7 ? timegm(&tm) : mktime(&tm);
    if (t == static_cast<time_t>(-1))
        usage_error("--start-at", "not a valid time");
    return static_cast<int64_t>(t) * 1000;
}

std::string iso_time(const Json& ms) {
    if (!ms.is_number_integer())
        return "";
    const int64_t v = ms.get<int64_t>();
    const time_t t = static_cast<time_t>(v / 1000);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char b[80];
    std::snprintf(b, sizeof b, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<int>(v % 1000));
    return b;
}

std::string by_reason(const Json& m) {
    std::string s;
    for (const auto& [reason, n] : m.items())
        s += (s.empty() ? "" : ", ") + reason + " " + n.dump();
    return s;
}

uint64_t count(const Json& c, const char* state) {
    return c["counts"].value(state, uint64_t{0});
}

std::string duration(double seconds) {
    const auto s = static_cast<int64_t>(seconds);
    char b[32];
    if (s >= 3600)
        std::snprintf(b, sizeof b, "%lld:%02lld:%02lld", static_cast<long long>(s / 3600),
                      static_cast<long long>(s / 60 % 60), static_cast<long long>(s % 60));
    else
        std::snprintf(b, sizeof b, "%lld:%02lld", static_cast<long long>(s / 60),
                      static_cast<long long>(s % 60));
    return b;
}

// One line: what a script or a log wants.
std::string status_line(const Json& c) {
    const uint64_t total = count(c, "total"), done = c.value("done", uint64_t{0});
    char pct[16];
    std::snprintf(pct, sizeof pct, "%.1f%%", total ? 100.0 * double(done) / double(total) : 0.0);
    std::string s = "campaign " + text(c["id"]) + " " + text(c["name"]) + ": " + text(c["state"]) +
                    ", " + std::to_string(done) + "/" + std::to_string(total) + " done (" + pct +
                    "), " + text(c["rate"]) + "/s";
    if (c["eta_s"].is_number() && done < total)
        s += ", ETA " + duration(c["eta_s"].get<double>());
    s += "; succeeded " + std::to_string(count(c, "succeeded"));
    s += ", failed " + std::to_string(count(c, "failed"));
    if (!c["failed_by_reason"].empty())
        s += " (" + by_reason(c["failed_by_reason"]) + ")";
    s += ", skipped " + std::to_string(count(c, "skipped"));
    if (!c["skipped_by_reason"].empty())
        s += " (" + by_reason(c["skipped_by_reason"]) + ")";
    if (count(c, "cancelled"))
        s += ", cancelled " + std::to_string(count(c, "cancelled"));
    s += ", in flight " + std::to_string(count(c, "running"));
    s += ", pending " + std::to_string(count(c, "pending"));
    return s;
}

// The terminal's progress bar, redrawn in place.
std::string progress_bar(const Json& c) {
    const uint64_t total = count(c, "total"), done = c.value("done", uint64_t{0});
    const double f = total ? double(done) / double(total) : 0;
    constexpr int kWidth = 30;
    const int filled = static_cast<int>(f * kWidth);
    std::string bar = "[" + std::string(static_cast<size_t>(filled), '#') +
                      std::string(static_cast<size_t>(kWidth - filled), '-') + "]";
    char b[64];
    std::snprintf(b, sizeof b, " %3d%% ", static_cast<int>(f * 100));
    std::string s = text(c["name"]) + " " + bar + b + std::to_string(done) + "/" +
                    std::to_string(total) + "  " + text(c["rate"]) + "/s";
    s += "  ETA " + (c["eta_s"].is_number() ? duration(c["eta_s"].get<double>()) : "-");
    s += "  ok " + std::to_string(count(c, "succeeded"));
    s += "  failed " + std::to_string(count(c, "failed"));
    if (!c["failed_by_reason"].empty())
        s += " (" + by_reason(c["failed_by_reason"]) + ")";
    s += "  skipped " + std::to_string(count(c, "skipped"));
    s += "  " + text(c["state"]);
    return s;
}

bool over(const Json& c) {
    const std::string s = text(c["state"]);
    return s == "finished" || s == "cancelled";
}

int campaign_create(const ApiOptions& o, const CreateArgs& a) {
    if (a.targets.empty() == a.filter.empty())
        usage_error("--targets", "give --targets FILE or --filter EXPRESSION");
    std::string q = "/v1/campaigns?name=" + url_encode(a.name) + "&op=" + url_encode(a.op) +
                    "&aid=" + url_encode(a.aid) + "&window=" + std::to_string(a.window) +
                    "&retries=" + std::to_string(a.retries);
    if (!a.rate.empty()) {
        char b[32];
        std::snprintf(b, sizeof b, "%.6g", parse_rate(a.rate));
        q += "&rate=" + std::string(b);
    }
    if (!a.start_at.empty())
        q += "&start_at=" + std::to_string(parse_time(a.start_at));
    if (!a.bearer.empty())
        q += "&bearer=" + url_encode(a.bearer);
    http::ClientRequest req;
    req.method = "POST";
    req.headers.emplace_back("Content-Type", "text/plain");
    if (!a.filter.empty()) {
        if (!is_valid_utf8(a.filter))
            usage_error("--filter", "not valid UTF-8");
        q += "&filter=" + url_encode(a.filter);
    } else {
        req.next_chunk = file_chunks(a.targets, "--targets");
        // A file name is bytes; the API takes UTF-8 (what is not is shown as U+FFFD).
        const size_t slash = a.targets.rfind('/');
        q += "&targets_name=" +
             url_encode(to_valid_utf8(slash == std::string::npos ? a.targets
                                                                 : a.targets.substr(slash + 1)));
    }
    req.target = q;
    auto r = call(o, std::move(req));
    if (!r)
        return fail(Error{"API: " + r.error().message});
    auto j = Json::parse(r->body, nullptr, false);
    if (j.is_discarded() || !j.is_object())
        return fail(Error{"API answered " + std::to_string(r->status) + ": " + r->body});
    if (r->status != 201) {
        if (o.json) {
            print_json(j);
            return 1;
        }
        if (j.contains("lines"))
            for (const auto& l : j["lines"])
                std::cerr << a.targets << ":" << text(l["line"]) << ": " << text(l["error"])
                          << '\n';
        return fail(Error{text(j["error"])});
    }
    if (o.json && !a.start) {
        print_json(j);
        return 0;
    }
    if (!o.json)
        std::cout << "campaign " << text(j["id"]) << " " << text(j["name"])
                  << " created: " << text(j["operation"]) << " on " << count(j, "total")
                  << " cards (" << text(j["selection"]) << "), " << text(j["state"]) << '\n';
    if (!a.start)
        return 0;
    auto s = call_json(o, {"POST", "/v1/campaigns/" + text(j["id"]) + "/start", {}, {}, {}});
    if (!s)
        return fail(s.error());
    if (o.json)
        print_json(*s);
    else
        std::cout << status_line(*s) << '\n';
    return 0;
}

int campaign_control(const ApiOptions& o, const std::string& ref, const std::string& action) {
    auto j = call_json(o, {"POST", "/v1/campaigns/" + url_encode(ref) + "/" + action, {}, {}, {}});
    if (!j)
        return fail(j.error());
    if (o.json)
        print_json(*j);
    else
        std::cout << status_line(*j) << '\n';
    return 0;
}

int campaign_status(const ApiOptions& o, const std::string& ref, bool follow, double interval) {
    const std::string path = "/v1/campaigns/" + url_encode(ref);
    const bool tty = isatty(STDOUT_FILENO) && !o.json;
    size_t drawn = 0;
    for (;;) {
        auto j = call_json(o, {"GET", path, {}, {}, {}});
        if (!j) {
            if (drawn)
                std::cout << '\n';
            return fail(j.error());
        }
        if (o.json) {
            std::cout << j->dump() << std::endl; // one object per line when following
        } else if (follow && tty) {
            std::string line = progress_bar(*j);
            const size_t width = line.size();
            if (line.size() < drawn)
                line += std::string(drawn - line.size(), ' ');
            std::cout << '\r' << line << std::flush;
            drawn = width;
        } else {
            std::cout << status_line(*j) << std::endl;
        }
        if (!follow || over(*j)) {
            if (follow && tty)
                std::cout << '\n' << status_line(*j) << '\n';
            if (!follow)
                return 0;
            return text((*j)["state"]) == "finished" && count(*j, "failed") == 0 ? 0 : 1;
        }
        std::this_thread::sleep_for( // a CLI, not the daemon
            std::chrono::milliseconds(static_cast<int64_t>(interval * 1000)));
    }
}

int campaign_list(const ApiOptions& o) {
    auto j = call_json(o, {"GET", "/v1/campaigns", {}, {}, {}});
    if (!j)
        return fail(j.error());
    if (o.json) {
        print_json(*j);
        return 0;
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& c : (*j)["campaigns"])
        rows.push_back(
            {text(c["id"]), text(c["name"]), text(c["state"]), text(c["operation"]), text(c["aid"]),
             std::to_string(c.value("done", uint64_t{0})) + "/" + std::to_string(count(c, "total")),
             std::to_string(count(c, "succeeded")), std::to_string(count(c, "failed")),
             std::to_string(count(c, "skipped"))});
    print_table({"ID", "NAME", "STATE", "OP", "AID", "DONE", "SUCCEEDED", "FAILED", "SKIPPED"},
                rows);
    return 0;
}

std::string csv_cell(const std::string& s) {
    if (s.find_first_of(",\"\n") == std::string::npos)
        return s;
    std::string out = "\"";
    for (char c : s)
        out += c == '"' ? std::string("\"\"") : std::string(1, c);
    return out + "\"";
}

int campaign_report(const ApiOptions& o, const std::string& ref, const std::string& format,
                    const std::string& output) {
    std::ofstream file;
    if (!output.empty()) {
        file.open(output, std::ios::binary | std::ios::trunc);
        if (!file)
            usage_error("--output", "cannot write " + output);
    }
    std::ostream& out = output.empty() ? std::cout : file;
    const bool csv = format == "csv";
    if (csv)
        out << "seq,iccid,msisdn,outcome,reason,card_state,por_status,attempts,request_id,"
               "started_at,finished_at\n";
    else
        out << "[";
    uint64_t n = 0;
    for (int64_t after = 0;;) {
        auto j = call_json(o, {"GET",
                               "/v1/campaigns/" + url_encode(ref) +
                                   "/targets?limit=10000&after=" + std::to_string(after),
                               {},
                               {},
                               {}});
        if (!j)
            return fail(j.error());
        for (const auto& t : (*j)["targets"]) {
            if (csv) {
                out << text(t["seq"]) << ',' << csv_cell(text(t["iccid"])) << ','
                    << csv_cell(t.value("msisdn", "")) << ',' << text(t["state"]) << ','
                    << csv_cell(t.value("reason", "")) << ',' << t.value("card_state", "") << ','
                    << t.value("por_status", "") << ',' << text(t["attempts"]) << ','
                    << (t["request_id"].is_null() ? "" : t["request_id"].dump()) << ','
                    << iso_time(t["started_at"]) << ',' << iso_time(t["finished_at"]) << '\n';
            } else {
                Json row = t;
                row["outcome"] = row["state"];
                row.erase("state");
                row["started_at"] = iso_time(t["started_at"]);
                row["finished_at"] = iso_time(t["finished_at"]);
                out << (n ? ",\n " : "\n ") << row.dump();
            }
            n++;
        }
        if ((*j)["next_after"].is_null())
            break;
        after = (*j)["next_after"].get<int64_t>();
    }
    if (!csv)
        out << "\n]\n";
    out.flush();
    if (!out)
        return fail(Error{"writing the report failed"});
    if (!output.empty())
        std::cerr << "otactl: " << n << " targets written to " << output << '\n';
    return 0;
}

} // namespace

void add_campaign_commands(CLI::App& app, const std::shared_ptr<ApiOptions>& o, int& exit_code) {
    CLI::App* campaign = app.add_subcommand("campaign", "campaigns: one operation on many cards");
    campaign->require_subcommand(1);

    CLI::App* create = campaign->add_subcommand(
        "create", "create a campaign from a target file or a filter (every bad line reported; "
                  "nothing created then)");
    auto a = std::make_shared<CreateArgs>();
    create->add_option("--name", a->name, "a unique name")->required();
    create
        ->add_option("--op", a->op,
                     "install, lock, unlock, delete, delete-package, audit or activate")
        ->required();
    create->add_option("--aid", a->aid, "the application's instance AID, hex")->required();
    create->add_option("--targets", a->targets,
                       "a file with one ICCID or MSISDN per line ('#' comments)");
    create->add_option("--filter", a->filter,
                       "or cards of the inventory: \"app=...,state=...,msisdn-prefix=...\"");
    create->add_option("--rate", a->rate, "targets started per second, e.g. 200/s (no limit)");
    create->add_option("--window", a->window, "targets in flight at once (default 1000)");
    create
        ->add_option("--bearer", a->bearer,
                     "sms-pp, bip or auto for its requests (default: the gateway's ota / bearer)")
        ->check(CLI::IsMember({"sms-pp", "bip", "auto"}));
    create->add_option("--retries", a->retries,
                       "further tries after a transient failure (default 3)");
    create->add_option("--start-at", a->start_at,
                       "start by itself then: YYYY-MM-DDTHH:MM[:SS][Z] or +N{s,m,h}");
    create->add_flag("--start", a->start, "start it at once");
    add_api_options(create, o);
    create->callback([=, &exit_code] {
        if (o->timeout == 30)
            o->timeout = 600; // a large target file takes a while
        exit_code = campaign_create(*o, *a);
    });

    for (const char* action : {"start", "pause", "resume", "cancel"}) {
        CLI::App* cmd = campaign->add_subcommand(action, std::string(action) + " a campaign");
        auto ref = std::make_shared<std::string>();
        cmd->add_option("CAMPAIGN", *ref, "its id or name")->required();
        add_api_options(cmd, o);
        const std::string act = action;
        cmd->callback([=, &exit_code] { exit_code = campaign_control(*o, *ref, act); });
    }

    CLI::App* status = campaign->add_subcommand(
        "status", "progress: done/total, rate, ETA, outcomes by reason (--follow: until it ends; "
                  "exit 0 when it finished with no failed target)");
    auto ref = std::make_shared<std::string>();
    auto follow = std::make_shared<bool>(false);
    auto interval = std::make_shared<double>(1);
    status->add_option("CAMPAIGN", *ref, "its id or name")->required();
    status->add_flag("-f,--follow", *follow,
                     "keep watching: a progress bar on a terminal, a line per interval otherwise");
    status->add_option("--interval", *interval, "seconds between updates (default 1)");
    add_api_options(status, o);
    status->callback([=, &exit_code] {
        if (!(*interval >= 0.1 && *interval <= 3600))
            usage_error("--interval", "0.1 to 3600 seconds");
        exit_code = campaign_status(*o, *ref, *follow, *interval);
    });

    CLI::App* list = campaign->add_subcommand("list", "every campaign");
    add_api_options(list, o);
    list->callback([=, &exit_code] { exit_code = campaign_list(*o); });

    CLI::App* report = campaign->add_subcommand(
        "report", "every target: outcome, reason, card state, PoR status, attempts, times");
    auto rref = std::make_shared<std::string>();
    auto format = std::make_shared<std::string>("csv");
    auto output = std::make_shared<std::string>();
    report->add_option("CAMPAIGN", *rref, "its id or name")->required();
    report->add_option("--format", *format, "csv (default) or json")
        ->check(CLI::IsMember({"csv", "json"}));
    report->add_option("-o,--output", *output, "write to this file (default: standard output)");
    add_api_options(report, o);
    report->callback([=, &exit_code] { exit_code = campaign_report(*o, *rref, *format, *output); });
}

} // namespace otactl
