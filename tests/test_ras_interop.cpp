// SPDX-License-Identifier: GPL-2.0-or-later
// The Remote Administration Server against TLS stacks we did not write (GP Amendment B's
// admin dialog, the card played by Debian's `openssl s_client` and `gnutls-cli`): PSK-TLS with
// the key the store finds from the identity, the first POST without a body, a script in the
// 200 answer with X-Admin-Next-URI, the results POSTed back, 204 No Content. tshark decrypts a
// capture of it (tls.psk) and shows the HTTP dialog with no malformed packet. Failures: an
// unknown identity, a wrong key, HTTP that is no admin protocol; the server goes on serving.
#include <unistd.h>

#include <fstream>

#include "bip/ras_server.hpp"
#include "interop/process.hpp"
#include "otagw/db/sqlite_store.hpp"
#include "test_support.hpp"

using namespace otagw;
using namespace otagw::gateway;

namespace {

const char* kMasterHex = "8a1f0c3e5b7d9a2c4e6f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5";
const std::string kIccid = "8988299000000000016";
const std::string kPskHex = "0f1e2d3c4b5a69788796a5b4c3d2e1f0";
// GET DATA '9F7F' (CPLC) in the expanded format, definite length (TS 102 226 §5.2).
const std::string kScriptHex = "aa072205"
                               "80ca9f7f00";
// Its results: one command executed, SW 6A88.
const std::string kResultsHex = "ab07800101"
                                "23026a88";

std::string g_dir;

struct Scripted : bip::RasHandler {
    std::vector<std::string> events;
    std::vector<bip::AdminPost> posts;
    bool closed_ = false;

    bool opened(bip::ConnectionId, const bip::RasCard& card) override {
        events.push_back("opened " + card.iccid + " kvn " + to_hex(ByteView(&card.kvn, 1)));
        return true;
    }
    void posted(bip::ConnectionId, const bip::RasCard&, bip::AdminPost&& post,
                std::function<void(bip::AdminReply)> answer) override {
        events.push_back("post " + post.uri + " " + bip::script_status_name(post.status));
        const bool first = post.status == bip::ScriptStatus::None;
        posts.push_back(std::move(post));
        if (first)
            answer({test::hex(kScriptHex), "/ras/next/1"});
        else
            answer({std::nullopt, ""});
    }
    void closed(bip::ConnectionId, const bip::RasCard&, const std::string& why) override {
        events.push_back("closed " + why);
        closed_ = true;
    }
    void tls_failed(const std::optional<bip::RasCard>& card, const std::string& why) override {
        events.push_back("tls_failed " + (card ? card->iccid : std::string("?")) + " " + why);
        closed_ = true;
    }
};

struct World {
    uv_loop_t loop;
    std::unique_ptr<db::SqliteStore> store;
    RasConfig config;
    Scripted handler;
    std::unique_ptr<bip::RasServer> ras;

    World() {
        uv_loop_init(&loop);
        static db::KeyVault vault = std::move(db::KeyVault::from_hex(kMasterHex, "test").value());
        const std::string path = g_dir + "/ras.db";
        for (const char* suffix : {"", "-wal", "-shm"})
            unlink((path + suffix).c_str());
        auto s = db::SqliteStore::open({path}, vault);
        assert_ok(s);
        store = std::move(*s);
        db::CardImage card;
        card.card.iccid = kIccid;
        card.card.imsi = "001010000000001";
        card.card.msisdn = "999000000001";
        card.keysets.push_back({1, "aes128", test::hex(std::string(32, '1')),
                                test::hex(std::string(32, '2')), test::hex(std::string(32, '3')),
                                0});
        db::PskKeyset k;
        k.identity = Bytes(kIccid.begin(), kIccid.end());
        k.psk = test::hex(kPskHex);
        k.dek_algorithm = "aes128";
        k.dek = test::hex(std::string(32, '4'));
        card.psk_keysets.push_back(k);
        assert_ok(store->put_card(card));
        config.ip = "127.0.0.1";
        config.port = 0;
        config.session_timeout_s = 20;
        config.suites = {0x00ae, 0x008c, 0x008b};
        config.min_version = 0x0301;
        ras = std::make_unique<bip::RasServer>(&loop, *store, config, handler);
        assert_ok(ras->listen());
    }
    ~World() {
        ras.reset();
        store.reset();
        uv_run(&loop, UV_RUN_DEFAULT);
        uv_loop_close(&loop);
    }

    // Runs the loop while `peer` plays the card, until the handler saw the end.
    void run_with(interop::Process& peer, int seconds = 20) {
        for (int i = 0; i < seconds * 100 && !handler.closed_; i++) {
            uv_run(&loop, UV_RUN_NOWAIT);
            usleep(10000);
        }
        for (int i = 0; i < 20; i++) { // the last bytes out
            uv_run(&loop, UV_RUN_NOWAIT);
            usleep(10000);
        }
        (void)peer;
    }
};

// The two POSTs of Amendment B Annex A's dialog, sent back to back (the server answers one at
// a time).
std::string write_requests(const std::string& extra_first = "") {
    const Bytes results = test::hex(kResultsHex);
    std::string r = "POST /ras HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Admin-Protocol: "
                    "globalplatform-remote-admin/1.0\r\nX-Admin-From: " +
                    kIccid + "\r\n" + extra_first + "\r\n";
    r += "POST /ras/next/1 HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Admin-Protocol: "
         "globalplatform-remote-admin/1.0\r\nX-Admin-From: " +
         kIccid +
         "\r\nContent-Type: application/vnd.globalplatform.card-content-mgt-response;version=1.0"
         "\r\nX-Admin-Script-Status: ok\r\nContent-Length: " +
         std::to_string(results.size()) + "\r\n\r\n" + std::string(results.begin(), results.end());
    const std::string path = g_dir + "/requests.bin";
    std::ofstream(path, std::ios::binary) << r;
    return path;
}

std::unique_ptr<interop::Process> openssl_card(uint16_t port, const std::string& requests,
                                               const std::string& psk = kPskHex,
                                               const std::string& identity = kIccid) {
    const std::string cmd = "exec openssl s_client -connect 127.0.0.1:" + std::to_string(port) +
                            " -psk_identity " + identity + " -psk " + psk +
                            " -tls1_2 -cipher PSK-AES128-CBC-SHA256 -maxfraglen 512 -quiet "
                            "-ign_eof < " +
                            requests;
    return std::make_unique<interop::Process>("openssl", std::vector<std::string>{"sh", "-c", cmd},
                                              g_dir);
}

void assert_full_dialog(World& w, const std::string& peer_log) {
    const auto& e = w.handler.events;
    assert_int_equal(e.size(), 4);
    assert_string_equal(e[0].c_str(), ("opened " + kIccid + " kvn 40").c_str());
    assert_string_equal(e[1].c_str(), "post /ras none");
    assert_string_equal(e[2].c_str(), "post /ras/next/1 ok");
    assert_string_equal(e[3].c_str(), "closed ended");
    const bip::AdminPost& results = w.handler.posts.at(1);
    assert_true(results.results.has_value());
    assert_int_equal(*results.results->executed, 1);
    assert_int_equal(results.results->r_apdus.at(0).sw, 0x6a88);
    assert_string_equal(results.agent_id.c_str(), kIccid.c_str());
    // The card saw the script, its next URI and the end.
    assert_true(peer_log.find("HTTP/1.1 200 OK") != std::string::npos);
    assert_true(peer_log.find("X-Admin-Next-URI: /ras/next/1") != std::string::npos);
    const Bytes script = test::hex(kScriptHex);
    assert_true(peer_log.find(std::string(script.begin(), script.end())) != std::string::npos);
    assert_true(peer_log.find("HTTP/1.1 204 No Content") != std::string::npos);
    assert_true(w.ras->counters().get("ras:handshakes") >= 1);
    assert_int_equal(w.ras->counters().get("ras:posts"), 2);
    assert_int_equal(w.ras->sessions(), 0);
}

void test_openssl_plays_the_card(void**) {
    World w;
    const uint16_t port = w.ras->port();
    // tshark watches the exchange, to decrypt it afterwards with the PSK.
    const std::string pcap = g_dir + "/ras.pcap";
    interop::Process tshark(
        "tshark", {"tshark", "-i", "lo", "-f", "tcp port " + std::to_string(port), "-w", pcap},
        g_dir);
    assert_true(tshark.wait_log("Capturing on", 15));
    usleep(300000);
    auto peer = openssl_card(port, write_requests());
    w.run_with(*peer);
    peer->stop();
    usleep(500000);
    tshark.stop(SIGINT);
    assert_full_dialog(w, peer->log());
    // Decrypted: the two POSTs (sent back to back, so maybe in one record) and the two
    // answers, nothing malformed.
    auto fields = [&](const std::string& filter, const std::string& field) {
        const std::string out = g_dir + "/tshark.txt";
        const std::string cmd = "tshark -r " + pcap + " -o tls.psk:" + kPskHex +
                                " -d tcp.port==" + std::to_string(port) + ",tls -Y '" + filter +
                                "' -T fields -e " + field + " > " + out + " 2>/dev/null";
        assert_int_equal(std::system(cmd.c_str()), 0);
        return interop::read_file(out);
    };
    assert_string_equal(fields("http.request", "http.request.uri").c_str(), "/ras,/ras/next/1\n");
    assert_string_equal(fields("http.response", "http.response.code").c_str(), "200\n204\n");
    assert_string_equal(fields("http.response.code == 200", "http.content_type").c_str(),
                        "application/vnd.globalplatform.card-content-mgt;version=1.0\n");
    assert_string_equal(
        fields("_ws.malformed || _ws.expert.severity >= \"Error\"", "frame.number").c_str(), "");
    const std::string id_out = g_dir + "/identity.txt";
    assert_int_equal(std::system(("tshark -r " + pcap + " -d tcp.port==" + std::to_string(port) +
                                  ",tls -Y tls.handshake.type==16 -T fields -e "
                                  "tls.handshake.identity > " +
                                  id_out + " 2>/dev/null")
                                     .c_str()),
                     0);
    const std::string identity = interop::read_file(id_out);
    assert_true(identity.find(to_hex(Bytes(kIccid.begin(), kIccid.end()))) != std::string::npos ||
                identity.find(kIccid) != std::string::npos);
}

void test_gnutls_plays_the_card(void**) {
    // TLS 1.2 AES-128-CBC-SHA256, then 3DES at TLS 1.0 (the only peer here that offers it).
    for (const char* priority :
         {"NORMAL:-VERS-ALL:+VERS-TLS1.2:-KX-ALL:+PSK:-CIPHER-ALL:+AES-128-CBC:-MAC-ALL:+SHA256",
          "NORMAL:-VERS-ALL:+VERS-TLS1.0:-KX-ALL:+PSK:-CIPHER-ALL:+3DES-CBC:-MAC-ALL:+SHA1"}) {
        World w;
        const std::string cmd = "(cat " + write_requests() + "; sleep 30) | exec gnutls-cli " +
                                "--pskusername=" + kIccid + " --pskkey=" + kPskHex +
                                " --priority=" + priority + " --recordsize=512 -p " +
                                std::to_string(w.ras->port()) + " 127.0.0.1";
        interop::Process peer("gnutls", {"sh", "-c", cmd}, g_dir);
        w.run_with(peer);
        peer.stop();
        assert_full_dialog(w, peer.log());
    }
}

void test_failures_close_one_connection(void**) {
    World w;
    const uint16_t port = w.ras->port();
    // An identity no card has: alert unknown_psk_identity, the handler told without a card.
    auto unknown = openssl_card(port, write_requests(), kPskHex, "8988299000000000099");
    w.run_with(*unknown, 10);
    unknown->stop();
    assert_int_equal(w.handler.events.size(), 1);
    assert_true(w.handler.events[0].starts_with("tls_failed ? TLS: SSL - Unknown identity"));
    // The right identity with a wrong key: the card is named, the key is not.
    w.handler.closed_ = false;
    auto wrong = openssl_card(port, write_requests(), "ffeeddccbbaa99887766554433221100");
    w.run_with(*wrong, 10);
    wrong->stop();
    assert_int_equal(w.handler.events.size(), 2);
    assert_true(w.handler.events[1].starts_with("tls_failed " + kIccid + " TLS:"));
    assert_true(w.handler.events[1].find("ffee") == std::string::npos);
    // A POST that is no admin protocol: 400, the connection closed.
    w.handler.closed_ = false;
    const std::string bad = g_dir + "/bad.bin";
    std::ofstream(bad, std::ios::binary) << "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    auto http = openssl_card(port, bad);
    w.run_with(*http, 10);
    http->stop();
    assert_string_equal(w.handler.events.back().c_str(),
                        "closed bad HTTP: method GET: the admin protocol posts (GP Amd B §3.4.1)");
    assert_true(http->log().find("HTTP/1.1 400 Bad Request") != std::string::npos);
    assert_int_equal(w.ras->counters().get("ras:tls_failed"), 2);
    assert_int_equal(w.ras->counters().get("ras:bad_http"), 1);
    // And the server still serves a good card.
    w.handler = Scripted{};
    auto good = openssl_card(port, write_requests());
    w.run_with(*good);
    good->stop();
    assert_full_dialog(w, good->log());
}

} // namespace

int main() {
    interop::require_or_skip({"openssl", "gnutls-cli", "tshark"});
    char tmpl[] = "/tmp/otagw-ras-XXXXXX";
    g_dir = mkdtemp(tmpl);
    const CMUnitTest tests[] = {
        cmocka_unit_test(test_openssl_plays_the_card),
        cmocka_unit_test(test_gnutls_plays_the_card),
        cmocka_unit_test(test_failures_close_one_connection),
    };
    const int failed = cmocka_run_group_tests(tests, nullptr, nullptr);
    if (failed == 0)
        std::system(("rm -rf " + g_dir).c_str());
    else
        std::fprintf(stderr, "logs and captures kept in %s\n", g_dir.c_str());
    return failed;
}
