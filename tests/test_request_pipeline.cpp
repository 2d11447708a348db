// SPDX-License-Identifier: GPL-2.0-or-later
// The request pipeline end to end, every peer a real process on 127.0.0.1: cardlets-sim (the
// SMSC, the handsets and their cards), ota-provider-sim (the canteen's provider) and
// ota-gatewayd with the example config. The canteen wallet's flows (activate, suspend, resume,
// terminate) are started by MO SMS in English and Chinese, by the API and by otactl; after each
// the gateway's state equals the card's own registry, the provider got its callback and the
// subscriber's handset got the reply. Then the refusals and failures, each with its reason and
// no state change.
#include <chrono>
#include <thread>

#include "gatewayd_harness.hpp"
#include "otagw/ota/ts_102_225.hpp"

using namespace otagw;
using namespace harness;

namespace {

struct World {
    std::unique_ptr<interop::Process> sim, provider, daemon;
    uint16_t control = 0, provider_port = 0;
    std::vector<std::vector<std::string>> cards; // the inventory's lines, split
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

const std::string& msisdn(size_t card) {
    return g->cards.at(card).at(2);
}
const std::string& iccid(size_t card) {
    return g->cards.at(card).at(0);
}

Json provider_calls() {
    return harness::provider_calls(g->provider_port);
}

void provider_control(const Json& body) {
    harness::provider_control(g->provider_port, body);
}

// The card's own word: "installed", "selectable", "locked" or "absent".
std::string card_state(size_t card, const char* aid) {
    return sim_app_state(g->control, msisdn(card), aid);
}

// The gateway's word.
std::string gateway_state(size_t card, const char* aid) {
    return gateway_app_state(iccid(card), aid);
}

void assert_states_agree(size_t card, const char* aid, const char* gateway, const char* sim) {
    const std::string gw = gateway_state(card, aid), cs = card_state(card, aid);
    if (gw != gateway || cs != sim)
        fail_msg("card %zu %s: gateway says %s (want %s), the card says %s (want %s)", card, aid,
                 gw.c_str(), gateway, cs.c_str(), sim);
}

std::vector<std::string> inbox(size_t card) {
    std::vector<std::string> out;
    const Json box = sim_control(g->control, "inbox " + msisdn(card));
    for (const auto& m : box["messages"])
        out.push_back(m["text"]);
    return out;
}

// Sends an MO text and waits for the reply SMS it causes; returns the reply.
std::string sms_request(size_t card, const std::string& text) {
    const size_t before = inbox(card).size();
    Json sent = sim_control(g->control, "mo-text " + msisdn(card) + " 4321 " + text);
    if (!sent.value("ok", false))
        fail_msg("mo-text: %s", sent.dump().c_str());
    if (!eventually([&] { return inbox(card).size() > before; }))
        fail_msg("no reply to \"%s\" from %s; daemon log:\n%s", text.c_str(), msisdn(card).c_str(),
                 g->daemon->log().c_str());
    return inbox(card).back();
}

size_t results_for(const std::string& msisdn_, const std::string& op) {
    size_t n = 0;
    const Json calls = provider_calls();
    for (const auto& r : calls["results"])
        n += r["msisdn"] == msisdn_ && r["operation"] == op && r["outcome"] == "done";
    return n;
}

Json api_request(const Json& body, const std::string& key = "") {
    return post_request(body, key);
}

Json wait_request(int64_t id, double seconds = 20) {
    return harness::wait_request(id, seconds, *g->daemon);
}

int setup(void**) {
    g_api = interop::free_port();
    g_vty = interop::free_port();
    g_smsc = interop::free_port();
    static World w;
    g = &w;
    w.sim = start_simulator(20, g_dir + "/inventory.csv");
    w.control = control_port(*w.sim);
    w.provider = start_provider(w.provider_port);
    // Load the inventory, with two cards the gateway knows wrongly: card 10's KID key and
    // card 11's ISD TAR differ from what the cards hold.
    std::ifstream in(g_dir + "/inventory.csv");
    std::string line, text;
    while (std::getline(in, line)) {
        if (!line.empty() && std::isdigit(static_cast<unsigned char>(line[0])))
            w.cards.push_back(split(line, ','));
        text += line + "\n";
    }
    std::vector<std::string> ks = split(w.cards.at(10).at(3), ':');
    std::string wrong_kid = ks.at(3);
    wrong_kid[0] = wrong_kid[0] == '0' ? '1' : '0';
    text.replace(text.find(ks.at(3)), ks.at(3).size(), wrong_kid);
    const std::string card11 = w.cards.at(11).at(0);
    const size_t tar_at = text.find("000000:isd", text.find(card11));
    text.replace(tar_at, 6, "00f0f0");
    std::ofstream(g_dir + "/gateway-inventory.csv") << text;

    g_config_edits.insert(g_config_edits.end(), {
                                                    {"timeout 10000", "timeout 2000"},
                                                    {"retries 3", "retries 1"},
                                                    {"por-timeout 60", "por-timeout 3"},
                                                });
    w.daemon = start_daemon("ota-gatewayd");
    auto r = otactl("inventory import gateway-inventory.csv");
    if (r.status != 0) {
        print_error("import failed: %s %s\n", r.out.c_str(), r.err.c_str());
        return 1;
    }
    if (!w.daemon->wait_log("bind smsc up", 10))
        return 1;
    return 0;
}

int teardown(void**) {
    if (g) {
        g->daemon.reset();
        g->provider.reset();
        g->sim.reset();
    }
    return 0;
}

// ---- the canteen wallet's flows -------------------------------------------------------------

// Operation, then the gateway's state and the card's own after it.
const char* const kFlow[][3] = {{"activate", "active", "selectable"},
                                {"suspend", "suspended", "locked"},
                                {"resume", "active", "selectable"},
                                {"terminate", "terminated", "absent"}};

void test_flows_by_sms_in_english(void**) {
    const size_t c = 0;
    assert_states_agree(c, kCanteen, "installed", "installed");
    std::string reply = sms_request(c, "ACT 01");
    assert_string_equal(reply.substr(0, reply.find(". Ref")).c_str(), "canteen: activated");
    assert_states_agree(c, kCanteen, "active", "selectable");
    assert_true(eventually([&] { return results_for(msisdn(c), "activate") == 1; }));
    // The provider's personalisation reached the wallet: it answers GET SERIAL (80 50).
    Json serial = sim_control(g->control, "local " + msisdn(c) + " " + kCanteen + " 8050000008");
    assert_string_equal(serial.value("sw", "").c_str(), "9000");

    reply = sms_request(c, "sus 01");
    assert_string_equal(reply.substr(0, reply.find(". Ref")).c_str(), "canteen: suspended");
    assert_states_agree(c, kCanteen, "suspended", "locked");
    reply = sms_request(c, "RES 01");
    assert_string_equal(reply.substr(0, reply.find(". Ref")).c_str(), "canteen: resumed");
    assert_states_agree(c, kCanteen, "active", "selectable");
    reply = sms_request(c, "END 01");
    assert_string_equal(reply.substr(0, reply.find(". Ref")).c_str(), "canteen: terminated");
    assert_states_agree(c, kCanteen, "terminated", "absent");
    for (const char* op : {"suspend", "resume", "terminate"})
        assert_true(eventually([&] { return results_for(msisdn(c), op) == 1; }));
}

void test_flows_by_sms_in_chinese(void**) {
    const size_t c = 1;
    std::string reply = sms_request(c, "开通 01");
    assert_true(reply.find("canteen：已开通。编号") == 0);
    assert_states_agree(c, kCanteen, "active", "selectable");
    reply = sms_request(c, "暂停01");
    assert_true(reply.find("canteen：已暂停") == 0);
    assert_states_agree(c, kCanteen, "suspended", "locked");
    reply = sms_request(c, "恢复 01");
    assert_true(reply.find("canteen：已恢复") == 0);
    assert_states_agree(c, kCanteen, "active", "selectable");
    reply = sms_request(c, "注销 01");
    assert_true(reply.find("canteen：已注销") == 0);
    assert_states_agree(c, kCanteen, "terminated", "absent");
    for (const char* op : {"activate", "suspend", "resume", "terminate"})
        assert_true(eventually([&] { return results_for(msisdn(c), op) == 1; }));
}

void test_flows_by_api(void**) {
    const size_t c = 2;
    for (const auto& [op, gw, card] : kFlow) {
        const size_t replies = inbox(c).size();
        Json r = api_request({{"msisdn", msisdn(c)}, {"app", "01"}, {"operation", op}},
                             std::string("flow-") + op);
        assert_int_equal(r["http_status"].get<int>(), 202);
        Json done = wait_request(r["id"]);
        assert_string_equal(done["state"].get<std::string>().c_str(), "done");
        assert_string_equal(done["app_state"].get<std::string>().c_str(), gw);
        assert_states_agree(c, kCanteen, gw, card);
        assert_true(eventually([&] { return inbox(c).size() > replies; }));
        assert_true(eventually([&] { return results_for(msisdn(c), op) == 1; }));
        // The same idempotency key: the same request, nothing sent again.
        Json again = api_request({{"msisdn", msisdn(c)}, {"app", "01"}, {"operation", op}},
                                 std::string("flow-") + op);
        assert_int_equal(again["http_status"].get<int>(), 200);
        assert_int_equal(again["id"].get<int64_t>(), r["id"].get<int64_t>());
    }
}

void test_flows_by_otactl(void**) {
    const size_t c = 3;
    for (const auto& [op, gw, card] : kFlow) {
        auto r =
            otactl("request create --msisdn " + msisdn(c) + " --app 01 --op " + op + " --wait 20");
        if (r.status != 0)
            fail_msg("otactl request create --op %s: %d\n%s%s", op, r.status, r.out.c_str(),
                     r.err.c_str());
        assert_true(r.out.find(": done; application " + std::string(gw)) != std::string::npos);
        assert_states_agree(c, kCanteen, gw, card);
        assert_true(eventually([&] { return results_for(msisdn(c), op) == 1; }));
    }
    assert_true(eventually([&] { return inbox(c).size() == 4; }));
}

// ---- refusals and failures ------------------------------------------------------------------

// A request that ends refused or failed with `reason`, leaving the card as it was.
void assert_ends(const Json& body, const char* state, const char* reason, size_t card,
                 const char* aid, const char* gw_state, const char* card_state_) {
    Json r = api_request(body);
    if (!r.contains("id"))
        fail_msg("no request: %s", r.dump().c_str());
    Json done = wait_request(r["id"], 30);
    const std::string got_reason =
        done["reason"].is_string() ? done["reason"].get<std::string>() : "";
    if (done["state"] != state || got_reason != reason)
        fail_msg("want %s/%s, got %s", state, reason, done.dump().c_str());
    assert_states_agree(card, aid, gw_state, card_state_);
}

void test_refusals(void**) {
    // Unknown MSISDN; an MSISDN bound to another card; an unknown application code; an
    // operation the state does not allow.
    Json r = wait_request(
        api_request({{"msisdn", "999777777777"}, {"app", "01"}, {"operation", "activate"}})["id"]);
    assert_string_equal(r["reason"].get<std::string>().c_str(), "unknown_msisdn");
    assert_ends(
        {{"msisdn", msisdn(4)}, {"iccid", iccid(5)}, {"app", "01"}, {"operation", "activate"}},
        "refused", "msisdn_card_mismatch", 4, kCanteen, "installed", "installed");
    assert_ends({{"msisdn", msisdn(4)}, {"app", "77"}, {"operation", "activate"}}, "refused",
                "unknown_app", 4, kCanteen, "installed", "installed");
    assert_ends({{"msisdn", msisdn(4)}, {"app", "01"}, {"operation", "suspend"}}, "refused",
                "not_allowed_in_state", 4, kCanteen, "installed", "installed");
    // A barred card gets no OTA traffic.
    Answer barred = api("PUT", "/v1/cards/" + iccid(4) + "/status", kToken,
                        R"({"status":"barred","reason":"lost handset"})");
    assert_int_equal(barred.status, 200);
    assert_ends({{"msisdn", msisdn(4)}, {"app", "02"}, {"operation", "suspend"}}, "refused",
                "card_barred", 4, kTransit, "active", "selectable");
    assert_int_equal(
        api("PUT", "/v1/cards/" + iccid(4) + "/status", kToken, R"({"status":"active"})").status,
        200);
    // By SMS: the refusal comes back as a reply, in the request's language.
    std::string reply = sms_request(4, "ACT 77");
    assert_string_equal(reply.substr(0, reply.find(". Ref")).c_str(),
                        "77: request refused (no such application)");
    reply = sms_request(4, "暂停 01");
    assert_true(reply.find("请求被拒绝（当前状态下不可操作）") != std::string::npos);
    reply = sms_request(4, "HELLO");
    assert_true(reply.find("request refused (unknown command)") != std::string::npos);
    // Every refusal is in the audit log.
    Json audit = api("GET", "/v1/audit?limit=200").json();
    size_t refused = 0;
    for (const auto& e : audit["entries"])
        refused += e["action"] == "request.refused";
    assert_true(refused >= 7);
}

void test_provider_veto_and_timeout(void**) {
    provider_control({{"veto", {msisdn(6)}}, {"silent", {msisdn(7)}}});
    assert_ends({{"msisdn", msisdn(6)}, {"app", "01"}, {"operation", "activate"}}, "refused",
                "provider_veto", 6, kCanteen, "installed", "installed");
    assert_ends({{"msisdn", msisdn(7)}, {"app", "01"}, {"operation", "activate"}}, "failed",
                "provider_timeout", 7, kCanteen, "installed", "installed");
    // A result the provider does not acknowledge is sent again until it does.
    provider_control({{"refuse_results", 2}});
    assert_ends({{"msisdn", msisdn(8)}, {"app", "01"}, {"operation", "activate"}}, "done", "", 8,
                kCanteen, "active", "selectable");
    assert_true(eventually([&] { return results_for(msisdn(8), "activate") == 1; }, 20));
    assert_int_equal(provider_calls()["refused_results"].size(), 2);
}

// A request waiting for its provider is withdrawn; one that may be at the card is not.
void test_cancel(void**) {
    const size_t c = 9;
    provider_control({{"silent", {msisdn(c)}}});
    Json r = api_request({{"msisdn", msisdn(c)}, {"app", "01"}, {"operation", "activate"}});
    const std::string id = std::to_string(r["id"].get<int64_t>());
    assert_true(
        eventually([&] { return api("GET", "/v1/requests/" + id).json()["state"] == "provider"; }));
    auto cancelled = otactl("request cancel " + id + " --json");
    if (cancelled.status != 0)
        fail_msg("otactl request cancel: %s%s", cancelled.out.c_str(), cancelled.err.c_str());
    const Json out = Json::parse(cancelled.out);
    assert_string_equal(out["state"].get<std::string>().c_str(), "failed");
    assert_string_equal(out["reason"].get<std::string>().c_str(), "cancelled");
    assert_states_agree(c, kCanteen, "installed", "installed");
    Answer again = api("POST", "/v1/requests/" + id + "/cancel");
    assert_int_equal(again.status, 409);
    assert_int_equal(api("POST", "/v1/requests/999999/cancel").status, 404);
    // Sent (the network slow): it ends as the card answers.
    assert_true(sim_control(g->control, "fault latency=500").value("ok", false));
    Json sent = api_request({{"msisdn", msisdn(c)}, {"app", "02"}, {"operation", "suspend"}});
    const std::string sent_id = std::to_string(sent["id"].get<int64_t>());
    Answer late = api("POST", "/v1/requests/" + sent_id + "/cancel");
    assert_int_equal(late.status, 409);
    assert_true(late.json()["error"].get<std::string>().find("ends as the card answers") !=
                std::string::npos);
    assert_true(sim_control(g->control, "fault latency=0").value("ok", false));
    assert_string_equal(wait_request(sent["id"])["state"].get<std::string>().c_str(), "done");
}

void test_card_failures(void**) {
    // The gateway's KID key for card 10 is not the card's: the card answers 01 in clear, a
    // keyset alarm, no retry.
    assert_ends({{"msisdn", msisdn(10)}, {"app", "02"}, {"operation", "suspend"}}, "failed",
                "card_integrity_failed", 10, kTransit, "active", "selectable");
    Json audit = api("GET", "/v1/audit?limit=50").json();
    bool alarm = false;
    for (const auto& e : audit["entries"])
        alarm |= e["action"] == "keyset.alarm" && e["subject"] == iccid(10);
    assert_true(alarm);
    // Card 11's ISD TAR is wrong in the inventory: the card does not know it (09).
    assert_ends({{"msisdn", msisdn(11)}, {"app", "02"}, {"operation", "suspend"}}, "failed",
                "tar_unknown", 11, kTransit, "active", "selectable");
}

void test_counter_too_low_is_resynchronised(void**) {
    const size_t c = 12;
    // The card has seen counters 1 and 2; the gateway's database is set back as if restored
    // from a backup taken before those requests (its counter and its record of the packets).
    assert_ends({{"msisdn", msisdn(c)}, {"app", "02"}, {"operation", "suspend"}}, "done", "", c,
                kTransit, "suspended", "locked");
    assert_ends({{"msisdn", msisdn(c)}, {"app", "02"}, {"operation", "resume"}}, "done", "", c,
                kTransit, "active", "selectable");
    const std::string card_id = "(SELECT id FROM cards WHERE iccid = '" + iccid(c) + "')";
    auto sql = test::run_command("sqlite3 " + g_dir +
                                 "/ota-gateway.db \"PRAGMA foreign_keys = ON; UPDATE keysets SET "
                                 "counter = 0 WHERE kvn = 1 AND card_id = " +
                                 card_id + "; DELETE FROM pors WHERE card_id = " + card_id +
                                 "; DELETE FROM ota_messages WHERE card_id = " + card_id + "\"");
    assert_int_equal(sql.status, 0);
    Json r = api_request({{"msisdn", msisdn(c)}, {"app", "02"}, {"operation", "suspend"}});
    Json done = wait_request(r["id"]);
    assert_string_equal(done["state"].get<std::string>().c_str(), "done");
    assert_states_agree(c, kTransit, "suspended", "locked");
    Json card = api("GET", "/v1/cards/" + iccid(c)).json();
    // 1 refused (the card is at 2), raised to the card's 2, then 3.
    assert_int_equal(card["keysets"][0]["counter"].get<int>(), 3);
    bool resync = false;
    const Json audit = api("GET", "/v1/audit?limit=50").json();
    for (const auto& e : audit["entries"])
        resync |= e["action"] == "keyset.counter_resync" && e["subject"] == iccid(c);
    assert_true(resync);
}

// The network delivers every command packet twice, the copies and the PoRs in random order
// (jitter). The second copy is refused with "counter low" naming the packet's own counter; that
// PoR may come first. The gateway must wait for the first copy's PoR rather than send the
// operation again (which the card, having done it, would refuse).
void test_packet_delivered_twice(void**) {
    const std::vector<size_t> cards = {16, 17, 18, 19};
    assert_true(sim_control(g->control, "fault mt-duplicate=1").value("ok", false));
    assert_true(sim_control(g->control, "fault jitter=300").value("ok", false));
    const char* ops[][3] = {{"suspend", "suspended", "locked"},
                            {"resume", "active", "selectable"},
                            {"suspend", "suspended", "locked"},
                            {"resume", "active", "selectable"}};
    for (const auto& op : ops) {
        std::vector<int64_t> ids;
        for (size_t c : cards)
            ids.push_back(
                api_request({{"msisdn", msisdn(c)}, {"app", "02"}, {"operation", op[0]}})["id"]);
        for (size_t i = 0; i < cards.size(); i++) {
            Json done = wait_request(ids[i], 30);
            if (done["state"] != "done")
                fail_msg("%s on card %zu: %s", op[0], cards[i], done.dump().c_str());
            assert_states_agree(cards[i], kTransit, op[1], op[2]);
        }
    }
}

int network_faults_off(void**) {
    sim_control(g->control, "fault mt-duplicate=0");
    sim_control(g->control, "fault jitter=0");
    return 0;
}

void test_lost_por_is_reconciled(void**) {
    const size_t c = 13;
    // Every MO is lost while the card runs the command: its PoR never arrives.
    assert_true(sim_control(g->control, "fault mo-loss=1").value("ok", false));
    Json r = api_request({{"msisdn", msisdn(c)}, {"app", "02"}, {"operation", "suspend"}});
    assert_true(eventually([&] { return card_state(c, kTransit) == "locked"; }));
    // One operation at a time on a card application: another one now is refused, not queued.
    Json second = wait_request(
        api_request({{"msisdn", msisdn(c)}, {"app", "02"}, {"operation", "resume"}})["id"]);
    assert_string_equal(second["reason"].get<std::string>().c_str(), "in_flight");
    assert_true(sim_control(g->control, "fault mo-loss=0").value("ok", false));
    // No PoR within 3 s: unknown, then an audit (GET STATUS) reads the card: it did it.
    Json done = wait_request(r["id"], 30);
    assert_string_equal(done["state"].get<std::string>().c_str(), "done");
    assert_states_agree(c, kTransit, "suspended", "locked");
    bool timeout = false, unknown = false;
    const Json audit = api("GET", "/v1/audit?limit=100").json();
    for (const auto& e : audit["entries"]) {
        timeout |= e["action"] == "por.timeout" && e["subject"] == iccid(c);
        unknown |= e["action"] == "app.state" && e["subject"] == iccid(c) &&
                   e["detail"].get<std::string>().find("is unknown") != std::string::npos;
    }
    assert_true(timeout && unknown);
}

void test_por_with_bad_cc_is_not_believed(void**) {
    const size_t c = 14;
    // The card runs the command, but its PoR arrives damaged: the gateway does not act on it,
    // and reads the card once the PoR timeout has passed.
    assert_true(sim_control(g->control, "fault por-corrupt=1").value("ok", false));
    Json r = api_request({{"msisdn", msisdn(c)}, {"app", "02"}, {"operation", "suspend"}});
    auto ignored = [&] {
        const Json audit = api("GET", "/v1/audit?limit=50").json();
        for (const auto& e : audit["entries"])
            if (e["action"] == "por.integrity_failed" && e["subject"] == iccid(c))
                return true;
        return false;
    };
    assert_true(eventually(ignored));
    assert_true(sim_control(g->control, "fault por-corrupt=0").value("ok", false));
    // Not concluded from that PoR: still in flight (DESIGN.md §4: pending:<op>).
    assert_string_equal(gateway_state(c, kTransit).c_str(), "pending:suspend");
    Json done = wait_request(r["id"], 30);
    assert_string_equal(done["state"].get<std::string>().c_str(), "done");
    assert_states_agree(c, kTransit, "suspended", "locked");
}

// A request secured by the card's own toolkit client (doc/application-requests.md): the card's
// keyset 1, its own counter, the application's TAR. The same packet again is a replay.
void test_secured_request_from_the_card(void**) {
    const size_t c = 15;
    const std::vector<std::string> ks = split(g->cards.at(c).at(3), ':'); // 1:aes128:kic:kid:...
    ota::CommandHeader h;
    h.spi = *ota::Spi::parse("1600"); // CC, ciphered, counter higher; no PoR
    h.kic = h.kid = 0x12;
    h.tar = *ota::parse_tar("c00002");
    h.counter = 1;
    const auto keys = ota::OtaKeys::create(0x12, test::hex(ks.at(2)), 0x12, test::hex(ks.at(3)));
    Bytes packet;
    assert_ok(ota::build_command_packet(h, keys, test::hex("e10f8001024f0af04f5441470102010001"),
                                        packet)); // suspend transit
    const std::string ud = "027000" + to_hex(packet);
    auto send = [&] {
        const size_t before = inbox(c).size();
        Json sent = sim_control(g->control, "mo-binary " + msisdn(c) + " 4321 " + ud + " udhi");
        assert_true(sent.value("ok", false));
        assert_true(eventually([&] { return inbox(c).size() > before; }));
        return inbox(c).back();
    };
    std::string reply = send();
    assert_string_equal(reply.substr(0, reply.find(". Ref")).c_str(), "transit: suspended");
    assert_states_agree(c, kTransit, "suspended", "locked");
    reply = send(); // replayed: refused, nothing sent to the card
    assert_true(reply.find("request refused (replayed counter)") != std::string::npos);
    assert_states_agree(c, kTransit, "suspended", "locked");
}

// Last: every process stops cleanly on SIGTERM, and none reported a sanitizer finding (the
// ASan + UBSan tree runs this same test).
void test_clean_stop(void**) {
    g->daemon->stop();
    g->provider->stop();
    g->sim->stop();
    assert_no_sanitizer_report({"ota-gatewayd", "ota-provider-sim", "cardlets-sim"});
    assert_true(interop::read_file(g_dir + "/ota-gatewayd.log").find("stopped") !=
                std::string::npos);
}

} // namespace

int main() {
    const CMUnitTest tests[] = {
        cmocka_unit_test(test_flows_by_sms_in_english),
        cmocka_unit_test(test_flows_by_sms_in_chinese),
        cmocka_unit_test(test_flows_by_api),
        cmocka_unit_test(test_flows_by_otactl),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_provider_veto_and_timeout),
        cmocka_unit_test(test_cancel),
        cmocka_unit_test(test_card_failures),
        cmocka_unit_test(test_counter_too_low_is_resynchronised),
        cmocka_unit_test_teardown(test_packet_delivered_twice, network_faults_off),
        cmocka_unit_test(test_lost_por_is_reconciled),
        cmocka_unit_test(test_por_with_bad_cc_is_not_believed),
        cmocka_unit_test(test_secured_request_from_the_card),
        cmocka_unit_test(test_clean_stop),
    };
    return test::run_in_temp_dir("otagw-pipeline", g_dir, tests, setup, teardown);
}
