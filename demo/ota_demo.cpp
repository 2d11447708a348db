// SPDX-License-Identifier: GPL-2.0-or-later
// ota-demo: the README's main job. It starts the three parts as separate processes on
// 127.0.0.1, in a temporary folder:
//   cardlets-sim        simulated SIM cards and handsets behind an SMPP SMSC
//   ota-provider-sim    the canteen wallet's provider (approves, personalises, takes results)
//   ota-gatewayd        the gateway, on its embedded SQLite default (ota-gateway.db)
// imports the simulator's card inventory through the API, and lets a subscriber run the
// canteen wallet's four flows by SMS (activate, suspend, resume, terminate), then one in
// Chinese, one through the API and a refused one; then operations staff lock the transit
// applet on every card with a campaign. After each step it prints the reply the handset got,
// the state the gateway recorded and the state the card itself reports (for the campaign: on
// every card); it exits 1 when they differ.
//
//   ota-demo [--cards N] [--keep]   (--keep: leave the folder with logs and database)
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <string>

#include "otagw/common/crypto.hpp"
#include "otagw/common/log.hpp"
#include "otagw/common/uv.hpp"
#include "otagw/http/http.hpp"

using namespace otagw;
using Json = nlohmann::json;

namespace {

const char* kCanteen = "f04f5441470101010001";
const char* kTransit = "f04f5441470102010001";
const char* kShortCode = "4321";

[[noreturn]] void die(const std::string& why) {
    std::fprintf(stderr, "ota-demo: %s\n", why.c_str());
    std::exit(1);
}

// Runs the loop until `done()` or `timeout_ms`.
bool run_until(uv_loop_t* loop, const std::function<bool()>& done, uint64_t timeout_ms) {
    const uint64_t deadline = uv_now(loop) + timeout_ms;
    uv::Timer tick(loop);
    tick.start(
        5, [] {}, 5); // wakes the loop to look at `done`
    while (!done() && uv_now(loop) < deadline)
        uv_run(loop, UV_RUN_ONCE);
    tick.stop();
    return done();
}

std::string read_file(const std::string& path) {
    std::ifstream in(path);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A child process whose stdout and stderr go to `<dir>/<name>.log`.
struct Child {
    uv_loop_t* loop;
    std::string name, log;
    uv_process_t process{};
    bool exited = false;

    Child(uv_loop_t* l, const std::string& dir, const std::string& n,
          const std::vector<std::string>& args, const std::vector<std::string>& env = {})
        : loop(l), name(n), log(dir + "/" + n + ".log") {
        std::vector<char*> argv;
        for (const auto& a : args)
            argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        std::vector<std::string> environment;
        for (char** e = environ; *e; e++)
            environment.emplace_back(*e);
        environment.insert(environment.end(), env.begin(), env.end());
        std::vector<char*> envp;
        for (auto& e : environment)
            envp.push_back(e.data());
        envp.push_back(nullptr);
        const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        uv_stdio_container_t stdio[3];
        stdio[0].flags = UV_IGNORE;
        stdio[1].flags = stdio[2].flags = UV_INHERIT_FD;
        stdio[1].data.fd = stdio[2].data.fd = fd;
        uv_process_options_t o{};
        o.file = argv[0];
        o.args = argv.data();
        o.env = envp.data();
        o.cwd = dir.c_str();
        o.stdio = stdio;
        o.stdio_count = 3;
        o.exit_cb = [](uv_process_t* p, int64_t, int) {
            static_cast<Child*>(p->data)->exited = true;
        };
        process.data = this;
        const int e = uv_spawn(loop, &process, &o);
        ::close(fd);
        if (e < 0)
            die("cannot start " + args[0] + ": " + uv_strerror(e));
    }
    // Waits for `text` in the log; dies with the log if the process ends or it takes too long.
    std::string wait_for(const std::string& text, uint64_t timeout_ms = 30000) {
        if (!run_until(
                loop, [&] { return exited || read_file(log).find(text) != std::string::npos; },
                timeout_ms) ||
            exited)
            die(name + " did not start:\n" + read_file(log));
        return read_file(log);
    }
    void stop() {
        if (!exited) {
            uv_process_kill(&process, SIGTERM);
            run_until(
                loop, [&] { return exited; }, 10000);
        }
        uv_close(reinterpret_cast<uv_handle_t*>(&process), nullptr);
    }
};

// The JSON object of the first line of `text` that starts with '{'.
Json first_json_line(const std::string& text) {
    for (size_t at = 0; at < text.size();) {
        const size_t end = text.find('\n', at);
        const std::string line = text.substr(at, end - at);
        if (!line.empty() && line[0] == '{')
            return Json::parse(line, nullptr, false);
        if (end == std::string::npos)
            break;
        at = end + 1;
    }
    return Json();
}

uint16_t port_of(const std::string& address) {
    return static_cast<uint16_t>(std::stoi(address.substr(address.rfind(':') + 1)));
}

uint16_t free_port() {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0)
        die("no free port on 127.0.0.1");
    ::close(fd);
    return ntohs(a.sin_port);
}

// One request on the simulator's control port: what the card and the handset say.
Json control(uv_loop_t* loop, uint16_t port, const std::string& request) {
    uv::TcpStream s(loop);
    std::string answer;
    bool done = false;
    s.connect("127.0.0.1", port, [&](int st) {
        if (st < 0) {
            done = true;
            return;
        }
        s.start(
            [&](ByteView d) { answer.append(reinterpret_cast<const char*>(d.data()), d.size()); },
            [&](int) { done = true; });
        const std::string line = request + "\n";
        s.write(ByteView(reinterpret_cast<const uint8_t*>(line.data()), line.size()));
    });
    run_until(
        loop, [&] { return done || answer.find('\n') != std::string::npos; }, 5000);
    s.close();
    if (answer.find('\n') == std::string::npos)
        die("no answer from the simulator's control port");
    return Json::parse(answer.substr(0, answer.find('\n')));
}

// One HTTP call; the answer's status and JSON body.
std::pair<int, Json> call(uv_loop_t* loop, uint16_t port, const std::string& method,
                          const std::string& target, const std::string& body = "",
                          const std::string& token = "") {
    http::ClientRequest req;
    req.method = method;
    req.target = target;
    req.body = body;
    if (!token.empty())
        req.headers.emplace_back("Authorization", "Bearer " + token);
    std::optional<Result<http::ClientResponse>> got;
    http::fetch(loop, "127.0.0.1", port, req, 30000,
                [&](Result<http::ClientResponse> r) { got.emplace(std::move(r)); });
    run_until(
        loop, [&] { return got.has_value(); }, 31000);
    if (!got || !*got)
        die(target + ": " + (got ? got->error().message : std::string("no answer")));
    return {(*got)->status, Json::parse((*got)->body, nullptr, false)};
}

struct Demo {
    uv_loop_t* loop;
    uint16_t control_port = 0, api_port = 0, provider_port = 0;
    std::string token;

    std::string card_says(const std::string& msisdn) {
        Json c = control(loop, control_port, "card " + msisdn);
        for (const auto& a : c["apps"])
            if (a["aid"] == kCanteen)
                return a["state"];
        return "absent";
    }
    std::string gateway_says(const std::string& iccid) {
        auto [status, c] = call(loop, api_port, "GET", "/v1/cards/" + iccid, "", token);
        if (status != 200)
            die("GET /v1/cards/" + iccid + ": " + c.dump());
        for (const auto& a : c["apps"])
            if (a["aid"] == kCanteen)
                return a["state"];
        return "absent";
    }
    size_t inbox_size(const std::string& msisdn) {
        return control(loop, control_port, "inbox " + msisdn)["messages"].size();
    }
    // Prints both sides' word on the wallet; they must agree.
    void states(const std::string& msisdn, const std::string& iccid) {
        const std::string gw = gateway_says(iccid), card = card_says(msisdn);
        std::printf("     canteen wallet: gateway says %s, the card says %s\n", gw.c_str(),
                    card.c_str());
        const bool agree = (card == "installed" && gw == "installed") ||
                           (card == "selectable" && gw == "active") ||
                           (card == "locked" && gw == "suspended") ||
                           (card == "absent" && (gw == "terminated" || gw == "absent"));
        if (!agree)
            die("the gateway and the card disagree");
    }
    // The subscriber sends `text` to the short code; the reply is printed when it arrives.
    void sms(const std::string& msisdn, const std::string& iccid, const std::string& text) {
        const size_t before = inbox_size(msisdn);
        std::printf("  %s -> %s: \"%s\"\n", msisdn.c_str(), kShortCode, text.c_str());
        Json sent =
            control(loop, control_port, "mo-text " + msisdn + " " + kShortCode + " " + text);
        if (!sent.value("ok", false))
            die("the handset could not send: " + sent.dump());
        if (!run_until(
                loop, [&] { return inbox_size(msisdn) > before; }, 30000))
            die("no reply SMS within 30 s");
        Json box = control(loop, control_port, "inbox " + msisdn);
        std::printf("  %s -> %s: \"%s\"\n", kShortCode, msisdn.c_str(),
                    box["messages"].back()["text"].get<std::string>().c_str());
        states(msisdn, iccid);
    }
};

void demo(uv_loop_t* loop, size_t cards, bool keep, const std::string& dir) {
    std::printf("ota-gateway demo: requests and a campaign on simulated SIM cards\n\n");
    // A fresh master key and provider secret per run (the key goes to the daemon by its
    // environment, the secret into a file only the two parties read).
    std::random_device rd;
    Bytes random(48);
    for (uint8_t& b : random)
        b = static_cast<uint8_t>(rd());
    const std::string key = to_hex(ByteView(random).first(32));
    const std::string secret = to_hex(ByteView(random).subspan(32));
    std::ofstream(dir + "/campus.secret") << secret << "\n";
    chmod((dir + "/campus.secret").c_str(), 0600); // a secret only its owner reads

    Child sim(loop, dir, "cardlets-sim",
              {CARDLETS_SIM_PATH, "--smpp-listen", "127.0.0.1:0", "--control", "127.0.0.1:0",
               "--system-id", "otagw", "--password", "demosmpp", "--cards", std::to_string(cards),
               "--seed", "2026", "--export", "inventory.csv", "--duration", "600"});
    const Json ready = first_json_line(sim.wait_for("\"event\":\"ready\""));
    Demo d{loop, port_of(ready["control"]), 0, 0, "demo-ops-token"};
    std::printf("1. cardlets-sim: %zu cards behind an SMPP SMSC on %s; inventory exported\n",
                ready["cards"].get<size_t>(), ready["smpp"].get<std::string>().c_str());

    Child provider(loop, dir, "ota-provider-sim",
                   {PROVIDER_SIM_PATH, "--secret-file", "campus.secret", "--duration", "600"});
    d.provider_port = port_of(first_json_line(provider.wait_for("\"listen\""))["listen"]);
    std::printf("2. ota-provider-sim: the canteen's provider on 127.0.0.1:%u (HMAC-signed JSON)\n",
                d.provider_port);
    // Chosen once the provider listens: a port picked before might be the one it then took.
    d.api_port = free_port();

    // The gateway's config: the example's catalog and keywords, this run's ports.
    const auto hash =
        crypto::sha256(ByteView(reinterpret_cast<const uint8_t*>(d.token.data()), d.token.size()));
    const std::string digest = to_hex(ByteView(hash.data(), hash.size()));
    std::ofstream(dir + "/ota-gateway.cfg")
        << "log stderr\n logging filter all 1\n logging print category 1\n logging print level "
           "1\n logging level all notice\n"
        << "line vty\n no login\n bind 127.0.0.1 " << free_port() << "\n"
        << "smpp\n bind smsc\n  remote-ip 127.0.0.1\n  remote-port " << port_of(ready["smpp"])
        << "\n  mode transceiver\n  system-id otagw\n  password demosmpp\n  window 32\n"
        << "db\n path ota-gateway.db\n synchronous full\n master-key-env OTAGW_MASTER_KEY\n"
        << "api\n listen 127.0.0.1 " << d.api_port << "\n token ops sha256 " << digest << "\n"
        << "ota\n spi 1639\n por-mode sms-submit\n kvn 1\n por-timeout 10\n"
        << "requests\n short-code " << kShortCode << "\n"
        << "application canteen\n aid " << kCanteen
        << "\n code 01\n type campus-wallet\n load-file f04f5441470101\n module "
           "f04f544147010101\n tar c00001\n msl 12\n provider campus\n"
        << "application transit\n aid f04f5441470102010001\n code 02\n type transit\n load-file "
           "f04f5441470102\n module f04f544147010201\n tar c00002\n msl 12\n"
        << "provider campus\n url http://127.0.0.1:" << d.provider_port
        << "\n insecure-http\n secret-file campus.secret\n timeout 5000\n retries 2\n";
    Child gateway(loop, dir, "ota-gatewayd", {OTA_GATEWAYD_PATH, "-c", "ota-gateway.cfg"},
                  {"OTAGW_MASTER_KEY=" + key});
    gateway.wait_for("bind smsc up");
    std::printf("3. ota-gatewayd: API on 127.0.0.1:%u, database %s/ota-gateway.db (SQLite), "
                "bound to the SMSC\n",
                d.api_port, dir.c_str());
    auto [status, report] =
        call(loop, d.api_port, "POST", "/v1/inventory/import?mode=apply&name=inventory.csv",
             read_file(dir + "/inventory.csv"), d.token);
    if (status != 200)
        die("inventory import: " + report.dump());
    std::printf("   inventory imported through the API: %d cards inserted (keys sealed, never "
                "shown)\n\n",
                report["inserted"].get<int>());

    // The subscriber: the first card of the inventory.
    std::vector<std::pair<std::string, std::string>> subs; // msisdn, iccid
    std::ifstream inv(dir + "/inventory.csv");
    for (std::string line; std::getline(inv, line) && subs.size() < 2;)
        if (!line.empty() && std::isdigit(static_cast<unsigned char>(line[0]))) {
            const size_t a = line.find(','), b = line.find(',', a + 1), c = line.find(',', b + 1);
            subs.emplace_back(line.substr(b + 1, c - b - 1), line.substr(0, a));
        }
    const auto& [msisdn, iccid] = subs.at(0);
    std::printf("4. subscriber %s (ICCID %s) manages the canteen wallet by SMS to %s\n",
                msisdn.c_str(), iccid.c_str(), kShortCode);
    d.states(msisdn, iccid);
    for (const char* text : {"ACT 01", "SUS 01", "RES 01", "END 01"})
        d.sms(msisdn, iccid, text);
    std::printf("\n5. an operation the state does not allow is refused, and nothing is sent:\n");
    d.sms(msisdn, iccid, "SUS 01");

    const auto& [msisdn2, iccid2] = subs.at(1);
    std::printf("\n6. subscriber %s writes in Chinese:\n", msisdn2.c_str());
    d.sms(msisdn2, iccid2, "开通 01");

    std::printf("\n7. operations staff suspend it through the API (POST /v1/requests):\n");
    auto [st, req] =
        call(loop, d.api_port, "POST", "/v1/requests",
             Json{{"msisdn", msisdn2}, {"app", "01"}, {"operation", "suspend"}}.dump(), d.token);
    if (st != 202)
        die("POST /v1/requests: " + req.dump());
    const std::string target = "/v1/requests/" + std::to_string(req["id"].get<int64_t>());
    run_until(
        loop,
        [&] {
            req = call(loop, d.api_port, "GET", target, "", d.token).second;
            return req["state"] == "done" || req["state"] == "failed" || req["state"] == "refused";
        },
        30000);
    std::printf("  request %lld: %s\n", static_cast<long long>(req["id"].get<int64_t>()),
                req["state"].get<std::string>().c_str());
    d.states(msisdn2, iccid2);

    // A campaign: the transit applet locked on every card, paced, followed, checked card by
    // card on both sides.
    std::printf("\n8. operations staff lock the transit applet on every card with a campaign "
                "(POST /v1/campaigns, what otactl campaign create calls):\n");
    auto [cst, camp] = call(loop, d.api_port, "POST",
                            "/v1/campaigns?name=lock-transit&op=lock&aid=" + std::string(kTransit) +
                                "&filter=app%3D02%2Cstate%3Dactive&rate=500",
                            "", d.token);
    if (cst != 201)
        die("POST /v1/campaigns: " + camp.dump());
    std::printf("  campaign %lld %s: %s on %llu cards (%s), at most 500 a second\n",
                static_cast<long long>(camp["id"].get<int64_t>()),
                camp["name"].get<std::string>().c_str(),
                camp["operation"].get<std::string>().c_str(),
                static_cast<unsigned long long>(camp["counts"]["total"].get<uint64_t>()),
                camp["selection"].get<std::string>().c_str());
    call(loop, d.api_port, "POST", "/v1/campaigns/lock-transit/start", "", d.token);
    Json progress;
    uint64_t shown_at = 0;
    run_until(
        loop,
        [&] {
            progress =
                call(loop, d.api_port, "GET", "/v1/campaigns/lock-transit", "", d.token).second;
            const bool over = progress["state"] == "finished";
            if (uv_now(loop) >= shown_at + 1000 && !over) { // a line a second
                shown_at = uv_now(loop);
                std::printf(
                    "  %s: %llu/%llu done, %.0f/s\n", progress["state"].get<std::string>().c_str(),
                    static_cast<unsigned long long>(progress["done"].get<uint64_t>()),
                    static_cast<unsigned long long>(progress["counts"]["total"].get<uint64_t>()),
                    progress["rate"].get<double>());
            }
            return over;
        },
        120000);
    if (progress["state"] != "finished")
        die("the campaign did not finish within 2 minutes");
    std::printf("  campaign lock-transit: finished, %llu succeeded, %llu failed, %llu skipped\n",
                static_cast<unsigned long long>(progress["counts"]["succeeded"].get<uint64_t>()),
                static_cast<unsigned long long>(progress["counts"]["failed"].get<uint64_t>()),
                static_cast<unsigned long long>(progress["counts"]["skipped"].get<uint64_t>()));
    {
        // Both sides, every card: the gateway's listing and the cards' own registries.
        size_t suspended = 0;
        for (Json page, after = 0;; after = page["next_after"]) {
            page = call(loop, d.api_port, "GET",
                        "/v1/cards?limit=10000&app=" + std::string(kTransit) +
                            "&state=suspended&after=" + after.dump(),
                        "", d.token)
                       .second;
            suspended += page["cards"].size();
            if (page["next_after"].is_null())
                break;
        }
        control(loop, d.control_port, "export " + dir + "/after-campaign.csv");
        size_t locked = 0;
        std::ifstream after(dir + "/after-campaign.csv");
        for (std::string line; std::getline(after, line);) {
            const size_t at = line.find(std::string(kTransit) + ":");
            if (at != std::string::npos && !line.empty() &&
                std::isdigit(static_cast<unsigned char>(line[0])) &&
                (std::stoi(line.substr(at + std::strlen(kTransit) + 1, 2), nullptr, 16) & 0x80))
                locked++;
        }
        std::printf("     transit applet: the gateway says %zu cards suspended, the cards say %zu "
                    "locked\n",
                    suspended, locked);
        if (suspended != cards || locked != cards)
            die("the gateway and the cards disagree after the campaign");
    }

    Json calls = call(loop, d.provider_port, "GET", "/calls").second;
    std::printf("\n9. the provider approved %zu requests (with personalisation data for "
                "activate) and acknowledged %zu results\n",
                calls["authorize"].size(), calls["results"].size());
    auto [ast, audit] = call(loop, d.api_port, "GET", "/v1/audit?limit=8", "", d.token);
    std::printf("   the last audit entries:\n");
    for (const auto& e : audit["entries"])
        std::printf("   %-16s %-16s %s\n", e["actor"].get<std::string>().c_str(),
                    e["action"].get<std::string>().c_str(),
                    e["detail"].get<std::string>().substr(0, 60).c_str());
    (void)ast;

    gateway.stop();
    provider.stop();
    sim.stop();
    std::printf("\n10. stopped the gateway, the provider and the simulator\n");
    if (keep)
        std::printf("   logs, inventory and database kept in %s\n", dir.c_str());
    else
        std::filesystem::remove_all(dir);
}

} // namespace

int main(int argc, char** argv) {
    // A peer that goes away mid-write must be an error on that connection (EPIPE), not the
    // end of the process.
    std::signal(SIGPIPE, SIG_IGN);
    size_t cards = 200;
    bool keep = false;
    for (int i = 1; i < argc; i++) {
        if (!std::strcmp(argv[i], "--keep"))
            keep = true;
        else if (!std::strcmp(argv[i], "--cards") && i + 1 < argc)
            cards = std::strtoul(argv[++i], nullptr, 10);
        else
            die(std::string("unknown argument ") + argv[i] + " (--cards N, --keep)");
    }
    if (cards < 2 || cards > 100000)
        die("--cards: 2..100000");
    log::set_sink({});
    char dir_template[] = "/tmp/ota-demo-XXXXXX";
    if (!mkdtemp(dir_template))
        die("cannot make a temporary folder");
    const std::string dir = dir_template;
    uv_loop_t loop;
    uv_loop_init(&loop);
    demo(&loop, cards, keep, dir);
    for (int i = 0; i < 10 && uv_run(&loop, UV_RUN_NOWAIT); i++) {
    }
    uv_loop_close(&loop);
    return 0;
}
