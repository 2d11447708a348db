// SPDX-License-Identifier: GPL-2.0-or-later
// The SMPP Link against raw bytes from a peer: unknown command ids and unreadable PDUs get
// generic_nack with their sequence_number, PDUs split across reads or packed together are
// framed, an out-of-range command_length ends the connection, a late response is ignored and
// a request without answer times out.
#include "otagw/smpp/link.hpp"
#include "otagw/smpp/status.hpp"
#include "smpp_harness.hpp"
#include "test_support.hpp"

using namespace otagw;
using namespace otagw::smpp;
using test::hex;

namespace {

struct Pair {
    test::Loop l;
    uv::TcpServer server{&l.loop};
    std::unique_ptr<Link> link;         // the side under test
    std::unique_ptr<uv::TcpStream> raw; // the peer, writing raw bytes
    Bytes from_link;
    std::vector<Pdu> requests;
    std::string closed;
    Counters counters;

    Pair() {
        assert_int_equal(server.listen("127.0.0.1", 0,
                                       [this](std::unique_ptr<uv::TcpStream> s) {
                                           Link::Handlers h;
                                           h.on_request = [this](Pdu p) {
                                               requests.push_back(std::move(p));
                                           };
                                           h.on_closed = [this](int, const std::string& why) {
                                               closed = why;
                                           };
                                           link = std::make_unique<Link>(&l.loop, std::move(s),
                                                                         std::move(h), &counters,
                                                                         "test");
                                       }),
                         0);
        raw = std::make_unique<uv::TcpStream>(&l.loop);
        bool connected = false;
        assert_int_equal(raw->connect("127.0.0.1", server.port(),
                                      [&](int st) {
                                          assert_int_equal(st, 0);
                                          connected = true;
                                          raw->start([this](ByteView d) { append(from_link, d); },
                                                     [](int) {});
                                      }),
                         0);
        assert_true(test::run_until(
            &l.loop, [&] { return connected && link; }, 3000));
    }
    ~Pair() {
        link.reset();
        raw.reset();
        server.close();
    }
};

void test_nacks_and_framing(void**) {
    Pair p;
    // Unknown command id 0x99, sequence 4242: generic_nack ESME_RINVCMDID, sequence 4242.
    // Then an enquire_link split over two writes, and two packed into one.
    Bytes unknown = hex("00000010000000990000000000001092");
    Bytes enquire = hex("00000010000000150000000000000007");
    p.raw->write(unknown);
    p.raw->write(ByteView(enquire).first(5));
    assert_true(test::run_until(
        &p.l.loop, [&] { return p.from_link.size() >= 16; }, 2000));
    p.raw->write(ByteView(enquire).subspan(5));
    Bytes two = hex("00000010000000150000000000000008"
                    "00000010000000150000000000000009");
    p.raw->write(two);
    assert_true(test::run_until(
        &p.l.loop, [&] { return p.requests.size() == 3; }, 2000));
    assert_hex_equal(ByteView(p.from_link).first(16), "00000010800000000000000300001092");
    assert_int_equal(p.requests[0].sequence_number, 7);
    assert_int_equal(p.requests[2].sequence_number, 9);
    // An unreadable submit_sm (sm_length past the end): generic_nack, the link stays up.
    p.from_link.clear();
    Bytes bad = hex("0000002100000004000000000000000b"
                    "000000"
                    "00"
                    "000031303031"
                    "00"
                    "40"
                    "7f"
                    "00");
    store_be16(&bad[2], static_cast<uint16_t>(bad.size()));
    p.raw->write(bad);
    assert_true(test::run_until(
        &p.l.loop, [&] { return p.from_link.size() >= 16; }, 2000));
    auto h = peek_header(p.from_link);
    assert_int_equal(h->command_id, kGenericNack);
    assert_int_equal(h->sequence_number, 11);
    assert_true(h->command_status == ESME_RINVMSGLEN || h->command_status == ESME_RINVCMDLEN);
    assert_true(p.link->is_open());
    assert_int_equal(p.counters.get("smpp:pdu:malformed"), 2); // the unknown command and this one
}

void test_out_of_range_length_closes(void**) {
    for (const char* header : {"000111700000000400000000000000010", "00000004"}) {
        Pair p;
        std::string h(header);
        if (h.size() % 2)
            h.pop_back();
        p.raw->write(hex(h));
        assert_true(test::run_until(
            &p.l.loop, [&] { return !p.closed.empty(); }, 2000));
        assert_true(p.closed.find("command_length") != std::string::npos);
    }
}

void test_timeout_and_late_response(void**) {
    Pair p;
    std::vector<LinkError> outcomes;
    const uint32_t seq = p.link->request({kEnquireLink, 0, 0, NoBody{}}, 50,
                                         [&](const Response& r) { outcomes.push_back(r.error); });
    assert_true(test::run_until(
        &p.l.loop, [&] { return outcomes.size() == 1; }, 2000));
    assert_int_equal(static_cast<int>(outcomes[0]), static_cast<int>(LinkError::Timeout));
    assert_int_equal(p.counters.get("smpp:response:timeout"), 1);
    // The answer comes late: counted, ignored, no callback twice.
    Bytes late = hex("00000010800000150000000000000000");
    late[15] = static_cast<uint8_t>(seq);
    p.raw->write(late);
    assert_true(test::run_until(
        &p.l.loop, [&] { return p.counters.get("smpp:response:unexpected") == 1; }, 2000));
    assert_int_equal(outcomes.size(), 1);
    // A request answered by generic_nack ends as Nack with its status.
    p.link->request({kEnquireLink, 0, 0, NoBody{}}, 2000, [&](const Response& r) {
        outcomes.push_back(r.error);
        assert_int_equal(r.pdu->command_status, ESME_RINVCMDID);
    });
    assert_true(test::run_until(
        &p.l.loop, [&] { return p.from_link.size() >= 32; }, 2000));
    Bytes nack = hex("00000010800000000000000300000000");
    nack[15] = p.from_link[31];
    p.raw->write(nack);
    assert_true(test::run_until(
        &p.l.loop, [&] { return outcomes.size() == 2; }, 2000));
    assert_int_equal(static_cast<int>(outcomes[1]), static_cast<int>(LinkError::Nack));
    // Closing fails what is still outstanding.
    p.link->request({kEnquireLink, 0, 0, NoBody{}}, 2000,
                    [&](const Response& r) { outcomes.push_back(r.error); });
    p.link->close();
    assert_int_equal(outcomes.size(), 3);
    assert_int_equal(static_cast<int>(outcomes[2]), static_cast<int>(LinkError::Closed));
}

} // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nacks_and_framing),
        cmocka_unit_test(test_out_of_range_length_closes),
        cmocka_unit_test(test_timeout_and_late_response),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
