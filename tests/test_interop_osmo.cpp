// SPDX-License-Identifier: GPL-2.0-or-later
// Interop with osmo-msc 1.9 (Debian), the SMSC engineers field-test with: osmo-hlr with a
// provisioned subscriber, osmo-msc's built-in SMSC on a free port, our ESME against it. Binds
// with right and wrong credentials, enquire_link, an SMS-PP command packet and a concatenated
// one, an error status; then osmo-msc's sms.db must hold PID 127, DCS 246, UDHI and the user
// data byte for byte. The SMPP traffic is captured with tshark and must decode cleanly.
// Skipped (77) when osmo-msc, osmo-hlr or tshark are missing, unless OTAGW_REQUIRE_INTEROP=1.
#include <sqlite3.h>

#include <cerrno>
#include <cstring>

#include "interop/process.hpp"
#include "otagw/ota/ts_31_115.hpp"
#include "otagw/smpp/status.hpp"
#include "smpp_harness.hpp"
#include "test_support.hpp"

using namespace otagw;
using namespace otagw::smpp;

namespace {

std::string g_dir;

bool kernel_has_sctp() {
    int fd = socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP);
    if (fd < 0)
        return false;
    close(fd);
    return true;
}

void write_file(const std::string& path, const std::string& text) {
    std::ofstream out(path);
    out << text;
}

// Sends VTY commands over telnet and waits for the prompt after each.
bool vty(uint16_t port, const std::vector<std::string>& commands) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        close(fd);
        return false;
    }
    auto wait_prompt = [&]() {
        std::string got;
        for (int i = 0; i < 100; i++) {
            pollfd p{fd, POLLIN, 0};
            if (poll(&p, 1, 50) > 0) {
                char buf[512];
                ssize_t n = read(fd, buf, sizeof buf);
                if (n <= 0)
                    return false;
                got.append(buf, static_cast<size_t>(n));
                if (got.find("> ") != std::string::npos || got.find("# ") != std::string::npos)
                    return true;
            }
        }
        return false;
    };
    bool ok = wait_prompt();
    for (const auto& c : commands) {
        std::string line = c + "\r\n";
        ok = ok && write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) &&
             wait_prompt();
    }
    close(fd);
    return ok;
}

struct Row {
    int protocol_id, dcs, udhi;
    std::string dest;
    Bytes user_data;
};

std::vector<Row> sms_rows(const std::string& db_path) {
    std::vector<Row> rows;
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
        sqlite3_close(db);
        return rows;
    }
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(
            db,
            "SELECT protocol_id, data_coding_scheme, ud_hdr_ind, dest_addr, user_data "
            "FROM SMS ORDER BY id",
            -1, &st, nullptr) == SQLITE_OK) {
        while (sqlite3_step(st) == SQLITE_ROW) {
            Row r{sqlite3_column_int(st, 0),
                  sqlite3_column_int(st, 1),
                  sqlite3_column_int(st, 2),
                  reinterpret_cast<const char*>(sqlite3_column_text(st, 3)),
                  {}};
            const auto* blob = static_cast<const uint8_t*>(sqlite3_column_blob(st, 4));
            r.user_data.assign(blob, blob + sqlite3_column_bytes(st, 4));
            rows.push_back(std::move(r));
        }
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return rows;
}

BindConfig osmo_bind(uint16_t port, const std::string& password = "otapass",
                     const std::string& system_id = "OTAGW") {
    BindConfig b = test::bind_to(port, "osmo-msc");
    b.system_id = system_id;
    b.password = password;
    b.response_timeout_ms = 3000;
    b.reconnect_min_ms = 5000; // one attempt is enough to see the refusal
    return b;
}

void test_osmo_msc(void**) {
    // osmo-hlr and osmo-msc 1.x keep their VTY/CTRL/GSUP ports fixed.
    for (uint16_t fixed : {4222, 4254, 4255, 4258, 4259})
        if (interop::port_open(fixed)) {
            print_error("port %u is in use (a packaged osmo-msc/osmo-hlr service running?)\n",
                        fixed);
            fail();
        }
    const uint16_t smpp_port = interop::free_port();
    write_file(g_dir + "/hlr.cfg",
               "log stderr\n logging filter all 1\n logging color 0\n"
               " logging level set-all notice\nline vty\n no login\n bind 127.0.0.1\n"
               "ctrl\n bind 127.0.0.1\nhlr\n gsup\n  bind ip 127.0.0.1\n");
    write_file(g_dir + "/msc.cfg",
               "log stderr\n logging filter all 1\n logging color 0\n logging print category 1\n"
               " logging level set-all notice\n logging level smpp info\n"
               "line vty\n no login\n bind 127.0.0.1\nctrl\n bind 127.0.0.1\n"
               "cs7 instance 0\n point-code 0.23.1\n"
               "network\n network country code 1\n mobile network code 1\n"
               "msc\n mgw remote-ip 127.0.0.1\n mgw local-ip 127.0.0.1\n"
               "sgs\n local-ip 127.0.0.1\n local-port " +
                   std::to_string(interop::free_port()) +
                   "\n"
                   "hlr\n remote-ip 127.0.0.1\n remote-port 4222\n"
                   "smsc\n database sms.db\n validity-period default 10080\n"
                   "smpp\n local-tcp-ip 127.0.0.1 " +
                   std::to_string(smpp_port) +
                   "\n system-id OSMO-SMSC\n"
                   " policy closed\n no smpp-first\n esme OTAGW\n  password otapass\n"
                   "  route prefix international isdn 8888\n  default-route\n  dcs-transparent\n");

    interop::Process hlr("osmo-hlr", {"osmo-hlr", "-c", "hlr.cfg", "-l", "hlr.db"}, g_dir);
    assert_true(hlr.wait_port(4258));
    assert_true(vty(4258, {"enable", "subscriber imsi 001010000000001 create",
                           "subscriber imsi 001010000000001 update msisdn 1001"}));
    std::vector<std::string> env;
    if (!kernel_has_sctp())
        env.push_back(std::string("LD_PRELOAD=") + OTAGW_SCTP_SHIM);
    interop::Process msc("osmo-msc", {"osmo-msc", "-c", "msc.cfg"}, g_dir, env);
    if (!msc.wait_port(smpp_port)) {
        print_error("osmo-msc did not open SMPP: %s\n", msc.log().c_str());
        fail();
    }
    interop::Capture capture(g_dir, {smpp_port});
    assert_true(capture.ready());

    test::Loop l;
    // Wrong password and unknown system_id: refused with the status named.
    for (auto [password, system_id, status] : {std::tuple{"wrongpw", "OTAGW", "ESME_RINVPASWD"},
                                               std::tuple{"otapass", "NOBODY", "ESME_RINVSYSID"}}) {
        EsmeConfig ec;
        ec.binds.push_back(osmo_bind(smpp_port, password, system_id));
        std::string why;
        Esme::Handlers h;
        h.on_bind_error = [&](const std::string&, const std::string& w) {
            why = w;
        };
        Esme refused(&l.loop, ec, h);
        refused.start();
        assert_true(test::run_until(
            &l.loop, [&] { return !why.empty(); }, 5000));
        assert_true(why.find(status) != std::string::npos);
        bool stopped = false;
        refused.stop([&] { stopped = true; });
        test::run_until(
            &l.loop, [&] { return stopped; }, 2000);
    }

    // The right credentials: bound, enquire_link answered, submissions stored.
    Counters counters;
    EsmeConfig ec;
    BindConfig b = osmo_bind(smpp_port);
    b.enquire_link_ms = 100;
    ec.binds.push_back(b);
    ec.max_attempts = 2;
    ec.retry_delay_ms = 50;
    Esme esme(&l.loop, ec, {}, &counters);
    esme.start();
    assert_true(test::run_until(
        &l.loop, [&] { return esme.bound_sessions() == 1; }, 5000));
    test::run_until(
        &l.loop, [] { return false; }, 500); // several enquire_link rounds
    assert_int_equal(counters.get("smpp:enquire_link:timeout"), 0);
    assert_int_equal(esme.bound_sessions(), 1);

    std::vector<SubmitResult> results;
    auto submit = [&](Bytes ud, uint8_t dcs) {
        SmsPp m;
        m.source = {1, 1, "8888"};
        m.dest = {1, 1, "1001"};
        m.user_data = std::move(ud);
        m.data_coding = dcs;
        esme.submit(m, [&](const SubmitResult& r) { results.push_back(r); });
    };
    const Bytes single =
        test::hex("02700000201506193535b00011ae733256918d050b87c94fbfe12e4dc402f262c41cf67f2f");
    Bytes packet(300);
    for (size_t i = 0; i < packet.size(); i++)
        packet[i] = static_cast<uint8_t>(i * 3);
    submit(single, 0xf6);
    assert_true(test::run_until(
        &l.loop, [&] { return results.size() == 1; }, 5000));
    submit(ota::sms::command_user_data(packet), 0xf6);
    assert_true(test::run_until(
        &l.loop, [&] { return results.size() == 2; }, 5000));
    submit(test::hex("027000aa"), 0x03); // osmo-msc answers data_coding 3 with ESME_RUNKNOWNERR
    assert_true(test::run_until(
        &l.loop, [&] { return results.size() == 3; }, 10000));
    assert_true(results[0].ok);
    assert_string_equal(results[0].segments[0].message_id.c_str(), "msg_id_not_implemented");
    assert_true(results[1].ok);
    assert_int_equal(results[1].segments.size(), 3);
    assert_false(results[2].ok);
    assert_int_equal(results[2].segments[0].command_status, ESME_RUNKNOWNERR);
    assert_string_equal(results[2].error.c_str(), "ESME_RUNKNOWNERR");
    bool stopped = false;
    esme.stop([&] { stopped = true; });
    assert_true(test::run_until(
        &l.loop, [&] { return stopped; }, 3000));

    // osmo-msc stored what we sent, byte for byte.
    auto rows = sms_rows(g_dir + "/sms.db");
    assert_int_equal(rows.size(), 4);
    for (const Row& r : rows) {
        assert_int_equal(r.protocol_id, 127);
        assert_int_equal(r.dcs, 246);
        assert_int_equal(r.udhi, 1);
        assert_string_equal(r.dest.c_str(), "1001");
    }
    assert_true(rows[0].user_data == single);
    auto segs = ota::sms::segment_command_packet(packet, 0);
    assert_ok(segs);
    for (size_t i = 0; i < 3; i++) {
        Bytes got = rows[1 + i].user_data, want = segs->at(i);
        got[4] = want[4] = 0; // the concatenation reference is the ESME's own choice
        if (i > 0)
            got[3] = want[3] = 0;
        assert_true(got == want);
    }
    std::string problem = capture.check();
    if (!problem.empty()) {
        print_error("capture: %s\n", problem.c_str());
        fail();
    }
    print_message("tshark decoded %d SMPP frames cleanly\n", capture.frames());
}

} // namespace

int main() {
    interop::require_or_skip({"osmo-msc", "osmo-hlr", "tshark"});
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_osmo_msc),
    };
    return test::run_in_temp_dir("otagw-interop-osmo", g_dir, tests);
}
