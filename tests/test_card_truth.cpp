// SPDX-License-Identifier: GPL-2.0-or-later
// The card is the source of truth, also when the network replays and delays (end to end:
// ota-gatewayd, cardlets-sim and ota-provider-sim as processes on 127.0.0.1).
//  1. An old genuine PoR replayed from the card's number after a newer operation changes
//     nothing: a PoR is applied only to the packet whose counter it answers, never over what a
//     newer counter taught; it is audited as a replay.
//  2. A PoR that comes after por-timeout but before the audit ends is applied: the request ends
//     with what the card did, and the provider is told that, not "failed".
#include "gatewayd_harness.hpp"

using namespace otagw;
using namespace harness;

namespace {

struct World {
    std::unique_ptr<interop::Process> sim, provider, daemon;
    uint16_t control = 0, provider_port = 0;
    std::vector<std::vector<std::string>> cards;
};
World* g = nullptr;

const std::string& msisdn(size_t card) {
    return g->cards.at(card).at(2);
}
const std::string& iccid(size_t card) {
    return g->cards.at(card).at(0);
}

Json finished(const Json& body) {
    const Json r = post_request(body);
    if (!r.contains("id"))
        fail_msg("no request: %s", r.dump().c_str());
    return wait_request(r["id"], 30, *g->daemon);
}

size_t audit_entries(const std::string& action, const std::string& subject) {
    size_t n = 0;
    const Json audit = api("GET", "/v1/audit?limit=1000").json();
    for (const auto& e : audit["entries"])
        n += e["action"] == action && e["subject"] == subject;
    return n;
}

int setup(void**) {
    g_api = interop::free_port();
    g_vty = interop::free_port();
    g_smsc = interop::free_port();
    static World w;
    g = &w;
    w.sim = start_simulator(16, g_dir + "/inventory.csv");
    w.control = control_port(*w.sim);
    w.cards = inventory_cards(g_dir + "/inventory.csv");
    w.provider = start_provider(w.provider_port);
    g_config_edits.push_back({"por-timeout 60", "por-timeout 2"});
    // The requests' state machine traced (category DREQ at debug).
    g_config_edits.push_back(
        {" logging print level 1\n", " logging print level 1\n logging level req debug\n"});
    w.daemon = start_daemon("ota-gatewayd");
    if (otactl("inventory import inventory.csv").status != 0)
        return 1;
    return w.daemon->wait_log("bind smsc up", 10) ? 0 : 1;
}

int teardown(void**) {
    if (g) {
        g->daemon.reset();
        g->provider.reset();
        g->sim.reset();
    }
    return 0;
}

void test_replayed_por_changes_nothing(void**) {
    const size_t c = 0;
    // A query: the card's PoR shows the transit applet selectable (counter 1).
    Json q = finished({{"msisdn", msisdn(c)}, {"app", "02"}, {"operation", "query"}});
    assert_string_equal(q["state"].get<std::string>().c_str(), "done");
    assert_string_equal(q["app_state"].get<std::string>().c_str(), "active");
    // A suspend (counter 2).
    Json s = finished({{"msisdn", msisdn(c)}, {"app", "02"}, {"operation", "suspend"}});
    assert_string_equal(s["state"].get<std::string>().c_str(), "done");
    // Each transition is traced: request, card, states, event (and never a key).
    const std::string trace = "DREQ DEBUG request " + std::to_string(s["id"].get<int64_t>()) +
                              " (ICCID " + iccid(c) + ", transit): sent --por--> done";
    assert_true(g->daemon->log().find(trace) != std::string::npos);
    assert_string_equal(gateway_app_state(iccid(c), kTransit).c_str(), "suspended");
    // The query's PoR again, byte for byte, from the card's number: genuine, and old.
    Json replayed = sim_control(g->control, "replay-por " + msisdn(c) + " 2");
    assert_true(replayed.value("ok", false));
    assert_true(eventually([&] { return audit_entries("por.replayed", iccid(c)) == 1; }));
    assert_string_equal(gateway_app_state(iccid(c), kTransit).c_str(), "suspended");
    assert_string_equal(sim_app_state(g->control, msisdn(c), kTransit).c_str(), "locked");
    // The suspend's own PoR again: a replay too.
    assert_true(sim_control(g->control, "replay-por " + msisdn(c) + " 1").value("ok", false));
    assert_true(eventually([&] { return audit_entries("por.replayed", iccid(c)) == 2; }));
    assert_string_equal(gateway_app_state(iccid(c), kTransit).c_str(), "suspended");
    // And a replay while a newer operation is in flight (a resume, its PoR held back): still
    // nothing, and the resume ends with what the card did.
    assert_true(sim_control(g->control, "fault latency=800").value("ok", false));
    Json r = post_request({{"msisdn", msisdn(c)}, {"app", "02"}, {"operation", "resume"}});
    assert_true(sim_control(g->control, "replay-por " + msisdn(c) + " 2").value("ok", false));
    Json resumed = wait_request(r["id"], 30, *g->daemon);
    assert_true(sim_control(g->control, "fault latency=0").value("ok", false));
    assert_string_equal(resumed["state"].get<std::string>().c_str(), "done");
    assert_string_equal(gateway_app_state(iccid(c), kTransit).c_str(), "active");
    assert_string_equal(sim_app_state(g->control, msisdn(c), kTransit).c_str(), "selectable");
}

void test_late_por_during_the_audit_is_applied(void**) {
    // Each way takes 1.5 s: a PoR comes 3 s after the packet left, 1 s after por-timeout (2 s)
    // sent the audit, whose own PoR would come at 5 s.
    assert_true(sim_control(g->control, "fault latency=1500").value("ok", false));
    std::vector<size_t> cards;
    std::vector<int64_t> ids;
    for (size_t c = 4; c < 14; c++) {
        cards.push_back(c);
        Json r = post_request({{"msisdn", msisdn(c)}, {"app", "01"}, {"operation", "activate"}});
        assert_int_equal(r["http_status"].get<int>(), 202);
        ids.push_back(r["id"]);
    }
    for (size_t i = 0; i < cards.size(); i++) {
        Json done = wait_request(ids[i], 40, *g->daemon);
        if (done["state"] != "done")
            fail_msg("activation on card %zu: %s", cards[i], done.dump().c_str());
        assert_string_equal(done["app_state"].get<std::string>().c_str(), "active");
    }
    assert_true(sim_control(g->control, "fault latency=0").value("ok", false));
    for (size_t c : cards) {
        assert_string_equal(gateway_app_state(iccid(c), kCanteen).c_str(), "active");
        assert_string_equal(sim_app_state(g->control, msisdn(c), kCanteen).c_str(), "selectable");
        // It was late: timed out and audited, and still the card's word.
        assert_true(audit_entries("por.timeout", iccid(c)) >= 1);
    }
    // The provider was told what the card did.
    assert_true(eventually([&] {
        size_t told = 0;
        const Json calls = provider_calls(g->provider_port);
        for (const auto& r : calls["results"])
            for (size_t c : cards)
                told += r["msisdn"] == msisdn(c) && r["operation"] == "activate" &&
                        r["outcome"] == "done";
        return told == cards.size();
    }));
    const Json calls = provider_calls(g->provider_port);
    for (const auto& r : calls["results"])
        assert_true(r["outcome"] != "failed");
    // The audits' own PoRs came afterwards: newer, the same state; the cards agree still.
    std::this_thread::sleep_for(std::chrono::milliseconds(2500));
    for (size_t c : cards)
        assert_string_equal(gateway_app_state(iccid(c), kCanteen).c_str(), "active");
}

void test_clean_stop(void**) {
    g->daemon->stop();
    g->provider->stop();
    g->sim->stop();
    assert_no_sanitizer_report({"ota-gatewayd", "ota-provider-sim", "cardlets-sim"});
}

} // namespace

int main() {
    const CMUnitTest tests[] = {
        cmocka_unit_test(test_replayed_por_changes_nothing),
        cmocka_unit_test(test_late_por_during_the_audit_is_applied),
        cmocka_unit_test(test_clean_stop),
    };
    return test::run_in_temp_dir("otagw-truth", g_dir, tests, setup, teardown);
}
