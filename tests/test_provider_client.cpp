// SPDX-License-Identifier: GPL-2.0-or-later
// The provider interface, gateway side, against a provider simulator on loopback (our HTTP
// server): bodies signed with HMAC-SHA256 both ways, answers returned as the provider gave
// them, 5xx and timeouts tried again with a pause, a forged answer refused at once.
#include "interop/process.hpp"
#include "otagw/common/uv.hpp"
#include "otagw/http/http.hpp"
#include "provider/provider_client.hpp"
#include "test_support.hpp"

using namespace otagw;
using namespace otagw::gateway;
using Json = nlohmann::json;

namespace {

const Bytes kSecret = test::hex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");

// Checks the gateway's signature, then answers by path: /approve, /veto, /flaky (503 twice),
// /down (always 503), /forged (a wrong signature).
class ProviderSim final : public http::Handler {
public:
    int flaky_calls = 0;
    int down_calls = 0;
    std::unique_ptr<http::BodySink> stream(const http::Request&,
                                           std::optional<http::Response>&) override {
        return nullptr;
    }
    void handle(http::Request&& r, http::Responder respond) override {
        const std::string* sig = r.header("x-otagw-signature");
        auto answer = [&](int status, const Json& body, bool forge = false) {
            const std::string text = body.dump();
            std::string s = sign_body(kSecret, text);
            if (forge)
                s[0] = s[0] == '0' ? '1' : '0';
            respond({status, "application/json", text, {{kSignatureHeader, s}}});
        };
        if (!sig || !signature_ok(kSecret, r.body, *sig))
            return answer(401, {{"error", "bad signature"}});
        const Json req = Json::parse(r.body);
        if (r.path == "/approve")
            return answer(
                200, {{"decision", "approve"}, {"serial", "S-" + req["iccid"].get<std::string>()}});
        if (r.path == "/veto")
            return answer(200, {{"decision", "veto"}, {"reason", "account closed"}});
        if (r.path == "/flaky" && ++flaky_calls <= 2)
            return respond({503, "text/plain", "busy", {}});
        if (r.path == "/flaky")
            return answer(200, {{"decision", "approve"}});
        if (r.path == "/down") {
            down_calls++;
            return respond({503, "text/plain", "down", {}});
        }
        if (r.path == "/forged")
            return answer(200, {{"decision", "approve"}}, true);
        answer(404, {{"error", "no such call"}});
    }
};

struct Fixture {
    uv_loop_t loop;
    ProviderSim sim;
    std::unique_ptr<http::Server> server;
    std::unique_ptr<http::CurlClient> curl;
    std::unique_ptr<ProviderClient> client;
    Fixture(Bytes secret = kSecret) {
        uv_loop_init(&loop);
        server = std::make_unique<http::Server>(&loop, sim);
        assert_ok(server->listen("127.0.0.1", 0));
        curl = std::make_unique<http::CurlClient>(&loop);
        ProviderConfig cfg;
        cfg.name = "campus";
        cfg.url = "http://127.0.0.1:" + std::to_string(server->port());
        cfg.timeout_ms = 2000;
        cfg.retries = 2;
        client = std::make_unique<ProviderClient>(&loop, *curl, cfg, secret);
    }
    ~Fixture() {
        client.reset();
        curl.reset();
        server.reset();
        uv_run(&loop, UV_RUN_DEFAULT);
        uv_loop_close(&loop);
    }
    // Talks to `url` instead (e.g. a TLS front of the simulator), trusting `ca_file`.
    void use(const std::string& url, const std::string& ca_file) {
        ProviderConfig cfg;
        cfg.name = "campus";
        cfg.url = url;
        cfg.ca_file = ca_file;
        cfg.timeout_ms = 2000;
        cfg.retries = 0;
        client = std::make_unique<ProviderClient>(&loop, *curl, cfg, kSecret);
    }
    Result<ProviderClient::Answer> call(const std::string& path) {
        std::optional<Result<ProviderClient::Answer>> got;
        client->call(path, {{"iccid", "8988299000000000016"}, {"operation", "activate"}},
                     [&](Result<ProviderClient::Answer> r) { got.emplace(std::move(r)); });
        uv::Timer guard(&loop);
        bool expired = false;
        guard.start(15000, [&] { expired = true; });
        while (!got && !expired)
            uv_run(&loop, UV_RUN_ONCE);
        assert_false(expired);
        return std::move(*got);
    }
};

void test_signatures(void**) {
    const std::string body = "{\"a\":1}";
    const std::string sig = sign_body(kSecret, body);
    assert_int_equal(sig.size(), 64);
    assert_true(signature_ok(kSecret, body, sig));
    assert_false(signature_ok(kSecret, body + " ", sig));
    assert_false(signature_ok(kSecret, body, sig.substr(2)));
    assert_false(signature_ok(kSecret, body, "zz" + sig.substr(2)));
}

void test_answers_and_retries(void**) {
    Fixture f;
    auto ok = f.call("/approve");
    assert_ok(ok);
    assert_int_equal(ok->status, 200);
    assert_string_equal(ok->body["serial"].get<std::string>().c_str(), "S-8988299000000000016");
    assert_int_equal(ok->attempts, 1);
    auto veto = f.call("/veto");
    assert_ok(veto);
    assert_string_equal(veto->body["reason"].get<std::string>().c_str(), "account closed");
    const uint64_t t0 = uv_now(&f.loop);
    auto flaky = f.call("/flaky");
    assert_ok(flaky);
    assert_int_equal(flaky->attempts, 3);
    assert_true(uv_now(&f.loop) - t0 >= 600); // 200 ms then 400 ms
    auto down = f.call("/down");
    assert_error_contains(down, "provider campus: campus answered 503 (after 3 attempts)");
    assert_int_equal(f.sim.down_calls, 3);
    auto forged = f.call("/forged");
    assert_error_contains(forged, "the answer's signature is missing or wrong");
    auto unknown = f.call("/nothing");
    assert_ok(unknown);
    assert_int_equal(unknown->status, 404); // the provider's own answer, not tried again
}

void test_wrong_secret_is_refused_by_the_provider(void**) {
    Fixture f(test::hex("ffff"));
    auto r = f.call("/approve");
    // The simulator answers 401, signed with its secret: the gateway cannot check it.
    assert_error_contains(r, "signature is missing or wrong");
}

// HTTPS: the simulator behind a TLS front (node) with a certificate made for 127.0.0.1; the
// client trusts it through `ca-file`, and refuses it without.
void test_https_with_the_providers_ca(void**) {
    if (!interop::have_program("node") || !interop::have_program("openssl")) {
        if (std::getenv("OTAGW_REQUIRE_INTEROP"))
            fail_msg("node and openssl are needed for the HTTPS test");
        skip();
    }
    char dir_template[] = "/tmp/otagw-tls-XXXXXX";
    assert_non_null(mkdtemp(dir_template));
    const std::string dir = dir_template;
    auto made = test::run_command(
        "cd " + dir +
        " && openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out "
        "cert.pem -days 1 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1");
    assert_int_equal(made.status, 0);
    Fixture f;
    const uint16_t port = interop::free_port();
    interop::Process proxy("tls-proxy",
                           {"node", OTAGW_SOURCE_DIR "/tests/interop/tls_proxy.js", "key.pem",
                            "cert.pem", std::to_string(port), std::to_string(f.server->port())},
                           dir);
    assert_true(proxy.wait_log("ready"));
    const std::string url = "https://127.0.0.1:" + std::to_string(port);
    f.use(url, dir + "/cert.pem");
    auto ok = f.call("/approve");
    assert_ok(ok);
    assert_int_equal(ok->status, 200);
    assert_string_equal(ok->body.value("decision", "").c_str(), "approve");
    f.use(url, ""); // the system's CAs do not know this certificate
    auto refused = f.call("/approve");
    assert_error_contains(refused, "certificate");
    proxy.stop();
    std::system(("rm -rf " + dir).c_str());
}

} // namespace

int main() {
    const CMUnitTest tests[] = {
        cmocka_unit_test(test_signatures),
        cmocka_unit_test(test_answers_and_retries),
        cmocka_unit_test(test_wrong_secret_is_refused_by_the_provider),
        cmocka_unit_test(test_https_with_the_providers_ca),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
