// SPDX-License-Identifier: GPL-2.0-or-later
// The simulated card's own reading of an admin session trigger (GP Amendment B §3.7, the
// brief's worked example: bip-scp81-brief.md §3.6) and of the server's HTTP answers; each
// malformed input named.
#include "otagw/sim/bip_handset.hpp"
#include "test_support.hpp"

using namespace otagw;

namespace {

const char* kExample = "8169836784"
                       "1e35010339020578470908696e7465726e65743c030215433e0521c000020a"
                       "850d09636172642d30303031024001"
                       "86070003a503002000"
                       "892d8a0a3139322e302e322e31308b1338393838323131303030303030303030"
                       "3030318c0a2f6f74612f61646d696e";

void test_trigger(void**) {
    auto t = sim::parse_admin_trigger(test::hex(kExample));
    assert_ok(t);
    assert_string_equal(t->ip.c_str(), "192.0.2.10");
    assert_int_equal(t->port, 5443);
    assert_string_equal(std::string(t->identity.begin(), t->identity.end()).c_str(), "card-0001");
    assert_int_equal(t->kvn, 0x40);
    assert_int_equal(t->kid, 0x01);
    assert_int_equal(t->retries, 3);
    assert_int_equal(t->retry_delay_s, 120); // '00 20 00': swapped-nibble BCD, 2 minutes
    assert_string_equal(t->host.c_str(), "192.0.2.10");
    assert_string_equal(t->agent_id.c_str(), "8988211000000000001");
    assert_string_equal(t->uri.c_str(), "/ota/admin");
    // CR-set comprehension tags (pySim's style) read the same.
    std::string cr = kExample;
    cr.replace(cr.find("3c0302"), 2, "bc");
    cr.replace(cr.find("3e0521"), 2, "be");
    assert_ok(sim::parse_admin_trigger(test::hex(cr)));
    assert_error_contains(sim::parse_admin_trigger(test::hex("8100")),
                          "no administration session parameters");
    assert_error_contains(sim::parse_admin_trigger(test::hex("aa00")), "not one '81' template");
    std::string udp = kExample;
    udp.replace(udp.find("3c030215"), 8, "3c030115");
    assert_error_contains(sim::parse_admin_trigger(test::hex(udp)), "not TCP in UICC client mode");
    std::string no_sec = kExample;
    no_sec.replace(no_sec.find("850d"), 4, "8f0d");
    assert_error_contains(sim::parse_admin_trigger(test::hex(no_sec)), "84, 85 and 89 are needed");
}

void test_responses(void**) {
    std::string in = "HTTP/1.1 200 OK\r\nX-Admin-Next-URI: /ras/7\r\nContent-Length: 4\r\n\r\nab";
    auto r = sim::take_admin_response(in, 1024);
    assert_ok(r);
    assert_false(r->has_value()); // the body is not whole yet
    in += "cdHTTP/1.1 204 No Content\r\nX-Admin-Protocol: globalplatform-remote-admin/1.0\r\n\r\n";
    r = sim::take_admin_response(in, 1024);
    assert_ok(r);
    assert_int_equal((*r)->status, 200);
    assert_string_equal((*r)->next_uri.c_str(), "/ras/7");
    assert_string_equal(std::string((*r)->body.begin(), (*r)->body.end()).c_str(), "abcd");
    r = sim::take_admin_response(in, 1024);
    assert_int_equal((*r)->status, 204);
    assert_true((*r)->body.empty());
    assert_true(in.empty());
    std::string bad = "HTTP/1.0 200 OK\r\n\r\n";
    assert_error_contains(sim::take_admin_response(bad, 1024), "not an HTTP/1.1 response");
    std::string big = "HTTP/1.1 200 OK\r\nContent-Length: 99999\r\n\r\n";
    assert_error_contains(sim::take_admin_response(big, 1024), "larger than 1024");
    std::string chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    assert_error_contains(sim::take_admin_response(chunked, 1024), "chunked");
    std::string length = "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n";
    assert_error_contains(sim::take_admin_response(length, 1024), "is no length");
}

} // namespace

int main() {
    const CMUnitTest tests[] = {
        cmocka_unit_test(test_trigger),
        cmocka_unit_test(test_responses),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
