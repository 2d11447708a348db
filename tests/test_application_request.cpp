// SPDX-License-Identifier: GPL-2.0-or-later
// Application requests as they arrive by SMS: the text grammar in English and Chinese (with
// the full-width forms phones produce), every refusal with its reason, the SMS text codings,
// and the binary request TLV both ways.
#include "intake/application_request.hpp"
#include "intake/msisdn.hpp"
#include "test_support.hpp"

using namespace otagw;
using namespace otagw::gateway;

namespace {

const std::vector<Keywords> kWords = default_keywords();

void expect(const char* text, Operation op, const char* code, const char* language) {
    TextParse p = parse_text_request(text, kWords);
    if (!p.request) {
        print_error("\"%s\" refused: %s\n", text, p.message.c_str());
        fail();
    }
    assert_int_equal(static_cast<int>(p.request->operation), static_cast<int>(op));
    assert_string_equal(p.request->app_code.c_str(), code);
    assert_string_equal(p.request->language.c_str(), language);
}

void refused(const char* text, TextRefusal why, const char* language) {
    TextParse p = parse_text_request(text, kWords);
    assert_false(p.request.has_value());
    assert_string_equal(text_refusal_name(p.refusal), text_refusal_name(why));
    assert_string_equal(p.language.c_str(), language);
}

void test_text_grammar(void**) {
    expect("ACT 01", Operation::Activate, "01", "en");
    expect("  act   01  ", Operation::Activate, "01", "en");
    expect("Sus 01", Operation::Suspend, "01", "en");
    expect("RES\t02", Operation::Resume, "02", "en");
    expect("END 03\r\n", Operation::Terminate, "03", "en");
    expect("qry ab1", Operation::Query, "AB1", "en");
    expect("开通 01", Operation::Activate, "01", "zh");
    expect("开通01", Operation::Activate, "01", "zh");    // CJK keyword touching the code
    expect("暂停　０１", Operation::Suspend, "01", "zh"); // ideographic space, full-width digits
    expect("恢复 01", Operation::Resume, "01", "zh");
    expect("注销 03", Operation::Terminate, "03", "zh");
    expect("查询 02", Operation::Query, "02", "zh");
    expect("ＡＣＴ　０１", Operation::Activate, "01", "en"); // full-width Latin
    refused("", TextRefusal::Empty, "en");
    refused("   ", TextRefusal::Empty, "en");
    refused("HELLO 01", TextRefusal::UnknownKeyword, "en");
    refused("ACT01", TextRefusal::UnknownKeyword, "en"); // a Latin keyword ends at a space
    refused("你好 01", TextRefusal::UnknownKeyword, "zh");
    refused("ACT", TextRefusal::NoAppCode, "en");
    refused("开通", TextRefusal::NoAppCode, "zh");
    refused("ACT 0-1", TextRefusal::BadAppCode, "en");
    refused("ACT 123456789", TextRefusal::BadAppCode, "en");
    refused("ACT 01 please", TextRefusal::TrailingWords, "en");
    refused("\xff\xfe", TextRefusal::UnknownKeyword, "en"); // not UTF-8
    // Keywords from a config: a French set next to the defaults.
    auto words = kWords;
    words.push_back({"fr", {{"ACTIVER", Operation::Activate}, {"ACT", Operation::Query}}});
    TextParse p = parse_text_request("activer 01", words);
    assert_true(p.request && p.request->language == "fr");
}

void test_sms_text_codings(void**) {
    // GSM 7-bit default alphabet, one septet per byte: "@£$" and the euro sign by escape.
    assert_string_equal(decode_sms_text(0x00, test::hex("00010220411b65"))->c_str(), "@£$ A€");
    assert_string_equal(decode_sms_text(0x00, test::hex("41435420303120"))->c_str(), "ACT 01 ");
    assert_error_contains(decode_sms_text(0x00, test::hex("4180")),
                          "byte 1 is not a GSM 7-bit septet");
    assert_error_contains(decode_sms_text(0x00, test::hex("411b")), "an escape not followed");
    // UCS-2: 开通 01, and a character beyond the BMP by its surrogate pair.
    assert_string_equal(decode_sms_text(0x08, test::hex("5f00901a002000300031"))->c_str(),
                        "开通 01");
    assert_string_equal(decode_sms_text(0x08, test::hex("d83dde00"))->c_str(), "\xf0\x9f\x98\x80");
    assert_error_contains(decode_sms_text(0x08, test::hex("5f")), "odd length");
    assert_error_contains(decode_sms_text(0x08, test::hex("de00")), "lone surrogate");
    // Latin-1 (SMPP 0x03) and the general group with the UCS-2 alphabet (0x18: class 0).
    assert_string_equal(decode_sms_text(0x03, test::hex("e9"))->c_str(), "é");
    assert_string_equal(decode_sms_text(0x18, test::hex("0041"))->c_str(), "A");
    assert_error_contains(decode_sms_text(0x04, test::hex("41")), "is 8-bit data, not text");
    assert_error_contains(decode_sms_text(0xf6, test::hex("41")), "is 8-bit data, not text");
    assert_error_contains(decode_sms_text(0x24, test::hex("41")), "not a text coding");
}

void test_binary_request(void**) {
    BinaryRequest r{Operation::Suspend, test::hex("f04f5441470101010001"), "", test::hex("0102")};
    const Bytes wire = encode_binary_request(r);
    assert_hex_equal(wire, "e1138001024f0af04f544147010101000182020102");
    auto back = parse_binary_request(wire);
    assert_ok(back);
    assert_int_equal(static_cast<int>(back->operation), 2);
    assert_hex_equal(back->aid, "f04f5441470101010001");
    assert_hex_equal(back->reference, "0102");
    auto by_code = parse_binary_request(test::hex("e10780010181023031"));
    assert_ok(by_code);
    assert_string_equal(by_code->app_code.c_str(), "01");
    assert_error_contains(parse_binary_request(test::hex("e003800101")), "template tag must be E1");
    assert_error_contains(parse_binary_request(test::hex("e103800107")), "01 to 06");
    assert_error_contains(parse_binary_request(test::hex("e10481023031")), "no operation (80)");
    assert_error_contains(parse_binary_request(test::hex("e103800101")), "one of them");
    assert_error_contains(parse_binary_request(test::hex("e10580010181")), "application request:");
    assert_error_contains(parse_binary_request(test::hex("e103800101ff")),
                          "bytes after the template");
}

void test_msisdn_normalisation(void**) {
    const MsisdnPolicy gb{"GB", {}};
    auto e164 = [&](const char* a, uint8_t ton, const MsisdnPolicy& p) {
        auto r = normalize_msisdn(a, ton, p);
        assert_ok(r);
        return *r;
    };
    assert_string_equal(e164("447911123456", 1, gb).c_str(), "447911123456"); // TON international
    assert_string_equal(e164("+44 7911 123456", 0, gb).c_str(), "447911123456");
    assert_string_equal(e164("07911 123456", 2, gb).c_str(), "447911123456"); // national, GB
    assert_string_equal(e164("07911-123456", 0, gb).c_str(), "447911123456");
    assert_string_equal(e164("999000000001", 1, {}).c_str(), "999000000001"); // test code 999
    const MsisdnPolicy cn{"CN", {"86138"}};
    assert_string_equal(e164("13800138000", 0, cn).c_str(), "8613800138000");
    assert_error_contains(normalize_msisdn("13900139000", 0, cn),
                          "MSISDN 8613900139000 is outside the operator's number ranges");
    assert_error_contains(normalize_msisdn("", 1, gb), "empty");
    assert_error_contains(normalize_msisdn("44abc", 1, gb), "digits only");
    assert_error_contains(normalize_msisdn("4479", 1, gb), "not a possible number of its country");
    assert_error_contains(normalize_msisdn("1234567890123456", 1, gb), "3 to 15 digits");
    assert_error_contains(normalize_msisdn("07911123456", 2, {}), "no region is configured");
    assert_error_contains(normalize_msisdn("12", 2, gb), "not a possible number in region GB");
}

} // namespace

int main() {
    const CMUnitTest tests[] = {
        cmocka_unit_test(test_text_grammar),
        cmocka_unit_test(test_sms_text_codings),
        cmocka_unit_test(test_binary_request),
        cmocka_unit_test(test_msisdn_normalisation),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
