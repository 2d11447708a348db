// SPDX-License-Identifier: GPL-2.0-or-later
// The PSK-TLS engine (SCP81's TLS, GP Amendment B §3.3.2) in memory: a client and a server
// session pass bytes until both are quiet. Each suite and version the appliance offers
// completes a handshake and carries data both ways; RFC 6066 MFL 512 cuts records; an unknown
// identity, a wrong key, garbage and an unavailable suite fail with what went wrong; the server
// learns the identity the client sent. (Interop with TLS stacks we did not write is in
// test_ras_interop, against openssl and gnutls.)
#include "otagw/common/tls_psk.hpp"
#include "test_support.hpp"

using namespace otagw;

namespace {

const Bytes kIdentity = test::hex("3839383832393930303030303030303030303136");
const Bytes kKey = test::hex("0f1e2d3c4b5a69788796a5b4c3d2e1f0");

std::shared_ptr<tls::Config> server_config(tls::PskOptions o = {}) {
    auto c = tls::Config::server(o, [](ByteView id, tls::Session&) -> std::optional<Bytes> {
        if (Bytes(id.begin(), id.end()) == kIdentity)
            return kKey;
        return std::nullopt;
    });
    assert_ok(c);
    return *c;
}

std::shared_ptr<tls::Config> client_config(tls::PskOptions o) {
    if (o.identity.empty())
        o.identity = kIdentity;
    if (o.psk.empty())
        o.psk = kKey;
    auto c = tls::Config::client(o);
    assert_ok(c);
    return *c;
}

// Moves bytes between the two until neither has any; records sizes on the way.
size_t pump(tls::Session& client, tls::Session& server, size_t* largest_record = nullptr) {
    size_t moved = 0;
    for (int round = 0; round < 50; round++) {
        Bytes c2s = client.take_output();
        Bytes s2c = server.take_output();
        if (c2s.empty() && s2c.empty())
            return moved;
        moved += c2s.size() + s2c.size();
        if (largest_record) {
            // TLS records: type(1) version(2) length(2) fragment.
            for (size_t at = 0; at + 5 <= s2c.size();) {
                const size_t len = size_t{s2c[at + 3]} << 8 | s2c[at + 4];
                *largest_record = std::max(*largest_record, len);
                at += 5 + len;
            }
        }
        if (!c2s.empty())
            (void)server.feed(c2s);
        if (!s2c.empty())
            (void)client.feed(s2c);
    }
    fail_msg("the sessions never went quiet");
    return moved;
}

void test_suites_and_versions(void**) {
    struct Case {
        uint16_t suite, version;
    };
    const Case cases[] = {
        {tls::kPskAes128CbcSha256, tls::kTls12},    {tls::kPskAes128CbcSha, tls::kTls12},
        {tls::kPskAes128CbcSha, tls::kTls11},       {tls::kPskAes128CbcSha, tls::kTls10},
        {tls::kPskTripleDesEdeCbcSha, tls::kTls12}, {tls::kPskTripleDesEdeCbcSha, tls::kTls10},
    };
    for (const Case& c : cases) {
        tls::PskOptions so;
        so.suites = {tls::kPskAes128CbcSha256, tls::kPskAes128CbcSha, tls::kPskTripleDesEdeCbcSha};
        so.min_version = tls::kTls10;
        tls::PskOptions co;
        co.suites = {c.suite};
        co.min_version = co.max_version = c.version;
        tls::Session server(server_config(so));
        tls::Session client(client_config(co));
        assert_ok(server.start());
        assert_ok(client.start());
        pump(client, server);
        assert_int_equal(static_cast<int>(server.state()),
                         static_cast<int>(tls::Session::State::Open));
        assert_int_equal(static_cast<int>(client.state()),
                         static_cast<int>(tls::Session::State::Open));
        assert_int_equal(server.suite(), c.suite);
        assert_string_equal(server.version().c_str(), c.version == tls::kTls12   ? "TLSv1.2"
                                                      : c.version == tls::kTls11 ? "TLSv1.1"
                                                                                 : "TLSv1.0");
        assert_hex_equal(server.identity(), to_hex(kIdentity));
        // Data both ways, larger than one record.
        Bytes big(10000);
        for (size_t i = 0; i < big.size(); i++)
            big[i] = static_cast<uint8_t>(i * 7);
        assert_ok(client.write(big));
        assert_ok(server.write(test::hex("aa0b22098400c10000")));
        pump(client, server);
        assert_hex_equal(server.take_plain(), to_hex(big));
        assert_hex_equal(client.take_plain(), "aa0b22098400c10000");
        client.close();
        pump(client, server);
        assert_true(server.peer_closed());
        assert_int_equal(static_cast<int>(server.state()),
                         static_cast<int>(tls::Session::State::Closed));
    }
    assert_string_equal(tls::suite_name(tls::kPskAes128CbcSha256).c_str(), "PSK-AES128-CBC-SHA256");
    assert_int_equal(*tls::suite_by_name("PSK-3DES-EDE-CBC-SHA"), tls::kPskTripleDesEdeCbcSha);
    assert_false(tls::suite_by_name("PSK-NULL-SHA256").has_value());
}

void test_max_fragment_length(void**) {
    for (uint16_t mfl : {uint16_t{512}, uint16_t{1024}, uint16_t{0}}) {
        tls::PskOptions co;
        co.max_fragment = mfl;
        tls::Session server(server_config());
        tls::Session client(client_config(co));
        assert_ok(server.start());
        assert_ok(client.start());
        pump(client, server);
        assert_int_equal(static_cast<int>(server.state()),
                         static_cast<int>(tls::Session::State::Open));
        assert_int_equal(server.max_fragment(), mfl ? mfl : 16384);
        assert_ok(server.write(Bytes(3000, 0x5a)));
        size_t largest = 0;
        pump(client, server, &largest);
        assert_int_equal(client.take_plain().size(), 3000);
        // A record carries the fragment plus IV, MAC and padding (AES-CBC, SHA-256: <= 80).
        assert_true(largest <= (mfl ? mfl : 16384) + 80u);
        if (mfl)
            assert_true(largest > mfl);
    }
}

void test_failures(void**) {
    // An identity the server does not know.
    {
        tls::PskOptions co;
        co.identity = test::hex("00112233");
        tls::Session server(server_config());
        tls::Session client(client_config(co));
        assert_ok(server.start());
        assert_ok(client.start());
        pump(client, server);
        assert_int_equal(static_cast<int>(server.state()),
                         static_cast<int>(tls::Session::State::Failed));
        assert_true(server.error().find("nknown identity") != std::string::npos);
        assert_hex_equal(server.identity(), "00112233");
        assert_int_equal(static_cast<int>(client.state()),
                         static_cast<int>(tls::Session::State::Failed));
    }
    // The right identity with a wrong key: the Finished message does not check.
    {
        tls::PskOptions co;
        co.psk = test::hex("ffffffffffffffffffffffffffffffff");
        tls::Session server(server_config());
        tls::Session client(client_config(co));
        assert_ok(server.start());
        assert_ok(client.start());
        pump(client, server);
        assert_int_equal(static_cast<int>(server.state()),
                         static_cast<int>(tls::Session::State::Failed));
        assert_true(server.error().find("MAC") != std::string::npos);
        assert_true(server.error().find("ffff") == std::string::npos);
    }
    // Not TLS at all.
    {
        tls::Session server(server_config());
        assert_ok(server.start());
        assert_false(server.feed(test::hex("504f5354202f20485454502f312e310d0a0d0a")).ok());
        assert_int_equal(static_cast<int>(server.state()),
                         static_cast<int>(tls::Session::State::Failed));
        assert_false(server.write(Bytes{1}).ok());
    }
    // No suite in common.
    {
        tls::PskOptions co;
        co.suites = {tls::kPskTripleDesEdeCbcSha};
        tls::Session server(server_config());
        tls::Session client(client_config(co));
        assert_ok(server.start());
        assert_ok(client.start());
        pump(client, server);
        assert_int_equal(static_cast<int>(server.state()),
                         static_cast<int>(tls::Session::State::Failed));
    }
    // Configurations refused.
    tls::PskOptions bad;
    bad.suites = {0x00b0}; // TLS_PSK_WITH_NULL_SHA256: not built into Debian's mbedTLS
    assert_error_contains(tls::Config::server(bad, nullptr), "0x00b0 is not available");
    bad.suites = {};
    assert_error_contains(tls::Config::server(bad, nullptr), "no cipher suite");
    tls::PskOptions versions;
    versions.min_version = tls::kTls12;
    versions.max_version = tls::kTls10;
    assert_error_contains(tls::Config::server(versions, nullptr), "TLS 1.0 to 1.2");
    tls::PskOptions mfl;
    mfl.identity = kIdentity;
    mfl.psk = kKey;
    mfl.max_fragment = 600;
    assert_error_contains(tls::Config::client(mfl), "512, 1024, 2048 or 4096");
}

} // namespace

int main() {
    const CMUnitTest tests[] = {
        cmocka_unit_test(test_suites_and_versions),
        cmocka_unit_test(test_max_fragment_length),
        cmocka_unit_test(test_failures),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
