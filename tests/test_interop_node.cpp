// SPDX-License-Identifier: GPL-2.0-or-later
// Interop with an independent SMPP implementation: a peer built on the npm package `smpp`
// (tests/interop/node-peer). It answers our submit_sm, sends a PoR deliver_sm back from the
// card's number and a delivery receipt; the ESME must correlate the receipt to its submission
// and hand over the PoR, which decodes. The traffic is captured with tshark and must be clean.
// Skipped (77) when node, its smpp module or tshark are missing, unless OTAGW_REQUIRE_INTEROP=1.
#include <set>

#include "interop/process.hpp"
#include "otagw/ota/ts_102_225.hpp"
#include "otagw/ota/ts_102_226.hpp"
#include "otagw/smpp/status.hpp"
#include "smpp_harness.hpp"
#include "test_support.hpp"

using namespace otagw;
using namespace otagw::smpp;
using namespace otagw::ota;

namespace {

std::string g_dir;
const std::string kPeerDir = OTAGW_NODE_PEER_DIR;

void test_node_peer(void**) {
    const uint16_t port = interop::free_port();
    interop::Process peer("node-peer",
                          {"node", kPeerDir + "/peer.js", "--port", std::to_string(port)}, g_dir);
    if (!peer.wait_log("listening")) {
        print_error("the node peer did not start: %s\n", peer.log().c_str());
        fail();
    }
    interop::Capture capture(g_dir, {port});
    assert_true(capture.ready());
    test::Loop l;

    // A wrong password is refused with its status named.
    {
        EsmeConfig ec;
        BindConfig b = test::bind_to(port, "node");
        b.password = "nope";
        b.reconnect_min_ms = 5000;
        ec.binds.push_back(b);
        std::string why;
        Esme::Handlers h;
        h.on_bind_error = [&](const std::string&, const std::string& w) {
            why = w;
        };
        Esme refused(&l.loop, ec, h);
        refused.start();
        assert_true(test::run_until(
            &l.loop, [&] { return !why.empty(); }, 5000));
        assert_true(why.find("ESME_RINVPASWD") != std::string::npos);
        bool stopped = false;
        refused.stop([&] { stopped = true; });
        test::run_until(
            &l.loop, [&] { return stopped; }, 2000);
    }

    EsmeConfig ec;
    BindConfig b = test::bind_to(port, "node");
    b.enquire_link_ms = 100;
    ec.binds.push_back(b);
    std::vector<Receipt> receipts;
    std::vector<Mo> mos;
    Counters counters;
    Esme::Handlers h;
    h.on_receipt = [&](const Receipt& r) {
        receipts.push_back(r);
    };
    h.on_mo = [&](const Mo& m) {
        mos.push_back(m);
        return MoVerdict::Taken;
    };
    Esme esme(&l.loop, ec, h, &counters);
    esme.start();
    assert_true(test::run_until(
        &l.loop, [&] { return esme.bound_sessions() == 1; }, 5000));

    std::vector<SubmitResult> results;
    for (int i = 0; i < 3; i++) {
        SmsPp m;
        m.source = {1, 1, "8888"};
        m.dest = {1, 1, "100" + std::to_string(i)};
        // pySim's SJA5 3DES command packet: SPI 0619 asks for a PoR.
        m.user_data =
            test::hex("02700000201506193535b00011ae733256918d050b87c94fbfe12e4dc402f262c41cf67f2f");
        esme.submit(m, [&](const SubmitResult& r) { results.push_back(r); });
    }
    assert_true(test::run_until(
        &l.loop, [&] { return results.size() == 3 && receipts.size() == 3 && mos.size() == 3; },
        5000));
    std::set<uint64_t> submitted, correlated;
    for (const SubmitResult& r : results) {
        assert_true(r.ok);
        assert_int_equal(r.segments[0].message_id.size(), 8); // the peer's "00000001", ...
        submitted.insert(r.id);
    }
    for (const Receipt& r : receipts) {
        assert_string_equal(r.stat.c_str(), "DELIVRD");
        assert_true(r.submission_id.has_value());
        correlated.insert(*r.submission_id);
    }
    assert_true(submitted == correlated);
    // The PoRs: from the card's number, TAR and counter echoed, 1 command with SW 9000.
    OtaKeys keys = OtaKeys::create(0x35, {}, 0x35, {});
    for (const Mo& mo : mos) {
        assert_true(mo.udhi);
        assert_true(mo.source.addr.rfind("100", 0) == 0);
        auto por = decode_response_packet(mo.user_data, *Spi::parse("0619"), keys);
        assert_ok(por);
        assert_hex_equal(por->tar, "b00011");
        assert_int_equal(por->status, 0);
        assert_int_equal(static_cast<int>(por->integrity),
                         static_cast<int>(IntegrityCheck::Absent));
        auto compact = ram::parse_compact_response(por->data);
        assert_ok(compact);
        assert_int_equal(compact->last_sw, 0x9000);
    }
    test::run_until(
        &l.loop, [] { return false; }, 300); // enquire_link rounds
    assert_int_equal(counters.get("smpp:enquire_link:timeout"), 0);
    bool stopped = false;
    esme.stop([&] { stopped = true; });
    assert_true(test::run_until(
        &l.loop, [&] { return stopped; }, 3000));
    std::string problem = capture.check();
    if (!problem.empty()) {
        print_error("capture: %s\n", problem.c_str());
        fail();
    }
    print_message("tshark decoded %d SMPP frames cleanly\n", capture.frames());
    assert_true(peer.log().find("\"command\":\"unbind\"") != std::string::npos);
}

} // namespace

int main() {
    interop::require_or_skip({"node", "tshark"});
    if (access((kPeerDir + "/node_modules/smpp").c_str(), F_OK) != 0) {
        const char* required = std::getenv("OTAGW_REQUIRE_INTEROP");
        std::fprintf(stderr, "%s: run 'npm ci' in %s\n", required ? "FAILED" : "SKIPPED",
                     kPeerDir.c_str());
        return required ? 1 : 77;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_node_peer),
    };
    return test::run_in_temp_dir("otagw-interop-node", g_dir, tests);
}
