// SPDX-License-Identifier: GPL-2.0-or-later
// Crash safety of the request pipeline: 1 000 concurrent requests (suspend the transit applet,
// one per card, each with its own idempotency key) while ota-gatewayd is killed with SIGKILL at
// random moments and restarted. A client retries each POST with the same key until answered.
// In the end: one request per key, every request finished exactly once (one closing audit
// entry each), no card ever saw a counter it had already seen (the simulator counts PoRs with
// status 02), and the gateway's registry equals the cards'. The seed of the kill times is
// printed; OTAGW_CRASH_SEED replays it.
#include <atomic>
#include <random>
#include <thread>

#include "gatewayd_harness.hpp"

using namespace otagw;
using namespace harness;

namespace {

constexpr int kCards = 1000;
constexpr int kKills = 4;

std::vector<std::string> g_msisdns;
std::atomic<int> g_accepted{0};

// Posts one request per card, `window` at a time, each retried with its key until answered.
void post_all() {
    uv_loop_t loop;
    uv_loop_init(&loop);
    size_t next = 0;
    std::function<void(size_t)> post = [&](size_t i) {
        http::ClientRequest req;
        req.method = "POST";
        req.target = "/v1/requests";
        req.body = Json{{"msisdn", g_msisdns[i]}, {"app", "02"}, {"operation", "suspend"}}.dump();
        req.headers.emplace_back("Authorization", std::string("Bearer ") + kToken);
        req.headers.emplace_back("Idempotency-Key", "crash-" + std::to_string(i));
        http::fetch(&loop, "127.0.0.1", g_api, req, 5000, [&, i](Result<http::ClientResponse> r) {
            if (r && (r->status == 202 || r->status == 200)) {
                g_accepted++;
                if (next < g_msisdns.size())
                    post(next++);
                return;
            }
            // The daemon is down (or shutting down): the same request again, a little later.
            auto* t = new uv::Timer(&loop);
            t->start(50, [&, i, t] {
                post(i);
                uv::defer(&loop, [t] { delete t; });
            });
        });
    };
    for (; next < 16 && next < g_msisdns.size(); next++)
        post(next);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
}

void test_kill_during_concurrent_requests(void**) {
    g_api = interop::free_port();
    g_vty = interop::free_port();
    g_smsc = interop::free_port();
    auto sim = start_simulator(kCards, g_dir + "/inventory.csv");
    const uint16_t control = control_port(*sim);
    g_config_edits = {
        {"window 10", "window 64"}, {"tps 200", "tps 2000"}, {"por-timeout 60", "por-timeout 3"}};
    int generation = 0;
    auto daemon = start_daemon("ota-gatewayd-" + std::to_string(generation));
    auto imported = otactl("inventory import inventory.csv");
    assert_int_equal(imported.status, 0);
    {
        std::ifstream in(g_dir + "/inventory.csv");
        std::string line;
        while (std::getline(in, line))
            if (!line.empty() && std::isdigit(static_cast<unsigned char>(line[0]))) {
                std::stringstream fields(line);
                std::string iccid, imsi, msisdn;
                std::getline(fields, iccid, ',');
                std::getline(fields, imsi, ',');
                std::getline(fields, msisdn, ',');
                g_msisdns.push_back(msisdn);
            }
    }
    assert_int_equal(g_msisdns.size(), kCards);
    assert_true(daemon->wait_log("bind smsc up", 10));

    const char* env = std::getenv("OTAGW_CRASH_SEED");
    const unsigned seed = env ? static_cast<unsigned>(std::stoul(env)) : std::random_device{}();
    std::printf("kill times from seed %u (OTAGW_CRASH_SEED)\n", seed);
    std::mt19937 rng(seed);
    // The network takes 200 to 600 ms each way: many packets and PoRs are in flight at a kill.
    assert_true(sim_control(control, "fault latency=400").value("ok", false));
    assert_true(sim_control(control, "fault jitter=200").value("ok", false));
    std::thread poster(post_all);
    for (int k = 0; k < kKills; k++) {
        std::this_thread::sleep_for(
            std::chrono::milliseconds(std::uniform_int_distribution<int>(50, 700)(rng)));
        std::printf("kill -9 with %d requests accepted, %s finished\n", g_accepted.load(),
                    sql("SELECT count(*) FROM requests WHERE state IN ('done', 'failed')").c_str());
        daemon->stop(SIGKILL);
        daemon = start_daemon("ota-gatewayd-" + std::to_string(++generation));
    }
    poster.join();
    // Every request finishes (PoR timeouts are 3 s: a lost one is reconciled by reading the card).
    bool finished = false;
    for (int i = 0; i < 600 && !finished; i++) {
        finished = sql("SELECT count(*) FROM requests WHERE state NOT IN ('done', 'refused', "
                       "'failed')") == "0";
        if (!finished)
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (!sim->running())
        fail_msg("cardlets-sim is gone; its log:\n%s", sim->log().c_str());
    assert_true(finished);
    // One request per key, each done, each closed once in the audit log.
    assert_string_equal(sql("SELECT count(*) FROM requests").c_str(), "1000");
    assert_string_equal(sql("SELECT count(DISTINCT idempotency_key) FROM requests").c_str(),
                        "1000");
    const std::string states = sql("SELECT state || ':' || count(*) FROM requests GROUP BY state");
    assert_string_equal(states.c_str(), "done:1000");
    assert_string_equal(sql("SELECT count(*) FROM audit_log WHERE action IN ('request.done', "
                            "'request.failed', 'request.refused')")
                            .c_str(),
                        "1000");
    assert_string_equal(sql("SELECT count(*) FROM (SELECT subject, detail FROM audit_log WHERE "
                            "action = 'request.done' GROUP BY detail HAVING count(*) > 1)")
                            .c_str(),
                        "0");
    // No card saw a counter twice: no PoR with status 02 (counter low).
    Json stats = sim_control(control, "stats");
    assert_int_equal(stats["counters"].value("sim:por:status:02", 0), 0);
    // The gateway's registry is the cards'.
    const std::string gateway = sql("SELECT c.msisdn || ':' || a.state FROM card_apps a JOIN "
                                    "cards c ON c.id = a.card_id WHERE a.aid = '" +
                                    std::string(kTransit) + "' ORDER BY c.msisdn");
    std::map<std::string, std::string> gw;
    std::stringstream ss(gateway);
    std::string row;
    while (std::getline(ss, row))
        gw[row.substr(0, row.find(':'))] = row.substr(row.find(':') + 1);
    size_t agree = 0;
    for (const auto& m : g_msisdns) {
        Json card = sim_control(control, "card " + m);
        std::string state = "absent";
        for (const auto& a : card["apps"])
            if (a["aid"] == kTransit)
                state = a["state"];
        if (state == "locked" && gw[m] == "suspended")
            agree++;
        else
            print_error("%s: card %s, gateway %s\n", m.c_str(), state.c_str(), gw[m].c_str());
    }
    assert_int_equal(agree, kCards);
    daemon->stop();
}

} // namespace

int main() {
    const CMUnitTest tests[] = {
        cmocka_unit_test(test_kill_during_concurrent_requests),
    };
    return test::run_in_temp_dir("otagw-crash", g_dir, tests);
}
