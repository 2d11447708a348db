// SPDX-License-Identifier: GPL-2.0-or-later
// SMPP PDU codec over libsmpp34: byte-exact packing of what the ESME sends, round trips of
// every supported command, and clear errors (never a crash, never a password) on bad input.
#include "otagw/smpp/pdu.hpp"
#include "otagw/smpp/status.hpp"
#include "test_support.hpp"

using namespace otagw;
using namespace otagw::smpp;
using test::hex;

namespace {

Bytes encoded(const Pdu& p) {
    Bytes out;
    Status st = encode(p, out);
    assert_ok(st);
    return out;
}

Pdu decoded(ByteView in) {
    auto r = decode(in);
    if (auto* e = std::get_if<DecodeError>(&r)) {
        print_error("decode failed: %s\n", e->message.c_str());
        fail();
    }
    return std::get<Pdu>(r);
}

SubmitSm sms_pp(const std::string& dest, Bytes ud) {
    SubmitSm s;
    s.source = {1, 1, "8888"};
    s.dest = {1, 1, dest};
    s.esm_class = 0x40;   // UDHI
    s.protocol_id = 0x7f; // SIM data download
    s.data_coding = 0xf6; // class 2, 8-bit
    s.registered_delivery = 1;
    s.short_message = std::move(ud);
    s.set_user_message_reference(0x1234);
    return s;
}

void test_submit_sm_bytes(void**) {
    Pdu p{kSubmitSm, 0, 7, sms_pp("1001", hex("027000aabb"))};
    // Header, service_type "", 01 01 "8888", 01 01 "1001", esm 40, pid 7F, prio 0, "" "",
    // registered 01, replace 0, dcs F6, default id 0, sm_length 5 + UD, TLV 0204 0002 1234.
    assert_hex_equal(encoded(p), "00000034000000040000000000000007"
                                 "00"
                                 "0101"
                                 "3838383800"
                                 "0101"
                                 "3130303100"
                                 "407f00"
                                 "00"
                                 "00"
                                 "0100f60005"
                                 "027000aabb"
                                 "020400021234");
    Pdu back = decoded(encoded(p));
    const auto& s = std::get<SubmitSm>(back.body);
    assert_int_equal(back.sequence_number, 7);
    assert_int_equal(*s.user_message_reference(), 0x1234);
    assert_hex_equal(s.user_data(), "027000aabb");
    assert_string_equal(s.dest.addr.c_str(), "1001");
    assert_int_equal(s.protocol_id, 0x7f);
}

void test_roundtrip_every_command(void**) {
    Bind b;
    b.type = BindType::Transceiver;
    b.system_id = "OTAGW";
    b.password = "otapass";
    b.system_type = "OTA";
    b.address_range = {1, 1, "8888"};
    for (BindType t : {BindType::Transmitter, BindType::Receiver, BindType::Transceiver}) {
        b.type = t;
        Pdu back = decoded(encoded({bind_command(t), 0, 1, b}));
        const auto& got = std::get<Bind>(back.body);
        assert_string_equal(got.system_id.c_str(), "OTAGW");
        assert_string_equal(got.password.c_str(), "otapass");
        assert_string_equal(got.system_type.c_str(), "OTA");
        assert_int_equal(got.interface_version, 0x34);
        assert_int_equal(static_cast<int>(got.type), static_cast<int>(t));
        Pdu resp =
            decoded(encoded({bind_command(t) | kResponseBit, 0, 1, BindResp{t, "SMSC", 0x34}}));
        assert_string_equal(std::get<BindResp>(resp.body).system_id.c_str(), "SMSC");
        assert_int_equal(*std::get<BindResp>(resp.body).sc_interface_version, 0x34);
    }
    DeliverSm d;
    d.source = {3, 1, "1001"}; // osmo-msc sends MO sources as network specific
    d.dest = {1, 1, "8888"};
    d.esm_class = 0x04; // delivery receipt
    d.short_message = Bytes{'i', 'd', ':', '1'};
    d.tlvs.push_back({kTlvReceiptedMessageId, Bytes{'4', '2', 0}});
    d.tlvs.push_back({kTlvMessageState, {2}});
    d.set_user_message_reference(77);
    Pdu dr = decoded(encoded({kDeliverSm, 0, 9, d}));
    const auto& got = std::get<DeliverSm>(dr.body);
    assert_int_equal(got.source.ton, 3);
    assert_string_equal(got.receipted_message_id()->c_str(), "42");
    assert_int_equal(*got.message_state(), 2);
    assert_int_equal(*got.user_message_reference(), 77);
    Pdu resp = decoded(encoded({kSubmitSmResp, 0, 9, SubmitSmResp{"msg_id_not_implemented"}}));
    assert_string_equal(std::get<SubmitSmResp>(resp.body).message_id.c_str(),
                        "msg_id_not_implemented");
    decoded(encoded({kDeliverSmResp, 0, 9, DeliverSmResp{}}));
    for (uint32_t id : {kEnquireLink, kEnquireLinkResp, kUnbind, kUnbindResp, kGenericNack}) {
        Bytes e = encoded({id, id == kGenericNack ? ESME_RINVCMDID : 0u, 5, NoBody{}});
        assert_int_equal(e.size(), 16);
        Pdu back = decoded(e);
        assert_int_equal(back.command_id, id);
    }
    AlertNotification a{{1, 1, "1001"}, {1, 1, "8888"}, 0};
    Pdu al = decoded(encoded({kAlertNotification, 0, 3, a}));
    assert_int_equal(*std::get<AlertNotification>(al.body).ms_availability_status, 0);
    // message_payload instead of short_message.
    SubmitSm big = sms_pp("1001", {});
    big.tlvs.push_back({kTlvMessagePayload, Bytes(400, 0x5a)});
    Pdu bp = decoded(encoded({kSubmitSm, 0, 11, big}));
    assert_int_equal(std::get<SubmitSm>(bp.body).user_data().size(), 400);
}

void test_encode_rejections(void**) {
    Bytes out;
    Bind b;
    b.system_id = "a-system-id-longer-than-15";
    b.password = "secretpw";
    assert_error_contains(encode({kBindTransceiver, 0, 1, b}, out), "system_id");
    b.system_id = "OTAGW";
    b.password = "toolongpassword";
    Status st = encode({kBindTransceiver, 0, 1, b}, out);
    assert_error_contains(st, "password");
    assert_true(st.error().message.find("toolongpassword") == std::string::npos);
    assert_error_contains(encode({kSubmitSm, 0, 0, sms_pp("1", {})}, out), "sequence_number");
    assert_error_contains(encode({kSubmitSm, 0, 1, sms_pp("1", Bytes(255, 0))}, out),
                          "message_payload");
    assert_error_contains(encode({kSubmitSm, 0, 1, NoBody{}}, out), "body");
    assert_error_contains(encode({kDataSm, 0, 1, NoBody{}}, out), "data_sm");
}

void test_decode_rejections(void**) {
    Bytes good = encoded({kSubmitSm, 0, 7, sms_pp("1001", hex("027000aabb"))});
    auto status_of = [](ByteView in) -> uint32_t {
        auto r = decode(in);
        auto* e = std::get_if<DecodeError>(&r);
        return e ? e->command_status : 0xffffffff;
    };
    // Truncated anywhere: an error, never a crash (with the length fixed up, a body error).
    for (size_t n = 0; n < good.size(); n++) {
        Bytes cut(good.begin(), good.begin() + static_cast<long>(n));
        assert_true(status_of(cut) != 0xffffffff);
        if (n >= 16) { // the length fixed up: still an error, but for the cut at the TLVs
            store_be16(&cut[2], static_cast<uint16_t>(n));
            assert_true(status_of(cut) != 0xffffffff || n == good.size() - 6);
        }
    }
    // command_length disagreeing with the bytes given.
    Bytes longer = good;
    longer.push_back(0);
    assert_int_equal(status_of(longer), ESME_RINVCMDLEN);
    // Unknown and unsupported command ids: answer generic_nack ESME_RINVCMDID.
    Bytes unknown = hex("00000010000000990000000000001092");
    assert_int_equal(status_of(unknown), ESME_RINVCMDID);
    Bytes query = hex("00000010000000030000000000000001");
    assert_int_equal(status_of(query), ESME_RINVCMDID);
    // A bind whose fields are not terminated: the error names the field, not the password.
    Bytes bind = hex("0000002600000009000000000000000141424300"
                     "7365637265747777777777");
    store_be16(&bind[2], static_cast<uint16_t>(bind.size()));
    auto r = decode(bind);
    auto* e = std::get_if<DecodeError>(&r);
    assert_non_null(e);
    assert_true(e->message.find("secretwww") == std::string::npos);
    // An error response without body is legal (SMPP 3.4 §3.3).
    Pdu nack_resp = decoded(hex("00000010800000040000005800000003"));
    assert_int_equal(nack_resp.command_status, ESME_RTHROTTLED);
    // enquire_link with a body.
    assert_int_equal(status_of(hex("000000110000001500000000000000010a")), ESME_RINVCMDLEN);
}

void test_status_names(void**) {
    assert_string_equal(status_name(ESME_RTHROTTLED).c_str(), "ESME_RTHROTTLED");
    assert_string_equal(status_name(0x0000000e).c_str(), "ESME_RINVPASWD");
    assert_string_equal(status_name(0x00000400).c_str(), "ESME_0x00000400");
    assert_true(is_throttling(ESME_RMSGQFUL));
    assert_true(is_transient(ESME_RSYSERR));
    assert_false(is_transient(ESME_RINVDSTADR));
    assert_string_equal(command_name(kDeliverSmResp), "deliver_sm_resp");
}

} // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_submit_sm_bytes),   cmocka_unit_test(test_roundtrip_every_command),
        cmocka_unit_test(test_encode_rejections), cmocka_unit_test(test_decode_rejections),
        cmocka_unit_test(test_status_names),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
