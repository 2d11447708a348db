// SPDX-License-Identifier: GPL-2.0-or-later
// otactl's offline tools as other programs drive them: one JSON object on stdout, exit 2 with
// a message naming the bad field on stderr, and never a key in any output.
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>
#include <vector>

#include "test_support.hpp"

namespace {

using Run = test::CommandRun;

std::string quote(const std::string& s) {
    std::string q(1, '\'');
    for (char c : s) {
        if (c == '\'')
            q.append("'\\''");
        else
            q.push_back(c);
    }
    q.push_back('\'');
    return q;
}

Run run(const std::vector<std::string>& args) {
    std::string cmd = quote(OTACTL_PATH);
    for (const auto& a : args) {
        cmd.push_back(' ');
        cmd.append(quote(a));
    }
    return test::run_command(cmd);
}

test::Json json_of(const Run& r) {
    if (r.status != 0) {
        print_error("exit %d, stderr: %s\n", r.status, r.err.c_str());
        fail();
    }
    return test::Json::parse(r.out);
}

void expect_usage_error(const std::vector<std::string>& args, const char* names,
                        const std::vector<std::string>& secrets = {}) {
    Run r = run(args);
    if (r.status != 2 || r.err.find(names) == std::string::npos || !r.out.empty()) {
        print_error("expected exit 2 naming '%s', got %d: %s\n", names, r.status, r.err.c_str());
        fail();
    }
    for (const auto& s : secrets)
        if (r.err.find(s) != std::string::npos || r.err.find(test::lower(s)) != std::string::npos) {
            print_error("a key appears in the error output: %s\n", r.err.c_str());
            fail();
        }
}

const test::Json& vector_named(const test::Json& file, const std::string& id) {
    for (const auto& v : file["vectors"])
        if (v["id"] == id)
            return v;
    print_error("no vector %s\n", id.c_str());
    fail();
    std::abort();
}

void test_packet_encode_vectors(void**) {
    auto file = test::load_vectors("ota_scp80.json");
    size_t n = 0;
    for (const auto& v : file["vectors"]) {
        if (!v["expected"].contains("command_packet"))
            continue;
        const auto& in = v["inputs"];
        auto j = json_of(
            run({"packet", "encode", "--spi", in["spi"], "--kic", in["kic_byte"], "--kid",
                 in["kid_byte"], "--kic-key", in["kic_key"], "--kid-key", in["kid_key"], "--tar",
                 in["tar"], "--cntr", in["cntr"], "--data", in["secured_data_apdu"]}));
        const std::string packet = v["expected"]["command_packet"];
        assert_string_equal(j["command_packet"].get<std::string>().c_str(), packet.c_str());
        assert_string_equal(j["user_data"].get<std::string>().c_str(), ("027000" + packet).c_str());
        assert_int_equal(j["segments"].size(), 1);
        assert_string_equal(j["segments"][0].get<std::string>().c_str(),
                            ("027000" + packet).c_str());
        // The PoR of the same vector, with and without its UDH.
        std::string por = v["response"]["input_response_packet_with_udh"];
        for (const std::string& data : {por, por.substr(6)}) {
            auto d = json_of(run({"packet", "decode-por", "--spi", in["spi"], "--kic",
                                  in["kic_byte"], "--kid", in["kid_byte"], "--kic-key",
                                  in["kic_key"], "--kid-key", in["kid_key"], "--data", data}));
            assert_string_equal(d["status"].get<std::string>().c_str(), "00");
            assert_string_equal(d["status_name"].get<std::string>().c_str(), "por_ok");
            assert_string_equal(d["tar"].get<std::string>().c_str(), "b00011");
            assert_string_equal(d["cntr"].get<std::string>().c_str(), "0000000000");
            assert_string_equal(d["data"].get<std::string>().c_str(), "016132");
            assert_string_equal(d["response"]["format"].get<std::string>().c_str(), "compact");
            assert_int_equal(d["response"]["number_of_commands"].get<int>(), 1);
            assert_string_equal(d["response"]["last_status_word"].get<std::string>().c_str(),
                                "6132");
            const bool cc = in["spi"].get<std::string>() != "0601";
            assert_string_equal(d["integrity"].get<std::string>().c_str(), cc ? "ok" : "absent");
        }
        n++;
    }
    assert_int_equal(n, 4);
}

void test_decode_por_tampered(void**) {
    auto file = test::load_vectors("ota_scp80.json");
    const auto& v = vector_named(file, "pysim-3des-real-test_resp_3des_signed_err");
    const auto& in = v["inputs"];
    auto d = json_of(run({"packet", "decode-por", "--spi", in["spi"], "--kic", in["kic_byte"],
                          "--kid", in["kid_byte"], "--kic-key", in["kic_key"], "--kid-key",
                          in["kid_key"], "--data", in["response_packet_with_udh"]}));
    assert_string_equal(d["integrity"].get<std::string>().c_str(), "failed");
}

// An SPI asking for a redundancy check: the KID names a CRC (TS 102 225 §5.1.3), any KID key
// given is not used (otactl of 9274d6b read KID 15 as 3DES and refused an 8- or 16-byte AES key).
// The CRC-32 below was computed independently (Python's zlib.crc32 over the packet without its
// RC field); the PoR's over its UDH, header and data.
void test_redundancy_check_keysets(void**) {
    for (const char* key : {"000102030405060708090a0b0c0d0e0f", "0011223344556677"}) {
        auto j = json_of(
            run({"packet", "encode", "--spi", "1121", "--kic", "12", "--kid", "15", "--kid-key",
                 key, "--tar", "b00010", "--cntr", "0000000001", "--data", "80F2400000"}));
        assert_string_equal(j["command_packet"].get<std::string>().c_str(),
                            "00171111211215b000100000000001009569f47680f2400000");
    }
    auto crc16 = json_of(run({"packet", "encode", "--spi", "1121", "--kic", "12", "--kid", "11",
                              "--tar", "b00010", "--cntr", "0000000001", "--data", "80F2400000"}));
    assert_int_equal(crc16["command_packet"].get<std::string>().size(), (0x15 + 2) * 2);
    auto d = json_of(
        run({"packet", "decode-por", "--spi", "1125", "--kic", "12", "--kid", "15", "--kid-key",
             "0011223344556677", "--data", "02710000120eb00010000000000100001dc3a912019000"}));
    assert_string_equal(d["integrity"].get<std::string>().c_str(), "ok");
    assert_string_equal(d["status_name"].get<std::string>().c_str(), "por_ok");
    assert_string_equal(d["data"].get<std::string>().c_str(), "019000");
    // A KID whose b2b1 is not 01 names no CRC.
    expect_usage_error({"packet", "encode", "--spi", "1121", "--kic", "12", "--kid", "12", "--tar",
                        "b00010", "--cntr", "0000000001", "--data", "80F2400000"},
                       "--kid");
}

void test_packet_encode_long_data_segments(void**) {
    std::string data;
    for (int i = 0; i < 150; i++)
        data += "ab";
    auto j = json_of(run({"packet",       "encode",
                          "--spi",        "1621",
                          "--kic",        "12",
                          "--kid",        "12",
                          "--kic-key",    "000102030405060708090a0b0c0d0e0f",
                          "--kid-key",    "0f0e0d0c0b0a09080706050403020100",
                          "--tar",        "000000",
                          "--cntr",       "0000000001",
                          "--data",       data,
                          "--concat-ref", "9"}));
    assert_int_equal(j["segments"].size(), 2);
    assert_string_equal(j["segments"][0].get<std::string>().substr(0, 16).c_str(),
                        "0770000003090201");
    assert_string_equal(j["segments"][1].get<std::string>().substr(0, 12).c_str(), "050003090202");
}

void test_apdu_commands(void**) {
    auto file = test::load_vectors("gp_apdus.json");
    auto expect = [&](const std::vector<std::string>& args, const std::string& id) {
        const auto& v = vector_named(file, id);
        std::string want = v.contains("output_of_pysim_code")
                               ? v["output_of_pysim_code"]["apdus"][0]
                               : v["expected"]["apdu"];
        auto j = json_of(run(args));
        assert_string_equal(j["apdu"].get<std::string>().c_str(), want.c_str());
    };
    const std::string app = "a0000000871002ff49ff0589";
    expect({"apdu", "delete", "--aid", app}, "pysim-run-delete-card-content");
    expect({"apdu", "delete", "--aid", app, "--related"},
           "pysim-run-delete-card-content-and-related-objects");
    expect({"apdu", "delete", "--aid", "FFFFFFFFFFFFFFFF"}, "gpnet-delete-card-content");
    expect({"apdu", "install", "--package", "a0000000871002", "--module", "a000000087100201",
            "--instance", app, "--selectable"},
           "pysim-run-install-for-install-and-make-selectable");
    expect({"apdu", "install", "--package", "a0000000871002", "--module", "a000000087100201",
            "--instance", app, "--privileges", "808000"},
           "pysim-run-install-for-install-with-privileges");
    expect({"apdu", "install", "--package", "a0000000871002", "--module", "a000000087100201",
            "--instance", app, "--params", "c900", "--selectable"},
           "pysim-run-install-for-install-and-make-selectable");
    expect({"apdu", "install-for-load", "--package", "a0000000871002", "--sd", "a000000151000000"},
           "pysim-run-install-for-load");
    // Without a security domain, with a hash and load parameters: each an LV field in order.
    auto load = json_of(run({"apdu", "install-for-load", "--package", "0102030405", "--hash",
                             "aabbcc", "--params", "ef04c6020100"}));
    assert_string_equal(load["apdu"].get<std::string>().c_str(),
                        "80e60200130501020304050003aabbcc06ef04c602010000"
                        "00");
    // LOAD commands for a real CAP file (GlobalPlatformPro's Empty applet).
    const std::string cap = OTAGW_TEST_DATA_DIR "/cap/gppro_Empty_0102030405_8d5ac9e2_2.2.1.cap";
    auto loaded = json_of(run({"apdu", "load", "--cap", cap, "--block-size", "100"}));
    assert_string_equal(loaded["package_aid"].get<std::string>().c_str(), "0102030405");
    assert_string_equal(loaded["package_version"].get<std::string>().c_str(), "0.0");
    assert_string_equal(loaded["applets"][0].get<std::string>().c_str(), "0102030405060708");
    assert_int_equal(loaded["load_file_size"].get<int>(), 214);
    assert_int_equal(loaded["apdus"].size(), 3);
    assert_string_equal(loaded["apdus"][0].get<std::string>().substr(0, 16).c_str(),
                        "80e8000064c481d3");
    assert_string_equal(loaded["apdus"][2].get<std::string>().substr(0, 10).c_str(), "80e880020e");
    auto described = json_of(run({"apdu", "load", "--cap", cap, "--with-descriptor"}));
    assert_int_equal(described["load_file_size"].get<int>(), 287);
    assert_int_equal(described["apdus"].size(), 2); // 255 + 32
    // --params as real tools write it: EF, C9, EA in that order (only a C9 somewhere is needed).
    auto ordered = json_of(
        run({"apdu", "install", "--package", "a0000000871002", "--module", "a000000087100201",
             "--instance", app, "--params", "ef08c7020100c8020100c900ea020102"}));
    assert_true(ordered["apdu"].get<std::string>().find("10ef08c7020100c8020100c900ea020102") !=
                std::string::npos);
    // Lock/unlock: P2 '80' / '00' (see globalplatform.hpp for why not pySim's 83/07).
    auto lock = json_of(run({"apdu", "set-status", "--aid", app, "--lock"}));
    assert_string_equal(lock["apdu"].get<std::string>().c_str(), ("80f040800c" + app).c_str());
    auto unlock = json_of(run({"apdu", "set-status", "--aid", app, "--unlock"}));
    assert_string_equal(unlock["apdu"].get<std::string>().c_str(), ("80f040000c" + app).c_str());
    // GET STATUS scopes, TLV format.
    const std::pair<const char*, const char*> scopes[] = {{"isd", "80f28002024f0000"},
                                                          {"apps", "80f24002024f0000"},
                                                          {"loadfiles", "80f22002024f0000"},
                                                          {"modules", "80f21002024f0000"}};
    for (const auto& [scope, apdu] : scopes) {
        auto j = json_of(run({"apdu", "get-status", "--scope", scope}));
        assert_string_equal(j["apdu"].get<std::string>().c_str(), apdu);
    }
    // --c9 / --toolkit build the install parameters: C9 then EF { EA }.
    auto j =
        json_of(run({"apdu", "install", "--package", "a0000000871002", "--module",
                     "a000000087100201", "--instance", app, "--c9", "aabb", "--toolkit", "0102"}));
    const std::string params = "c902aabbef04ea020102";
    assert_true(j["apdu"].get<std::string>().find("0a" + params + "00") != std::string::npos);
}

void test_bad_input_exits_2_without_keys(void**) {
    const std::string kic = "C21DD66ACAC13CB3BC8B331B24AFB57B",
                      kid = "12110C78E678C25408233076AA033615";
    const std::vector<std::string> base = {"packet", "encode",     "--kic",  "15",
                                           "--kid",  "15",         "--tar",  "b00000",
                                           "--cntr", "0000000001", "--data", "00a4000000"};
    auto with = [&](std::vector<std::string> extra) {
        std::vector<std::string> a = base;
        a.insert(a.end(), extra.begin(), extra.end());
        return a;
    };
    // Key size must follow the algorithm nibble (3DES 2-key: 16 bytes).
    expect_usage_error(with({"--spi", "1621", "--kic-key", kic + "00112233", "--kid-key", kid}),
                       "--kic-key", {kic, kid});
    expect_usage_error(with({"--spi", "1621", "--kic-key", kic, "--kid-key", kid.substr(0, 16)}),
                       "--kid-key", {kic, kid});
    // Keys the SPI needs.
    expect_usage_error(with({"--spi", "1621", "--kid-key", kid}), "--kic-key");
    expect_usage_error(with({"--spi", "1221", "--kic-key", kic}), "--kid-key", {kic});
    // Malformed fields.
    expect_usage_error(with({"--spi", "16", "--kic-key", kic, "--kid-key", kid}), "SPI",
                       {kic, kid});
    expect_usage_error(with({"--spi", "1621", "--kic-key", "zz" + kic, "--kid-key", kid}),
                       "--kic-key", {kic});
    expect_usage_error({"packet", "encode", "--spi", "1621", "--kic", "15", "--kid", "15", "--tar",
                        "b000", "--cntr", "0000000001", "--data", "00", "--kic-key", kic,
                        "--kid-key", kid},
                       "TAR", {kic, kid});
    expect_usage_error({"packet", "encode", "--spi", "1621", "--kic", "15", "--kid", "15", "--tar",
                        "b00000", "--cntr", "01", "--data", "00", "--kic-key", kic, "--kid-key",
                        kid},
                       "CNTR", {kic, kid});
    expect_usage_error({"packet", "encode", "--spi", "1621", "--kic", "1d", "--kid", "15", "--tar",
                        "b00000", "--cntr", "0000000001", "--data", "00", "--kic-key", kic,
                        "--kid-key", kid},
                       "ECB", {kic, kid});
    // A mistyped option with a key after it: CLI11's message is masked.
    expect_usage_error(with({"--spi", "1621", "--kic-kee", kic, "--kid-key", kid}), "kic-kee",
                       {kic, kid});
    // decode-por: garbage and truncated PoRs.
    expect_usage_error({"packet", "decode-por", "--spi", "1639", "--kic", "15", "--kid", "15",
                        "--kic-key", kic, "--kid-key", kid, "--data", "0271000010"},
                       "--data", {kic, kid});
    expect_usage_error({"packet", "decode-por", "--spi", "1639", "--kic", "15", "--kid", "15",
                        "--data",
                        "027100001c12b000118bb989492c632529326a2f4681feb37c825bc9021c9f6d0b"},
                       "--kic-key");
    // apdu: bad AIDs and conflicting options.
    expect_usage_error({"apdu", "delete", "--aid", "a000"}, "--aid");
    expect_usage_error({"apdu", "set-status", "--aid", "a0000000871002"}, "--lock");
    expect_usage_error({"apdu", "set-status", "--aid", "a0000000871002", "--lock", "--unlock"},
                       "--unlock");
    expect_usage_error({"apdu", "install", "--package", "a0000000871002", "--module",
                        "a000000087100201", "--instance", "a0000000871002ff49ff0589", "--params",
                        "c900", "--c9", "00"},
                       "--params");
    expect_usage_error({"apdu", "install", "--package", "a0000000871002", "--module",
                        "a000000087100201", "--instance", "a0000000871002ff49ff0589", "--params",
                        "ef00"},
                       "C9");
    expect_usage_error({"apdu", "install", "--package", "a0000000871002", "--module",
                        "a000000087100201", "--instance", "a0000000871002ff49ff0589", "--params",
                        "c905aa"},
                       "install parameters");
    expect_usage_error({"apdu", "install-for-load", "--package", "01"}, "--package");
    expect_usage_error({"apdu", "install-for-load", "--package", "0102030405", "--params", "ef05"},
                       "--params");
    expect_usage_error({"apdu", "install-for-load"}, "--package");
    expect_usage_error({"apdu", "load", "--cap", "/nonexistent.cap"}, "cannot open");
    expect_usage_error({"apdu", "load", "--cap", OTAGW_TEST_DATA_DIR "/gp_apdus.json"},
                       "not a ZIP archive");
    expect_usage_error({"apdu", "load", "--cap",
                        OTAGW_TEST_DATA_DIR "/cap/gppro_Empty_0102030405_8d5ac9e2_2.2.1.cap",
                        "--block-size", "300"},
                       "--block-size");
    expect_usage_error({"apdu", "get-status", "--scope", "cards"}, "--scope");
    expect_usage_error({"apdu", "install", "--package", "a0000000871002"}, "--module");
}

} // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_packet_encode_vectors),
        cmocka_unit_test(test_decode_por_tampered),
        cmocka_unit_test(test_redundancy_check_keysets),
        cmocka_unit_test(test_packet_encode_long_data_segments),
        cmocka_unit_test(test_apdu_commands),
        cmocka_unit_test(test_bad_input_exits_2_without_keys),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
