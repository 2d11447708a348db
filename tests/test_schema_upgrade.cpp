// SPDX-License-Identifier: GPL-2.0-or-later
// Databases the previous schema (5) left (tests/data/schema5: written by commit 9274d6b's
// build, see make-fixture.sh) open with this build:
//  - with requests in flight, the daemon killed: the migration converts every request's working
//    data to the typed version 2, and each unfinished request resumes and ends with what the
//    card does (the cards are cardlets-sim's of the same seed, none of which got the lost
//    packets);
//  - with a byte that is not UTF-8 in the append-only audit log (an inventory file named in
//    Latin-1), which made every GET /v1/audit abort the daemon: repaired, recorded as such,
//    and `otactl audit tail` works.
#include <sys/stat.h>

#include "gatewayd_harness.hpp"

using namespace otagw;
using namespace harness;

namespace {

std::string g_root; // this run's folder; each test works in a folder of its own under it

// A fresh folder and ports for one test, its database restored from `fixture`.
void restore(const std::string& name, const std::string& fixture) {
    g_dir = g_root + "/" + name;
    assert_int_equal(mkdir(g_dir.c_str(), 0700), 0);
    g_api = interop::free_port();
    g_vty = interop::free_port();
    g_smsc = interop::free_port();
    g_config_edits.clear();
    auto restored = test::run_command("sqlite3 " + g_dir + "/ota-gateway.db < " +
                                      OTAGW_TEST_DATA_DIR + "/schema5/" + fixture);
    if (restored.status != 0)
        fail_msg("sqlite3: %s", restored.err.c_str());
    assert_string_equal(sql("PRAGMA user_version").c_str(), "5");
}

void test_requests_in_flight_resume_after_the_upgrade(void**) {
    restore("in-flight", "in-flight.sql");
    auto sim = start_simulator(4, g_dir + "/inventory.csv");
    const uint16_t control = control_port(*sim);
    uint16_t provider_port = 0;
    auto provider = start_provider(provider_port);
    g_config_edits.push_back({"por-timeout 60", "por-timeout 2"});
    assert_string_equal(
        sql("SELECT group_concat(state) FROM (SELECT state FROM requests ORDER BY id)").c_str(),
        "done,reconciling,sent,provider");
    auto daemon = start_daemon("ota-gatewayd");

    // Migrated: every request's working data is version 2; the one waiting for a PoR keeps
    // the packet it waits on, with its counter.
    assert_int_equal(api("GET", "/v1/health").json()["schema_version"].get<int>(), 10);
    assert_string_equal(sql("SELECT count(*) FROM requests WHERE detail ->> '$.v' = 2").c_str(),
                        "4");
    assert_string_equal(sql("SELECT (SELECT detail ->> '$.packets[0][1]' FROM requests WHERE "
                            "id = 3) = (SELECT counter FROM ota_messages WHERE id = 4)")
                            .c_str(),
                        "1");
    const Json first = api("GET", "/v1/requests/1").json();
    assert_string_equal(first["app_state"].get<std::string>().c_str(), "active");
    assert_string_equal(first["iccid"].get<std::string>().c_str(), "8988299000000000040");

    // Each resumes: the lost packets are found not run (an audit reads the card), sent again
    // with fresh counters; the activation asks its provider again.
    for (int id : {2, 3, 4}) {
        const Json r = wait_request(id, 40, *daemon);
        if (r["state"] != "done")
            fail_msg("request %d: %s\n%s", id, r.dump().c_str(), daemon->log().c_str());
    }
    const auto cards = inventory_cards(g_dir + "/inventory.csv");
    auto iccid = [&](size_t c) {
        return cards.at(c).at(0);
    };
    auto msisdn = [&](size_t c) {
        return cards.at(c).at(2);
    };
    for (size_t c : {0, 1}) { // requests 3 and 2: suspend transit
        assert_string_equal(gateway_app_state(iccid(c), kTransit).c_str(), "suspended");
        assert_string_equal(sim_app_state(control, msisdn(c), kTransit).c_str(), "locked");
    }
    assert_string_equal(gateway_app_state(iccid(2), kCanteen).c_str(), "active");
    assert_string_equal(sim_app_state(control, msisdn(2), kCanteen).c_str(), "selectable");
    // No counter was used twice: the cards refused none.
    const Json stats = sim_control(control, "stats");
    assert_int_equal(stats["counters"].value("sim:por:status:02", 0), 0);
    daemon->stop();
    provider->stop();
    sim->stop();
}

void test_poisoned_audit_log_is_repaired(void**) {
    restore("latin1-audit", "latin1-audit.sql");
    assert_string_equal(
        sql("SELECT hex(subject) FROM audit_log WHERE action = 'inventory.import'").c_str(),
        "6361727465735FE974E92E637376"); // cartes_\xe9t\xe9.csv
    auto daemon = start_daemon("ota-gatewayd");
    const auto tail = otactl("audit tail -n 20");
    if (tail.status != 0)
        fail_msg("otactl audit tail: %d %s%s\n%s", tail.status, tail.out.c_str(), tail.err.c_str(),
                 daemon->log().c_str());
    assert_true(tail.out.find("cartes_\xef\xbf\xbdt\xef\xbf\xbd.csv") != std::string::npos);
    assert_true(tail.out.find("audit.repaired") != std::string::npos);
    const Json audit = api("GET", "/v1/audit?limit=50").json();
    bool recorded = false;
    for (const auto& e : audit["entries"])
        recorded |=
            e["action"] == "audit.repaired" &&
            e["detail"].get<std::string>().find("1 entries re-encoded") != std::string::npos;
    assert_true(recorded);
    assert_true(daemon->running());
    // The log stays append-only.
    auto update = test::run_command("sqlite3 " + g_dir +
                                    "/ota-gateway.db \"UPDATE audit_log SET detail = 'x'\"");
    assert_int_not_equal(update.status, 0);
    daemon->stop();
}

} // namespace

int main() {
    const CMUnitTest tests[] = {
        cmocka_unit_test(test_requests_in_flight_resume_after_the_upgrade),
        cmocka_unit_test(test_poisoned_audit_log_is_repaired),
    };
    return test::run_in_temp_dir("otagw-upgrade", g_root, tests);
}
