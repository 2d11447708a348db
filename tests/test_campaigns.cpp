// SPDX-License-Identifier: GPL-2.0-or-later
// Campaigns end to end, every peer a real process on 127.0.0.1: cardlets-sim (the SMSC, the
// handsets, 10 000 cards by default; OTAGW_CAMPAIGN_CARDS changes it) and ota-gatewayd with the
// example config, driven by otactl. Lock, unlock, delete, install and audit campaigns over every
// card, each checked card by card on both sides: the gateway's state (the API's listing by
// state) and the card's own registry (an export of the simulator). Then a target file with bad
// lines, SMSC faults during a campaign (throttling, disconnects, lost messages and PoRs), pause,
// resume and cancel, and a subscriber's own request while a campaign floods the SMSC.
#include <chrono>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "gatewayd_harness.hpp"

using namespace otagw;
using namespace harness;

namespace {

const char* kBank = "f04f5441470103010001";

struct World {
    std::unique_ptr<interop::Process> sim, daemon;
    uint16_t control = 0;
    size_t cards = 10000;
    std::vector<std::string> iccids, msisdns; // in inventory order
};
World* g = nullptr;

std::vector<std::string> split(const std::string& s, char sep) {
    std::vector<std::string> out;
    std::stringstream ss(s);
    std::string item;
    while (std::getline(ss, item, sep))
        out.push_back(item);
    return out;
}

template <typename F>
bool eventually(F check, double seconds) {
    const auto end = std::chrono::steady_clock::now() +
                     std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
    while (std::chrono::steady_clock::now() < end) {
        if (check())
            return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return check();
}

Json campaign(const std::string& ref) {
    Answer a = api("GET", "/v1/campaigns/" + ref);
    if (a.status != 200)
        fail_msg("GET campaign %s: %d %s", ref.c_str(), a.status, a.body.c_str());
    return a.json();
}

uint64_t count(const Json& c, const char* state) {
    return c["counts"].value(state, uint64_t{0});
}

Json wait_over(const std::string& ref, double seconds = 120) {
    Json c;
    if (!eventually(
            [&] {
                c = campaign(ref);
                return c["state"] == "finished" || c["state"] == "cancelled";
            },
            seconds))
        fail_msg("campaign %s not over after %.0f s: %s\ndaemon log:\n%s", ref.c_str(), seconds,
                 c.dump().c_str(), g->daemon->log().substr(0, 20000).c_str());
    return c;
}

test::CommandRun must(const std::string& args) {
    auto r = otactl(args);
    if (r.status != 0)
        fail_msg("otactl %s: exit %d\n%s%s", args.c_str(), r.status, r.out.c_str(), r.err.c_str());
    return r;
}

// The cards' own registries: ICCID -> AID -> life cycle byte (absent: not there).
std::map<std::string, std::map<std::string, int>> card_registries() {
    static int n = 0;
    const std::string path = g_dir + "/export-" + std::to_string(++n) + ".csv";
    Json r = sim_control(g->control, "export " + path);
    if (!r.value("ok", false))
        fail_msg("export: %s", r.dump().c_str());
    std::map<std::string, std::map<std::string, int>> out;
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || !std::isdigit(static_cast<unsigned char>(line[0])))
            continue;
        auto f = split(line, ',');
        auto& apps = out[f.at(0)];
        if (f.size() > 6)
            for (const auto& a : split(f[6], ';')) {
                auto p = split(a, ':');
                if (p.size() >= 2)
                    apps[p[0]] = std::stoi(p[1], nullptr, 16);
            }
    }
    return out;
}

// The card's word as the gateway names it (GP life cycle, doc/application-requests.md).
std::string card_word(const std::map<std::string, int>& apps, const char* aid) {
    auto it = apps.find(aid);
    if (it == apps.end())
        return "absent";
    if (it->second & 0x80)
        return "suspended";
    return it->second == 0x03 ? "installed" : "active";
}

// The gateway's word for every card: ICCID -> state of the application (absent: no record).
std::map<std::string, std::string> gateway_states(const char* aid) {
    std::map<std::string, std::string> out;
    for (const char* state : {"installed", "active", "suspended", "terminated", "unknown"}) {
        for (int64_t after = 0;;) {
            Answer a = api("GET", "/v1/cards?limit=10000&app=" + std::string(aid) +
                                      "&state=" + state + "&after=" + std::to_string(after));
            assert_int_equal(a.status, 200);
            const Json page = a.json();
            for (const auto& c : page["cards"])
                out[c["iccid"]] = state;
            if (page["next_after"].is_null())
                break;
            after = page["next_after"].get<int64_t>();
        }
    }
    return out;
}

// Every one of `iccids` is `gw` at the gateway and `card` on the card.
void assert_both_sides(const std::vector<std::string>& iccids, const char* aid, const char* gw,
                       const char* card) {
    auto cards = card_registries();
    auto states = gateway_states(aid);
    size_t wrong = 0;
    for (const auto& iccid : iccids) {
        const std::string g_state = states.count(iccid) ? states[iccid] : "absent";
        const std::string c_state = card_word(cards[iccid], aid);
        if (g_state != gw || c_state != card) {
            if (wrong++ < 5)
                print_error("ICCID %s %s: gateway %s (want %s), card %s (want %s)\n", iccid.c_str(),
                            aid, g_state.c_str(), gw, c_state.c_str(), card);
        }
    }
    if (wrong)
        fail_msg("%zu of %zu cards wrong", wrong, iccids.size());
}

struct ReportRow {
    std::string iccid, outcome, reason, card_state, por_status;
    int attempts = 0;
};

// otactl campaign report, CSV: seq -> row; each target exactly once.
std::map<int64_t, ReportRow> report(const std::string& ref) {
    const std::string file = g_dir + "/report-" + ref + ".csv";
    must("campaign report " + ref + " --format csv -o " + file);
    std::ifstream in(file);
    std::string line;
    std::getline(in, line);
    assert_string_equal(line.c_str(), "seq,iccid,msisdn,outcome,reason,card_state,por_status,"
                                      "attempts,request_id,started_at,finished_at");
    std::map<int64_t, ReportRow> rows;
    std::set<std::string> iccids;
    while (std::getline(in, line)) {
        auto f = split(line, ',');
        assert_true(f.size() >= 10);
        const int64_t seq = std::stoll(f[0]);
        assert_true(rows.count(seq) == 0);
        assert_true(iccids.insert(f[1]).second); // each card once
        rows[seq] = {f[1], f[3], f[4], f[5], f[6], std::stoi(f[7])};
    }
    return rows;
}

int setup(void**) {
    g_api = interop::free_port();
    g_vty = interop::free_port();
    g_smsc = interop::free_port();
    static World w;
    g = &w;
    if (const char* n = std::getenv("OTAGW_CAMPAIGN_CARDS"))
        w.cards = static_cast<size_t>(std::stoul(n));
    w.sim = start_simulator(static_cast<int>(w.cards), g_dir + "/inventory.csv");
    w.control = control_port(*w.sim);
    std::ifstream in(g_dir + "/inventory.csv");
    std::string line;
    while (std::getline(in, line))
        if (!line.empty() && std::isdigit(static_cast<unsigned char>(line[0]))) {
            auto f = split(line, ',');
            w.iccids.push_back(f.at(0));
            w.msisdns.push_back(f.at(2));
        }
    g_config_edits = {{"window 10", "window 64"},
                      {"tps 200", "tps 0"},
                      {"por-timeout 60", "por-timeout 2"},
                      {"campaign-retry-delay 30", "campaign-retry-delay 1"}};
    w.daemon = start_daemon("ota-gatewayd");
    auto r = otactl("inventory import inventory.csv");
    if (r.status != 0) {
        print_error("import failed: %s %s\n", r.out.c_str(), r.err.c_str());
        return 1;
    }
    return w.daemon->wait_log("bind smsc up", 10) ? 0 : 1;
}

int teardown(void**) {
    if (g) {
        g->daemon.reset();
        g->sim.reset();
    }
    return 0;
}

// A counter of /v1/metrics; 0 when not there yet.
uint64_t metric(const std::string& name) {
    const std::string body = "\n" + api("GET", "/v1/metrics").body;
    const size_t at = body.find("\n" + name + " ");
    return at == std::string::npos ? 0 : std::stoull(body.substr(at + name.size() + 2));
}

// ---- a target file with bad lines -----------------------------------------------------------

void test_bad_target_file_is_reported_line_by_line(void**) {
    std::ofstream(g_dir + "/bad.txt") << "iccid\n"                    // 1 header
                                      << g->iccids[0] << "\n"         // 2 good
                                      << "hello\n"                    // 3
                                      << "# a comment\n\n"            // 4, 5
                                      << "+4479000000001\n"           // 6 unknown MSISDN
                                      << "1234567890123456789\n"      // 7 not 89...
                                      << g->iccids[0] << ",again\n"   // 8 duplicate of 2
                                      << "+" << g->msisdns[1] << "\n" // 9 good (MSISDN)
                                      << "0791234567\n"               // 10 national
                                      << "8988299999999999999\n";     // 11 unknown ICCID
    auto r = otactl("campaign create --name bad-file --op lock --aid " + std::string(kTransit) +
                    " --targets bad.txt");
    assert_int_equal(r.status, 1);
    const char* expected[] = {
        "bad.txt:3: 'hello' is neither an ICCID (18 to 20 digits) nor an MSISDN",
        "bad.txt:6: no card with MSISDN 4479000000001 in the inventory",
        "bad.txt:7: '1234567890123456789' has an ICCID's length but does not start with 89",
        "bad.txt:8: the same card as line 2",
        "bad.txt:10: '0791234567' is no E.164 number",
        "bad.txt:11: no card with ICCID 8988299999999999999 in the inventory",
        "otactl: 6 bad lines in the target file bad.txt; no campaign created"};
    for (const char* e : expected)
        if (r.err.find(e) == std::string::npos)
            fail_msg("missing \"%s\" in:\n%s", e, r.err.c_str());
    for (const char* good : {"bad.txt:2:", "bad.txt:9:", "bad.txt:1:", "bad.txt:4:"})
        assert_true(r.err.find(good) == std::string::npos);
    assert_int_equal(api("GET", "/v1/campaigns/bad-file").status, 404);
    // Other mistakes, each named.
    r = otactl("campaign create --name x --op reboot --aid " + std::string(kTransit) +
               " --filter app=02");
    assert_int_equal(r.status, 1);
    assert_true(r.err.find("op: 'reboot' is not install, lock, unlock, delete, delete-package, "
                           "audit or activate") != std::string::npos);
    r = otactl("campaign create --name x --op lock --aid " + std::string(kTransit) +
               " --filter colour=red");
    assert_true(r.err.find("filter: unknown key 'colour'") != std::string::npos);
    r = otactl("campaign create --name x --op lock --aid a0000000871002 --filter app=02");
    assert_true(r.err.find("no application with AID A0000000871002") != std::string::npos ||
                r.err.find("no application with AID a0000000871002") != std::string::npos);
}

// ---- lock, unlock, delete, install, audit over every card ------------------------------------

void test_campaigns_over_every_card(void**) {
    const std::string transit = kTransit;
    // Lock: the transit applet is active on every card.
    must("campaign create --name lock-transit --op lock --aid " + transit +
         " --filter app=02,state=active --start");
    Json c = wait_over("lock-transit");
    assert_string_equal(c["state"].get<std::string>().c_str(), "finished");
    assert_int_equal(count(c, "total"), g->cards);
    assert_int_equal(count(c, "succeeded"), g->cards);
    auto rows = report("lock-transit");
    assert_int_equal(rows.size(), g->cards);
    for (const auto& [seq, row] : rows) {
        assert_string_equal(row.outcome.c_str(), "succeeded");
        assert_string_equal(row.card_state.c_str(), "suspended");
        assert_string_equal(row.por_status.c_str(), "por_ok");
        assert_int_equal(row.attempts, 1);
    }
    assert_both_sides(g->iccids, kTransit, "suspended", "suspended");

    // Unlock from a target file: ICCIDs and MSISDNs mixed, a comment.
    {
        std::ofstream f(g_dir + "/all.txt");
        f << "# every card\n";
        for (size_t i = 0; i < g->cards; i++)
            f << (i % 2 ? "+" + g->msisdns[i] : g->iccids[i]) << "\n";
    }
    const uint64_t slices = metric("otagw_campaign_creation_slices");
    must("campaign create --name unlock-transit --op unlock --aid " + transit +
         " --targets all.txt --start");
    // Its 10 000 lines were looked up in slices, the loop free in between (2 000 lines each).
    assert_true(metric("otagw_campaign_creation_slices") - slices >= 5);
    c = wait_over("unlock-transit");
    assert_int_equal(count(c, "succeeded"), g->cards);
    assert_both_sides(g->iccids, kTransit, "active", "active");

    // Locking what is not locked any more... then again: already locked is skipped.
    must("campaign create --name delete-transit --op delete --aid " + transit +
         " --filter app=02 --start");
    c = wait_over("delete-transit");
    assert_int_equal(count(c, "succeeded"), g->cards);
    assert_both_sides(g->iccids, kTransit, "terminated", "absent");
    must("campaign create --name lock-deleted --op lock --aid " + transit +
         " --filter app=02 --start");
    c = wait_over("lock-deleted");
    assert_int_equal(count(c, "skipped"), g->cards);
    assert_int_equal(c["skipped_by_reason"].value("not_allowed_from_terminated", 0), g->cards);

    // Install the bank applet where it is absent.
    must("campaign create --name install-bank --op install --aid " + std::string(kBank) +
         " --filter app=03,state=absent --start");
    c = wait_over("install-bank");
    assert_int_equal(count(c, "succeeded"), g->cards);
    assert_both_sides(g->iccids, kBank, "active", "active");

    // Audit the canteen applet on every card (by MSISDN prefix); meanwhile a subscriber's own
    // request on another application goes through at once.
    const std::string prefix = g->msisdns[0].substr(0, 3);
    must("campaign create --name audit-canteen --op audit --aid " + std::string(kCanteen) +
         " --filter msisdn-prefix=" + prefix + " --start");
    const auto asked = std::chrono::steady_clock::now();
    auto q = otactl("request create --iccid " + g->iccids[g->cards - 1] +
                    " --app 03 --op query --wait 30");
    const double took =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - asked).count();
    if (q.status != 0)
        fail_msg("request during the campaign: %s%s", q.out.c_str(), q.err.c_str());
    const Json during = campaign("audit-canteen");
    c = wait_over("audit-canteen");
    assert_int_equal(count(c, "succeeded"), g->cards);
    print_message("a single request during the audit campaign took %.2f s (campaign then %s, "
                  "%llu/%llu done)\n",
                  took, during["state"].get<std::string>().c_str(),
                  static_cast<unsigned long long>(during["done"].get<uint64_t>()),
                  static_cast<unsigned long long>(g->cards));
    assert_true(took < 5);
    rows = report("audit-canteen");
    for (const auto& [seq, row] : rows)
        assert_string_equal(row.card_state.c_str(), "installed");
    assert_both_sides(g->iccids, kCanteen, "installed", "installed");

    // Campaign events in the audit log.
    assert_string_equal(sql("SELECT group_concat(action, ' ') FROM (SELECT action FROM audit_log "
                            "WHERE subject = 'lock-transit' ORDER BY id)")
                            .c_str(),
                        "campaign.created campaign.started campaign.finished");
}

// ---- SMSC faults ----------------------------------------------------------------------------

// Throttling, disconnects, lost command packets and lost PoRs during a campaign: every target
// ends succeeded or failed with a reason; the succeeded ones are locked on both sides.
void test_smsc_faults_end_with_a_reason_for_every_target(void**) {
    const size_t n = std::min<size_t>(g->cards / 5, 2000);
    {
        std::ofstream f(g_dir + "/faulty.txt");
        for (size_t i = 0; i < n; i++)
            f << g->iccids[i] << "\n";
    }
    for (const char* fault :
         {"throttle-every=13", "disconnect-after=700", "mt-loss=0.25", "mo-loss=0.1"})
        assert_true(sim_control(g->control, std::string("fault ") + fault).value("ok", false));
    must("campaign create --name lock-bank-faults --op lock --aid " + std::string(kBank) +
         " --targets faulty.txt --retries 3 --start");
    Json c = wait_over("lock-bank-faults", 240);
    for (const char* fault : {"throttle-every=0", "disconnect-after=0", "mt-loss=0", "mo-loss=0"})
        sim_control(g->control, std::string("fault ") + fault);
    print_message("under faults: %s\n", c.dump().c_str());
    assert_int_equal(count(c, "succeeded") + count(c, "failed"), n);
    assert_int_equal(count(c, "pending") + count(c, "running"), 0);
    auto rows = report("lock-bank-faults");
    assert_int_equal(rows.size(), n);
    std::vector<std::string> locked;
    size_t retried = 0;
    for (const auto& [seq, row] : rows) {
        if (row.outcome == "failed") {
            assert_false(row.reason.empty());
            // Network faults can exhaust the retries, but never make the card refuse: a
            // card_refused_* or card_state_* here means the gateway misread a card's answer
            // (e.g. ran the operation again after a copy delivered twice had done it).
            if (row.reason.rfind("card_", 0) == 0)
                fail_msg("target %s failed with %s under network faults", row.iccid.c_str(),
                         row.reason.c_str());
        } else
            locked.push_back(row.iccid);
        retried += row.attempts > 1;
    }
    print_message("%zu of %zu locked, %zu tried more than once\n", locked.size(), n, retried);
    assert_true(locked.size() >= n * 9 / 10);
    assert_true(retried > 0); // lost PoRs and audits: tried again after a pause
    assert_both_sides(locked, kBank, "suspended", "suspended");
}

// ---- several campaigns, a schedule, the progress bar -----------------------------------------

// Two campaigns at once share the SMSC: they take turns, so neither waits for the other. One
// scheduled with --start-at starts by itself. On a terminal, --follow draws a progress bar.
void test_campaigns_share_and_start_by_themselves(void**) {
    const std::string prefix = g->msisdns[0].substr(0, 3);
    must("campaign create --name audit-transit-a --op audit --aid " + std::string(kTransit) +
         " --filter msisdn-prefix=" + prefix);
    must("campaign create --name audit-bank-b --op audit --aid " + std::string(kBank) +
         " --filter msisdn-prefix=" + prefix);
    must("campaign start audit-transit-a");
    must("campaign start audit-bank-b");
    Json a, b;
    assert_true(eventually(
        [&] {
            a = campaign("audit-transit-a");
            b = campaign("audit-bank-b");
            return a["state"] == "finished" || b["state"] == "finished";
        },
        120));
    // When the first is done, the second is nearly done too (turns, not one after the other).
    const uint64_t other =
        a["state"] == "finished" ? b["done"].get<uint64_t>() : a["done"].get<uint64_t>();
    print_message("first finished; the other had %llu of %zu done\n",
                  static_cast<unsigned long long>(other), g->cards);
    assert_true(other >= g->cards * 3 / 4);
    wait_over("audit-transit-a");
    wait_over("audit-bank-b");

    // Scheduled two seconds ahead: it starts by itself.
    {
        std::ofstream f(g_dir + "/five.txt");
        for (size_t i = 0; i < 5; i++)
            f << g->iccids[i] << "\n";
    }
    auto r = must("campaign create --name later --op audit --aid " + std::string(kBank) +
                  " --targets five.txt --start-at +2s");
    assert_true(r.out.find(", scheduled") != std::string::npos);
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    assert_string_equal(campaign("later")["state"].get<std::string>().c_str(), "scheduled");
    Json c = wait_over("later", 30);
    assert_string_equal(c["state"].get<std::string>().c_str(), "finished");
    assert_int_equal(count(c, "succeeded"), 5);
    assert_true(c["started_at"].get<int64_t>() - c["created_at"].get<int64_t>() >= 1900);

    // The progress bar, on a pseudo-terminal (script(1)).
    r = test::run_command("cd " + g_dir + " && OTAGW_API=http://127.0.0.1:" +
                          std::to_string(g_api) + " OTAGW_API_TOKEN=" + kToken + " script -qec '" +
                          OTACTL_PATH + " campaign status later --follow' /dev/null");
    assert_int_equal(r.status, 0);
    assert_true(r.out.find("later [##############################] 100% 5/5") != std::string::npos);
    assert_true(r.out.find('\r') != std::string::npos);
}

// ---- pause, resume, cancel ------------------------------------------------------------------

void test_pause_resume_cancel(void**) {
    // The bank applet is active on the cards the fault test did not lock.
    must("campaign create --name lock-bank --op lock --aid " + std::string(kBank) +
         " --filter app=03,state=active --rate 400/s --window 50");
    Json c = campaign("lock-bank");
    assert_string_equal(c["state"].get<std::string>().c_str(), "created");
    const uint64_t total = count(c, "total");
    assert_true(total >= g->cards * 4 / 5 - 1);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    assert_int_equal(campaign("lock-bank")["done"].get<uint64_t>(), 0); // not started yet

    must("campaign start lock-bank");
    assert_true(
        eventually([&] { return campaign("lock-bank")["done"].get<uint64_t>() >= 200; }, 20));
    auto r = must("campaign pause lock-bank");
    assert_true(r.out.find("lock-bank: paused") != std::string::npos);
    // What was in flight lands; then nothing moves.
    assert_true(eventually([&] { return count(campaign("lock-bank"), "running") == 0; }, 20));
    const uint64_t paused_at = campaign("lock-bank")["done"].get<uint64_t>();
    std::this_thread::sleep_for(std::chrono::milliseconds(1000));
    c = campaign("lock-bank");
    assert_int_equal(c["done"].get<uint64_t>(), paused_at);
    assert_true(paused_at < total);
    // The counts the engine keeps while the campaign runs are the store's.
    std::string counted;
    for (const char* state : {"pending", "running", "succeeded"})
        if (count(c, state))
            counted += std::string(counted.empty() ? "" : " ") + state + ":" +
                       std::to_string(count(c, state));
    assert_string_equal(
        sql("SELECT group_concat(state || ':' || n, ' ') FROM (SELECT state, count(*) AS n FROM "
            "campaign_targets WHERE campaign_id = " +
            std::to_string(c["id"].get<int64_t>()) + " GROUP BY state ORDER BY state)")
            .c_str(),
        counted.c_str());

    // Resumed: it moves at about the rate asked (400/s), no faster.
    must("campaign resume lock-bank");
    const auto resumed = std::chrono::steady_clock::now();
    assert_true(eventually(
        [&] { return campaign("lock-bank")["done"].get<uint64_t>() >= paused_at + 400; }, 20));
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - resumed).count();
    assert_true(secs >= 0.7);
    r = must("campaign cancel lock-bank");
    c = wait_over("lock-bank");
    assert_string_equal(c["state"].get<std::string>().c_str(), "cancelled");
    assert_int_equal(count(c, "pending"), 0);
    // The targets in flight at the cancel end as their requests do.
    assert_true(eventually(
        [&] {
            c = campaign("lock-bank");
            return count(c, "running") == 0;
        },
        30));
    assert_true(count(c, "cancelled") > 0);
    assert_int_equal(count(c, "succeeded") + count(c, "cancelled"), total);

    // Each target once; the succeeded ones locked on both sides, the cancelled ones untouched.
    auto rows = report("lock-bank");
    assert_int_equal(rows.size(), total);
    std::vector<std::string> locked, untouched;
    for (const auto& [seq, row] : rows) {
        if (row.outcome == "succeeded")
            locked.push_back(row.iccid);
        else {
            assert_string_equal(row.outcome.c_str(), "cancelled");
            assert_string_equal(row.reason.c_str(), "campaign_cancelled");
            untouched.push_back(row.iccid);
        }
    }
    assert_both_sides(locked, kBank, "suspended", "suspended");
    assert_both_sides(untouched, kBank, "active", "active");

    // A cancelled campaign stays cancelled.
    r = otactl("campaign resume lock-bank");
    assert_int_equal(r.status, 1);
    assert_true(r.err.find("campaign lock-bank is cancelled; it cannot be resumed") !=
                std::string::npos);
    r = must("campaign list");
    assert_true(r.out.find("lock-bank") != std::string::npos);
    r = must("campaign status lock-bank");
    assert_true(r.out.find("campaign ") == 0);
    assert_true(r.out.find("lock-bank: cancelled") != std::string::npos);
    // --follow on a pipe: plain lines, exit 1 (not finished cleanly).
    r = otactl("campaign status lock-bank --follow");
    assert_int_equal(r.status, 1);
    r = must("campaign report lock-bank --format json -o lock-bank.json");
    const Json j = Json::parse(interop::read_file(g_dir + "/lock-bank.json"));
    assert_int_equal(j.size(), total);
    assert_true(j[0].contains("outcome") && j[0].contains("attempts") &&
                j[0].contains("por_status") && j[0].contains("finished_at"));
}

void test_clean_stop(void**) {
    g->daemon->stop();
    g->sim->stop();
    assert_no_sanitizer_report({"ota-gatewayd", "cardlets-sim"});
    assert_true(interop::read_file(g_dir + "/ota-gatewayd.log").find("stopped") !=
                std::string::npos);
}

} // namespace

int main() {
    const CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_target_file_is_reported_line_by_line),
        cmocka_unit_test(test_campaigns_over_every_card),
        cmocka_unit_test(test_smsc_faults_end_with_a_reason_for_every_target),
        cmocka_unit_test(test_pause_resume_cancel),
        cmocka_unit_test(test_campaigns_share_and_start_by_themselves),
        cmocka_unit_test(test_clean_stop),
    };
    return test::run_in_temp_dir("otagw-campaigns", g_dir, tests, setup, teardown);
}
