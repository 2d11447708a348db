// SPDX-License-Identifier: GPL-2.0-or-later
// libcurl's multi interface on the libuv loop, against our own HTTP server on loopback:
// requests and answers, many at once, a timeout, a refused connection, abandoning transfers.
#include "otagw/common/uv.hpp"
#include "otagw/http/curl_client.hpp"
#include "otagw/http/http.hpp"
#include "test_support.hpp"

using namespace otagw;

namespace {

// Answers "<method> <path> <x-sig> <body>", except /slow which never answers.
class Service final : public http::Handler {
public:
    std::vector<http::Responder> held;
    std::unique_ptr<http::BodySink> stream(const http::Request&,
                                           std::optional<http::Response>&) override {
        return nullptr;
    }
    void handle(http::Request&& r, http::Responder respond) override {
        if (r.path == "/slow") {
            held.push_back(std::move(respond));
            return;
        }
        const std::string* sig = r.header("x-signature");
        respond({201,
                 "application/json",
                 r.method + " " + r.path + " " + (sig ? *sig : "-") + " " + r.body,
                 {{"X-Answer", "yes"}}});
    }
};

struct Fixture {
    uv_loop_t loop;
    Service service;
    std::unique_ptr<http::Server> server;
    std::string base;
    Fixture() {
        uv_loop_init(&loop);
        server = std::make_unique<http::Server>(&loop, service);
        assert_ok(server->listen("127.0.0.1", 0));
        base = "http://127.0.0.1:" + std::to_string(server->port());
    }
    ~Fixture() {
        server.reset();
        service.held.clear();
        uv_run(&loop, UV_RUN_DEFAULT);
        uv_loop_close(&loop);
    }
    void run_until(const std::function<bool()>& done) {
        uv::Timer guard(&loop);
        bool expired = false;
        guard.start(10000, [&] { expired = true; });
        while (!done() && !expired)
            uv_run(&loop, UV_RUN_ONCE);
        assert_false(expired);
    }
};

void test_requests(void**) {
    Fixture f;
    http::CurlClient curl(&f.loop);
    std::optional<Result<http::CurlClient::Response>> got;
    curl.perform({"POST", f.base + "/hook", {{"X-Signature", "abc"}}, "{\"a\":1}", 5000, ""},
                 [&](Result<http::CurlClient::Response> r) { got.emplace(std::move(r)); });
    assert_int_equal(curl.in_flight(), 1);
    assert_false(got.has_value()); // never from inside perform()
    f.run_until([&] { return got.has_value(); });
    assert_ok(*got);
    assert_int_equal((*got)->status, 201);
    assert_string_equal((*got)->body.c_str(), "POST /hook abc {\"a\":1}");
    bool header = false;
    for (const auto& [k, v] : (*got)->headers)
        header |= k == "x-answer" && v == "yes";
    assert_true(header);
    // Fifty at once, each answered.
    int answered = 0;
    for (int i = 0; i < 50; i++)
        curl.perform({"GET", f.base + "/n" + std::to_string(i), {}, "", 5000, ""},
                     [&, i](Result<http::CurlClient::Response> r) {
                         assert_ok(r);
                         assert_string_equal(r->body.c_str(),
                                             ("GET /n" + std::to_string(i) + " - ").c_str());
                         answered++;
                     });
    f.run_until([&] { return answered == 50; });
    assert_int_equal(curl.in_flight(), 0);
}

void test_failures(void**) {
    Fixture f;
    http::CurlClient curl(&f.loop);
    std::optional<Result<http::CurlClient::Response>> slow, refused;
    const uint64_t t0 = uv_now(&f.loop);
    curl.perform({"POST", f.base + "/slow", {}, "x", 300, ""},
                 [&](Result<http::CurlClient::Response> r) { slow.emplace(std::move(r)); });
    f.run_until([&] { return slow.has_value(); });
    assert_error_contains(*slow, "/slow: ");
    assert_error_contains(*slow, "timed out");
    assert_true(uv_now(&f.loop) - t0 >= 250);
    uv::TcpServer closed(&f.loop); // a port nobody listens on
    assert_int_equal(closed.listen("127.0.0.1", 0, [](std::unique_ptr<uv::TcpStream>) {}), 0);
    const uint16_t port = closed.port();
    closed.close();
    curl.perform({"GET", "http://127.0.0.1:" + std::to_string(port) + "/", {}, "", 2000, ""},
                 [&](Result<http::CurlClient::Response> r) { refused.emplace(std::move(r)); });
    f.run_until([&] { return refused.has_value(); });
    assert_false(refused->ok());
    // Abandoned: a client destroyed with a transfer in flight calls nobody.
    bool called = false;
    {
        http::CurlClient gone(&f.loop);
        gone.perform({"POST", f.base + "/slow", {}, "", 5000, ""},
                     [&](Result<http::CurlClient::Response>) { called = true; });
        uv_run(&f.loop, UV_RUN_NOWAIT);
    }
    uv_run(&f.loop, UV_RUN_NOWAIT);
    assert_false(called);
}

} // namespace

int main() {
    const CMUnitTest tests[] = {
        cmocka_unit_test(test_requests),
        cmocka_unit_test(test_failures),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
