// SPDX-License-Identifier: GPL-2.0-or-later
// The cardlets-sim program as others drive it: the offline packet tools against the external
// vectors and against otactl (the gateway's codec) in both directions, with bad input refused
// (exit 2, the option named, no key echoed); and the simulator itself: started with a state
// file, an inventory export and a control port, reached by `otactl smpp submit` with a secured
// command built from the exported keys, stopped, restarted with its counters kept.
#include <fstream>
#include <sstream>

#include "interop/process.hpp"
#include "test_support.hpp"

using test::hex;
using Json = test::Json;

namespace {

std::string g_dir;

test::CommandRun sim(const std::string& args) {
    return test::run_command(std::string(CARDLETS_SIM_PATH) + " " + args);
}
test::CommandRun otactl(const std::string& args) {
    return test::run_command(std::string(OTACTL_PATH) + " " + args);
}
Json json_of(const test::CommandRun& r) {
    if (r.status != 0)
        print_error("exit %d, stderr: %s\n", r.status, r.err.c_str());
    assert_int_equal(r.status, 0);
    return Json::parse(r.out);
}

void test_decode_command_vectors(void**) {
    auto file = test::load_vectors("ota_scp80.json");
    size_t n = 0;
    for (const auto& v : file["vectors"]) {
        const auto& in = v["inputs"];
        const auto& exp = v["expected"];
        std::string data;
        if (exp.contains("sms_deliver_tpdu")) // the user data, UDH and all, of the SMS-DELIVER
            data = "027000" + exp["command_packet"].get<std::string>();
        else if (exp.contains("command_packet_as_output_by_pysim"))
            data = v["derived_with_pysim_code"]["command_packet_with_cpl"];
        else
            continue;
        auto j = json_of(sim("packet decode-command --kic-key " + in["kic_key"].get<std::string>() +
                             " --kid-key " + in["kid_key"].get<std::string>() + " --data " + data));
        assert_string_equal(j["spi"].get<std::string>().c_str(),
                            in["spi"].get<std::string>().c_str());
        assert_string_equal(j["kic"].get<std::string>().c_str(),
                            in["kic_byte"].get<std::string>().c_str());
        assert_string_equal(j["kid"].get<std::string>().c_str(),
                            in["kid_byte"].get<std::string>().c_str());
        assert_string_equal(j["tar"].get<std::string>().c_str(),
                            in["tar"].get<std::string>().c_str());
        assert_string_equal(j["cntr"].get<std::string>().c_str(),
                            in["cntr"].get<std::string>().c_str());
        assert_string_equal(j["secured_data"].get<std::string>().c_str(),
                            in["secured_data_apdu"].get<std::string>().c_str());
        const bool cc = (hex(in["spi"])[0] & 0x03) == 0x02;
        assert_string_equal(j["integrity"].get<std::string>().c_str(), cc ? "ok" : "absent");
        n++;
    }
    assert_int_equal(n, 7);
}

void test_encode_por_vectors(void**) {
    auto file = test::load_vectors("ota_scp80.json");
    size_t n = 0;
    for (const auto& v : file["vectors"]) {
        if (!v.contains("response"))
            continue;
        const auto& in = v["inputs"];
        const auto& r = v["response"];
        const auto& d = r["derived_with_pysim_code"];
        auto j = json_of(
            sim("packet encode-por --spi " + in["spi"].get<std::string>() + " --kic " +
                in["kic_byte"].get<std::string>() + " --kid " + in["kid_byte"].get<std::string>() +
                " --kic-key " + in["kic_key"].get<std::string>() + " --kid-key " +
                in["kid_key"].get<std::string>() + " --tar " + d["tar"].get<std::string>() +
                " --cntr " + d["cntr"].get<std::string>() + " --status 00 --data " +
                d["additional_response_data"].get<std::string>()));
        assert_string_equal(j["user_data"].get<std::string>().c_str(),
                            r["input_response_packet_with_udh"].get<std::string>().c_str());
        n++;
    }
    assert_int_equal(n, 4);
}

const char* kKic = "00112233445566778899aabbccddeeff";
const char* kKid = "0f1e2d3c4b5a69788796a5b4c3d2e1f0";

void test_both_ways_with_otactl(void**) {
    // The gateway's codec builds, the card's reads.
    const std::string keys =
        std::string(" --kic 12 --kid 12 --kic-key ") + kKic + " --kid-key " + kKid;
    for (const char* spi : {"1639", "0621", "1221", "1a39"}) {
        auto built = json_of(otactl(std::string("packet encode --spi ") + spi + keys +
                                    " --tar 000000 --cntr 000000002a --data 80f2400c024f0000"));
        auto read =
            json_of(sim(std::string("packet decode-command --kic-key ") + kKic + " --kid-key " +
                        kKid + " --data " + built["user_data"].get<std::string>()));
        assert_string_equal(read["spi"].get<std::string>().c_str(), spi);
        assert_string_equal(read["cntr"].get<std::string>().c_str(), "000000002a");
        assert_string_equal(read["secured_data"].get<std::string>().c_str(), "80f2400c024f0000");
        assert_string_equal(read["integrity"].get<std::string>().c_str(), "ok");
        // The card's PoR, read by the gateway's codec.
        auto por = json_of(sim(std::string("packet encode-por --spi ") + spi + keys +
                               " --tar 000000 --cntr 000000002a --status 00 --data 01900000"));
        auto got = json_of(otactl(std::string("packet decode-por --spi ") + spi + keys +
                                  " --data " + por["user_data"].get<std::string>()));
        assert_string_equal(got["status"].get<std::string>().c_str(), "00");
        assert_string_equal(got["cntr"].get<std::string>().c_str(), "000000002a");
        assert_string_equal(got["data"].get<std::string>().c_str(), "01900000");
        const bool checked = ((hex(spi)[1] >> 2) & 0x03) == 0x02;
        assert_string_equal(got["integrity"].get<std::string>().c_str(), checked ? "ok" : "absent");
    }
    // A wrong KID key: the card reads "failed", exit 0 with a warning.
    auto built = json_of(otactl(std::string("packet encode --spi 1639") + keys +
                                " --tar 000000 --cntr 0000000001 --data 00a40004023f00"));
    auto bad = sim(std::string("packet decode-command --kic-key ") + kKic +
                   " --kid-key 000102030405060708090a0b0c0d0e0f --data " +
                   built["command_packet"].get<std::string>());
    assert_int_equal(bad.status, 0);
    assert_string_equal(Json::parse(bad.out)["integrity"].get<std::string>().c_str(), "failed");
    assert_true(bad.err.find("integrity check failed") != std::string::npos);
}

void test_bad_input_is_refused(void**) {
    struct Case {
        std::string args, option;
    };
    const std::string packet = "0020150619353"
                               "5b00011ae733256918d050b87c94fbfe12e4dc402f262c41cf67f2f";
    const std::string des_key = "300102030405060708090a0b0c0d0e0f";
    const Case cases[] = {
        {"packet decode-command --kic-key 0011223344556677 --kid-key " + des_key + " --data " +
             packet,
         "--kic-key"},
        {"packet decode-command --kic-key " + des_key + " --data " + packet, "--kid-key"},
        {"packet decode-command --kic-key " + des_key + " --kid-key " + des_key + " --data 0020",
         "--data"},
        {"packet decode-command --kic-key " + des_key + " --kid-key " + des_key + " --data zz",
         "--data"},
        {"packet encode-por --spi 1639 --kic 12 --kid 12 --kic-key " + std::string(kKic) +
             " --kid-key " + kKid + " --tar 0000 --cntr 0000000001 --status 00 --data ''",
         "--tar"},
        {"packet encode-por --spi 1639 --kic 12 --kid 12 --kid-key " + std::string(kKid) +
             " --tar 000000 --cntr 0000000001 --status 00 --data ''",
         "--kic-key"},
        {"packet encode-por --spi 1639 --kic 15 --kid 15 --kic-key " + std::string(kKic) +
             " --kid-key " + "0011223344556677" +
             " --tar 000000 --cntr 0000000001 --status 00 --data ''",
         "--kid-key"},
        {"--smpp-listen 127.0.0.1:1 --password x", "--cards"},
        {"--smpp-listen localhost:2775 --password x --cards 1", "--smpp-listen"},
        {"--smpp-listen 127.0.0.1:0 --password x --cards 1 --fault mt-loss=2", "--fault"},
        {"--smpp-listen 127.0.0.1:0 --password x --inventory /nonexistent", "--inventory"},
        {"--smpp-listen 127.0.0.1:0 --password x --cards 1 --profile gold", "unknown profile"},
    };
    for (const auto& c : cases) {
        auto r = sim(c.args);
        if (r.status != 2 || r.err.find(c.option) == std::string::npos)
            print_error("%s\n -> exit %d: %s\n", c.args.c_str(), r.status, r.err.c_str());
        assert_int_equal(r.status, 2);
        assert_true(r.err.find(c.option) != std::string::npos);
        for (const std::string& key :
             {std::string(kKic), std::string(kKid), des_key, std::string("0011223344556677")})
            assert_true(r.err.find(key) == std::string::npos &&
                        r.out.find(key) == std::string::npos);
    }
}

// The first data line of an inventory file, split into its fields.
std::vector<std::string> first_card(const std::string& path) {
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line))
        if (!line.empty() && line[0] != '#' && line.rfind("iccid,", 0) != 0)
            break;
    std::vector<std::string> f;
    std::stringstream ls(line);
    std::string x;
    while (std::getline(ls, x, ','))
        f.push_back(x);
    return f;
}

void test_simulator_process(void**) {
    const uint16_t smpp = interop::free_port(), control = interop::free_port();
    const std::string sim_args =
        std::string(CARDLETS_SIM_PATH) + " --smpp-listen 127.0.0.1:" + std::to_string(smpp) +
        " --system-id OTAGW --password otapass --cards 20 --seed 11 --state " + g_dir +
        "/sim.db --export " + g_dir +
        "/inventory.csv --control 127.0.0.1:" + std::to_string(control) + " --duration 60";
    auto start = [&](const char* name) {
        std::vector<std::string> argv;
        std::stringstream ss(sim_args);
        std::string w;
        while (ss >> w)
            argv.push_back(w);
        return std::make_unique<interop::Process>(name, argv, g_dir,
                                                  std::vector<std::string>{"OTAGW_LOG=info"});
    };
    auto p = start("cardlets-sim");
    assert_true(p->wait_log("\"event\":\"ready\""));
    const auto card = first_card(g_dir + "/inventory.csv");
    assert_int_equal(card.size(), 8); // format 2: with the SCP81 keysets
    const std::string msisdn = card[2];
    // keysets: "1:aes128:KIC:KID:KIK:0;2:..."
    std::vector<std::string> ks;
    std::stringstream kss(card[3].substr(0, card[3].find(';')));
    std::string x;
    while (std::getline(kss, x, ':'))
        ks.push_back(x);
    assert_string_equal(ks[1].c_str(), "aes128");
    const std::string keys = " --kic 12 --kid 12 --kic-key " + ks[2] + " --kid-key " + ks[3];
    // A secured lock of the transit card, submitted by otactl through the simulator's SMSC.
    auto packet =
        json_of(otactl("packet encode --spi 1639" + keys +
                       " --tar 000000 --cntr 0000000001 --data 80f040800af04f5441470102010001"));
    auto sent =
        json_of(otactl("smpp submit --host 127.0.0.1 --port " + std::to_string(smpp) +
                       " --system-id OTAGW --password otapass --dest " + msisdn + " --user-data " +
                       packet["user_data"].get<std::string>() + " --wait-por 5"));
    auto por = json_of(otactl("packet decode-por --spi 1639" + keys + " --data " +
                              sent["por"].get<std::string>()));
    assert_string_equal(por["status"].get<std::string>().c_str(), "00");
    assert_string_equal(por["integrity"].get<std::string>().c_str(), "ok");
    assert_string_equal(por["response"]["last_status_word"].get<std::string>().c_str(), "9000");
    // The control port shows the new state; the log follows the card by ICCID.
    auto shown =
        json_of(sim("ctl --control 127.0.0.1:" + std::to_string(control) + " card " + msisdn));
    assert_int_equal(shown["keysets"][0]["counter"].get<int>(), 1);
    assert_string_equal(shown["apps"][1]["state"].get<std::string>().c_str(), "locked");
    assert_true(shown.dump().find(ks[2]) == std::string::npos); // no keys on the control port
    assert_true(p->log().find("iccid=" + card[0] + " tar=000000 status=00") != std::string::npos);
    auto refused = sim("ctl --control 127.0.0.1:" + std::to_string(control) + " card 123");
    assert_int_equal(refused.status, 1);
    assert_true(refused.out.find("no card with MSISDN or ICCID 123") != std::string::npos);
    // Stopped and started again on the same state file: the counter and the lock are kept.
    p->stop();
    p = start("cardlets-sim-restarted");
    assert_true(p->wait_log("\"event\":\"ready\""));
    shown = json_of(sim("ctl --control 127.0.0.1:" + std::to_string(control) + " card " + msisdn));
    assert_int_equal(shown["keysets"][0]["counter"].get<int>(), 1);
    assert_string_equal(shown["apps"][1]["state"].get<std::string>().c_str(), "locked");
    // The same command again is a replay now: status 02.
    sent =
        json_of(otactl("smpp submit --host 127.0.0.1 --port " + std::to_string(smpp) +
                       " --system-id OTAGW --password otapass --dest " + msisdn + " --user-data " +
                       packet["user_data"].get<std::string>() + " --wait-por 5"));
    por = json_of(otactl("packet decode-por --spi 1639" + keys + " --data " +
                         sent["por"].get<std::string>()));
    assert_string_equal(por["status"].get<std::string>().c_str(), "02");
    p->stop();
    assert_true(p->log().find("\"event\":\"stopped\"") != std::string::npos);
}

} // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode_command_vectors), cmocka_unit_test(test_encode_por_vectors),
        cmocka_unit_test(test_both_ways_with_otactl),  cmocka_unit_test(test_bad_input_is_refused),
        cmocka_unit_test(test_simulator_process),
    };
    return test::run_in_temp_dir("test_cardlets_sim_cli", g_dir, tests);
}
