// SPDX-License-Identifier: GPL-2.0-or-later
// Installing an applet that is not on the card yet, end to end: ota-gatewayd loads the CAP in
// ../shared/vectors/cap (GlobalPlatformPro's Empty applet, tests/data/cap) onto cardlets-sim's
// cards over the real SMPP path, one secured packet per SMS (`max-segments 1`: three load
// packets), then installs and makes it selectable.
//  - a subscriber's SMS request and an API request: done; the card holds the load file, the
//    module, the applet selectable and answering SELECT; the gateway's inventory agrees;
//  - a PoR lost in the middle of the load: the card is read, the unfinished load deleted, the
//    load started again: installed;
//  - kill -9 of the daemon in the middle of the load, at several points: resumed, installed;
//  - a card without the memory, at INSTALL [for load] or in the middle of the load: failed
//    card_refused_6a84, nothing on the card;
//  - a campaign over 10 000 cards: installed on every card that lacks it, skipped on those that
//    have it; the cards and the gateway agree card by card;
//  - DELETE of the load file with its related objects, by a request and by a campaign: gone
//    from the card and the inventory;
//  - no card ever saw a counter twice (no PoR status 02).
#include <set>
#include <sstream>

#include "gatewayd_harness.hpp"

using namespace otagw;
using namespace harness;

namespace {

const char* kEmptyPackage = "0102030405";
const char* kEmptyApplet = "0102030405060708";

struct World {
    std::unique_ptr<interop::Process> sim, daemon;
    uint16_t control = 0;
    std::vector<std::vector<std::string>> cards;
    int generation = 0;
};
World* g = nullptr;

const std::string& msisdn(size_t card) {
    return g->cards.at(card).at(2);
}
const std::string& iccid(size_t card) {
    return g->cards.at(card).at(0);
}

Json install(size_t card) {
    const Json r =
        post_request({{"msisdn", msisdn(card)}, {"app", "09"}, {"operation", "install"}});
    if (!r.contains("id"))
        fail_msg("no request: %s", r.dump().c_str());
    return r;
}

// The card's own word: its load files, applications, memory, an unfinished load.
Json card(size_t c) {
    return sim_control(g->control, "card " + msisdn(c));
}

// The card holds the Empty package, its applet selectable and answering SELECT, nothing
// half-loaded; the gateway's inventory says the same.
void assert_installed(size_t c) {
    const Json k = card(c);
    bool elf = false;
    for (const auto& f : k["load_files"])
        if (f["aid"] == kEmptyPackage) {
            elf = true;
            assert_int_equal(f["modules"].size(), 1);
            assert_string_equal(f["modules"][0].get<std::string>().c_str(), kEmptyApplet);
        }
    if (!elf)
        fail_msg("card %zu has no load file %s: %s", c, kEmptyPackage, k.dump().c_str());
    assert_true(k["loading"].is_null());
    assert_string_equal(sim_app_state(g->control, msisdn(c), kEmptyApplet).c_str(), "selectable");
    const Json selected = sim_control(g->control, "local " + msisdn(c) + " " + kEmptyApplet +
                                                      " 00A4040008" + kEmptyApplet);
    assert_string_equal(selected.value("sw", "").c_str(), "9000");
    assert_string_equal(gateway_app_state(iccid(c), kEmptyApplet).c_str(), "active");
    const Json view = api("GET", "/v1/cards/" + iccid(c)).json();
    bool recorded = false;
    for (const auto& f : view["load_files"])
        recorded |= f["aid"] == kEmptyPackage;
    assert_true(recorded);
}

// Nothing of the package on the card: no load file, no applet, no unfinished load.
void assert_nothing_loaded(size_t c) {
    const Json k = card(c);
    for (const auto& f : k["load_files"])
        assert_false(f["aid"] == kEmptyPackage);
    assert_true(k["loading"].is_null());
    assert_string_equal(sim_app_state(g->control, msisdn(c), kEmptyApplet).c_str(), "absent");
}

// The request once in state `state` with at least `blocks` LOAD blocks confirmed.
void wait_loading(int64_t id, uint32_t blocks) {
    Json r;
    if (!eventually(
            [&] {
                r = api("GET", "/v1/requests/" + std::to_string(id)).json();
                return r.value("state", "") == "loading" && r.contains("load") &&
                       r["load"].value("blocks_done", 0u) >= blocks;
            },
            20))
        fail_msg("request %lld never loading with %u blocks: %s", static_cast<long long>(id),
                 blocks, r.dump().c_str());
}

void restart_daemon() {
    g->daemon->stop(SIGKILL);
    g->daemon = start_daemon("ota-gatewayd-" + std::to_string(++g->generation));
    assert_true(g->daemon->wait_log("bind smsc up", 10));
}

int setup(void**) {
    g_api = interop::free_port();
    g_vty = interop::free_port();
    g_smsc = interop::free_port();
    static World w;
    g = &w;
    w.sim = start_simulator(10000, g_dir + "/inventory.csv");
    w.control = control_port(*w.sim);
    w.cards = inventory_cards(g_dir + "/inventory.csv");
    // The Empty applet in the catalog with its CAP file; one SMS per packet, short timers.
    g_config_edits.push_back({"application transit\n",
                              "application empty\n aid 0102030405060708\n code 09\n type other\n"
                              " load-file 0102030405\n module 0102030405060708\n tar c00009\n"
                              " msl 12\n cap " OTAGW_TEST_DATA_DIR
                              "/cap/gppro_Empty_0102030405_8d5ac9e2_2.2.1.cap\n"
                              "application transit\n"});
    g_config_edits.push_back({"timer por-timeout 60", "timer por-timeout 2\n max-segments 1\n"
                                                      " load-hash sha256"});
    // 10 000 cards in a campaign: the SMSC bind may go faster than the example's 200/s.
    g_config_edits.push_back({"  window 10\n  tps 200\n", "  window 100\n  tps 5000\n"});
    g_config_edits.push_back({" keyword en query QRY\n", " keyword en query QRY\n"
                                                         " keyword en install INS\n"});
    w.daemon = start_daemon("ota-gatewayd");
    if (otactl("inventory import inventory.csv").status != 0)
        return 1;
    return w.daemon->wait_log("bind smsc up", 10) ? 0 : 1;
}

int teardown(void**) {
    if (g) {
        g->daemon.reset();
        g->sim.reset();
    }
    return 0;
}

void test_config_checks_the_cap(void**) {
    // The running config names the CAP; the VTY shows it back.
    Vty vty;
    vty.run("enable");
    std::string config;
    for (const auto& line : vty.run("show running-config"))
        config += line + "\n";
    assert_true(config.find(" cap " OTAGW_TEST_DATA_DIR "/cap/") != std::string::npos);
    assert_true(config.find(" max-segments 1") != std::string::npos);
    // A module the CAP does not hold is refused at start, with what is wrong.
    std::ofstream(g_dir + "/bad.cfg")
        << replace(config_text(), " module 0102030405060708\n", " module 0102030405060799\n");
    auto bad =
        test::run_command(std::string(OTA_GATEWAYD_PATH) + " --check -c " + g_dir + "/bad.cfg");
    assert_int_not_equal(bad.status, 0);
    if (bad.err.find("module 0102030405060799 is none of its applets (0102030405060708)") ==
        std::string::npos)
        fail_msg("stderr: %s", bad.err.c_str());
}

void test_subscriber_installs_by_sms(void**) {
    const size_t c = 0;
    assert_nothing_loaded(c);
    Json sent = sim_control(g->control, "mo-text " + msisdn(c) + " 4321 INS 09");
    assert_true(sent.value("ok", false));
    std::string id;
    assert_true(eventually([&] {
        id = sql("SELECT id FROM requests WHERE msisdn = '" + msisdn(c) + "'");
        return !id.empty();
    }));
    const Json done = wait_request(std::stoll(id), 30, *g->daemon);
    assert_string_equal(done["state"].get<std::string>().c_str(), "done");
    assert_string_equal(done["operation"].get<std::string>().c_str(), "install");
    assert_true(done["load"]["blocks"].get<int>() >= 3); // one SMS per packet: several packets
    assert_int_equal(done["load"]["blocks_done"].get<int>(), done["load"]["blocks"].get<int>());
    assert_int_equal(done["load"]["restarts"].get<int>(), 0);
    assert_installed(c);
    // The subscriber is told.
    assert_true(eventually([&] {
        const Json inbox = sim_control(g->control, "inbox " + msisdn(c));
        return inbox.contains("messages") && !inbox["messages"].empty();
    }));
    // Asked again: refused (the applet is there), nothing sent.
    const Json again =
        post_request({{"msisdn", msisdn(c)}, {"app", "09"}, {"operation", "install"}});
    assert_string_equal(again["state"].get<std::string>().c_str(), "refused");
}

void test_lost_por_in_the_middle(void**) {
    const size_t c = 1;
    assert_true(sim_control(g->control, "fault latency=300").value("ok", false));
    const Json r = install(c);
    wait_loading(r["id"], 1);
    // The operator sees the progress in the VTY.
    {
        Vty vty;
        std::string shown;
        for (const auto& line : vty.run("show requests"))
            shown += line + "\n";
        const std::string want = "request " + std::to_string(r["id"].get<int64_t>()) + " loading";
        if (shown.find(want) == std::string::npos ||
            shown.find(", load blocks ") == std::string::npos)
            fail_msg("show requests:\n%s", shown.c_str());
    }
    // Every PoR is lost for a while: the one of packet 2 (or 3), and the first audit's.
    assert_true(sim_control(g->control, "fault mo-loss=1").value("ok", false));
    assert_true(eventually(
        [&] {
            return api("GET", "/v1/requests/" + std::to_string(r["id"].get<int64_t>()))
                       .json()
                       .value("state", "") == "reconciling";
        },
        20));
    assert_true(sim_control(g->control, "fault mo-loss=0").value("ok", false));
    const Json done = wait_request(r["id"], 60, *g->daemon);
    assert_true(sim_control(g->control, "fault latency=0").value("ok", false));
    assert_string_equal(done["state"].get<std::string>().c_str(), "done");
    assert_int_equal(done["load"]["restarts"].get<int>(), 1);
    assert_installed(c);
    // The unfinished load was deleted, audited.
    const Json audit = api("GET", "/v1/audit?limit=1000").json();
    size_t restarts = 0;
    for (const auto& e : audit["entries"])
        restarts += e["action"] == "app.load_restart" && e["subject"] == iccid(c);
    assert_int_equal(restarts, 1);
}

void test_kill_9_in_the_middle(void**) {
    // Killed with the load just asked for, with blocks confirmed, and once loaded.
    assert_true(sim_control(g->control, "fault latency=200").value("ok", false));
    for (size_t c : {2, 3, 4}) {
        const Json r = install(c);
        if (c == 3)
            wait_loading(r["id"], 1);
        if (c == 4)
            assert_true(eventually([&] {
                const Json q =
                    api("GET", "/v1/requests/" + std::to_string(r["id"].get<int64_t>())).json();
                return q.value("state", "") == "sent";
            }));
        restart_daemon();
        const Json done = wait_request(r["id"], 60, *g->daemon);
        if (done["state"] != "done")
            fail_msg("card %zu: %s", c, done.dump().c_str());
        assert_installed(c);
    }
    assert_true(sim_control(g->control, "fault latency=0").value("ok", false));
}

void test_card_memory_full(void**) {
    const size_t c = 5;
    assert_true(sim_control(g->control, "card-memory " + msisdn(c) + " 150").value("ok", false));
    const Json done = wait_request(install(c)["id"], 30, *g->daemon);
    assert_string_equal(done["state"].get<std::string>().c_str(), "failed");
    assert_string_equal(done["reason"].get<std::string>().c_str(), "card_refused_6a84");
    assert_nothing_loaded(c);
    assert_int_equal(card(c)["memory_used"].get<int>(), 0);
    assert_string_equal(gateway_app_state(iccid(c), kEmptyApplet).c_str(), "absent");
    assert_true(sim_control(g->control, "card-memory " + msisdn(c) + " 65536").value("ok", false));

    // The memory taken by something else in the middle of the load: a LOAD is refused, the
    // blocks the card kept are deleted, the request fails with the card's word.
    const size_t d = 7;
    assert_true(sim_control(g->control, "fault latency=300").value("ok", false));
    const Json r = install(d);
    wait_loading(r["id"], 1);
    const int used = card(d)["memory_used"].get<int>();
    assert_true(used > 0); // blocks held by the unfinished load
    assert_true(sim_control(g->control, "card-memory " + msisdn(d) + " " + std::to_string(used + 5))
                    .value("ok", false));
    const Json failed = wait_request(r["id"], 30, *g->daemon);
    assert_true(sim_control(g->control, "fault latency=0").value("ok", false));
    assert_string_equal(failed["state"].get<std::string>().c_str(), "failed");
    assert_string_equal(failed["reason"].get<std::string>().c_str(), "card_refused_6a84");
    assert_nothing_loaded(d);
    assert_int_equal(card(d)["memory_used"].get<int>(), 0);
    assert_true(sim_control(g->control, "card-memory " + msisdn(d) + " 65536").value("ok", false));
}

// The cards holding the Empty applet selectable with its package, by ICCID, as the cards say
// (an export of the simulator) and as the gateway's inventory says.
std::set<std::string> installed_on_cards() {
    const std::string path = g_dir + "/after.csv";
    assert_true(sim_control(g->control, "export " + path).value("ok", false));
    std::set<std::string> out;
    for (const auto& f : inventory_cards(path)) {
        const bool elf =
            f.at(5).find(std::string(kEmptyPackage) + "/" + kEmptyApplet) != std::string::npos;
        const bool app = f.at(6).find(std::string(kEmptyApplet) + ":07:") != std::string::npos;
        if (elf && app)
            out.insert(f.at(0));
    }
    return out;
}
std::set<std::string> installed_in_gateway() {
    std::set<std::string> out;
    std::stringstream rows(sql("SELECT c.iccid FROM card_apps a JOIN cards c ON c.id = a.card_id "
                               "WHERE a.aid = '" +
                               std::string(kEmptyApplet) +
                               "' AND a.state = 'active' AND c.load_files LIKE '%" + kEmptyPackage +
                               "%'"));
    for (std::string iccid; std::getline(rows, iccid);)
        if (!iccid.empty())
            out.insert(iccid);
    return out;
}

// 10 000 cards: installed on every card that lacks it, skipped on those that have it; the cards
// and the gateway agree card by card.
void test_campaign_installs_where_missing(void**) {
    const size_t without_memory = 5; // still without: not a target (card 7 is one again)
    std::ofstream targets(g_dir + "/targets.txt");
    for (size_t c = 0; c < g->cards.size(); c++)
        if (c != without_memory)
            targets << iccid(c) << "\n";
    targets.close();
    auto created = otactl("campaign create --name empty-applet --op install --aid " +
                          std::string(kEmptyApplet) + " --targets targets.txt --start");
    assert_int_equal(created.status, 0);
    auto followed = otactl("campaign status empty-applet --follow --interval 1");
    if (followed.status != 0)
        fail_msg("campaign: %s%s", followed.out.c_str(), followed.err.c_str());
    const Json status = api("GET", "/v1/campaigns/empty-applet").json();
    assert_int_equal(status["skipped_by_reason"].value("already_active", 0), 5); // cards 0-4
    assert_int_equal(status["counts"].value("succeeded", 0), static_cast<int>(g->cards.size()) - 6);
    const auto cards = installed_on_cards(), gateway = installed_in_gateway();
    assert_int_equal(cards.size(), g->cards.size() - 1);
    assert_true(cards == gateway);
    assert_true(cards.count(iccid(without_memory)) == 0);
    // No card ever saw a counter twice.
    const Json stats = sim_control(g->control, "stats");
    assert_int_equal(stats["counters"].value("sim:por:status:02", 0), 0);
}

// A campaign deleting the package from cards 100-199: gone from those cards and from the
// gateway's inventory, still on the others; the cards and the gateway agree.
void test_campaign_deletes_the_package(void**) {
    std::ofstream targets(g_dir + "/delete.txt");
    for (size_t c = 100; c < 200; c++)
        targets << iccid(c) << "\n";
    targets.close();
    auto created = otactl("campaign create --name empty-gone --op delete-package --aid " +
                          std::string(kEmptyApplet) + " --targets delete.txt --start");
    if (created.status != 0)
        fail_msg("campaign: %s%s", created.out.c_str(), created.err.c_str());
    auto followed = otactl("campaign status empty-gone --follow --interval 1");
    if (followed.status != 0)
        fail_msg("campaign: %s%s", followed.out.c_str(), followed.err.c_str());
    const Json status = api("GET", "/v1/campaigns/empty-gone").json();
    assert_int_equal(status["counts"].value("succeeded", 0), 100);
    const auto cards = installed_on_cards(), gateway = installed_in_gateway();
    assert_int_equal(cards.size(), g->cards.size() - 1 - 100);
    assert_true(cards == gateway);
    for (size_t c = 100; c < 200; c += 33) {
        assert_nothing_loaded(c);
        assert_string_equal(gateway_app_state(iccid(c), kEmptyApplet).c_str(), "terminated");
    }
}

// DELETE of the load file with its related objects: the applet and the package leave the card
// and the inventory; installed again afterwards, the package is loaded again.
void test_delete_with_related_objects(void**) {
    const size_t c = 6;
    assert_installed(c);
    auto deleted = otactl("request create --msisdn " + msisdn(c) +
                          " --app 09 --op terminate --related --wait 30");
    if (deleted.status != 0)
        fail_msg("terminate --related: %s%s", deleted.out.c_str(), deleted.err.c_str());
    assert_nothing_loaded(c);
    assert_string_equal(gateway_app_state(iccid(c), kEmptyApplet).c_str(), "terminated");
    const Json view = api("GET", "/v1/cards/" + iccid(c)).json();
    for (const auto& f : view["load_files"])
        assert_false(f["aid"] == kEmptyPackage);
    // related only with terminate, refused with what is wrong
    const Json bad = post_request(
        {{"msisdn", msisdn(c)}, {"app", "09"}, {"operation", "query"}, {"related", true}});
    assert_int_equal(bad["http_status"].get<int>(), 400);
    // Installed again: loaded again (the inventory no longer lists the package).
    const Json again = wait_request(install(c)["id"], 30, *g->daemon);
    assert_string_equal(again["state"].get<std::string>().c_str(), "done");
    assert_true(again["load"]["blocks_done"].get<int>() > 0);
    assert_installed(c);
}

} // namespace

int main() {
    const CMUnitTest tests[] = {
        cmocka_unit_test(test_config_checks_the_cap),
        cmocka_unit_test(test_subscriber_installs_by_sms),
        cmocka_unit_test(test_lost_por_in_the_middle),
        cmocka_unit_test(test_kill_9_in_the_middle),
        cmocka_unit_test(test_card_memory_full),
        cmocka_unit_test(test_campaign_installs_where_missing),
        cmocka_unit_test(test_campaign_deletes_the_package),
        cmocka_unit_test(test_delete_with_related_objects),
    };
    return test::run_in_temp_dir("otagw-cap-install", g_dir, tests, setup, teardown);
}
