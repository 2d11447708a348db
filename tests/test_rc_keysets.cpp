// SPDX-License-Identifier: GPL-2.0-or-later
// Cards whose TARs ask only for a redundancy check (minimum security level 11: RC, counter
// higher), served by a gateway configured `spi 1125` (RC, no ciphering, PoR by SMS-SUBMIT with
// an RC): the KID names the CRC (TS 102 225 §5.1.3), no KID key is used. The gateway of 9274d6b
// put the keyset's cipher in the KID ("b2b1 must be 01 (CRC)" for an AES keyset) and sent
// nothing. ota-gatewayd and cardlets-sim as processes on 127.0.0.1.
#include "gatewayd_harness.hpp"

using namespace otagw;
using namespace harness;

namespace {

struct World {
    std::unique_ptr<interop::Process> sim, daemon;
    uint16_t control = 0;
    std::vector<std::vector<std::string>> cards;
};
World* g = nullptr;

// The inventory with every TAR's minimum security level (the third field of tar:kind:msl) set
// to `msl`.
void write_with_msl(const std::string& from, const std::string& to, const std::string& msl) {
    std::ofstream out(to);
    for (const std::string& line : split_lines(interop::read_file(from))) {
        if (!std::isdigit(static_cast<unsigned char>(line[0]))) {
            out << line << "\n";
            continue;
        }
        std::vector<std::string> f;
        std::stringstream ss(line);
        std::string field;
        while (std::getline(ss, field, ','))
            f.push_back(field);
        std::string tars;
        std::stringstream ts(f.at(4));
        std::string tar;
        while (std::getline(ts, tar, ';')) {
            const size_t b = tar.find(':', tar.find(':') + 1), c = tar.find(':', b + 1);
            if (!tars.empty())
                tars.push_back(';');
            tars.append(tar, 0, b + 1).append(msl);
            if (c != std::string::npos)
                tars.append(tar, c);
        }
        f[4] = tars;
        for (size_t i = 0; i < f.size(); i++)
            out << (i ? "," : "") << f[i];
        out << "\n";
    }
}

int setup(void**) {
    g_api = interop::free_port();
    g_vty = interop::free_port();
    g_smsc = interop::free_port();
    static World w;
    g = &w;
    w.sim = start_simulator(2, g_dir + "/generated.csv");
    w.sim.reset();
    std::remove((g_dir + "/cardlets-sim.log").c_str()); // its ready line is not the next one's
    write_with_msl(g_dir + "/generated.csv", g_dir + "/rc.csv", "11");
    w.sim = start_simulator(0, g_dir + "/inventory.csv", "rc.csv");
    w.control = control_port(*w.sim);
    w.cards = inventory_cards(g_dir + "/rc.csv");
    g_config_edits.push_back({" spi 1639\n", " spi 1125\n"}); // KID: CRC-32, the default
    g_config_edits.push_back({" por-mode sms-submit\n", ""});
    w.daemon = start_daemon("ota-gatewayd");
    if (otactl("inventory import rc.csv").status != 0)
        return 1;
    return w.daemon->wait_log("bind smsc up", 10) ? 0 : 1;
}

int teardown(void**) {
    g->daemon.reset();
    g->sim.reset();
    return 0;
}

// The card runs the command (its TAR accepts RC), the gateway reads its RC'd PoR, both agree.
void test_operation_with_redundancy_check(void**) {
    const std::string rc = interop::read_file(g_dir + "/rc.csv");
    assert_true(rc.find("000000:isd:11") != std::string::npos);
    for (size_t c = 0; c < g->cards.size(); c++) { // keyset 1: AES, KID 15 (CRC-32)
        const std::string& msisdn = g->cards[c].at(2);
        Json r = wait_request(
            post_request({{"msisdn", msisdn}, {"app", "02"}, {"operation", "suspend"}})["id"], 20,
            *g->daemon);
        if (r["state"] != "done")
            fail_msg("%s\n%s", r.dump().c_str(), g->daemon->log().c_str());
        assert_string_equal(sim_app_state(g->control, msisdn, kTransit).c_str(), "locked");
        assert_string_equal(gateway_app_state(g->cards[c].at(0), kTransit).c_str(), "suspended");
    }
    // CRC-16 instead, set on the VTY and written back.
    Vty vty;
    vty.run("enable");
    vty.run("configure terminal");
    vty.run("ota");
    vty.run("rc crc16");
    vty.run("end");
    std::string written;
    for (const auto& l : vty.run("write terminal"))
        written += l + "\n";
    assert_true(written.find(" spi 1125\n por-mode sms-submit\n kvn 1\n rc crc16\n") !=
                std::string::npos);
    const std::string& msisdn = g->cards[0].at(2);
    Json r = wait_request(
        post_request({{"msisdn", msisdn}, {"app", "02"}, {"operation", "resume"}})["id"], 20,
        *g->daemon);
    assert_string_equal(r["state"].get<std::string>().c_str(), "done");
    assert_string_equal(sim_app_state(g->control, msisdn, kTransit).c_str(), "selectable");
    assert_true(g->daemon->running());
    assert_no_sanitizer_report({"ota-gatewayd", "cardlets-sim"});
}

} // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_operation_with_redundancy_check),
    };
    return test::run_in_temp_dir("otagw-rc", g_dir, tests, setup, teardown);
}
