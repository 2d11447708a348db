// SPDX-License-Identifier: GPL-2.0-or-later
// The BIP bearer end to end (doc/bip.md): ota-gatewayd with its Remote Administration Server,
// cardlets-sim's handsets opening BIP channels to it on the push, PSK-TLS (mbedTLS on both
// sides, each with its own keys: the gateway's from the imported inventory, the card's its own),
// the HTTP admin dialog, the expanded scripts run on the cards' card managers.
//  - suspend and resume an application, install one from its load file on the card and delete
//    it, by request over BIP: done; card and gateway agree;
//  - install from a CAP file over BIP (the load in a few scripts of one session): installed;
//  - a card whose TLS fails (it uses a wrong key): failed bip_tls_failed, not retried;
//  - a channel dropped after a script, before its results: the card resumes by its retry
//    policy, the request reads the card and ends with what the card did;
//  - a card that refuses the push (PoR 0A): failed insufficient_security_level;
//  - a card that never comes (its handset cannot reach the RAS): failed bip_no_session after
//    max-pushes;
//  - RFC 6066 MFL 512 on the card's side: the session works;
//  - kill -9 of the daemon while a card's session loads a CAP: resumed, installed;
//  - campaigns over 10 000 cards by BIP: the CAP installed where missing, the transit card
//    locked, a package deleted with its related objects; cards and gateway agree card by card;
//    no card saw a counter twice;
//  - TLS stacks we did not write play the handset: `openssl s_client` and `gnutls-cli` carry
//    the admin dialog for a suspend and a CAP load (the card's part run on the simulated card),
//    and tshark decrypts the capture with the card's PSK: the HTTP dialog, nothing malformed;
//  - no key of the inventory in any log.
#include <fcntl.h>
#include <sys/stat.h>

#include <set>

#include "gatewayd_harness.hpp"

using namespace otagw;
using namespace harness;

namespace {

const char* kEmptyApplet = "0102030405060708";
const char* kBank = "f04f5441470103010001";
const char* kEmptyPackage = "0102030405";

struct World {
    std::unique_ptr<interop::Process> sim, daemon;
    uint16_t control = 0, ras = 0;
    std::vector<std::vector<std::string>> cards;
};
World* g = nullptr;

const std::string& msisdn(size_t card) {
    return g->cards.at(card).at(2);
}
const std::string& iccid(size_t card) {
    return g->cards.at(card).at(0);
}

Json request(size_t card, const std::string& app, const std::string& op) {
    const Json r = post_request(
        {{"msisdn", msisdn(card)}, {"app", app}, {"operation", op}, {"bearer", "bip"}});
    if (!r.contains("id"))
        fail_msg("no request: %s", r.dump().c_str());
    return wait_request(r["id"].get<int64_t>(), 60, *g->daemon);
}

uint64_t sim_counter(const std::string& name) {
    const Json s = sim_control(g->control, "stats");
    return s["counters"].value(name, uint64_t{0});
}

void fault(const std::string& setting) {
    const Json r = sim_control(g->control, "fault " + setting);
    if (!r.value("ok", false))
        fail_msg("fault %s: %s", setting.c_str(), r.dump().c_str());
}

int setup(void**) {
    g_api = interop::free_port();
    g_vty = interop::free_port();
    g_smsc = interop::free_port();
    static World w;
    g = &w;
    w.ras = interop::free_port();
    w.sim = start_simulator(10000, g_dir + "/inventory.csv");
    w.control = control_port(*w.sim);
    w.cards = inventory_cards(g_dir + "/inventory.csv");
    g_config_edits.push_back({"application transit\n",
                              "application empty\n aid 0102030405060708\n code 09\n type other\n"
                              " load-file 0102030405\n module 0102030405060708\n tar c00009\n"
                              " msl 12\n cap " OTAGW_TEST_DATA_DIR
                              "/cap/gppro_Empty_0102030405_8d5ac9e2_2.2.1.cap\n"
                              "application transit\n"});
    // Short timers: a PoR or a script's results 3 s, the card 3 s after a push, 2 pushes; a
    // bind fast enough for the pushes of 10 000 cards.
    g_config_edits.push_back({"  window 10\n  tps 200\n", "  window 100\n  tps 5000\n"});
    g_config_edits.push_back({"timer por-timeout 60",
                              "timer por-timeout 3\n timer bip-connect 3\n timer bip-results "
                              "5\n timer max-pushes 2\n load-hash sha256"});
    g_config_edits.push_back(
        {"application transit\n", "ras\n listen 127.0.0.1 " + std::to_string(w.ras) +
                                      "\n uri /ras\n session-timeout 20\n session-retry 2 1\n"
                                      "application transit\n"});
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

void test_suspend_and_resume_over_bip(void**) {
    const uint64_t sessions = sim_counter("sim:bip:ended");
    Json r = request(0, "02", "suspend");
    assert_string_equal(r["state"].get<std::string>().c_str(), "done");
    assert_string_equal(sim_app_state(g->control, msisdn(0), kTransit).c_str(), "locked");
    assert_string_equal(gateway_app_state(iccid(0), kTransit).c_str(), "suspended");
    r = request(0, "02", "resume");
    assert_string_equal(r["state"].get<std::string>().c_str(), "done");
    assert_string_equal(sim_app_state(g->control, msisdn(0), kTransit).c_str(), "selectable");
    assert_string_equal(gateway_app_state(iccid(0), kTransit).c_str(), "active");
    // Two sessions, each ended by 204; the scripts went over TLS, not SMS.
    assert_true(sim_counter("sim:bip:ended") >= sessions + 2);
    assert_true(sim_counter("sim:bip:scripts") >= 2);
    const std::string stored = sql("SELECT count(*) FROM pors p JOIN ota_messages m ON "
                                   "m.id = p.ota_message_id WHERE m.smpp_message_id = 'bip'");
    assert_true(std::stoi(stored) >= 2); // the card's results, kept as its PoRs are
    // Install the bank card from its load file on the card, then delete it, over BIP.
    r = request(0, "03", "install");
    assert_string_equal(r["state"].get<std::string>().c_str(), "done");
    assert_string_equal(gateway_app_state(iccid(0), kBank).c_str(), "active");
    r = request(0, "03", "terminate");
    assert_string_equal(r["state"].get<std::string>().c_str(), "done");
    assert_string_equal(sim_app_state(g->control, msisdn(0), kBank).c_str(), "absent");
    assert_string_equal(gateway_app_state(iccid(0), kBank).c_str(), "terminated");
    // show ras tells the server and the channels.
    Vty vty;
    std::string shown;
    for (const auto& l : vty.run("show ras"))
        shown += l + "\n";
    assert_true(shown.find("RAS listening on 127.0.0.1:" + std::to_string(g->ras)) !=
                std::string::npos);
    assert_true(shown.find("ras:handshakes") != std::string::npos);
    assert_true(shown.find("BIP channels:") != std::string::npos);
    // The ras node writes itself back.
    vty.run("enable");
    std::string written;
    for (const auto& l : vty.run("write terminal"))
        written += l + "\n";
    assert_true(written.find("ras\n listen 127.0.0.1 " + std::to_string(g->ras) +
                             "\n uri /ras\n agent-id {iccid}\n session-timeout 20\n") !=
                std::string::npos);
    assert_true(written.find(" session-retry 2 1\n") != std::string::npos);
    assert_true(written.find(" timer bip-connect 3\n") != std::string::npos);
}

void test_cap_install_over_bip(void**) {
    Json r = request(1, "09", "install");
    assert_string_equal(r["state"].get<std::string>().c_str(), "done");
    const Json k = sim_control(g->control, "card " + msisdn(1));
    bool elf = false;
    for (const auto& f : k["load_files"])
        elf |= f["aid"] == kEmptyPackage;
    assert_true(elf);
    assert_true(k["loading"].is_null());
    assert_string_equal(sim_app_state(g->control, msisdn(1), kEmptyApplet).c_str(), "selectable");
    assert_string_equal(gateway_app_state(iccid(1), kEmptyApplet).c_str(), "active");
    // The load went in a few scripts of one session, not dozens of SMS: the gateway sent no
    // SMS for it but the push.
    const std::string sms =
        sql("SELECT count(*) FROM ota_messages WHERE request_id = " +
            std::to_string(r["id"].get<int64_t>()) + " AND coalesce(smpp_message_id, '') <> 'bip'");
    assert_true(std::stoi(sms) <= 1);
}

void test_tls_failure(void**) {
    fault("bip-tls-fail=1");
    Json r = request(2, "02", "suspend");
    fault("bip-tls-fail=0");
    assert_string_equal(r["state"].get<std::string>().c_str(), "failed");
    assert_string_equal(r["reason"].get<std::string>().c_str(), "bip_tls_failed");
    assert_string_equal(sim_app_state(g->control, msisdn(2), kTransit).c_str(), "selectable");
}

void test_channel_dropped_after_a_script(void**) {
    const uint64_t dropped = sim_counter("sim:fault:bip_dropped");
    fault("bip-drop=1");
    const Json r = post_request(
        {{"msisdn", msisdn(3)}, {"app", "02"}, {"operation", "suspend"}, {"bearer", "bip"}});
    assert_true(eventually([&] { return sim_counter("sim:fault:bip_dropped") > dropped; }, 20));
    fault("bip-drop=0");
    const Json done = wait_request(r["id"].get<int64_t>(), 60, *g->daemon);
    // The card ran the script before it dropped: the request read it and knows.
    assert_string_equal(done["state"].get<std::string>().c_str(), "done");
    assert_string_equal(sim_app_state(g->control, msisdn(3), kTransit).c_str(), "locked");
    assert_string_equal(gateway_app_state(iccid(3), kTransit).c_str(), "suspended");
}

// The card refuses the push (its ISD TAR asks for a digital signature, '13': PoR 0A, sent as
// the push asked, on error only): the request fails with that reason, nothing on the card.
void test_push_refused(void**) {
    assert_true(sim_control(g->control, "tar-msl " + msisdn(11) + " 000000 13").value("ok", false));
    Json r = request(11, "02", "suspend");
    assert_true(sim_control(g->control, "tar-msl " + msisdn(11) + " 000000 12").value("ok", false));
    assert_string_equal(r["state"].get<std::string>().c_str(), "failed");
    assert_string_equal(r["reason"].get<std::string>().c_str(), "insufficient_security_level");
    assert_string_equal(sim_app_state(g->control, msisdn(11), kTransit).c_str(), "selectable");
    Vty vty;
    std::string shown;
    for (const auto& l : vty.run("show ras"))
        shown += l + "\n";
    assert_true(shown.find("bip:push_failed") != std::string::npos);
}

void test_card_never_comes(void**) {
    // A handset that cannot reach the RAS: the trigger names a port nothing listens on.
    g_config_edits.back().second = "ras\n listen 127.0.0.1 " + std::to_string(g->ras) +
                                   "\n card-address 127.0.0.1 9\n uri /ras\n session-timeout "
                                   "20\napplication transit\n";
    g->daemon->stop();
    g->daemon = start_daemon("ota-gatewayd-2");
    assert_true(g->daemon->wait_log("bind smsc up", 10));
    Json r = request(4, "02", "suspend");
    assert_string_equal(r["state"].get<std::string>().c_str(), "failed");
    assert_string_equal(r["reason"].get<std::string>().c_str(), "bip_no_session");
    g_config_edits.back().second = "ras\n listen 127.0.0.1 " + std::to_string(g->ras) +
                                   "\n uri /ras\n session-timeout 20\n session-retry 2 1\n"
                                   "application transit\n";
    g->daemon->stop();
    g->daemon = start_daemon("ota-gatewayd-3");
    assert_true(g->daemon->wait_log("bind smsc up", 10));
}

void test_max_fragment_length_512(void**) {
    fault("bip-mfl=512");
    Json r = request(5, "09", "install"); // the load's scripts are larger than 512
    fault("bip-mfl=0");
    assert_string_equal(r["state"].get<std::string>().c_str(), "done");
    assert_string_equal(sim_app_state(g->control, msisdn(5), kEmptyApplet).c_str(), "selectable");
}

void restart_daemon(const std::string& name) {
    g->daemon->stop(SIGKILL);
    g->daemon = start_daemon(name);
    assert_true(g->daemon->wait_log("bind smsc up", 10));
}

void test_kill_9_in_the_middle_of_a_session(void**) {
    fault("bip-latency=400"); // a slow link: the load's scripts take a while
    const Json r = post_request(
        {{"msisdn", msisdn(6)}, {"app", "09"}, {"operation", "install"}, {"bearer", "bip"}});
    const int64_t id = r["id"].get<int64_t>();
    const uint64_t scripts = sim_counter("sim:bip:scripts");
    assert_true(eventually([&] { return sim_counter("sim:bip:scripts") > scripts; }, 20));
    restart_daemon("ota-gatewayd-4");
    fault("bip-latency=0");
    const Json done = wait_request(id, 60, *g->daemon);
    assert_string_equal(done["state"].get<std::string>().c_str(), "done");
    assert_string_equal(sim_app_state(g->control, msisdn(6), kEmptyApplet).c_str(), "selectable");
    assert_true(sim_control(g->control, "card " + msisdn(6))["loading"].is_null());
    assert_string_equal(gateway_app_state(iccid(6), kEmptyApplet).c_str(), "active");
}

// The cards holding the Empty applet selectable (with its package), by the cards' own export
// and by the gateway's inventory.
std::set<std::string> installed_on_cards() {
    const std::string path = g_dir + "/after.csv";
    assert_true(sim_control(g->control, "export " + path).value("ok", false));
    std::set<std::string> out;
    for (const auto& f : inventory_cards(path))
        if (f.at(5).find(std::string(kEmptyPackage) + "/" + kEmptyApplet) != std::string::npos &&
            f.at(6).find(std::string(kEmptyApplet) + ":07:") != std::string::npos)
            out.insert(f.at(0));
    return out;
}
std::set<std::string> installed_in_gateway() {
    std::set<std::string> out;
    std::stringstream rows(sql("SELECT c.iccid FROM card_apps a JOIN cards c ON c.id = a.card_id "
                               "WHERE a.aid = '" +
                               std::string(kEmptyApplet) +
                               "' AND a.state = 'active' AND c.load_files LIKE '%" + kEmptyPackage +
                               "%'"));
    for (std::string line; std::getline(rows, line);)
        if (!line.empty())
            out.insert(line);
    return out;
}
// The cards whose transit card is locked, by the cards and by the gateway.
std::set<std::string> locked_on_cards() {
    const std::string path = g_dir + "/after.csv";
    assert_true(sim_control(g->control, "export " + path).value("ok", false));
    std::set<std::string> out;
    for (const auto& f : inventory_cards(path))
        if (f.at(6).find(std::string(kTransit) + ":87:") != std::string::npos)
            out.insert(f.at(0));
    return out;
}
std::set<std::string> locked_in_gateway() {
    std::set<std::string> out;
    std::stringstream rows(sql("SELECT c.iccid FROM card_apps a JOIN cards c ON c.id = a.card_id "
                               "WHERE a.aid = '" +
                               std::string(kTransit) + "' AND a.state = 'suspended'"));
    for (std::string line; std::getline(rows, line);)
        if (!line.empty())
            out.insert(line);
    return out;
}

Json run_campaign(const std::string& name, const std::string& op, const std::string& aid,
                  const std::string& targets_file) {
    auto created = otactl("campaign create --name " + name + " --op " + op + " --aid " + aid +
                          " --targets " + targets_file + " --bearer bip --start");
    if (created.status != 0)
        fail_msg("campaign: %s%s", created.out.c_str(), created.err.c_str());
    auto followed = otactl("campaign status " + name + " --follow --interval 1");
    if (followed.status != 0)
        fail_msg("campaign: %s%s", followed.out.c_str(), followed.err.c_str());
    return api("GET", "/v1/campaigns/" + name).json();
}

void test_campaigns_over_bip(void**) {
    std::ofstream all(g_dir + "/all.txt");
    for (size_t c = 0; c < g->cards.size(); c++)
        all << iccid(c) << "\n";
    all.close();
    const uint64_t ended = sim_counter("sim:bip:ended");
    Json status = run_campaign("empty-bip", "install", kEmptyApplet, "all.txt");
    assert_int_equal(status["counts"].value("failed", 0), 0);
    assert_int_equal(status["skipped_by_reason"].value("already_active", 0), 3); // cards 1, 5, 6
    auto cards = installed_on_cards();
    assert_int_equal(cards.size(), g->cards.size());
    assert_true(cards == installed_in_gateway());
    assert_true(sim_counter("sim:bip:ended") >= ended + g->cards.size() - 3);
    // Lock the transit card everywhere (already locked on card 3: skipped).
    status = run_campaign("transit-lock-bip", "lock", kTransit, "all.txt");
    assert_int_equal(status["counts"].value("failed", 0), 0);
    auto locked = locked_on_cards();
    assert_true(locked.size() >= g->cards.size() - 2); // card 2's TLS failed earlier: unchanged
    assert_true(locked == locked_in_gateway());
    // Delete the package with its related objects from 100 cards.
    std::ofstream some(g_dir + "/some.txt");
    for (size_t c = 100; c < 200; c++)
        some << iccid(c) << "\n";
    some.close();
    status = run_campaign("empty-gone-bip", "delete-package", kEmptyApplet, "some.txt");
    assert_int_equal(status["counts"].value("succeeded", 0), 100);
    cards = installed_on_cards();
    assert_int_equal(cards.size(), g->cards.size() - 100);
    assert_true(cards == installed_in_gateway());
    // No card ever saw a counter twice.
    assert_int_equal(sim_counter("sim:por:status:02"), 0);
}

// The card's SCP81 PSK (hex) from the inventory file.
std::string psk_of(size_t card) {
    const std::string& k = g->cards.at(card).at(7); // 40:01:identity:psk:aes128:dek
    std::vector<std::string> p;
    std::stringstream ss(k);
    for (std::string x; std::getline(ss, x, ':');)
        p.push_back(x);
    return p.at(3);
}

// An HTTP answer as the peer printed it: status, Next-URI, body; the peer's output is only the
// server's bytes (its own messages go elsewhere).
struct PeerAnswer {
    int status = 0;
    std::string next_uri;
    std::string body;
};
std::vector<PeerAnswer> answers_in(const std::string& out) {
    std::vector<PeerAnswer> list;
    for (size_t at = out.find("HTTP/1.1 "); at != std::string::npos;) {
        const size_t head_end = out.find("\r\n\r\n", at);
        if (head_end == std::string::npos)
            break;
        PeerAnswer a;
        a.status = std::atoi(out.c_str() + at + 9);
        const std::string head = out.substr(at, head_end - at);
        size_t length = 0;
        if (size_t l = head.find("Content-Length: "); l != std::string::npos)
            length = std::strtoul(head.c_str() + l + 16, nullptr, 10);
        if (size_t n = head.find("X-Admin-Next-URI: "); n != std::string::npos)
            a.next_uri = head.substr(n + 18, head.find("\r\n", n) - n - 18);
        if (out.size() < head_end + 4 + length)
            break;
        a.body = out.substr(head_end + 4, length);
        list.push_back(a);
        at = out.find("HTTP/1.1 ", head_end + 4 + length);
    }
    return list;
}

// `peer` ("openssl" or "gnutls") plays card `c`'s handset through the admin dialog; the card's
// part of each script runs on the simulated card (control `script`). Returns the answers.
std::vector<PeerAnswer> play_handset(const std::string& peer, size_t c) {
    const std::string fifo = g_dir + "/" + peer + ".in";
    unlink(fifo.c_str());
    assert_int_equal(mkfifo(fifo.c_str(), 0600), 0);
    const std::string port = std::to_string(g->ras);
    const std::string cmd =
        peer == "openssl"
            ? "exec openssl s_client -connect 127.0.0.1:" + port + " -psk_identity " + iccid(c) +
                  " -psk " + psk_of(c) +
                  " -tls1_2 -cipher PSK-AES128-CBC-SHA256 -maxfraglen 512 -quiet -ign_eof < " +
                  fifo + " 2> " + peer + ".err"
            : "exec gnutls-cli --pskusername=" + iccid(c) + " --pskkey=" + psk_of(c) +
                  " --priority=NORMAL:-VERS-ALL:+VERS-TLS1.2:-KX-ALL:+PSK:-CIPHER-ALL:+AES-128-CBC:"
                  "-MAC-ALL:+SHA256 --recordsize=512 -p " +
                  port + " 127.0.0.1 < " + fifo + " 2> " + peer + ".err";
    interop::Process p(peer, {"sh", "-c", cmd}, g_dir);
    const int in = open(fifo.c_str(), O_WRONLY);
    assert_true(in >= 0);
    auto send = [&](const std::string& uri, const std::string& results) {
        std::string m = "POST " + uri +
                        " HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Admin-Protocol: "
                        "globalplatform-remote-admin/1.0\r\nX-Admin-From: " +
                        iccid(c) + "\r\n";
        if (!results.empty())
            m += "Content-Type: application/vnd.globalplatform.card-content-mgt-response;"
                 "version=1.0\r\nX-Admin-Script-Status: ok\r\n";
        m += "Content-Length: " + std::to_string(results.size()) + "\r\n\r\n" + results;
        assert_int_equal(write(in, m.data(), m.size()), static_cast<ssize_t>(m.size()));
    };
    send("/ras", "");
    std::vector<PeerAnswer> got;
    for (size_t seen = 0;;) {
        if (!eventually([&] { return answers_in(p.log()).size() > seen; }, 20))
            fail_msg("%s: no answer %zu:\n%s", peer.c_str(), seen + 1,
                     interop::read_file(g_dir + "/" + peer + ".err").c_str());
        got = answers_in(p.log());
        const PeerAnswer& a = got.at(seen++);
        if (a.status == 204)
            break;
        assert_int_equal(a.status, 200);
        const Json ran = sim_control(g->control, "script " + msisdn(c) + " " +
                                                     to_hex(Bytes(a.body.begin(), a.body.end())));
        assert_true(ran.value("ok", false));
        const Bytes results = test::hex(ran["response"].get<std::string>());
        send(a.next_uri, std::string(results.begin(), results.end()));
    }
    close(in);
    p.stop();
    return got;
}

void test_other_tls_stacks_play_the_handset(void**) {
    fault("bip-ignore=1");
    const std::string pcap = g_dir + "/ras.pcap";
    interop::Process tshark(
        "tshark", {"tshark", "-i", "lo", "-f", "tcp port " + std::to_string(g->ras), "-w", pcap},
        g_dir);
    assert_true(tshark.wait_log("Capturing on", 15));
    usleep(300000);
    // Cards 100 and 101: transit locked and the package deleted by the campaigns before.
    size_t card = 100;
    for (const std::string peer : {"openssl", "gnutls"}) {
        for (const auto& [app, op] : {std::pair{"02", "resume"}, std::pair{"09", "install"}}) {
            const uint64_t ignored = sim_counter("sim:bip:triggers_ignored");
            const Json r = post_request(
                {{"msisdn", msisdn(card)}, {"app", app}, {"operation", op}, {"bearer", "bip"}});
            assert_true(
                eventually([&] { return sim_counter("sim:bip:triggers_ignored") > ignored; }, 20));
            const auto answers = play_handset(peer, card);
            assert_true(answers.size() >= 2); // a script or more, then 204
            const Json done = wait_request(r["id"].get<int64_t>(), 30, *g->daemon);
            if (done["state"] != "done")
                fail_msg("%s %s: %s", peer.c_str(), op, done.dump().c_str());
        }
        card++;
    }
    fault("bip-ignore=0");
    usleep(500000);
    tshark.stop(SIGINT);
    for (size_t c : {size_t{100}, size_t{101}}) {
        assert_string_equal(sim_app_state(g->control, msisdn(c), kTransit).c_str(), "selectable");
        assert_string_equal(sim_app_state(g->control, msisdn(c), kEmptyApplet).c_str(),
                            "selectable");
        assert_string_equal(gateway_app_state(iccid(c), kTransit).c_str(), "active");
        assert_string_equal(gateway_app_state(iccid(c), kEmptyApplet).c_str(), "active");
    }
    // tshark decrypts card 100's dialogs (with its key): the POSTs, the 200s and the 204s.
    auto fields = [&](const std::string& key, const std::string& filter, const std::string& f) {
        const std::string out = g_dir + "/tshark.txt";
        const std::string cmd = "tshark -r " + pcap + " -o tls.psk:" + key +
                                " -d tcp.port==" + std::to_string(g->ras) + ",tls -Y '" + filter +
                                "' -T fields -e " + f + " > " + out + " 2>/dev/null";
        assert_int_equal(std::system(cmd.c_str()), 0);
        return interop::read_file(out);
    };
    const std::string posts = fields(psk_of(100), "http.request", "http.request.uri");
    assert_true(posts.find("/ras\n") != std::string::npos);
    assert_true(posts.find("/ras/") != std::string::npos);
    const std::string codes = fields(psk_of(100), "http.response", "http.response.code");
    assert_true(codes.find("200") != std::string::npos && codes.find("204") != std::string::npos);
    assert_string_equal(
        fields(psk_of(100), "_ws.malformed || _ws.expert.severity >= \"Error\"", "frame.number")
            .c_str(),
        "");
}

void test_no_key_in_any_log(void**) {
    std::set<std::string> keys;
    for (const auto& card : g->cards)
        for (size_t column : {size_t{3}, size_t{7}}) {
            std::stringstream ks(card.at(column));
            std::string entry;
            while (std::getline(ks, entry, ';')) {
                std::vector<std::string> p;
                std::stringstream es(entry);
                std::string x;
                while (std::getline(es, x, ':'))
                    p.push_back(x);
                for (size_t i :
                     column == 3 ? std::vector<size_t>{2, 3, 4} : std::vector<size_t>{3, 5})
                    keys.insert(p.at(i));
            }
        }
    std::string logs = g->daemon->log() + g->sim->log();
    for (const char* f :
         {"ota-gatewayd.log", "ota-gatewayd-2.log", "ota-gatewayd-3.log", "ota-gatewayd-4.log"})
        logs += interop::read_file(g_dir + "/" + f);
    const std::string lower = test::lower(logs);
    for (const auto& k : keys)
        if (lower.find(k) != std::string::npos)
            fail_msg("a key of the inventory is in a log");
}

} // namespace

int main() {
    const CMUnitTest tests[] = {
        cmocka_unit_test(test_suspend_and_resume_over_bip),
        cmocka_unit_test(test_cap_install_over_bip),
        cmocka_unit_test(test_tls_failure),
        cmocka_unit_test(test_channel_dropped_after_a_script),
        cmocka_unit_test(test_push_refused),
        cmocka_unit_test(test_card_never_comes),
        cmocka_unit_test(test_max_fragment_length_512),
        cmocka_unit_test(test_kill_9_in_the_middle_of_a_session),
        cmocka_unit_test(test_campaigns_over_bip),
        cmocka_unit_test(test_other_tls_stacks_play_the_handset),
        cmocka_unit_test(test_no_key_in_any_log),
    };
    return test::run_in_temp_dir("otagw-bip", g_dir, tests, setup, teardown);
}
