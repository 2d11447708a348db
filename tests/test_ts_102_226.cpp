// SPDX-License-Identifier: GPL-2.0-or-later
// TS 102 226 remote APDU formats: compact vectors (ram_ts102226.json), expanded definite and
// indefinite templates, compact script splitting, format detection, malformed input.
#include "otagw/ota/globalplatform.hpp"
#include "otagw/ota/ts_102_226.hpp"
#include "test_support.hpp"

using namespace otagw;
using namespace otagw::ota;
using test::hex;

namespace {

Aid aid(const char* h) {
    return *Aid::parse(h);
}

void test_compact_vectors(void**) {
    auto file = test::load_vectors("ram_ts102226.json");
    size_t n = 0;
    for (const auto& v : file["vectors"]) {
        print_message("vector %s\n", v["id"].get<std::string>().c_str());
        // The command string is one C-APDU (SELECT without Le, answered 61xx as over T=0).
        auto script = ram::parse_compact_script(hex(v["inputs"]["secured_data_command"]));
        assert_ok(script);
        assert_int_equal(script->size(), 1);
        assert_hex_equal(ram::compact_script(*script),
                         v["inputs"]["secured_data_command"].get<std::string>());
        Bytes response = hex(v["expected"]["secured_data_response"]);
        auto r = ram::parse_compact_response(response);
        assert_ok(r);
        const auto& d = v["expected"]["decoded_response"];
        assert_int_equal(r->executed, d["number_of_commands"].get<int>());
        assert_int_equal(r->last_sw,
                         std::stoul(d["last_status_word"].get<std::string>(), nullptr, 16));
        assert_hex_equal(r->last_data, d["last_response_data"].get<std::string>());
        assert_hex_equal(ram::encode_compact_response(*r),
                         v["expected"]["secured_data_response"].get<std::string>());
        assert_false(ram::is_expanded_response(response));
        n++;
    }
    assert_int_equal(n, file["vectors"].size());
}

std::vector<Apdu> sample_script() {
    gp::InstallForInstall p;
    p.load_file = aid("a0000000871002");
    p.module = aid("a000000087100201");
    p.instance = aid("a0000000871002ff49ff0589");
    p.make_selectable = true;
    return {gp::select_by_aid(aid("a000000151000000")),
            gp::set_application_lock(aid("a0000000871002ff49ff0589"), true),
            *gp::install_for_install(p),
            gp::delete_object(aid("a0000000871002ff49ff0589"), true),
            *gp::get_status(gp::GetStatusRequest{}),
            gp::get_data(0x00e0),
            Apdu{0x00, 0xc0, 0x00, 0x00, {}, 0x20},                    // GET RESPONSE, case 2
            Apdu{0x00, 0xa4, 0x00, 0x04, {0x3f, 0x00}, std::nullopt}}; // SELECT without Le
}

void test_compact_script_split(void**) {
    auto apdus = sample_script();
    Bytes script = ram::compact_script(apdus);
    auto back = ram::parse_compact_script(script);
    assert_ok(back);
    assert_int_equal(back->size(), apdus.size());
    for (size_t i = 0; i < apdus.size(); i++)
        assert_hex_equal(back->at(i).encode(), apdus[i].hex());
    assert_false(ram::is_expanded_command(script));
    // Not a whole number of commands.
    assert_false(ram::parse_compact_script(hex("80f04080")).ok()); // P3 missing
    assert_false(ram::parse_compact_script(hex("80f0408005a0000000")).ok());
    assert_false(ram::parse_compact_script({}).ok());
}

void test_expanded_definite_and_indefinite(void**) {
    auto apdus = sample_script();
    for (bool indefinite : {false, true}) {
        Bytes script = ram::expanded_script(apdus, indefinite);
        assert_int_equal(script[0], indefinite ? 0xae : 0xaa);
        assert_true(ram::is_expanded_command(script));
        auto back = ram::parse_expanded_script(script);
        assert_ok(back);
        assert_int_equal(back->indefinite, indefinite);
        auto parsed = back->apdus();
        assert_int_equal(parsed.size(), apdus.size());
        for (size_t i = 0; i < apdus.size(); i++)
            assert_hex_equal(parsed[i].encode(), apdus[i].hex());
    }
    // Exact encodings of one STORE DATA: 'AA 07 22 05 ...' and 'AE 80 22 05 ... 00 00'.
    std::vector<Apdu> one{Apdu{0x80, 0xe2, 0x90, 0x00, {}, 0x00}};
    assert_hex_equal(ram::expanded_script(one, false), "aa07220580e2900000");
    assert_hex_equal(ram::expanded_script(one, true), "ae80220580e29000000000");
}

void test_expanded_response(void**) {
    ram::ExpandedResponse r;
    r.executed = 2;
    r.r_apdus.push_back({{}, 0x9000});
    r.r_apdus.push_back({hex("e30e4f05a0000000019f700107c50100"), 0x9000});
    for (bool indefinite : {false, true}) {
        r.indefinite = indefinite;
        Bytes enc = ram::encode_expanded_response(r);
        assert_true(ram::is_expanded_response(enc));
        auto back = ram::parse_expanded_response(enc);
        assert_ok(back);
        assert_int_equal(*back->executed, 2);
        assert_int_equal(back->r_apdus.size(), 2);
        assert_int_equal(back->r_apdus[1].sw, 0x9000);
        assert_hex_equal(back->r_apdus[1].data, "e30e4f05a0000000019f700107c50100");
        assert_false(back->bad_format.has_value());
    }
    r.indefinite = false;
    assert_hex_equal(ram::encode_expanded_response(r),
                     "ab1b800102230290002312e30e4f05a0000000019f700107c501009000");
    // Bad format answer: '90'.
    auto bad = ram::parse_expanded_response(hex("ab06800100900101"));
    assert_ok(bad);
    assert_hex_equal(*bad->bad_format, "01");
}

void test_expanded_rejections(void**) {
    const char* bad[] = {
        "aa",     // truncated
        "aa0522", // value shorter than the length
        "aa03220100"
        "00",                         // bytes after the template
        "ae80220580e2900000",         // indefinite without end-of-contents
        "ae80220580e290000000000000", // bytes after end-of-contents
        "ab0423039000",               // R-APDU item overruns
        "ac00",                       // not a template tag
        "aa04220280e2",               // C-APDU shorter than a header
        "aa0722058000000000"
        "ff", // trailing junk
    };
    for (const char* h : bad) {
        Bytes in = hex(h);
        bool accepted = ram::is_expanded_response(in) ? ram::parse_expanded_response(in).ok()
                                                      : ram::parse_expanded_script(in).ok();
        if (accepted) {
            print_error("accepted malformed expanded data %s\n", h);
            fail();
        }
    }
    assert_false(ram::parse_expanded_response(hex("ab0380020100")).ok()); // count of 2 bytes
    assert_false(ram::parse_compact_response(hex("0190")).ok());
}

void test_tar_constants(void**) {
    assert_hex_equal(ram::kTarIsdRam, "000000");
    assert_hex_equal(ram::kTarRfmUicc, "b00000");
    assert_hex_equal(ram::kTarRfmUsim, "b00001");
}

} // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_compact_vectors),
        cmocka_unit_test(test_compact_script_split),
        cmocka_unit_test(test_expanded_definite_and_indefinite),
        cmocka_unit_test(test_expanded_response),
        cmocka_unit_test(test_expanded_rejections),
        cmocka_unit_test(test_tar_constants),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
