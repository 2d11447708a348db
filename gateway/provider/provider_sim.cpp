// SPDX-License-Identifier: GPL-2.0-or-later
// ota-provider-sim: an application provider for tests and the demo (doc/provider-api.md). It
// answers the gateway's signed calls on 127.0.0.1:
//   POST /authorize  {"request_id", "operation", "application", "aid", "msisdn", "iccid"}
//                    -> {"decision": "approve", "personalisation": hex} (activate: the canteen
//                       wallet's DGIs 0101 serial, 0102 key, 0103 balance) or
//                       {"decision": "veto", "reason": ...} for a vetoed MSISDN; no answer at
//                       all for a silent MSISDN (the gateway's timeout)
//   POST /result     the outcome of a request: acknowledged with 200 (the first N refused
//                    with 503 when --refuse-results N)
// and, unsigned, for the test that drives it:
//   GET /calls       every call received, as JSON
//   POST /control    {"veto": [msisdn...], "silent": [msisdn...], "refuse_results": N,
//                     "answer": {msisdn: JSON}, "huge": {msisdn: bytes}} (that JSON, or an
//                     approval padded to that many bytes, signed, as the answer to /authorize:
//                     a provider that answers wrongly)
// Prints one JSON line {"listen": "127.0.0.1:PORT"} when ready; stops after --duration seconds
// or on SIGTERM.
#include <uv.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "otagw/common/crypto.hpp"
#include "otagw/common/uv.hpp"
#include "otagw/http/http.hpp"
#include "provider/provider_client.hpp"

using namespace otagw;
using Json = nlohmann::json;

namespace {

class Provider final : public http::Handler {
public:
    Provider(Bytes secret, std::set<std::string> veto, std::set<std::string> silent,
             int refuse_results)
        : secret_(std::move(secret)), veto_(std::move(veto)), silent_(std::move(silent)),
          refuse_results_(refuse_results) {}

    std::unique_ptr<http::BodySink> stream(const http::Request&,
                                           std::optional<http::Response>&) override {
        return nullptr;
    }

    void handle(http::Request&& r, http::Responder respond) override {
        if (r.path == "/calls" && r.method == "GET") {
            respond({200, "application/json", calls_.dump(), {}});
            return;
        }
        if (r.path == "/control" && r.method == "POST") {
            auto body = Json::parse(r.body, nullptr, false);
            if (!body.is_object()) {
                respond({400, "application/json", R"({"error":"a JSON object"})", {}});
                return;
            }
            for (const auto& m : body.value("veto", Json::array()))
                veto_.insert(m.get<std::string>());
            for (const auto& m : body.value("silent", Json::array()))
                silent_.insert(m.get<std::string>());
            if (body.contains("answer") && body["answer"].is_object())
                for (const auto& [msisdn, canned] : body["answer"].items())
                    canned_[msisdn] = canned;
            if (body.contains("huge") && body["huge"].is_object())
                for (const auto& [msisdn, bytes] : body["huge"].items())
                    canned_[msisdn] = Json{{"decision", "approve"},
                                           {"padding", std::string(bytes.get<size_t>(), 'x')}};
            if (body.contains("clear"))
                veto_.clear(), silent_.clear(), canned_.clear();
            refuse_results_ = body.value("refuse_results", refuse_results_);
            respond({200, "application/json", "{}", {}});
            return;
        }
        const std::string* sig = r.header(gateway::kSignatureHeader);
        if (!sig || !gateway::signature_ok(secret_, r.body, *sig)) {
            calls_["bad_signature"].push_back(r.path);
            answer(respond, 401, Json{{"error", "bad signature"}});
            return;
        }
        auto body = Json::parse(r.body, nullptr, false);
        if (!body.is_object()) {
            answer(respond, 400, Json{{"error", "a JSON object"}});
            return;
        }
        if (r.path == "/authorize") {
            calls_["authorize"].push_back(body);
            const std::string msisdn = body.value("msisdn", "");
            if (silent_.count(msisdn))
                return; // never answers: the gateway times out
            if (auto canned = canned_.find(msisdn); canned != canned_.end()) {
                answer(respond, 200, canned->second);
                return;
            }
            if (veto_.count(msisdn)) {
                answer(respond, 200,
                       Json{{"decision", "veto"}, {"reason", "subscription not paid"}});
                return;
            }
            Json out = {{"decision", "approve"}};
            if (body.value("operation", "") == "activate")
                out["personalisation"] = wallet_personalisation(body.value("iccid", ""));
            answer(respond, 200, out);
            return;
        }
        if (r.path == "/result") {
            if (refuse_results_ > 0) {
                refuse_results_--;
                calls_["refused_results"].push_back(body);
                answer(respond, 503, Json{{"error", "busy"}});
                return;
            }
            calls_["results"].push_back(body);
            answer(respond, 200, Json{{"acknowledged", true}});
            return;
        }
        answer(respond, 404, Json{{"error", "no such call"}});
    }

private:
    void answer(const http::Responder& respond, int status, const Json& body) {
        const std::string text = body.dump();
        respond({status,
                 "application/json",
                 text,
                 {{gateway::kSignatureHeader, gateway::sign_body(secret_, text)}}});
    }

    // The canteen wallet's personalisation (GP §11.11.2.1 DGI format): its serial number (the
    // ICCID's last 8 digits), a 16-byte key derived from the ICCID, a balance of 0.
    static std::string wallet_personalisation(const std::string& iccid) {
        const std::string serial = iccid.size() >= 8 ? iccid.substr(iccid.size() - 8) : "00000000";
        const auto digest =
            crypto::sha256(ByteView(reinterpret_cast<const uint8_t*>(iccid.data()), iccid.size()));
        Bytes d = {0x01, 0x01, 0x08};
        d.insert(d.end(), serial.begin(), serial.end());
        d.insert(d.end(), {0x01, 0x02, 0x10});
        d.insert(d.end(), digest.begin(), digest.begin() + 16);
        d.insert(d.end(), {0x01, 0x03, 0x04, 0x00, 0x00, 0x00, 0x00});
        return to_hex(d);
    }

    Bytes secret_;
    std::set<std::string> veto_, silent_;
    std::map<std::string, Json> canned_; // answers to /authorize by MSISDN
    int refuse_results_ = 0;
    Json calls_ = {{"authorize", Json::array()}, {"results", Json::array()}};
};

} // namespace

int main(int argc, char** argv) {
    // A peer that goes away mid-write must be an error on that connection (EPIPE), not the
    // end of the process.
    std::signal(SIGPIPE, SIG_IGN);
    CLI::App app{"ota-provider-sim: an application provider for tests (doc/provider-api.md)"};
    std::string listen = "127.0.0.1:0", secret_file;
    std::vector<std::string> veto, silent;
    int refuse_results = 0;
    double duration = 600;
    app.add_option("--listen", listen, "IP:PORT (loopback only)");
    app.add_option("--secret-file", secret_file, "the shared HMAC-SHA256 secret")->required();
    app.add_option("--veto", veto, "an MSISDN whose requests are vetoed");
    app.add_option("--silent", silent, "an MSISDN whose requests get no answer");
    app.add_option("--refuse-results", refuse_results, "answer the first N results with 503");
    app.add_option("--duration", duration, "stop after this many seconds")
        ->check(CLI::PositiveNumber);
    CLI11_PARSE(app, argc, argv);

    const size_t colon = listen.rfind(':');
    if (colon == std::string::npos || listen.substr(0, colon) != "127.0.0.1") {
        std::fprintf(stderr,
                     "ota-provider-sim: --listen: 127.0.0.1:PORT (tests stay on loopback)\n");
        return 2;
    }
    auto secret = gateway::read_secret_file(secret_file);
    if (!secret) {
        std::fprintf(stderr, "ota-provider-sim: --secret-file: %s\n",
                     secret.error().message.c_str());
        return 2;
    }
    uv_loop_t* loop = uv_default_loop();
    Provider provider(std::move(secret).value(), {veto.begin(), veto.end()},
                      {silent.begin(), silent.end()}, refuse_results);
    http::Server server(loop, provider);
    if (Status st =
            server.listen("127.0.0.1", static_cast<uint16_t>(std::stoi(listen.substr(colon + 1))));
        !st) {
        std::fprintf(stderr, "ota-provider-sim: %s\n", st.error().message.c_str());
        return 1;
    }
    std::printf("{\"listen\":\"127.0.0.1:%u\"}\n", server.port());
    std::fflush(stdout);
    uv::Timer stop(loop);
    uv_signal_t sigterm;
    uv_signal_init(loop, &sigterm);
    std::function<void()> shutdown = [&] {
        server.close();
        stop.stop();
        uv_signal_stop(&sigterm);
        uv_close(reinterpret_cast<uv_handle_t*>(&sigterm), nullptr);
    };
    stop.start(static_cast<uint64_t>(duration * 1000), shutdown);
    sigterm.data = &shutdown;
    uv_signal_start(
        &sigterm, [](uv_signal_t* h, int) { (*static_cast<std::function<void()>*>(h->data))(); },
        SIGTERM);
    uv_run(loop, UV_RUN_DEFAULT);
    return 0;
}
