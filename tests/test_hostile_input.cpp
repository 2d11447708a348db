// SPDX-License-Identifier: GPL-2.0-or-later
// Hostile and faulty input against the real daemon (issue 15's reproductions, each of which
// made the daemon of commit 9274d6b abort, lock operators out or lose a request): ota-gatewayd,
// cardlets-sim and ota-provider-sim as processes on 127.0.0.1. After each, the daemon still
// answers.
#include <poll.h>
#include <sqlite3.h>

#include <atomic>

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

void assert_alive() {
    if (!g->daemon->running() || api("GET", "/v1/health").status != 200)
        fail_msg("the daemon is gone:\n%s", g->daemon->log().c_str());
}

int setup(void**) {
    g_api = interop::free_port();
    g_vty = interop::free_port();
    g_smsc = interop::free_port();
    static World w;
    g = &w;
    w.sim = start_simulator(8, g_dir + "/inventory.csv");
    w.control = control_port(*w.sim);
    w.cards = inventory_cards(g_dir + "/inventory.csv");
    w.provider = start_provider(w.provider_port);
    g_config_edits.push_back({"timeout 10000", "timeout 2000"});
    // A result the provider does not acknowledge: given up after 2 tries, 1 s apart.
    g_config_edits.push_back({" timer campaign-retry-delay 30\n",
                              " timer campaign-retry-delay 30\n timer callback-tries 2\n"
                              " timer callback-retry 1\n"});
    // The operator serves the first six cards' numbers only.
    std::string ranges = " short-code 4321\n";
    for (size_t c = 0; c < 6; c++)
        ranges += " number-range " + w.cards.at(c).at(2) + "\n";
    g_config_edits.push_back({" short-code 4321\n", ranges});
    w.daemon = start_daemon("ota-gatewayd");
    // The first 6 cards; 6 and 7 are left for the import test.
    std::ofstream first(g_dir + "/first.csv");
    size_t n = 0;
    for (const std::string& line : split_lines(interop::read_file(g_dir + "/inventory.csv")))
        if (!std::isdigit(static_cast<unsigned char>(line[0])) || n++ < 6)
            first << line << "\n";
    first.close();
    if (otactl("inventory import first.csv").status != 0)
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

// Bytes that are not UTF-8 in an authenticated call: refused with a 400 that names the field
// (the daemon of 9274d6b aborted on json::dump()).
void test_text_that_is_not_utf8_is_refused(void**) {
    const Json body = {{"msisdn", msisdn(0)}, {"app", "02"}, {"operation", "query"}};
    Answer a = api("POST", "/v1/requests", kToken, body.dump(), {{"Idempotency-Key", "k\xff"}});
    assert_int_equal(a.status, 400);
    assert_string_equal(a.json()["error"].get<std::string>().c_str(),
                        "header idempotency-key: not valid UTF-8");
    a = api("GET", "/v1/cards/%E9");
    assert_int_equal(a.status, 400);
    assert_string_equal(a.json()["error"].get<std::string>().c_str(),
                        "the path is not valid UTF-8");
    a = api("POST", "/v1/campaigns?name=x&op=lock&aid=f04f5441470102010001&filter=app%3D%E9");
    assert_int_equal(a.status, 400);
    assert_string_equal(a.json()["error"].get<std::string>().c_str(),
                        "query parameter filter: not valid UTF-8");
    a = api("POST", "/v1/inventory/import?mode=apply&name=cartes_%E9t%E9.csv", kToken, "");
    assert_int_equal(a.status, 400);
    assert_string_equal(a.json()["error"].get<std::string>().c_str(),
                        "query parameter name: not valid UTF-8");
    // A JSON body that is not UTF-8: the parser refuses it.
    a = api("POST", "/v1/requests", kToken, "{\"msisdn\":\"\xe9\"}");
    assert_int_equal(a.status, 400);
    assert_alive();
}

// An inventory file named in Latin-1: otactl sends the name as UTF-8 (U+FFFD for the bytes that
// are not), the import is audited, and the audit log reads (GET /v1/audit aborted the daemon of
// 9274d6b from then on, across restarts).
void test_file_named_in_latin1(void**) {
    const std::string latin1 = "cartes_\xe9t\xe9.csv";
    std::ofstream(g_dir + "/" + latin1) << interop::read_file(g_dir + "/first.csv");
    auto r = otactl("inventory import '" + latin1 + "'");
    if (r.status != 0)
        fail_msg("otactl inventory import: %d %s%s", r.status, r.out.c_str(), r.err.c_str());
    auto tail = otactl("audit tail -n 5");
    assert_int_equal(tail.status, 0);
    assert_true(tail.out.find("cartes_\xef\xbf\xbdt\xef\xbf\xbd.csv") != std::string::npos);
    assert_alive();
}

// A provider's correctly signed answer with a wrong JSON type: the request fails with
// provider_error (the daemon of 9274d6b aborted, and again at each restart while it resumed the
// request and asked again).
void test_provider_answer_of_the_wrong_type(void**) {
    const size_t c = 1;
    for (const Json& wrong :
         {Json{{"decision", 1}}, Json{{"decision", "approve"}, {"personalisation", 12345}},
          Json{{"decision", "veto"}, {"reason", Json::array()}}, Json("approve"),
          Json{{"decision", "approve"}, {"personalisation", "0g"}}}) {
        provider_control(g->provider_port, {{"answer", {{msisdn(c), wrong}}}});
        Json r = wait_request(
            post_request({{"msisdn", msisdn(c)}, {"app", "01"}, {"operation", "activate"}})["id"],
            20, *g->daemon);
        const bool veto = wrong.is_object() && wrong.value("decision", Json()) == "veto";
        if (r["state"] != (veto ? "refused" : "failed") ||
            r["reason"] != (veto ? "provider_veto" : "provider_error"))
            fail_msg("answer %s: %s", wrong.dump().c_str(), r.dump().c_str());
        assert_alive();
    }
    // A restart resumes nothing that would ask it again.
    g->daemon->stop();
    g->daemon = start_daemon("ota-gatewayd-2");
    assert_alive();
    provider_control(g->provider_port, {{"clear", true}});
}

// on_error=stop stops at the first bad line: the lines after it are not imported (the daemon of
// 9274d6b imported them).
void test_import_stops_at_the_first_bad_line(void**) {
    std::string body;
    for (const std::string& line : split_lines(interop::read_file(g_dir + "/inventory.csv")))
        if (!std::isdigit(static_cast<unsigned char>(line[0])))
            body += line + "\n";
    const auto card_line = [&](size_t c) {
        std::string l;
        for (size_t i = 0; i < g->cards.at(c).size(); i++)
            l += (i ? "," : "") + g->cards.at(c)[i];
        return l + "\n";
    };
    body += card_line(6) + "8988299000000000999,oops\n" + card_line(7);
    Answer a =
        api("POST", "/v1/inventory/import?mode=apply&on_error=stop&name=stop.csv", kToken, body);
    assert_int_equal(a.status, 200);
    const Json report = a.json();
    assert_true(report["stopped"].get<bool>());
    assert_int_equal(report["inserted"].get<int>(), 1);
    assert_int_equal(report["issues"][0]["line"].get<int>(), 7);
    assert_int_equal(api("GET", "/v1/cards/" + g->cards.at(6).at(0)).status, 200);
    assert_int_equal(api("GET", "/v1/cards/" + g->cards.at(7).at(0)).status, 404);
}

// A request by ICCID is held to the MSISDN checks too, on the card's MSISDN (the daemon of
// 9274d6b skipped number-range for it).
void test_request_by_iccid_checks_the_number(void**) {
    const size_t c = 6; // imported by the test above, outside the operator's ranges
    for (const Json& who : {Json{{"iccid", g->cards.at(c).at(0)}}, Json{{"msisdn", msisdn(c)}}}) {
        Json body = who;
        body["app"] = "02";
        body["operation"] = "query";
        Json r = wait_request(post_request(body)["id"], 10, *g->daemon);
        assert_string_equal(r["state"].get<std::string>().c_str(), "refused");
        assert_string_equal(r["reason"].get<std::string>().c_str(), "msisdn_out_of_range");
    }
    Json in_range = wait_request(
        post_request(
            {{"iccid", g->cards.at(2).at(0)}, {"app", "02"}, {"operation", "query"}})["id"],
        10, *g->daemon);
    assert_string_equal(in_range["state"].get<std::string>().c_str(), "done");
}

size_t rss_kib(const interop::Process& p) {
    const std::string status = interop::read_file("/proc/" + std::to_string(p.pid()) + "/status");
    const size_t at = status.find("VmRSS:");
    return at == std::string::npos ? 0 : std::stoul(status.substr(at + 6));
}

// A provider's answer of 64 MiB is cut at max-answer (1 MiB): provider_error, and the daemon
// does not hold it (the daemon of 9274d6b read a 1.5 GB answer whole: 2.1 GB RSS).
void test_huge_provider_answer(void**) {
    const size_t c = 3;
    const size_t before = rss_kib(*g->daemon);
    provider_control(g->provider_port, {{"huge", {{msisdn(c), 64u << 20}}}});
    Json r = wait_request(
        post_request({{"msisdn", msisdn(c)}, {"app", "01"}, {"operation", "activate"}})["id"], 20,
        *g->daemon);
    provider_control(g->provider_port, {{"clear", true}});
    assert_string_equal(r["reason"].get<std::string>().c_str(), "provider_error");
    assert_true(r["message"].get<std::string>().find("larger than 1048576 bytes") !=
                std::string::npos);
    const size_t after = rss_kib(*g->daemon);
    if (after > before + 16 * 1024)
        fail_msg("the daemon grew from %zu to %zu KiB", before, after);
    assert_alive();
}

// Personalisation data (an applet's key) is stored only sealed while the request needs it, and
// dropped when it ends (the daemon of 9274d6b kept it in clear, for good).
void test_personalisation_sealed_then_dropped(void**) {
    const size_t c = 4;
    assert_true(sim_control(g->control, "fault latency=1000").value("ok", false));
    Json r = post_request({{"msisdn", msisdn(c)}, {"app", "01"}, {"operation", "activate"}});
    const std::string id = std::to_string(r["id"].get<int64_t>());
    assert_true(
        eventually([&] { return api("GET", "/v1/requests/" + id).json()["state"] == "sent"; }));
    assert_string_equal(sql("SELECT (detail ->> '$.perso') IS NULL, length(detail ->> "
                            "'$.perso_sealed') > 0 FROM requests WHERE id = " +
                            id)
                            .c_str(),
                        "1|1");
    Json done = wait_request(r["id"], 20, *g->daemon);
    assert_true(sim_control(g->control, "fault latency=0").value("ok", false));
    assert_string_equal(done["state"].get<std::string>().c_str(), "done");
    assert_string_equal(sql("SELECT count(*) FROM requests WHERE detail ->> '$.perso' IS NOT NULL "
                            "OR detail ->> '$.perso_sealed' IS NOT NULL")
                            .c_str(),
                        "0");
}

// A result the provider never acknowledges is given up after callback-tries, logged and audited
// (the daemon of 9274d6b tried forever).
void test_result_given_up(void**) {
    const size_t c = 5;
    provider_control(g->provider_port, {{"refuse_results", 100}});
    Json done = wait_request(
        post_request({{"msisdn", msisdn(c)}, {"app", "01"}, {"operation", "activate"}})["id"], 20,
        *g->daemon);
    assert_string_equal(done["state"].get<std::string>().c_str(), "done");
    assert_true(eventually([&] {
        const Json audit = api("GET", "/v1/audit?limit=100").json();
        for (const auto& e : audit["entries"])
            if (e["action"] == "provider.result_given_up" &&
                e["detail"].get<std::string>().find(
                    "request " + std::to_string(done["id"].get<int64_t>())) != std::string::npos)
                return true;
        return false;
    }));
    assert_true(g->daemon->log().find("given up after 2 tries") != std::string::npos);
    provider_control(g->provider_port, {{"refuse_results", 0}});
}

// Secrets in files only their owner reads; providers over https unless told otherwise.
void test_secret_files_and_plain_http(void**) {
    const std::string key = g_dir + "/master.key";
    std::ofstream(key) << "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n";
    chmod(key.c_str(), 0644);
    std::string cfg = config_text();
    cfg.replace(cfg.find(" master-key-env OTAGW_MASTER_KEY"),
                std::string(" master-key-env OTAGW_MASTER_KEY").size(), " master-key-file " + key);
    cfg.replace(cfg.find("path ota-gateway.db"), std::string("path ota-gateway.db").size(),
                "path other.db");
    std::ofstream(g_dir + "/open-key.cfg") << cfg;
    auto r = test::run_command(std::string(OTA_GATEWAYD_PATH) + " -c " + g_dir + "/open-key.cfg");
    assert_int_equal(r.status, 1);
    assert_true(r.err.find("master key file " + key +
                           " may be read by group or others (mode 644): chmod 600 it") !=
                std::string::npos);
    std::string http = interop::read_file(OTAGW_SOURCE_DIR "/doc/examples/ota-gateway.cfg");
    http.replace(http.find("url https://"), std::string("url https://").size(), "url http://");
    std::ofstream(g_dir + "/http.cfg") << http;
    r = test::run_command(std::string(OTA_GATEWAYD_PATH) + " -c " + g_dir + "/http.cfg --check");
    assert_int_equal(r.status, 1);
    assert_true(r.err.find("provider campus: url http://127.0.0.1:8443/ota is not https://") !=
                std::string::npos);
}

// A database with damaged pages: the daemon refuses to start and says how to recover (the
// daemon of 9274d6b started, bound, reported health ok and then lost every answer).
void test_damaged_database_refused(void**) {
    const std::string db = g_dir + "/damaged.db";
    auto made = test::run_command(
        "sqlite3 " + db +
        " \"CREATE TABLE filler (x TEXT); WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 "
        "FROM n WHERE i < 2000) INSERT INTO filler SELECT hex(randomblob(100)) FROM n\"");
    assert_int_equal(made.status, 0);
    std::string bytes = interop::read_file(db);
    assert_true(bytes.size() > 40 * 4096);
    for (size_t i = bytes.size() - 20 * 4096; i < bytes.size() - 10 * 4096; i++)
        bytes[i] = static_cast<char>(i * 31);
    std::ofstream(db, std::ios::binary | std::ios::trunc) << bytes;
    std::string cfg = replace(config_text(), "path ota-gateway.db", "path damaged.db");
    std::ofstream(g_dir + "/damaged.cfg") << cfg;
    auto r = test::run_command("cd " + g_dir + " && " + kMasterKey + " " + OTA_GATEWAYD_PATH +
                               " -c damaged.cfg");
    assert_int_equal(r.status, 1);
    for (const char* said :
         {"database damaged.db: PRAGMA quick_check: ", "refusing to start on a damaged database",
          "sqlite3 damaged.db .recover"})
        if (r.err.find(said) == std::string::npos)
            fail_msg("no \"%s\" in: %s", said, r.err.c_str());
}

// RFC 9110 §11.1: the scheme is case-insensitive.
// Slowloris: 64 sockets trickle request headers, a line a second each, and reconnect (at most
// every 200 ms) when closed; throughout, a valid client's GET /v1/cards answers within 1 s (the
// daemon of 9274d6b gave every slot to the tricklers, each byte resetting their idle timer, and
// answered 503). The tricklers are cut at the head deadline, not kept by their bytes.
void test_slowloris(void**) {
    using Clock = std::chrono::steady_clock;
    std::atomic<bool> stop{false};
    std::atomic<int> reconnects{0};
    std::thread attacker([&] {
        struct Slow {
            int fd = -1;
            Clock::time_point next{}, retry{};
        };
        std::vector<Slow> socks(64);
        auto open_one = [&](Slow& s) {
            s.fd = socket(AF_INET, SOCK_STREAM, 0);
            sockaddr_in a{};
            a.sin_family = AF_INET;
            a.sin_port = htons(g_api);
            a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            if (connect(s.fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
                close(s.fd);
                s.fd = -1;
                return;
            }
            const char* line = "GET /v1/cards HTTP/1.1\r\n";
            (void)send(s.fd, line, strlen(line), MSG_NOSIGNAL);
            s.next = Clock::now() + std::chrono::seconds(1);
        };
        for (Slow& s : socks)
            open_one(s);
        while (!stop) {
            const auto now = Clock::now();
            for (Slow& s : socks) {
                if (s.fd >= 0) {
                    pollfd p{s.fd, POLLIN, 0};
                    char buf[512];
                    if (poll(&p, 1, 0) > 0 && recv(s.fd, buf, sizeof buf, MSG_DONTWAIT) <= 0) {
                        close(s.fd);
                        s.fd = -1;
                        s.retry = now + std::chrono::milliseconds(200);
                    } else if (now >= s.next) {
                        (void)send(s.fd, "X-Slow: 1\r\n", 11, MSG_NOSIGNAL);
                        s.next = now + std::chrono::seconds(1);
                    }
                } else if (now >= s.retry) {
                    open_one(s);
                    reconnects++;
                }
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        for (Slow& s : socks)
            if (s.fd >= 0)
                close(s.fd);
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    double worst = 0;
    int answered = 0;
    std::string failure;
    const auto end = Clock::now() + std::chrono::seconds(13);
    while (Clock::now() < end && failure.empty()) {
        const auto t0 = Clock::now();
        const Answer a = api("GET", "/v1/cards?limit=5");
        const double took = std::chrono::duration<double>(Clock::now() - t0).count();
        worst = std::max(worst, took);
        if (a.status != 200 || took > 1.0)
            failure = "GET /v1/cards: " + std::to_string(a.status) + " after " +
                      std::to_string(took) + " s: " + a.body;
        answered++;
        std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
    stop = true;
    attacker.join();
    if (!failure.empty())
        fail_msg("%s", failure.c_str());
    print_message("slowloris: %d answers, the slowest in %.3f s; %d reconnects\n", answered, worst,
                  reconnects.load());
    assert_true(answered >= 30);
    assert_true(reconnects > 0); // the tricklers were cut (head deadline or evicted)
    assert_alive();
}

// The requests the card `c` made by SMS so far: "operation app_aid reason" each, oldest first.
std::vector<std::string> sms_requests(size_t c) {
    return split_lines(sql("SELECT operation || ' ' || coalesce(app_aid, '-') || ' ' || "
                           "coalesce(reason, '-') FROM requests WHERE actor = 'sms:" +
                           msisdn(c) + "' ORDER BY id"));
}

// Every SMS request of card `c` has finished (a second query while one is in flight would be
// refused as such).
bool sms_settled(size_t c) {
    return sql("SELECT count(*) FROM requests WHERE actor = 'sms:" + msisdn(c) +
               "' AND state IN ('accepted', 'provider', 'approved', 'loading', 'sent', "
               "'reconciling')") == "0";
}

void mo(const std::string& line) {
    const Json sent = sim_control(g->control, line);
    if (!sent.value("ok", false))
        fail_msg("%s: %s", line.c_str(), sent.dump().c_str());
}

// Concatenated MO SMS: a two-part GSM-7 text (153 characters a part, a character per octet in
// SMPP: 159 octets), a two-part UCS-2 text, and a binary request in two parts, with an 8-bit
// then a 16-bit reference, the second part first, one part twice. 9274d6b acknowledged the
// GSM-7 one and dropped it ("159 octets exceed the 140 of one SMS") and read the UCS-2 one's
// first characters as a header.
void test_concatenated_mo(void**) {
    const size_t c = 5;
    const std::string transit = std::string(kTransit);
    mo("mo-text " + msisdn(c) + " 4321 QRY" + std::string(200, ' ') + "02");
    assert_true(eventually([&] { return sms_requests(c).size() == 1 && sms_settled(c); }));
    mo("mo-text " + msisdn(c) + " 4321 查询" + std::string(90, ' ') + "02");
    assert_true(eventually([&] { return sms_requests(c).size() == 2 && sms_settled(c); }));
    // E1 0F 80 01 05 4F 0A <transit AID>: query the transit card, cut after 6 octets.
    const std::string tlv = "e10f8001054f0a" + transit;
    const size_t before = sms_requests(c).size();
    size_t sent = 0;
    for (const std::string& ref : {std::string("0500037f02"), std::string("0608047f0102")}) {
        mo("mo-binary " + msisdn(c) + " 4321 " + ref + "02" + tlv.substr(12) + " udhi");
        mo("mo-binary " + msisdn(c) + " 4321 " + ref + "02" + tlv.substr(12) + " udhi");
        mo("mo-binary " + msisdn(c) + " 4321 " + ref + "01" + tlv.substr(0, 12) + " udhi");
        sent++;
        assert_true(
            eventually([&] { return sms_requests(c).size() == before + sent && sms_settled(c); }));
    }
    const std::vector<std::string> got = sms_requests(c);
    for (const std::string& r : got)
        if (r != "query " + transit + " -")
            fail_msg("a request read as \"%s\"", r.c_str());
    assert_alive();
}

// An MO request and an API call while another process holds the database's write lock for
// 2.5 s (a backup, the sqlite3 shell): the SMSC is answered ESME_RX_T_APPN and delivers again,
// the API caller gets 503 with Retry-After; once the lock goes, the request is stored (9274d6b
// answered ESME_ROK and lost the request, and 500 to the caller).
void test_database_locked(void**) {
    const size_t c = 4;
    const size_t before = sms_requests(c).size();
    sqlite3* other = nullptr;
    assert_int_equal(sqlite3_open((g_dir + "/ota-gateway.db").c_str(), &other), SQLITE_OK);
    sqlite3_busy_timeout(other, 5000);
    assert_int_equal(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
    // cardlets-sim answers once the MO is delivered: from another thread.
    Json sent;
    std::thread handset(
        [&] { sent = sim_control(g->control, "mo-text " + msisdn(c) + " 4321 QRY 02"); });
    const Answer locked =
        api("POST", "/v1/requests", kToken,
            Json{{"msisdn", msisdn(c)}, {"app", "02"}, {"operation", "query"}}.dump());
    std::this_thread::sleep_for(std::chrono::milliseconds(2500));
    const size_t during = sms_requests(c).size(); // read without the write lock
    assert_int_equal(sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(other);
    handset.join();
    if (!sent.value("ok", false))
        fail_msg("mo-text: %s", sent.dump().c_str());
    if (locked.status != 503 || locked.body.find("database busy") == std::string::npos)
        fail_msg("POST /v1/requests while locked: %d %s", locked.status, locked.body.c_str());
    assert_true(locked.headers.count("retry-after") == 1);
    assert_int_equal(during, before);
    assert_true(eventually([&] { return sms_requests(c).size() == before + 1; }, 10));
    assert_string_equal(sms_requests(c).back().c_str(),
                        ("query " + std::string(kTransit) + " -").c_str());
    assert_true(g->daemon->log().find("not stored, the SMSC is asked to deliver it again") !=
                std::string::npos);
    assert_alive();
}

// The VTY asks for a password (9274d6b let anyone on the host in, `enable` with no password,
// and took `api / token` live: any local user could mint an admin token); three wrong ones close
// the session; `enable` asks for its own; no secret is shown on a terminal; tokens and other
// security settings are not changed on a running daemon; and the daemon refuses to start with
// the VTY open without a password, or with a password in clear.
void test_vty_locked(void**) {
    const int fd = connect_loopback(g_vty, 5);
    assert_true(fd >= 0);
    auto read_until = [&](const std::string& end) {
        std::string got;
        char buf[1024];
        ssize_t n = 1;
        while (!got.ends_with(end) && (n = recv(fd, buf, sizeof buf, 0)) > 0)
            got.append(buf, static_cast<size_t>(n));
        return std::make_pair(got, n > 0);
    };
    assert_true(read_until("Password: ").second);
    for (const char* wrong : {"guess\r\n", "example-enable-password\r\n", "admin\r\n"})
        (void)send(fd, wrong, strlen(wrong), MSG_NOSIGNAL);
    const auto [after, open] = read_until("never");
    assert_false(open); // closed after the third
    assert_true(after.find("% Bad passwords, too many failures!") != std::string::npos);
    assert_true(after.find("ota-gatewayd>") == std::string::npos);
    close(fd);
    assert_true(g->daemon->log().find("wrong password from 127.0.0.1 (3 of 3)") !=
                std::string::npos);

    Vty vty; // logs in with the right one
    const auto health = vty.run("show health");
    assert_true(health.size() == 1 && health[0] == "status ok");
    vty.write_line("enable");
    assert_true(vty.read_prompt().ends_with("Password: "));
    vty.write_line("example-vty-password"); // the login password is not the enable one
    assert_true(vty.read_prompt().ends_with("Password: "));
    vty.write_line("example-enable-password");
    assert_true(vty.read_prompt().ends_with("ota-gatewayd# "));
    std::string written;
    for (const auto& l : vty.run("write terminal"))
        written += l + "\n";
    assert_true(written.find("  password <redacted>\n") != std::string::npos);
    assert_true(written.find("password secret") == std::string::npos);
    assert_true(written.find("\npassword 8 $6$otagwvty$") != std::string::npos);
    // A token added at run time does not take: the API refuses it.
    vty.run("configure terminal");
    vty.run("api");
    const std::string mallory_sha256 =
        "2f506800efbddd702d3f168cf28b979b721503c53ec16df5415863e99cf4c497"; // of "mallory-token"
    const auto refused = vty.run("token mallory sha256 " + mallory_sha256);
    assert_true(!refused.empty() &&
                refused[0].find("token: a security setting, read from the config file at start "
                                "only") != std::string::npos);
    vty.run("end");
    assert_int_equal(api("GET", "/v1/health", "mallory-token").status, 401);
    assert_true(g->daemon->log().find("example-vty-password") == std::string::npos);

    // Start-up: without a password (unless `no login` on loopback), or with one in clear.
    const std::string base = config_text();
    const std::string hashes =
        base.substr(base.find("password 8 "), base.find("line vty\n") - base.find("password 8 "));
    const std::string open_vty = replace(base, hashes, "");
    struct Case {
        std::string config, says;
    };
    for (const Case& c :
         {Case{open_vty, "VTY: no password is set: add `password 8 HASH`"},
          Case{replace(replace(open_vty, " login\n", " no login\n"),
                       "bind 127.0.0.1 " + std::to_string(g_vty),
                       "bind 0.0.0.0 " + std::to_string(g_vty)),
               "VTY: line vty binds 0.0.0.0, not a loopback address, and no password is set"},
          Case{replace(base, hashes, "password example\nenable password example\n"),
               "VTY: password given in clear: give its crypt(3) hash instead"},
          Case{replace(base, hashes, "password 8 nothash\n"),
               "VTY: password 8: not a crypt(3) hash"}}) {
        std::ofstream(g_dir + "/vty.cfg") << c.config;
        auto r =
            test::run_command(std::string(OTA_GATEWAYD_PATH) + " -c " + g_dir + "/vty.cfg --check");
        if (r.status != 1 || r.err.find(c.says) == std::string::npos)
            fail_msg("%d %s (wanted: %s)", r.status, r.err.c_str(), c.says.c_str());
    }
    std::ofstream(g_dir + "/vty.cfg") << replace(open_vty, " login\n", " no login\n");
    assert_int_equal(
        test::run_command(std::string(OTA_GATEWAYD_PATH) + " -c " + g_dir + "/vty.cfg --check")
            .status,
        0);
}

// A full disk, played by a file size limit (ulimit -S -f) on a second daemon: an inventory
// import is answered 503 at once (the daemon of 9274d6b logged "inserted", stored nothing and
// left otactl waiting 60 s), /v1/health and the VTY say degraded and why, the failure is
// logged once; with the limit lifted the same import succeeds and health is ok again.
void test_disk_full(void**) {
    auto made = test::run_command("cd " + g_dir + " && " + CARDLETS_SIM_PATH +
                                  " --cards 3000 --seed 9 --export big.csv --smpp-listen "
                                  "127.0.0.1:0 --system-id x --password y --duration 0.3");
    assert_int_equal(made.status, 0);
    const uint16_t api_port = interop::free_port();
    uint16_t vty_port = interop::free_port();
    std::string cfg = config_text();
    cfg = replace(cfg, "listen 127.0.0.1 " + std::to_string(g_api),
                  "listen 127.0.0.1 " + std::to_string(api_port));
    cfg = replace(cfg, "bind 127.0.0.1 " + std::to_string(g_vty),
                  "bind 127.0.0.1 " + std::to_string(vty_port));
    cfg = replace(cfg, "path ota-gateway.db", "path full.db");
    cfg = replace(cfg, "remote-port " + std::to_string(g_smsc),
                  "remote-port " + std::to_string(interop::free_port()));
    std::ofstream(g_dir + "/full.cfg") << cfg;
    interop::Process d(
        "ota-gatewayd-full",
        {"/bin/sh", "-c",
         std::string("ulimit -S -f 1500 && exec ") + OTA_GATEWAYD_PATH + " -c full.cfg"},
        g_dir, {kMasterKey});
    assert_true(d.wait_log("DDAEMON NOTICE started"));
    auto call = [&](const std::string& method, const std::string& target,
                    const std::string& body = "") {
        http::ClientRequest req;
        req.method = method;
        req.target = target;
        req.body = body;
        req.headers.emplace_back("Authorization", std::string("Bearer ") + kToken);
        return fetch(api_port, std::move(req));
    };
    const std::string inventory = interop::read_file(g_dir + "/big.csv");
    const auto t0 = std::chrono::steady_clock::now();
    Answer full = call("POST", "/v1/inventory/import?mode=apply&name=big.csv", inventory);
    const double took =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (full.status != 503 || full.body.find("database cannot store") == std::string::npos ||
        took > 5)
        fail_msg("import on a full disk: %d after %.1f s: %s", full.status, took,
                 full.body.c_str());
    assert_string_equal(full.headers["retry-after"].c_str(), "10");
    Json health = call("GET", "/v1/health").json();
    assert_string_equal(health["status"].get<std::string>().c_str(), "degraded");
    assert_true(health["reason"].get<std::string>().find("database full.db") == 0);
    assert_int_equal(health["cards"].get<int>(), 0);
    std::swap(g_vty, vty_port); // the Vty helper talks to g_vty
    {
        Vty vty;
        const auto lines = vty.run("show health");
        assert_true(!lines.empty() && lines[0] == "status degraded");
    }
    std::swap(g_vty, vty_port); // the Vty helper talks to g_vty
    // A second call while degraded: answered at once, and not logged again.
    assert_int_equal(call("POST", "/v1/inventory/import?mode=apply&name=big.csv", inventory).status,
                     503);
    auto count = [&](const std::string& text) {
        size_t n = 0;
        for (size_t at = 0; (at = d.log().find(text, at)) != std::string::npos; at++)
            n++;
        return n;
    };
    assert_int_equal(count("writes failing, health degraded"), 1);
    assert_int_equal(
        test::run_command("prlimit --pid " + std::to_string(d.pid()) + " --fsize=unlimited").status,
        0);
    Answer ok = call("POST", "/v1/inventory/import?mode=apply&name=big.csv", inventory);
    assert_int_equal(ok.status, 200);
    assert_int_equal(ok.json()["inserted"].get<int>(), 3000);
    health = call("GET", "/v1/health").json();
    assert_string_equal(health["status"].get<std::string>().c_str(), "ok");
    assert_int_equal(health["cards"].get<int>(), 3000);
    assert_int_equal(count("writes succeed again, health ok"), 1);
    d.stop();
}

void test_bearer_in_any_case(void**) {
    for (const char* scheme : {"Bearer ", "bearer ", "BEARER ", "bEaReR   "}) {
        Answer a =
            api("GET", "/v1/health", "", "", {{"Authorization", std::string(scheme) + kToken}});
        if (a.status != 200)
            fail_msg("%s: %d", scheme, a.status);
    }
    assert_int_equal(api("GET", "/v1/health", "", "", {{"Authorization", "Basic xyz"}}).status,
                     401);
    assert_int_equal(api("GET", "/v1/health", "", "", {{"Authorization", "Bearer"}}).status, 401);
    assert_int_equal(
        api("GET", "/v1/health", "", "", {{"Authorization", std::string("Bearerx") + kToken}})
            .status,
        401);
}

void test_clean_stop(void**) {
    g->daemon->stop();
    g->provider->stop();
    g->sim->stop();
    assert_no_sanitizer_report({"ota-gatewayd", "ota-gatewayd-2", "ota-gatewayd-full",
                                "ota-provider-sim", "cardlets-sim"});
}

} // namespace

int main() {
    const CMUnitTest tests[] = {
        cmocka_unit_test(test_text_that_is_not_utf8_is_refused),
        cmocka_unit_test(test_file_named_in_latin1),
        cmocka_unit_test(test_provider_answer_of_the_wrong_type),
        cmocka_unit_test(test_import_stops_at_the_first_bad_line),
        cmocka_unit_test(test_request_by_iccid_checks_the_number),
        cmocka_unit_test(test_huge_provider_answer),
        cmocka_unit_test(test_personalisation_sealed_then_dropped),
        cmocka_unit_test(test_result_given_up),
        cmocka_unit_test(test_secret_files_and_plain_http),
        cmocka_unit_test(test_damaged_database_refused),
        cmocka_unit_test(test_concatenated_mo),
        cmocka_unit_test(test_database_locked),
        cmocka_unit_test(test_vty_locked),
        cmocka_unit_test(test_disk_full),
        cmocka_unit_test(test_bearer_in_any_case),
        cmocka_unit_test(test_slowloris),
        cmocka_unit_test(test_clean_stop),
    };
    return test::run_in_temp_dir("otagw-hostile", g_dir, tests, setup, teardown);
}
