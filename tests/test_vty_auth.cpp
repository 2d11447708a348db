// SPDX-License-Identifier: GPL-2.0-or-later
// The VTY's password line and its check against crypt(3) hashes (the daemon's side is in
// test_hostile_input: test_vty_locked).
#include "config/vty_auth.hpp"
#include "test_support.hpp"

using namespace otagw::gateway;
using namespace std::string_literals;

namespace {

// `openssl passwd -6 -salt otagwvty example-vty-password` (doc/examples/ota-gateway.cfg)
const char* kSha512 = "$6$otagwvty$L8KMZSL60wWZ4MXCuxExYVuJ2zxC8r057Qg17J6eNw3Cpj/qTIHwheUDz7ef4wr"
                      "bidJBS/48wi5MwZ1uqpcoa0";

std::vector<std::string> lines_of(const std::string& bytes) {
    vty_auth::LineCollector c;
    std::vector<std::string> out;
    for (unsigned char b : bytes)
        if (c.feed(b))
            out.push_back(c.take());
    return out;
}

void test_line_from_telnet_bytes(void**) {
    // Option negotiation (IAC WILL ECHO, IAC SB NAWS ... IAC SE) and an arrow key are not the
    // password; backspace and ^U edit it; CR ends it.
    const std::string typed = "\xff\xfb\x01\xff\xfa\x1f\x00\x50\x00\x18\xff\xf0"
                              "gu\x7f"
                              "ess\x1b[A\x15pass\x08"
                              "ss\r"s;
    const auto got = lines_of(typed);
    assert_int_equal(got.size(), 1);
    assert_string_equal(got[0].c_str(), "passs");
    assert_int_equal(lines_of("a\nb\n").size(), 2);
    assert_int_equal(lines_of(std::string(300, 'x') + "\n")[0].size(), 256);
    assert_string_equal(lines_of("caf\xc3\xa9\n")[0].c_str(), "caf"); // ASCII only, as telnet
}

void test_verify(void**) {
    assert_true(vty_auth::verify("example-vty-password", kSha512));
    assert_false(vty_auth::verify("example-vty-passwor", kSha512));
    assert_false(vty_auth::verify("", kSha512));
    assert_false(vty_auth::verify("example-vty-password", "example-vty-password")); // not a hash
    assert_false(vty_auth::verify("x", "$6$"));
    assert_false(vty_auth::verify("x", nullptr));
}

} // namespace

int main() {
    const CMUnitTest tests[] = {
        cmocka_unit_test(test_line_from_telnet_bytes),
        cmocka_unit_test(test_verify),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
