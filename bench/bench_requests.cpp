// SPDX-License-Identifier: GPL-2.0-or-later
// Load for the request pipeline (bench/bench_requests.sh starts the daemon and the simulator):
// POST /v1/requests at a fixed rate, one request per MSISDN read from the inventory file, each
// asking to suspend the transit applet (no provider on its path). When all are answered, waits
// until the daemon has handed every one to the ESME and prints the API answer time and the
// daemon's own intake -> submit_sm figures (p50, p99, max) from /v1/metrics.
//   bench_requests API_PORT TOKEN INVENTORY RATE SECONDS
#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "otagw/common/uv.hpp"
#include "otagw/http/http.hpp"

using namespace otagw;

namespace {

std::map<std::string, double> metrics(uv_loop_t* loop, uint16_t port, const std::string& token) {
    http::ClientRequest req;
    req.target = "/v1/metrics";
    req.headers.emplace_back("Authorization", "Bearer " + token);
    std::map<std::string, double> out;
    bool done = false;
    http::fetch(loop, "127.0.0.1", port, req, 10000, [&](Result<http::ClientResponse> r) {
        done = true;
        if (!r)
            return;
        std::stringstream ss(r->body);
        std::string name;
        double value;
        while (ss >> name >> value)
            out[name] = value;
    });
    while (!done)
        uv_run(loop, UV_RUN_ONCE);
    return out;
}

} // namespace

int main(int argc, char** argv) {
    std::signal(SIGPIPE, SIG_IGN);
    if (argc != 6) {
        std::fprintf(stderr, "usage: bench_requests API_PORT TOKEN INVENTORY RATE SECONDS\n");
        return 2;
    }
    const auto port = static_cast<uint16_t>(std::stoi(argv[1]));
    const std::string token = argv[2];
    const double rate = std::stod(argv[4]), seconds = std::stod(argv[5]);
    std::vector<std::string> msisdns;
    std::ifstream in(argv[3]);
    for (std::string line; std::getline(in, line);)
        if (!line.empty() && std::isdigit(static_cast<unsigned char>(line[0]))) {
            std::stringstream f(line);
            std::string iccid, imsi, msisdn;
            std::getline(f, iccid, ',');
            std::getline(f, imsi, ',');
            std::getline(f, msisdn, ',');
            msisdns.push_back(msisdn);
        }
    const size_t total = std::min(msisdns.size(), static_cast<size_t>(rate * seconds));
    uv_loop_t* loop = uv_default_loop();
    std::vector<double> answer_ms;
    size_t sent = 0, answered = 0, errors = 0;
    const auto start = std::chrono::steady_clock::now();
    uv::Timer pace(loop);
    // Every millisecond, as many requests as the rate has owed since the start.
    pace.start(
        1,
        [&] {
            const double elapsed =
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            const size_t due = std::min(total, static_cast<size_t>(elapsed * rate) + 1);
            for (; sent < due; sent++) {
                http::ClientRequest req;
                req.method = "POST";
                req.target = "/v1/requests";
                req.body = nlohmann::json{{"msisdn", msisdns[sent]},
                                          {"app", "02"},
                                          {"operation", "suspend"}}
                               .dump();
                req.headers.emplace_back("Authorization", "Bearer " + token);
                const auto t0 = std::chrono::steady_clock::now();
                http::fetch(loop, "127.0.0.1", port, req, 30000,
                            [&, t0](Result<http::ClientResponse> r) {
                                answered++;
                                if (!r || r->status != 202)
                                    errors++;
                                answer_ms.push_back(std::chrono::duration<double, std::milli>(
                                                        std::chrono::steady_clock::now() - t0)
                                                        .count());
                            });
            }
            if (sent == total)
                pace.stop();
        },
        1);
    while (answered < total)
        uv_run(loop, UV_RUN_ONCE);
    const double took =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    // Wait for the daemon to hand every request to the ESME and publish its figures (1 s).
    std::map<std::string, double> m;
    for (int i = 0; i < 100; i++) {
        uv::Timer wait(loop);
        bool fired = false;
        wait.start(200, [&] { fired = true; });
        while (!fired)
            uv_run(loop, UV_RUN_ONCE);
        m = metrics(loop, port, token);
        if (m["otagw_request_submit_ack_latency_samples"] >= static_cast<double>(total - errors) &&
            i >= 6)
            break;
    }
    std::sort(answer_ms.begin(), answer_ms.end());
    auto pct = [&](double q) {
        return answer_ms[std::min(answer_ms.size() - 1,
                                  static_cast<size_t>(q * static_cast<double>(answer_ms.size())))];
    };
    std::printf("requests: %zu at %.0f/s offered, sent in %.2f s (%.0f/s), %zu errors\n", total,
                rate, took, static_cast<double>(total) / took, errors);
    std::printf("API answer (POST /v1/requests, client side): p50 %.2f ms, p99 %.2f ms\n",
                pct(0.50), pct(0.99));
    for (const char* what : {"submit_latency", "submit_ack_latency"}) {
        const std::string k = std::string("otagw_request_") + what;
        std::printf("intake -> %s (daemon side, %.0f samples): p50 %.3f ms, p99 %.3f ms, max "
                    "%.3f ms\n",
                    std::string(what) == "submit_latency" ? "submit_sm handed to the ESME"
                                                          : "submit_sm_resp from the SMSC",
                    m[k + "_samples"], m[k + "_p50_us"] / 1000, m[k + "_p99_us"] / 1000,
                    m[k + "_max_us"] / 1000);
    }
    pace.stop();
    uv_run(loop, UV_RUN_NOWAIT);
    return errors ? 1 : 0;
}
