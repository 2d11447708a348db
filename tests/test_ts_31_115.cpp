// SPDX-License-Identifier: GPL-2.0-or-later
// SMS-PP user data (TS 23.040 / TS 31.115): UDH parsing, segmentation of long packets into
// concatenated SMS, reassembly out of order and with duplicates, expiry, malformed input.
#include <algorithm>
#include <random>

#include "otagw/ota/ts_102_225.hpp"
#include "otagw/ota/ts_31_115.hpp"
#include "test_support.hpp"

using namespace otagw;
using namespace otagw::ota;
using test::hex;

namespace {

Bytes packet_of(size_t n) {
    Bytes p(n);
    for (size_t i = 0; i < n; i++)
        p[i] = static_cast<uint8_t>(i * 31 + 7);
    return p;
}

void test_segment_sizes(void**) {
    auto one = sms::segment_command_packet(packet_of(137), 0x42);
    assert_ok(one);
    assert_int_equal(one->size(), 1);
    assert_int_equal(one->at(0).size(), 140);
    assert_hex_equal(ByteView(one->at(0)).first(3), "027000");

    auto two = sms::segment_command_packet(packet_of(138), 0x42);
    assert_ok(two);
    assert_int_equal(two->size(), 2);
    // First: IE 70 and the concatenation IE (ref 42, 2 parts, #1), 132 bytes of packet.
    assert_hex_equal(ByteView(two->at(0)).first(8), "0770000003420201");
    assert_int_equal(two->at(0).size(), 140);
    // Then only the concatenation IE.
    assert_hex_equal(ByteView(two->at(1)).first(6), "050003420202");
    assert_int_equal(two->at(1).size(), 6 + 6);

    auto many = sms::segment_command_packet(packet_of(132 + 134 * 254), 1);
    assert_ok(many);
    assert_int_equal(many->size(), 255);
    for (const auto& s : *many)
        assert_true(s.size() <= sms::kMaxUserData);
    assert_false(sms::segment_command_packet(packet_of(132 + 134 * 254 + 1), 1).ok());
}

void test_reassembly_out_of_order_and_duplicates(void**) {
    std::mt19937 rng(11);
    for (size_t len : {size_t{10}, size_t{138}, size_t{600}, size_t{2000}}) {
        Bytes packet = packet_of(len);
        auto segs = sms::segment_command_packet(packet, static_cast<uint8_t>(len));
        assert_ok(segs);
        std::vector<Bytes> arrivals = *segs;
        arrivals.push_back(segs->front()); // duplicates of the first and the last
        arrivals.push_back(segs->back());
        std::shuffle(arrivals.begin(), arrivals.end(), rng);
        // Complete only when the last missing segment arrives; a late duplicate starts nothing.
        sms::Reassembler r;
        std::optional<Bytes> done;
        size_t completions = 0;
        for (const auto& s : arrivals) {
            auto out = r.add("+491701234567", s, 1000);
            assert_ok(out);
            if (*out) {
                done = **out;
                completions++;
            }
        }
        assert_true(done.has_value());
        assert_true(*done == sms::command_user_data(packet));
        assert_true(completions >= 1);
    }
}

void test_reassembly_keys_and_expiry(void**) {
    Bytes a = packet_of(300), b = packet_of(301);
    auto sa = *sms::segment_command_packet(a, 7);
    auto sb = *sms::segment_command_packet(b, 7); // same reference, other originator
    sms::Reassembler r(2);
    assert_false((*r.add("1001", sa[0], 10)).has_value());
    assert_false((*r.add("1002", sb[0], 20)).has_value());
    assert_int_equal(r.pending(), 2);
    // A third partial message does not fit: reported, nothing lost silently.
    auto third = *sms::segment_command_packet(packet_of(400), 9);
    assert_error_contains(r.add("1003", third[0], 30), "pending");
    // Expiry drops the partial messages older than the cutoff.
    assert_int_equal(r.expire(15), 1);
    assert_int_equal(r.pending(), 1);
    for (size_t i = 1; i < sb.size(); i++) {
        auto out = r.add("1002", sb[i], 40);
        assert_ok(out);
        if (i + 1 == sb.size())
            assert_true(**out == sms::command_user_data(b));
    }
    assert_int_equal(r.pending(), 0);
    // A single SMS comes back at once, its UDH kept.
    auto single = r.add("1001", hex("027100aabb"), 50);
    assert_ok(single);
    assert_hex_equal(**single, "027100aabb");
}

void test_concatenated_por_verifies(void**) {
    // A PoR long enough to need two SMS (the card side would send it so); once reassembled,
    // its CC verifies over the standard UDH '027100'.
    OtaKeys keys = OtaKeys::create(0x12, hex("000102030405060708090a0b0c0d0e0f"), 0x12,
                                   hex("0f0e0d0c0b0a09080706050403020100"));
    ResponseHeader h;
    h.spi = *Spi::parse("1639");
    h.kic = 0x12;
    h.kid = 0x12;
    h.tar = {0, 0, 0};
    h.counter = 42;
    Bytes data = packet_of(200);
    Bytes por;
    assert_ok(build_response_packet(h, keys, data, true, por));
    auto segs = sms::segment_packet(ByteView(por).subspan(3), sms::kIeiResponsePacket, 3);
    assert_ok(segs);
    assert_int_equal(segs->size(), 2);
    sms::Reassembler r;
    assert_false((*r.add("1001", segs->at(1), 0)).has_value());
    auto whole = r.add("1001", segs->at(0), 0);
    assert_ok(whole);
    assert_true(**whole == por);
    auto decoded = decode_response_packet(**whole, h.spi, keys);
    assert_ok(decoded);
    assert_int_equal(static_cast<int>(decoded->integrity), static_cast<int>(IntegrityCheck::Ok));
    assert_true(decoded->data == data);
}

void test_sixteen_bit_reference(void**) {
    sms::Reassembler r;
    assert_false((*r.add("x", hex("080804123402017000aa"), 0)).has_value());
    auto out = r.add("x", hex("080804123402027100bb"), 0);
    assert_ok(out);
    // IEs other than concatenation come from segment 1 ('70' here; '71' of #2 is ignored).
    assert_hex_equal(**out, "027000aabb");
}

// A text in two parts with no other IE comes back behind UDHL '00' (9274d6b returned no UDH,
// and its reader took the first characters for one); GSM-7 parts as SMPP carries them, a
// character per octet, may be 159 octets.
void test_text_parts(void**) {
    sms::Reassembler r;
    assert_false((*r.add("x", hex("050003070202cdef"), 0)).has_value());
    assert_hex_equal(**r.add("x", hex("050003070201ab"), 0), "00abcdef");
    Bytes part = hex("050003080201");
    part.resize(159, 'a');
    assert_false(r.add("x", part, 0).ok());
    assert_true(r.add("x", part, 0, sms::kMaxUnpackedSeptets).ok());
    part.resize(161, 'a');
    assert_false(r.add("y", part, 0, sms::kMaxUnpackedSeptets).ok());
}

void test_malformed_user_data(void**) {
    const char* bad[] = {
        "",               // no UDHL
        "05000342",       // UDHL beyond the data
        "037001",         // IE length beyond the UDH
        "0370",           // truncated IE
        "050003420300aa", // sequence 0
        "050003420204aa", // sequence beyond total
        "050003420000aa", // total 0
        "0400024201aa",   // concatenation IE of 2 octets
        "06080342020100", // 16-bit IE of 3 octets
    };
    for (const char* h : bad) {
        sms::Reassembler r;
        Bytes in = hex(h);
        if (r.add("x", in, 0).ok()) {
            print_error("accepted malformed user data '%s'\n", h);
            fail();
        }
    }
    assert_false(sms::parse_user_data(Bytes(141, 0)).ok());
}

} // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_segment_sizes),
        cmocka_unit_test(test_reassembly_out_of_order_and_duplicates),
        cmocka_unit_test(test_reassembly_keys_and_expiry),
        cmocka_unit_test(test_concatenated_por_verifies),
        cmocka_unit_test(test_sixteen_bit_reference),
        cmocka_unit_test(test_text_parts),
        cmocka_unit_test(test_malformed_user_data),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
