// SPDX-License-Identifier: GPL-2.0-or-later
// Crash safety of campaigns: a lock campaign over 50 000 cards (OTAGW_CAMPAIGN_CRASH_CARDS
// changes it) while ota-gatewayd is killed with SIGKILL five times at random points of its
// progress and restarted each time. In the end: the campaign finished by itself; the report
// shows every target exactly once, each succeeded; each target ran as exactly one request (none
// lost, none processed twice); no card ever saw a counter it had already seen (the simulator
// counts PoRs with status 02); and the cards' own registries (an export of the simulator) agree
// with the gateway's, card by card. The seed of the kill points is printed; OTAGW_CRASH_SEED
// replays it. Then it is killed while a second campaign is being created: after the restart that
// campaign is gone, targets and all, and can be created again.
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "gatewayd_harness.hpp"

using namespace otagw;
using namespace harness;

namespace {

// The campaign as the API reports it; null while the daemon is down.
Json status() {
    uv_loop_t loop;
    uv_loop_init(&loop);
    Json out;
    http::ClientRequest req;
    req.target = "/v1/campaigns/lock-all";
    req.headers.emplace_back("Authorization", std::string("Bearer ") + kToken);
    http::fetch(&loop, "127.0.0.1", g_api, req, 5000, [&](Result<http::ClientResponse> r) {
        if (r && r->status == 200)
            out = Json::parse(r->body, nullptr, false);
    });
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    return out;
}

void test_kill_during_campaign(void**) {
    size_t cards = 50000;
    if (const char* n = std::getenv("OTAGW_CAMPAIGN_CRASH_CARDS"))
        cards = std::stoul(n);
    constexpr int kKills = 5;
    g_api = interop::free_port();
    g_vty = interop::free_port();
    g_smsc = interop::free_port();
    auto sim = start_simulator(static_cast<int>(cards), g_dir + "/inventory.csv");
    const uint16_t control = control_port(*sim);
    g_config_edits = {{"window 10", "window 64"},
                      {"tps 200", "tps 0"},
                      {"por-timeout 60", "por-timeout 2"},
                      {"campaign-retry-delay 30", "campaign-retry-delay 1"}};
    int generation = 0;
    auto daemon = start_daemon("ota-gatewayd-0");
    auto imported = otactl("inventory import inventory.csv");
    assert_int_equal(imported.status, 0);
    assert_true(daemon->wait_log("bind smsc up", 10));

    const char* env = std::getenv("OTAGW_CRASH_SEED");
    const unsigned seed = env ? static_cast<unsigned>(std::stoul(env)) : std::random_device{}();
    std::printf("kill points from seed %u (OTAGW_CRASH_SEED)\n", seed);
    std::mt19937 rng(seed);
    std::vector<double> points;
    for (int k = 0; k < kKills; k++)
        points.push_back(std::uniform_real_distribution<double>(0.02, 0.9)(rng));
    std::sort(points.begin(), points.end());

    auto created = otactl("campaign create --name lock-all --op lock --aid " +
                          std::string(kTransit) + " --filter app=02,state=active --start");
    if (created.status != 0)
        fail_msg("create: %s%s", created.out.c_str(), created.err.c_str());
    for (double point : points) {
        const uint64_t at = static_cast<uint64_t>(point * static_cast<double>(cards));
        uint64_t done = 0;
        for (int i = 0; i < 6000 && done < at; i++) {
            Json s = status();
            done = s.is_object() ? s.value("done", uint64_t{0}) : 0;
            if (done < at)
                std::this_thread::sleep_for(
                    std::chrono::milliseconds(std::uniform_int_distribution<int>(5, 30)(rng)));
        }
        std::printf("kill -9 at %llu of %zu targets done\n", static_cast<unsigned long long>(done),
                    cards);
        daemon->stop(SIGKILL);
        daemon = start_daemon("ota-gatewayd-" + std::to_string(++generation));
    }
    Json s;
    for (int i = 0; i < 1200; i++) {
        s = status();
        if (s.is_object() && s["state"] == "finished")
            break;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (!s.is_object() || s["state"] != "finished")
        fail_msg("campaign not finished: %s\n%s", s.dump().c_str(), daemon->log().c_str());
    if (!sim->running())
        fail_msg("cardlets-sim is gone; its log:\n%s", sim->log().c_str());
    std::printf("%s\n", s.dump().c_str());
    const std::string n = std::to_string(cards);
    assert_string_equal(std::to_string(s["counts"]["succeeded"].get<uint64_t>()).c_str(),
                        n.c_str());

    // The report: every target once, each succeeded, the transit applet suspended.
    auto r = otactl("campaign report lock-all --format csv -o report.csv");
    assert_int_equal(r.status, 0);
    std::ifstream in(g_dir + "/report.csv");
    std::string line;
    std::getline(in, line);
    std::set<std::string> iccids;
    std::set<int64_t> seqs;
    size_t rows = 0;
    while (std::getline(in, line)) {
        rows++;
        std::stringstream f(line);
        std::string seq, iccid, msisdn, outcome, reason, card_state;
        std::getline(f, seq, ',');
        std::getline(f, iccid, ',');
        std::getline(f, msisdn, ',');
        std::getline(f, outcome, ',');
        std::getline(f, reason, ',');
        std::getline(f, card_state, ',');
        assert_true(seqs.insert(std::stoll(seq)).second);
        assert_true(iccids.insert(iccid).second);
        if (outcome != "succeeded" || card_state != "suspended")
            fail_msg("target %s: %s", seq.c_str(), line.c_str());
    }
    assert_int_equal(rows, cards);
    assert_int_equal(*seqs.rbegin(), static_cast<int64_t>(cards));

    // One request per target: none lost, none run twice.
    assert_string_equal(sql("SELECT count(*) FROM requests WHERE source = 'campaign'").c_str(),
                        n.c_str());
    assert_string_equal(sql("SELECT count(DISTINCT card_id) FROM requests WHERE source = "
                            "'campaign' AND state = 'done'")
                            .c_str(),
                        n.c_str());
    assert_string_equal(
        sql("SELECT count(*) FROM campaign_targets t JOIN requests r ON r.id = t.request_id "
            "WHERE r.card_id <> t.card_id OR r.state <> 'done'")
            .c_str(),
        "0");
    // No card saw a counter twice.
    Json stats = sim_control(control, "stats");
    assert_int_equal(stats["counters"].value("sim:por:status:02", 0), 0);

    // The cards agree with the gateway, card by card.
    Json exported = sim_control(control, "export " + g_dir + "/after.csv");
    assert_true(exported.value("ok", false));
    std::ifstream after(g_dir + "/after.csv");
    std::map<std::string, std::string> cards_say;
    while (std::getline(after, line)) {
        if (line.empty() || !std::isdigit(static_cast<unsigned char>(line[0])))
            continue;
        const std::string iccid = line.substr(0, line.find(','));
        const size_t at = line.find(std::string(kTransit) + ":");
        const int lc = at == std::string::npos
                           ? -1
                           : std::stoi(line.substr(at + strlen(kTransit) + 1, 2), nullptr, 16);
        cards_say[iccid] = lc < 0 ? "absent" : (lc & 0x80) ? "suspended" : "active";
    }
    const std::string gateway = sql("SELECT c.iccid || ':' || a.state FROM card_apps a JOIN cards "
                                    "c ON c.id = a.card_id WHERE a.aid = '" +
                                    std::string(kTransit) + "'");
    std::stringstream gs(gateway);
    size_t agree = 0;
    while (std::getline(gs, line)) {
        const std::string iccid = line.substr(0, line.find(':'));
        const std::string state = line.substr(line.find(':') + 1);
        if (state != "suspended" || cards_say[iccid] != "suspended")
            fail_msg("ICCID %s: gateway %s, card %s", iccid.c_str(), state.c_str(),
                     cards_say[iccid].c_str());
        agree++;
    }
    assert_int_equal(agree, cards);

    // Killed while a campaign is being created (its targets written a slice at a time): after
    // the restart it is gone, targets and all, and nobody was told it was created; its name
    // is free again.
    test::CommandRun second;
    std::thread creating([&] {
        second = otactl("campaign create --name audit-all --op audit --aid " +
                        std::string(kTransit) + " --filter app=02");
    });
    bool seen = false;
    for (int i = 0; i < 20000 && !seen; i++) {
        const Answer a = api("GET", "/v1/campaigns/audit-all");
        seen = a.status == 200 && a.json().value("state", "") == "creating";
        if (a.status == 200 && !seen)
            break; // created before a poll saw it being created
    }
    daemon->stop(SIGKILL);
    creating.join();
    daemon = start_daemon("ota-gatewayd-" + std::to_string(++generation));
    std::printf("killed %s creating audit-all\n", seen ? "while" : "after");
    if (seen) {
        assert_true(second.status != 0); // not told it was created
        assert_int_equal(api("GET", "/v1/campaigns/audit-all").status, 404);
        assert_string_equal(sql("SELECT count(*) FROM audit_log WHERE action = "
                                "'campaign.abandoned' AND subject = 'audit-all'")
                                .c_str(),
                            "1");
    }
    assert_string_equal(sql("SELECT count(*) FROM campaign_targets WHERE campaign_id NOT IN "
                            "(SELECT id FROM campaigns)")
                            .c_str(),
                        "0");
    if (seen) {
        auto again = otactl("campaign create --name audit-all --op audit --aid " +
                            std::string(kTransit) + " --filter app=02");
        if (again.status != 0)
            fail_msg("create again: %s%s", again.out.c_str(), again.err.c_str());
    }
    assert_string_equal(sql("SELECT count(*) FROM campaign_targets t JOIN campaigns c ON c.id = "
                            "t.campaign_id WHERE c.name = 'audit-all'")
                            .c_str(),
                        n.c_str());
    daemon->stop();
    sim->stop();
}

} // namespace

int main() {
    const CMUnitTest tests[] = {cmocka_unit_test(test_kill_during_campaign)};
    return test::run_in_temp_dir("otagw-campaign-crash", g_dir, tests);
}
