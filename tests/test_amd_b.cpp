// SPDX-License-Identifier: GPL-2.0-or-later
// GlobalPlatform Amendment B administration session triggering parameters: the worked example
// of shared/research/bip-scp81-brief.md §3.6 (Table 3-3 layout, lengths checked by script), the
// pySim model's test values for single TLVs, the Timer Value's swapped-nibble BCD, and the
// limits each part names.
#include "otagw/ota/amd_b.hpp"
#include "test_support.hpp"

using namespace otagw;
using namespace otagw::ota;
using test::hex;

namespace {

amdb::Trigger brief_example() {
    amdb::Trigger t;
    amdb::RasConnection c;
    c.bearer = 0x03;
    c.buffer_size = 1400;
    c.apn = "internet";
    c.ipv4 = {192, 0, 2, 10};
    c.port = 5443;
    t.connection = c;
    t.security =
        amdb::SecurityParameters{Bytes{'c', 'a', 'r', 'd', '-', '0', '0', '0', '1'}, 0x40, 0x01};
    t.retry = amdb::RetryPolicy{3, 120};
    t.http = amdb::HttpPost{"192.0.2.10", "8988211000000000001", "/ota/admin"};
    return t;
}

void test_worked_example(void**) {
    auto bytes = amdb::encode_trigger(brief_example());
    assert_ok(bytes);
    assert_hex_equal(*bytes, "816983"
                             "67"
                             "841e35010339020578470908696e7465726e65743c030215433e0521c000020a"
                             "850d09636172642d3030303102"
                             "4001"
                             "860700"
                             "03a5030020"
                             "00"
                             "892d8a0a3139322e302e322e31308b1338393838323131303030303030303030"
                             "3030318c0a2f6f74612f61646d696e");
    assert_int_equal(bytes->size(), 107);
}

void test_parts(void**) {
    // pySim's model (pySim/global_platform/http.py, pySim/cat.py): Security Parameters
    // '85 08 04 deadbeef 02 00 40' and the APN "naa" as labels.
    amdb::Trigger sec;
    sec.security = amdb::SecurityParameters{hex("deadbeef"), 0x00, 0x40};
    assert_hex_equal(*amdb::encode_trigger(sec), "810c830a850804deadbeef020040");
    assert_hex_equal(*amdb::apn_labels("naa"), "036e6161");
    assert_hex_equal(*amdb::apn_labels("ota.example.net"), "036f7461076578616d706c65036e6574");
    // An empty trigger: every parameter from the security domain.
    assert_hex_equal(*amdb::encode_trigger({}), "8100");
    // A trigger without APN, as the gateway sends with the default bearer.
    amdb::Trigger plain;
    plain.connection = amdb::RasConnection{};
    plain.connection->ipv4 = {127, 0, 0, 1};
    plain.connection->port = 8443;
    plain.connection->buffer_size = 512;
    assert_hex_equal(*amdb::encode_trigger(plain), "81178315841335010339020200"
                                                   "3c030220fb3e05217f000001");
}

void test_timer_value_bcd(void**) {
    // TS 102 223 §8.38: 'A5 03' hours minutes seconds, each swapped-nibble BCD.
    assert_hex_equal(*amdb::timer_value(0), "a503000000");
    assert_hex_equal(*amdb::timer_value(120), "a503002000");
    assert_hex_equal(*amdb::timer_value(59), "a503000095");
    assert_hex_equal(*amdb::timer_value(3600 + 23 * 60 + 45), "a503103254");
    assert_hex_equal(*amdb::timer_value(99 * 3600 + 59 * 60 + 59), "a503999595");
    assert_error_contains(amdb::timer_value(100 * 3600), "more than 99:59:59");
}

void test_limits(void**) {
    assert_error_contains(amdb::apn_labels("a..b"), "labels are 1 to 63 characters");
    assert_error_contains(amdb::apn_labels(std::string(64, 'a')), "labels are 1 to 63");
    assert_error_contains(amdb::apn_labels(""), "labels are 1 to 63");
    amdb::Trigger t;
    t.security = amdb::SecurityParameters{};
    assert_error_contains(amdb::encode_trigger(t), "a PSK identity is 1 to 255 bytes");
    t.security->identity = Bytes(256, 'x');
    assert_error_contains(amdb::encode_trigger(t), "a PSK identity is 1 to 255 bytes");
    // Long parts take BER lengths ('81 xx').
    t.security->identity = Bytes(200, 'x');
    auto long_one = amdb::encode_trigger(t);
    assert_ok(long_one);
    assert_hex_equal(Bytes(long_one->begin(), long_one->begin() + 10), "8181d28381cf8581ccc8");
    t.retry = amdb::RetryPolicy{1, 360000};
    assert_error_contains(amdb::encode_trigger(t), "more than 99:59:59");
}

} // namespace

int main() {
    const CMUnitTest tests[] = {
        cmocka_unit_test(test_worked_example),
        cmocka_unit_test(test_parts),
        cmocka_unit_test(test_timer_value_bcd),
        cmocka_unit_test(test_limits),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
