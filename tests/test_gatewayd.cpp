// SPDX-License-Identifier: GPL-2.0-or-later
// ota-gatewayd as a process, started with doc/examples/ota-gateway.cfg (ports and paths moved
// into a temporary folder), bound to a real cardlets-sim SMSC, its inventory imported from the
// simulator's export through otactl and the API. Checked: a VTY transcript; `write terminal`
// against the config file; the API's authentication, errors and listings; no key in clear
// anywhere (database, WAL, logs, API, otactl); kill -9 during a large import, then a rerun;
// SIGTERM shutting down cleanly.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>

#include <map>
#include <set>
#include <sstream>

#include "gatewayd_harness.hpp"
#include "otagw/sim/population.hpp"
#include "test_support.hpp"

using namespace otagw;
using Json = test::Json;

namespace {

using namespace harness;

void assert_lines(const std::vector<std::string>& got, const std::vector<std::string>& want) {
    std::string g, w;
    for (const auto& l : got)
        g += l + "\n";
    for (const auto& l : want)
        w += l + "\n";
    assert_string_equal(g.c_str(), w.c_str());
}

std::vector<std::vector<std::string>> inventory_cards(const std::string& path) {
    std::ifstream in(path);
    std::string line;
    std::vector<std::vector<std::string>> cards;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#' || line.rfind("iccid,", 0) == 0)
            continue;
        std::vector<std::string> f;
        std::stringstream ls(line);
        std::string x;
        while (std::getline(ls, x, ','))
            f.push_back(x);
        cards.push_back(f);
    }
    return cards;
}

// Every key of the inventory file, in hex.
// Every key of the file: KIc, KID, KIK of the OTA keysets; PSK and DEK of the SCP81 ones.
std::set<std::string> inventory_keys(const std::string& path) {
    std::set<std::string> keys;
    for (const auto& card : inventory_cards(path)) {
        for (const auto& [column, parts] :
             {std::pair{3, std::vector{2, 3, 4}}, std::pair{7, std::vector{3, 5}}}) {
            std::stringstream ks(card.at(column));
            std::string entry;
            while (std::getline(ks, entry, ';')) {
                std::vector<std::string> p;
                std::stringstream es(entry);
                std::string x;
                while (std::getline(es, x, ':'))
                    p.push_back(x);
                for (int i : parts)
                    keys.insert(p.at(i));
            }
        }
    }
    return keys;
}

void assert_no_key_in(const std::string& what, const std::string& text,
                      const std::set<std::string>& keys) {
    const std::string lower_text = test::lower(text);
    for (const auto& k : keys) {
        const std::string raw = [&] {
            Bytes b = test::hex(k);
            return std::string(b.begin(), b.end());
        }();
        if (lower_text.find(k) != std::string::npos || text.find(raw) != std::string::npos) {
            print_error("a key appears in clear in %s\n", what.c_str());
            fail();
        }
    }
}

// The daemon, the simulator and an imported inventory of 50 cards, for the tests below.
struct World {
    std::unique_ptr<interop::Process> sim, daemon;
};
World* g_world = nullptr;

int setup_world(void**) {
    g_api = interop::free_port();
    g_vty = interop::free_port();
    g_smsc = interop::free_port();
    static World w;
    w.sim = start_simulator(50, g_dir + "/inventory.csv");
    w.daemon = start_daemon("ota-gatewayd");
    auto r = otactl("inventory import inventory.csv");
    if (r.status != 0) {
        print_error("import failed: %s %s\n", r.out.c_str(), r.err.c_str());
        return 1;
    }
    w.daemon->wait_log("bind smsc up", 10);
    g_world = &w;
    return 0;
}

int teardown_world(void**) {
    if (g_world) {
        g_world->daemon.reset();
        g_world->sim.reset();
    }
    return 0;
}

void test_vty_transcript(void**) {
    Vty vty;
    assert_lines(vty.run("show smpp"),
                 {"bind smsc 127.0.0.1:" + std::to_string(g_smsc) + " system-id otagw: up",
                  "queued 0, in flight 0, bound sessions 1"});
    assert_lines(vty.run("show application"),
                 {"application canteen code 01 aid f04f5441470101010001 tar c00001 type "
                  "campus-wallet provider campus",
                  "application transit code 02 aid f04f5441470102010001 tar c00002 type transit",
                  "application bank code 03 aid f04f5441470103010001 tar c00003 type bank"});
    assert_lines(vty.run("show card iccid 8988299000000000016"),
                 {"Card 8988299000000000016: IMSI 001010000000001, MSISDN 999000000001, active",
                  " keyset 1 aes128 counter 0", " keyset 2 3des2 counter 0",
                  " SCP81 keyset 40 kid 01 identity 38393838323939303030303030303030303136",
                  " TAR 000000 isd msl 12", " TAR b00000 rfm msl 12", " TAR b00010 rfm msl 12",
                  " TAR c00001 app msl 12", " TAR c00002 app msl 12",
                  " application f04f5441470101010001 installed (life cycle 03)",
                  " application f04f5441470102010001 active (life cycle 07)"});
    assert_lines(vty.run("show card msisdn 999000000002"),
                 vty.run("show card iccid 8988299000000000024"));
    assert_lines(vty.run("show card 8988299000000000024"),
                 vty.run("show card iccid 8988299000000000024"));
    assert_lines(vty.run("show card iccid 8988299000000009999"),
                 {"% no card with ICCID 8988299000000009999"});
    assert_lines(vty.run("show card iccid x"), {"% an ICCID is 18 to 20 digits"});
    assert_lines(vty.run("show card imsi 1"), {"% Unknown command."});
    assert_lines(vty.run("show card 12"), {"% an ICCID is 18 to 20 digits"});
    assert_lines(vty.run("show requests"), {"No request in flight"});
    auto timers = vty.run("show timer");
    assert_true(timers.size() >= 10);
    assert_string_equal(timers.at(0).c_str(),
                        "por-timeout = 60 s (default 60): Wait for a PoR (from the SMSC's "
                        "acknowledgement) before reading the card");
    auto stats = vty.run("show stats");
    assert_true(std::find(stats.begin(), stats.end(), "api:import:apply: 1") != stats.end());
    assert_true(std::find(stats.begin(), stats.end(), "api:import:cards_inserted: 50") !=
                stats.end());
}

// `write terminal` against the config file, node by node (comments and libosmocore's
// defaults for the nodes it owns aside).
std::map<std::string, std::vector<std::string>> nodes_of(const std::string& text) {
    std::map<std::string, std::vector<std::string>> nodes;
    std::stringstream ss(text);
    std::string line, node;
    int seq = 0;
    while (std::getline(ss, line)) {
        if (!line.empty() && line.back() == '\r')
            line.pop_back();
        const size_t first = line.find_first_not_of(' ');
        if (first == std::string::npos || line[first] == '!' || line == "end" ||
            line == "Current configuration:")
            continue;
        if (first == 0) {
            node = line;
            if (nodes.count(node)) {
                node.push_back('#');
                node.append(std::to_string(++seq));
            }
            nodes[node];
        } else if (line.find('!') == std::string::npos || line[first] != '!') {
            nodes[node].push_back(line);
        }
    }
    return nodes;
}

void test_config_round_trip(void**) {
    Vty vty;
    vty.run("enable");
    std::string written;
    for (const auto& l : vty.run("write terminal"))
        written += l + "\n";
    // A terminal never shows the SMPP password (the file keeps it, below).
    const auto file =
        nodes_of(replace(config_text(), "  password secret\n", "  password <redacted>\n"));
    const auto back = nodes_of(written);
    for (const auto& [node, lines] : file) {
        assert_true(back.count(node) == 1);
        const auto& got = back.at(node);
        if (node == "log stderr" || node == "line vty") {
            // libosmocore writes its own defaults too: every line of the file must be there.
            for (const auto& l : lines)
                assert_true(std::find(got.begin(), got.end(), l) != got.end());
        } else {
            std::string a, b;
            for (const auto& l : lines)
                a += l + "\n";
            for (const auto& l : got)
                b += l + "\n";
            assert_string_equal(b.c_str(), a.c_str());
        }
    }
    for (const auto& [node, lines] : back)
        assert_true(file.count(node) == 1); // nothing written that the file does not have
    // A change made on the VTY shows in the running config.
    vty.run("configure terminal");
    vty.run("requests");
    assert_lines(vty.run("keyword fr activate ACTIVER"), {});
    assert_lines(vty.run("short-code 12ab"), {"% short-code: 1 to 15 digits"});
    vty.run("exit");
    vty.run("ota");
    assert_lines(vty.run("timer max-audits 5"), {});
    assert_lines(vty.run("timer max-audits 0"), {"% timer max-audits: 1 to 100 count, or default"});
    assert_lines(vty.run("timer por-timeout 2x"),
                 {"% timer por-timeout: 1 to 86400 s, or default"});
    vty.run("end");
    std::string again;
    for (const auto& l : vty.run("write terminal"))
        again += l + "\n";
    assert_true(again.find(" keyword fr activate ACTIVER\n") != std::string::npos);
    assert_true(again.find(" short-code 4321\n") != std::string::npos);
    assert_true(again.find(" timer max-audits 5\n") != std::string::npos);
    assert_true(again.find(" timer por-timeout 60\n") != std::string::npos);
    // `write file` keeps what the file needs: the SMPP password, the VTY passwords' hashes.
    vty.run("write file");
    const std::string saved = interop::read_file(g_dir + "/ota-gateway.cfg");
    for (const char* kept : {"  password secret\n", "\npassword 8 $6$otagwvty$",
                             "\nenable password 8 $6$otagwena$", " keyword fr activate ACTIVER\n"})
        if (saved.find(kept) == std::string::npos)
            fail_msg("write file lost \"%s\":\n%s", kept, saved.c_str());
    const auto check = test::run_command(std::string(OTA_GATEWAYD_PATH) + " -c " + g_dir +
                                         "/ota-gateway.cfg --check");
    if (check.status != 0)
        fail_msg("the written file does not read back: %s\n%s", check.err.c_str(), saved.c_str());
}

// Clients that reset their connection before the answer is written: the daemon writes into a
// dead socket (EPIPE), which must not end it (SIGPIPE is ignored).
void test_clients_gone_mid_answer(void**) {
    const std::string req = std::string("GET /v1/cards?limit=10000 HTTP/1.1\r\nHost: x\r\n"
                                        "Authorization: Bearer ") +
                            kToken + "\r\n\r\n";
    std::string pipelined;
    for (int i = 0; i < 300; i++)
        pipelined += req;
    for (int i = 0; i < 10; i++) {
        const int fd = socket(AF_INET, SOCK_STREAM, 0);
        const int small = 4096; // the daemon's answers pile up in its send buffer
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(g_api);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        assert_int_equal(connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
        assert_int_equal(write(fd, pipelined.data(), pipelined.size()),
                         static_cast<ssize_t>(pipelined.size()));
        shutdown(fd, SHUT_WR); // the daemon reads the end and still answers what it has
        std::this_thread::sleep_for(std::chrono::milliseconds(30));
        close(fd); // unread answers: the kernel resets the connection under the daemon's writes
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    assert_true(g_world->daemon->running());
    assert_int_equal(api("GET", "/v1/health").status, 200);
}

void test_api(void**) {
    // Authentication first: no token, a wrong one, a malformed header.
    for (const std::string& token : {std::string(), std::string("wrong-token")}) {
        auto a = api("GET", "/v1/cards", token);
        assert_int_equal(a.status, 401);
        assert_string_equal(a.json()["error"].get<std::string>().c_str(),
                            "missing or unknown bearer token");
    }
    assert_int_equal(api("POST", "/v1/inventory/import", "nope").status, 401);
    // Clear errors.
    auto bad_limit = api("GET", "/v1/cards?limit=0");
    assert_int_equal(bad_limit.status, 400);
    assert_string_equal(bad_limit.json()["error"].get<std::string>().c_str(),
                        "query parameter limit: a number from 1 to 10000");
    assert_int_equal(api("GET", "/v1/nothing").status, 404);
    assert_int_equal(api("GET", "/v1/cards/8988299000000009999").status, 404);
    assert_int_equal(api("GET", "/v1/cards/12ab").status, 400);
    assert_int_equal(api("DELETE", "/v1/catalog").status, 405);
    auto bad_body = api("PUT", "/v1/cards/8988299000000000016/status", kToken, "{\"status\":1}");
    assert_int_equal(bad_body.status, 400);
    // A card of the simulator's export, listed and shown as it was delivered.
    const auto cards = inventory_cards(g_dir + "/inventory.csv");
    assert_int_equal(cards.size(), 50);
    auto page1 = api("GET", "/v1/cards?limit=30").json();
    assert_int_equal(page1["cards"].size(), 30);
    auto page2 = api("GET", "/v1/cards?limit=30&after=" + page1["next_after"].dump()).json();
    assert_int_equal(page2["cards"].size(), 20);
    assert_true(page2["next_after"].is_null());
    const auto& last = cards.back();
    const Json shown = page2["cards"][19];
    assert_string_equal(shown["iccid"].get<std::string>().c_str(), last[0].c_str());
    assert_string_equal(shown["imsi"].get<std::string>().c_str(), last[1].c_str());
    assert_string_equal(shown["msisdn"].get<std::string>().c_str(), last[2].c_str());
    auto card = api("GET", "/v1/cards/" + last[0]).json();
    assert_int_equal(card["keysets"].size(), 2);
    assert_string_equal(card["keysets"][0]["algorithm"].get<std::string>().c_str(), "aes128");
    assert_int_equal(card["apps"].size(), 2);
    auto by_msisdn = api("GET", "/v1/cards?msisdn=" + last[2]).json();
    assert_string_equal(by_msisdn["cards"][0]["iccid"].get<std::string>().c_str(), last[0].c_str());
    auto holding =
        api("GET", "/v1/cards?limit=100&app=f04f5441470101010001&state=installed").json();
    assert_int_equal(holding["cards"].size(), 50);
    auto catalog = api("GET", "/v1/catalog").json();
    assert_int_equal(catalog["applications"].size(), 3);
    auto health = api("GET", "/v1/health").json();
    assert_string_equal(health["status"].get<std::string>().c_str(), "ok");
    assert_int_equal(health["cards"].get<int>(), 50);
    // Barring a card is audited.
    auto barred = api("PUT", "/v1/cards/" + last[0] + "/status", kToken,
                      "{\"status\":\"barred\",\"reason\":\"reported stolen\"}");
    assert_int_equal(barred.status, 200);
    assert_string_equal(barred.json()["status"].get<std::string>().c_str(), "barred");
    auto audit = api("GET", "/v1/audit?limit=1").json();
    assert_string_equal(audit["entries"][0]["action"].get<std::string>().c_str(), "card.bar");
    assert_string_equal(audit["entries"][0]["actor"].get<std::string>().c_str(), "api:ops");
    assert_string_equal(audit["entries"][0]["detail"].get<std::string>().c_str(),
                        "reported stolen");
    // otactl shows the same, as a table and as JSON.
    auto table = otactl("cards list --limit 2");
    assert_int_equal(table.status, 0);
    assert_string_equal(table.out.c_str(),
                        "ICCID                IMSI             MSISDN        STATUS\n"
                        "8988299000000000016  001010000000001  999000000001  active\n"
                        "8988299000000000024  001010000000002  999000000002  active\n"
                        "(more: --after 2)\n");
    auto shown_json = otactl("cards show --json " + last[0]);
    assert_int_equal(shown_json.status, 0);
    assert_string_equal(Json::parse(shown_json.out)["status"].get<std::string>().c_str(), "barred");
    auto apps = otactl("apps show --msisdn " + last[2]);
    assert_int_equal(apps.status, 0);
    assert_true(apps.out.find("f04f5441470102010001  active     07") != std::string::npos);
    assert_int_equal(otactl("catalog list").status, 0);
    auto tail = otactl("audit tail -n 2 --json");
    assert_int_equal(Json::parse(tail.out)["entries"].size(), 2);
    auto unauth = test::run_command("OTAGW_API=http://127.0.0.1:" + std::to_string(g_api) +
                                    " OTAGW_API_TOKEN=bad " + OTACTL_PATH + " catalog list");
    assert_int_equal(unauth.status, 1);
    assert_string_equal(unauth.err.c_str(),
                        "otactl: API answered 401: missing or unknown bearer token\n");
    auto no_token =
        test::run_command(std::string("env -u OTAGW_API_TOKEN ") + OTACTL_PATH + " catalog list");
    assert_int_equal(no_token.status, 2);
}

void test_bad_inventory_is_reported_line_by_line(void**) {
    std::string text = interop::read_file(g_dir + "/inventory.csv");
    // Line 6 is the first card: break its Luhn digit; add a duplicate of line 7 at the end.
    std::vector<std::string> lines;
    std::stringstream ss(text);
    std::string l;
    while (std::getline(ss, l))
        lines.push_back(l);
    lines[5][18] = lines[5][18] == '0' ? '1' : '0';
    lines.push_back(lines[6]);
    std::ofstream out(g_dir + "/bad.csv");
    for (const auto& x : lines)
        out << x << "\n";
    out.close();
    auto r = otactl("inventory import bad.csv");
    assert_int_equal(r.status, 1);
    assert_true(r.out.find("line 6, field iccid: the Luhn check digit is wrong") !=
                std::string::npos);
    assert_true(r.out.find("line 56, field iccid: same iccid as line 7") != std::string::npos);
    assert_true(r.out.find("line 56, field scp81_keysets: same PSK identity as line 7") !=
                std::string::npos);
    assert_true(r.out.find("nothing imported") != std::string::npos);
    auto skip = otactl("inventory import --skip-bad --json bad.csv");
    assert_int_equal(skip.status, 1);
    auto j = Json::parse(skip.out);
    assert_int_equal(j["apply"]["inserted"].get<int>(), 0); // the rest was there already
    assert_int_equal(j["apply"]["issues_total"].get<int>(), 1);
}

// A card imported from a format 1 file gets its SCP81 keyset from a format 2 file later: the
// import counts it updated, once; the card then shows the keyset (never its keys).
void test_scp81_keysets_added_later(void**) {
    std::vector<std::string> f = inventory_cards(g_dir + "/inventory.csv").at(0);
    std::string iccid = "898829900000009999";
    iccid.push_back(sim::luhn_digit(iccid));
    const std::string old_identity = to_hex(Bytes(f[0].begin(), f[0].end()));
    f[0] = iccid;
    f[1] = "001010000099999";
    f[2] = "999000099999";
    f[7].replace(f[7].find(old_identity), old_identity.size(),
                 to_hex(Bytes(iccid.begin(), iccid.end())));
    std::string v1_line, v2_line;
    for (size_t i = 0; i < f.size(); i++) {
        v2_line += (i ? "," : "") + f[i];
        if (i < 7)
            v1_line += (i ? "," : "") + f[i];
    }
    std::ofstream(g_dir + "/v1.csv") << "# ota-gateway card inventory v1\n"
                                        "iccid,imsi,msisdn,keysets,tars,load_files,apps\n"
                                     << v1_line << "\n";
    std::ofstream(g_dir + "/v2.csv")
        << "# ota-gateway card inventory v2\n"
           "iccid,imsi,msisdn,keysets,tars,load_files,apps,scp81_keysets\n"
        << v2_line << "\n";
    auto v1 = otactl("inventory import --json v1.csv");
    assert_int_equal(v1.status, 0);
    assert_int_equal(Json::parse(v1.out)["apply"]["inserted"].get<int>(), 1);
    Json card = Json::parse(otactl("cards show --json " + iccid).out);
    assert_int_equal(card["scp81_keysets"].size(), 0);
    auto v2 = otactl("inventory import --json v2.csv");
    assert_int_equal(v2.status, 0);
    assert_int_equal(Json::parse(v2.out)["apply"]["updated"].get<int>(), 1);
    card = Json::parse(otactl("cards show --json " + iccid).out);
    assert_int_equal(card["scp81_keysets"].size(), 1);
    assert_string_equal(card["scp81_keysets"][0]["kvn"].get<std::string>().c_str(), "40");
    auto again = otactl("inventory import v2.csv");
    assert_int_equal(again.status, 0);
    assert_true(again.out.find("1 already there") != std::string::npos);
}

void test_no_key_in_clear(void**) {
    const auto keys = inventory_keys(g_dir + "/inventory.csv");
    assert_int_equal(keys.size(), 50 * 8);
    std::string everything;
    for (const char* f : {"ota-gateway.db", "ota-gateway.db-wal"})
        everything += interop::read_file(g_dir + "/" + f);
    assert_true(everything.find("8988299000000000016") != std::string::npos);
    assert_no_key_in("the database and its WAL", everything, keys);
    assert_no_key_in("the daemon's log", g_world->daemon->log(), keys);
    std::string api_out;
    for (const char* t : {"/v1/cards?limit=100", "/v1/cards/8988299000000000016",
                          "/v1/cards/8988299000000000016/apps", "/v1/audit?limit=100",
                          "/v1/catalog", "/v1/health", "/v1/metrics"})
        api_out += api("GET", t).body;
    assert_no_key_in("API output", api_out, keys);
    std::string cli;
    for (const char* c :
         {"cards show 8988299000000000016", "cards show --json 8988299000000000016", "audit tail",
          "cards list --json", "inventory import --json inventory.csv"}) {
        auto r = otactl(c);
        cli += r.out + r.err;
    }
    assert_no_key_in("otactl output", cli, keys);
    Vty vty;
    std::string vty_out;
    for (const auto& l : vty.run("show card iccid 8988299000000000016"))
        vty_out += l;
    assert_no_key_in("the VTY", vty_out, keys);
}

// kill -9 in the middle of a 150 000-card import: the database opens consistent, and the
// same import, rerun, completes it (cards already there count as unchanged). A daemon of its
// own, in its own folder.
void test_kill_during_import_then_rerun(void**) {
    const std::string dir = g_dir + "/crash";
    mkdir(dir.c_str(), 0755);
    auto gen = test::run_command(std::string(CARDLETS_SIM_PATH) +
                                 " --smpp-listen 127.0.0.1:0 --system-id x --password y --cards "
                                 "150000 --seed 9 --export " +
                                 dir + "/big.csv --duration 0.01");
    assert_int_equal(gen.status, 0);
    const uint16_t api_port = interop::free_port(), vty_port = interop::free_port();
    std::string cfg = "line vty\n no login\n bind 127.0.0.1 " + std::to_string(vty_port) +
                      "\ndb\n path crash.db\n master-key-env OTAGW_MASTER_KEY\napi\n listen "
                      "127.0.0.1 " +
                      std::to_string(api_port) +
                      "\n token ops sha256 "
                      "1a11d2911af588c66b5b8c9345777cb1d8adf408d4c0bde4075a49ce4bdb5cbb\n";
    std::ofstream(dir + "/crash.cfg") << cfg;
    auto start = [&](const char* name) {
        auto d = std::make_unique<interop::Process>(
            name, std::vector<std::string>{OTA_GATEWAYD_PATH, "-c", "crash.cfg"}, dir,
            std::vector<std::string>{kMasterKey});
        assert_true(d->wait_log("DDAEMON NOTICE started"));
        return d;
    };
    const std::string env = "OTAGW_API=http://127.0.0.1:" + std::to_string(api_port) +
                            " OTAGW_API_TOKEN=" + kToken + " ";
    auto daemon = start("crash-daemon-1");
    auto importer = std::make_unique<interop::Process>(
        "otactl-import",
        std::vector<std::string>{"sh", "-c", env + OTACTL_PATH + " inventory import big.csv"}, dir);
    // Wait until the apply pass has written some batches, then kill -9.
    const std::string db = dir + "/crash.db";
    uint64_t seen = 0;
    for (int i = 0; i < 600 && seen < 20000; i++) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        auto h = test::run_command("sqlite3 -readonly " + db +
                                   " 'SELECT count(*) FROM cards' 2>/dev/null");
        seen = h.status == 0 ? std::strtoull(h.out.c_str(), nullptr, 10) : 0;
    }
    daemon->stop(SIGKILL);
    importer->stop(SIGKILL);
    assert_true(seen >= 20000);
    auto integrity = test::run_command("sqlite3 " + db + " 'PRAGMA integrity_check'");
    assert_string_equal(integrity.out.c_str(), "ok\n");
    auto counted = test::run_command("sqlite3 " + db + " 'SELECT count(*) FROM cards'");
    const uint64_t survived = std::strtoull(counted.out.c_str(), nullptr, 10);
    assert_true(survived >= 20000 && survived < 150000);
    assert_int_equal(survived % 2000, 0); // whole batches only
    // Every card that is there has both keysets: no half card.
    auto orphans = test::run_command("sqlite3 " + db +
                                     " 'SELECT count(*) FROM cards c WHERE (SELECT count(*) FROM "
                                     "keysets k WHERE k.card_id = c.id) != 2'");
    assert_string_equal(orphans.out.c_str(), "0\n");
    daemon = start("crash-daemon-2");
    auto rerun = test::run_command("cd " + dir + " && " + env + OTACTL_PATH +
                                   " inventory import --json big.csv");
    assert_int_equal(rerun.status, 0);
    auto report = Json::parse(rerun.out);
    assert_int_equal(report["apply"]["unchanged"].get<uint64_t>(), survived);
    assert_int_equal(report["apply"]["inserted"].get<uint64_t>(), 150000 - survived);
    auto total = test::run_command("sqlite3 -readonly " + db + " 'SELECT count(*) FROM cards'");
    assert_string_equal(total.out.c_str(), "150000\n");
    daemon->stop();
}

// A daemon that cannot start says why and exits 1: no master key, a wrong one for the
// database, a bad config line, a port in use.
void test_start_failures(void**) {
    const std::string run = std::string("cd ") + g_dir + " && ";
    auto no_key = test::run_command(run + "env -u OTAGW_MASTER_KEY " + OTA_GATEWAYD_PATH +
                                    " -c ota-gateway.cfg");
    assert_int_equal(no_key.status, 1);
    assert_true(no_key.err.find("ota-gatewayd: environment variable OTAGW_MASTER_KEY is not set") !=
                std::string::npos);
    // The crash test's database, made under kMasterKey (its daemon is gone).
    std::ofstream(g_dir + "/crashdb.cfg")
        << replace(config_text(), "path ota-gateway.db", "path crash/crash.db");
    auto wrong_key = test::run_command(run + "OTAGW_MASTER_KEY=" + std::string(64, 'f') + " " +
                                       OTA_GATEWAYD_PATH + " -c crashdb.cfg");
    assert_int_equal(wrong_key.status, 1);
    assert_true(wrong_key.err.find("the master key does not open this database") !=
                std::string::npos);
    assert_true(wrong_key.err.find("ffffffff") == std::string::npos);
    std::ofstream(g_dir + "/bad.cfg") << "api\n token ops sha256 1234\n";
    auto bad = test::run_command(run + kMasterKey + " " + OTA_GATEWAYD_PATH + " -c bad.cfg");
    assert_int_equal(bad.status, 1);
    assert_true(bad.err.find("token ops: sha256 must be 64 hex digits") != std::string::npos);
    auto twice = test::run_command(run + kMasterKey + " " + OTA_GATEWAYD_PATH +
                                   " -c ota-gateway.cfg"); // the running daemon has the database
    assert_int_equal(twice.status, 1);
    assert_true(twice.err.find("database ota-gateway.db is in use by another ota-gatewayd") !=
                std::string::npos);
    std::string other = config_text();
    other = replace(other, "path ota-gateway.db", "path other.db");
    std::ofstream(g_dir + "/other.cfg") << other;
    auto busy = test::run_command(run + kMasterKey + " " + OTA_GATEWAYD_PATH + " -c other.cfg");
    assert_int_equal(busy.status, 1); // the running daemon holds the API port
    assert_true(busy.err.find("API: cannot listen on 127.0.0.1:" + std::to_string(g_api) +
                              ": EADDRINUSE") != std::string::npos);
}

// SIGTERM: intake stops, the SMSC is unbound, the WAL is written back, the process ends.
void test_sigterm_shutdown(void**) {
    g_world->daemon->stop(SIGTERM);
    const std::string log = g_world->daemon->log();
    assert_true(log.find("shutting down (SIGTERM)") != std::string::npos);
    assert_true(log.find("DDAEMON NOTICE stopped") != std::string::npos);
    // In the sanitizer build: no leak, no undefined behaviour on the way out.
    assert_true(log.find("Sanitizer") == std::string::npos);
    assert_true(log.find("runtime error") == std::string::npos);
    struct stat st {};
    // Checkpointed and closed: SQLite removes the WAL with the last connection (or leaves it
    // empty).
    if (stat((g_dir + "/ota-gateway.db-wal").c_str(), &st) == 0)
        assert_int_equal(st.st_size, 0);
    auto sim_log = g_world->sim->log();
    (void)sim_log;
}

} // namespace

int main() {
    const CMUnitTest tests[] = {
        cmocka_unit_test(test_vty_transcript),
        cmocka_unit_test(test_config_round_trip),
        cmocka_unit_test(test_api),
        cmocka_unit_test(test_clients_gone_mid_answer),
        cmocka_unit_test(test_bad_inventory_is_reported_line_by_line),
        cmocka_unit_test(test_scp81_keysets_added_later),
        cmocka_unit_test(test_no_key_in_clear),
        cmocka_unit_test(test_kill_during_import_then_rerun),
        cmocka_unit_test(test_start_failures),
        cmocka_unit_test(test_sigterm_shutdown),
    };
    return test::run_in_temp_dir("otagw-gatewayd", g_dir, tests, setup_world, teardown_world);
}
