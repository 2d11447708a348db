// SPDX-License-Identifier: GPL-2.0-or-later
// What the process tests of ota-gatewayd share: the example config with this run's ports, the
// daemon and cardlets-sim as processes, otactl and the API as a client sees them.
#pragma once

#include <arpa/inet.h>
#include <map>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "interop/process.hpp"
#include "otagw/common/uv.hpp"
#include "otagw/http/http.hpp"
#include "test_support.hpp"

namespace harness {

using namespace otagw;
using Json = test::Json;

inline std::string g_dir;
inline uint16_t g_api = 0, g_vty = 0, g_smsc = 0;
// Further (from, to) edits of the example config, for a test's own settings.
inline std::vector<std::pair<std::string, std::string>> g_config_edits;
inline const char* kToken = "example-ops-token"; // its SHA-256 is in the example config
// The example catalog's applications: the canteen wallet (with a provider) and the transit card.
inline const char* kCanteen = "f04f5441470101010001";
inline const char* kTransit = "f04f5441470102010001";
inline const char* kMasterKey =
    "OTAGW_MASTER_KEY=00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

inline std::string replace(std::string s, const std::string& from, const std::string& to) {
    const size_t at = s.find(from);
    if (at == std::string::npos) {
        print_error("example config lacks \"%s\"\n", from.c_str());
        fail();
    }
    return s.replace(at, from.size(), to);
}

// The example config with this test's ports.
inline std::string config_text() {
    std::string c = interop::read_file(OTAGW_SOURCE_DIR "/doc/examples/ota-gateway.cfg");
    c = replace(c, "bind 127.0.0.1 4270", "bind 127.0.0.1 " + std::to_string(g_vty));
    c = replace(c, "listen 127.0.0.1 8080", "listen 127.0.0.1 " + std::to_string(g_api));
    c = replace(c, "remote-port 2775", "remote-port " + std::to_string(g_smsc));
    for (const auto& [from, to] : g_config_edits)
        c = replace(c, from, to);
    return c;
}

inline std::unique_ptr<interop::Process> start_daemon(const std::string& name) {
    std::ofstream(g_dir + "/ota-gateway.cfg") << config_text();
    auto d = std::make_unique<interop::Process>(
        name, std::vector<std::string>{OTA_GATEWAYD_PATH, "-c", "ota-gateway.cfg"}, g_dir,
        std::vector<std::string>{kMasterKey});
    if (!d->wait_log("DDAEMON NOTICE started")) {
        print_error("daemon did not start:\n%s\n", d->log().c_str());
        fail();
    }
    return d;
}

// cardlets-sim with `cards` cards of seed 5, or with the cards of the inventory file `from`.
inline std::unique_ptr<interop::Process> start_simulator(int cards, const std::string& export_file,
                                                         const std::string& from = "") {
    std::vector<std::string> args{
        CARDLETS_SIM_PATH, "--smpp-listen", "127.0.0.1:" + std::to_string(g_smsc),
        "--system-id",     "otagw",         "--password",
        "secret",          "--export",      export_file,
        "--duration",      "300",           "--control",
        "127.0.0.1:0"};
    for (const std::string& a :
         from.empty() ? std::vector<std::string>{"--cards", std::to_string(cards), "--seed", "5"}
                      : std::vector<std::string>{"--inventory", from})
        args.push_back(a);
    auto s = std::make_unique<interop::Process>("cardlets-sim", std::move(args), g_dir);
    assert_true(s->wait_log("\"event\":\"ready\"", 60));
    return s;
}

#ifdef PROVIDER_SIM_PATH
// ota-provider-sim with the campus provider's secret; its port comes back in `port`, and the
// config edit that points the example's provider at it is added to g_config_edits.
inline std::unique_ptr<interop::Process> start_provider(uint16_t& port) {
    std::ofstream(g_dir + "/campus.secret") << "campus-shared-secret\n";
    chmod((g_dir + "/campus.secret").c_str(), 0600); // a secret only its owner reads
    auto p = std::make_unique<interop::Process>(
        "ota-provider-sim",
        std::vector<std::string>{PROVIDER_SIM_PATH, "--secret-file", "campus.secret", "--duration",
                                 "300"},
        g_dir);
    if (!p->wait_log("\"listen\"")) {
        print_error("ota-provider-sim did not start:\n%s\n", p->log().c_str());
        fail();
    }
    const std::string log = p->log();
    port = static_cast<uint16_t>(
        std::stoi(log.substr(log.find("127.0.0.1:") + std::string("127.0.0.1:").size())));
    g_config_edits.push_back({"url https://127.0.0.1:8443/ota",
                              "url http://127.0.0.1:" + std::to_string(port) + "\n insecure-http"});
    return p;
}
#endif

inline test::CommandRun otactl(const std::string& args) {
    return test::run_command("cd " + g_dir +
                             " && OTAGW_API=http://127.0.0.1:" + std::to_string(g_api) +
                             " OTAGW_API_TOKEN=" + kToken + " " + OTACTL_PATH + " " + args);
}

struct Answer {
    int status = 0;
    std::string body;
    std::map<std::string, std::string> headers; // names in lower case
    Json json() const { return Json::parse(body, nullptr, false); }
};

// One HTTP exchange with a server on 127.0.0.1 (a blocking helper: test code only).
inline Answer fetch(uint16_t port, http::ClientRequest req) {
    uv_loop_t loop;
    uv_loop_init(&loop);
    Answer a;
    http::fetch(&loop, "127.0.0.1", port, req, 10000, [&](Result<http::ClientResponse> r) {
        assert_ok(r);
        a.status = r->status;
        a.body = r->body;
        for (const auto& [k, v] : r->headers)
            a.headers[k] = v;
    });
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    return a;
}

// A call to the daemon's API.
inline Answer api(const std::string& method, const std::string& target,
                  const std::string& token = kToken, const std::string& body = "",
                  std::vector<std::pair<std::string, std::string>> headers = {}) {
    http::ClientRequest req;
    req.method = method;
    req.target = target;
    req.body = body;
    req.headers = std::move(headers);
    if (!token.empty())
        req.headers.emplace_back("Authorization", "Bearer " + token);
    return fetch(g_api, std::move(req));
}

// A query on the daemon's database with the sqlite3 shell (WAL: read while it runs).
inline std::string sql(const std::string& query) {
    auto r = test::run_command("sqlite3 " + g_dir + "/ota-gateway.db \"" + query + "\"");
    if (r.status != 0)
        fail_msg("sqlite3: %s", r.err.c_str());
    while (!r.out.empty() && r.out.back() == '\n')
        r.out.pop_back();
    return r.out;
}

// The simulator's control port, from its ready line.
inline uint16_t control_port(interop::Process& sim) {
    const std::string log = sim.log();
    const std::string key = "\"control\":\"127.0.0.1:";
    const size_t at = log.find(key);
    if (at == std::string::npos)
        return 0;
    return static_cast<uint16_t>(std::stoi(log.substr(at + key.size())));
}

// A blocking TCP connection to 127.0.0.1:port whose reads give up after `timeout_s`; -1 when
// it could not connect.
inline int connect_loopback(uint16_t port, int timeout_s) {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    timeval tv{timeout_s, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

// One request on the simulator's control port (blocking: test code only); its JSON answer.
inline Json sim_control(uint16_t port, const std::string& line) {
    const int fd = connect_loopback(port, 10);
    std::string answer;
    if (fd >= 0) {
        const std::string out = line + "\n";
        if (write(fd, out.data(), out.size()) == static_cast<ssize_t>(out.size())) {
            char buf[4096];
            ssize_t n;
            while (answer.find('\n') == std::string::npos && (n = read(fd, buf, sizeof buf)) > 0)
                answer.append(buf, static_cast<size_t>(n));
        }
        close(fd);
    }
    return Json::parse(answer.substr(0, answer.find('\n')), nullptr, false);
}

// Polls `check` every 50 ms for up to `seconds`.
template <typename F>
bool eventually(F check, double seconds = 20) {
    const auto end = std::chrono::steady_clock::now() +
                     std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
    while (std::chrono::steady_clock::now() < end) {
        if (check())
            return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return check();
}

// A request to the daemon's API (POST /v1/requests), its answer with "http_status" added.
inline Json post_request(const Json& body, const std::string& key = "") {
    std::vector<std::pair<std::string, std::string>> headers;
    if (!key.empty())
        headers.emplace_back("Idempotency-Key", key);
    const Answer a = api("POST", "/v1/requests", kToken, body.dump(), std::move(headers));
    Json out = a.json();
    out["http_status"] = a.status;
    return out;
}

// The request once finished (done, refused or failed); fails with the daemon's log if it does
// not finish within `seconds`.
inline Json wait_request(int64_t id, double seconds, const interop::Process& daemon) {
    Json r;
    const bool ok = eventually(
        [&] {
            r = api("GET", "/v1/requests/" + std::to_string(id)).json();
            const std::string s = r.value("state", "");
            return s == "done" || s == "refused" || s == "failed";
        },
        seconds);
    if (!ok)
        fail_msg("request %lld did not finish: %s\n%s", static_cast<long long>(id),
                 r.dump().c_str(), daemon.log().c_str());
    return r;
}

// The card's own word on an application: "installed", "selectable", "locked" or "absent".
inline std::string sim_app_state(uint16_t control, const std::string& msisdn, const char* aid) {
    const Json c = sim_control(control, "card " + msisdn);
    for (const auto& a : c["apps"])
        if (a["aid"] == aid)
            return a["state"];
    return "absent";
}

// The gateway's word on it.
inline std::string gateway_app_state(const std::string& iccid, const char* aid) {
    Answer a = api("GET", "/v1/cards/" + iccid);
    assert_int_equal(a.status, 200);
    const Json view = a.json(); // a range-for over a temporary's member would dangle
    for (const auto& app : view["apps"])
        if (app["aid"] == aid)
            return app["state"];
    return "absent";
}

// The provider simulator's record of calls, and its behaviour (doc/provider-api.md).
inline Json provider_calls(uint16_t port) {
    return fetch(port, {"GET", "/calls", {}, {}, {}}).json();
}

inline void provider_control(uint16_t port, const Json& body) {
    assert_int_equal(fetch(port, {"POST", "/control", {}, body.dump(), {}}).status, 200);
}

// The logs of the processes `names` (in g_dir) hold no sanitizer finding: the ASan + UBSan
// tree runs these same tests.
inline void assert_no_sanitizer_report(std::initializer_list<const char*> names) {
    for (const char* name : names) {
        const std::string log = interop::read_file(g_dir + "/" + name + ".log");
        if (log.find("Sanitizer") != std::string::npos ||
            log.find("runtime error") != std::string::npos)
            fail_msg("%s reported:\n%s", name, log.c_str());
    }
}

// A telnet session with the VTY: IAC negotiation stripped, answers read up to the prompt.
class Vty {
public:
    // Logs in with the example config's password (and gives its enable password on `enable`).
    Vty() {
        fd_ = connect_loopback(g_vty, 5);
        assert_true(fd_ >= 0);
        if (read_prompt().ends_with("Password: ")) {
            write_line(kVtyPassword);
            read_prompt();
        }
    }
    ~Vty() { close(fd_); }
    static constexpr const char* kVtyPassword = "example-vty-password";
    static constexpr const char* kEnablePassword = "example-enable-password";
    // The command's output lines (without the echo and the prompt).
    std::vector<std::string> run(const std::string& command) {
        write_line(command);
        std::string text = read_prompt();
        if (text.ends_with("Password: ")) { // enable
            write_line(kEnablePassword);
            text = read_prompt();
        }
        std::vector<std::string> out;
        std::stringstream ss(text);
        std::string l;
        while (std::getline(ss, l)) {
            if (!l.empty() && l.back() == '\r')
                l.pop_back();
            out.push_back(l);
        }
        // First line: the echoed command; last: the prompt.
        if (!out.empty() && out.front().find(command) != std::string::npos)
            out.erase(out.begin());
        if (!out.empty())
            out.pop_back();
        while (!out.empty() && out.front().empty())
            out.erase(out.begin());
        return out;
    }
    void write_line(const std::string& text) {
        const std::string line = text + "\n";
        assert_int_equal(send(fd_, line.data(), line.size(), 0), static_cast<ssize_t>(line.size()));
    }
    // Everything up to the next prompt: "ota-gatewayd> ", "ota-gatewayd# ",
    // "ota-gatewayd(config-requests)# " or "Password: ".
    std::string read_prompt() {
        std::string got;
        char buf[4096];
        auto at_prompt = [&] {
            if (got.ends_with("Password: "))
                return true;
            const size_t name = got.rfind("ota-gatewayd");
            return name != std::string::npos && (got.ends_with("> ") || got.ends_with("# ")) &&
                   got.find('\n', name) == std::string::npos;
        };
        while (!at_prompt()) {
            const ssize_t n = recv(fd_, buf, sizeof buf, 0);
            if (n <= 0) {
                print_error("VTY: no prompt; got: %s\n", got.c_str());
                fail();
            }
            for (ssize_t i = 0; i < n; i++) {
                if (static_cast<unsigned char>(buf[i]) == 0xff) { // IAC cmd opt
                    i += 2;
                    continue;
                }
                got.push_back(buf[i]);
            }
        }
        return got;
    }

private:
    int fd_ = -1;
};

// The lines of a text, without their line ends; no empty ones.
inline std::vector<std::string> split_lines(const std::string& text) {
    std::vector<std::string> lines;
    std::stringstream ss(text);
    std::string line;
    while (std::getline(ss, line))
        if (!line.empty())
            lines.push_back(line);
    return lines;
}

// The inventory file's card lines, split at commas (iccid, imsi, msisdn, keysets, ...).
inline std::vector<std::vector<std::string>> inventory_cards(const std::string& path) {
    std::vector<std::vector<std::string>> cards;
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || !std::isdigit(static_cast<unsigned char>(line[0])))
            continue;
        std::vector<std::string> fields;
        std::stringstream ss(line);
        std::string f;
        while (std::getline(ss, f, ','))
            fields.push_back(f);
        cards.push_back(std::move(fields));
    }
    return cards;
}

} // namespace harness
