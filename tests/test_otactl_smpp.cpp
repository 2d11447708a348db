// SPDX-License-Identifier: GPL-2.0-or-later
// `otactl smpp submit` as an engineer runs it, against the in-repo SMSC (on its own loop in a
// thread of this test): a PoR comes back from a "card", segments, a wrong password, an
// unreachable SMSC, a refused destination, and a PoR that never comes.
#include <sys/wait.h>

#include <array>
#include <atomic>
#include <cstdio>
#include <mutex>
#include <thread>

#include "otagw/ota/ts_31_115.hpp"
#include "otagw/smpp/smsc.hpp"
#include "otagw/smpp/status.hpp"
#include "test_support.hpp"

using namespace otagw;
using namespace otagw::smpp;

namespace {

struct SmscThread {
    uv_loop_t loop;
    uv_async_t stop;
    std::unique_ptr<Smsc> smsc;
    std::thread thread;
    std::atomic<uint16_t> port{0};
    std::mutex mu;
    std::vector<MtMessage> mt;

    SmscThread() {
        uv_loop_init(&loop);
        uv_async_init(&loop, &stop, [](uv_async_t* a) {
            auto* self = static_cast<SmscThread*>(a->data);
            self->smsc->stop();
            uv_close(reinterpret_cast<uv_handle_t*>(&self->stop), nullptr);
        });
        stop.data = this;
        SmscConfig c;
        c.accounts.push_back({"OTAGW", "otapass"});
        c.faults.fail_destinations["9999"] = ESME_RINVDSTADR;
        smsc = std::make_unique<Smsc>(&loop, c);
        assert_int_equal(smsc->start(), 0);
        port = smsc->port();
        // The "card" behind 1001 answers every command packet with a PoR by SMS-SUBMIT.
        smsc->route("", [this](const MtMessage& m) {
            {
                std::lock_guard<std::mutex> g(mu);
                mt.push_back(m);
            }
            if (m.sm.dest.addr != "1001")
                return;
            DeliverSm por;
            por.source = {3, 1, "1001"};
            por.dest = m.sm.source;
            por.esm_class = 0x40;
            por.protocol_id = 0x7f;
            por.data_coding = 0xf6;
            por.short_message = test::hex("027100000e0ab000110000000000010000019000");
            smsc->deliver(por);
        });
        thread = std::thread([this] { uv_run(&loop, UV_RUN_DEFAULT); });
    }
    ~SmscThread() {
        uv_async_send(&stop);
        thread.join();
        smsc.reset();
        uv_run(&loop, UV_RUN_DEFAULT);
        uv_loop_close(&loop);
    }
};

test::CommandRun otactl(const std::string& args) {
    return test::run_command(std::string(OTACTL_PATH) + " " + args);
}

std::string base(const SmscThread& s, const std::string& password = "otapass") {
    return "smpp submit --host 127.0.0.1 --port " + std::to_string(s.port.load()) +
           " --system-id OTAGW --password " + password + " --source 8888";
}

void test_submit_with_por(void**) {
    SmscThread s;
    auto r = otactl(
        base(s) +
        " --dest 1001 --user-data "
        "02700000201506193535b00011ae733256918d050b87c94fbfe12e4dc402f262c41cf67f2f --wait-por 5");
    assert_int_equal(r.status, 0);
    auto j = test::Json::parse(r.out);
    assert_true(j["ok"].get<bool>());
    assert_int_equal(j["segments"].size(), 1);
    assert_string_equal(j["segments"][0]["status_name"].get<std::string>().c_str(), "ESME_ROK");
    assert_string_equal(j["segments"][0]["command_status"].get<std::string>().c_str(),
                        "0x00000000");
    assert_string_equal(j["por"].get<std::string>().c_str(),
                        "027100000e0ab000110000000000010000019000");
    std::lock_guard<std::mutex> g(s.mu);
    assert_int_equal(s.mt.size(), 1);
    assert_int_equal(s.mt[0].sm.protocol_id, 0x7f);
    assert_int_equal(s.mt[0].sm.data_coding, 0xf6);
    assert_int_equal(s.mt[0].sm.esm_class, 0x40);
}

void test_segments_and_failures(void**) {
    SmscThread s;
    std::string longud = "027000";
    for (int i = 0; i < 300; i++)
        longud += "5a";
    auto seg = otactl(base(s) + " --dest 1002 --user-data " + longud);
    assert_int_equal(seg.status, 0);
    auto j = test::Json::parse(seg.out);
    assert_int_equal(j["segments"].size(), 3);
    // Wrong password: exit 1, the status named, the password nowhere.
    auto bad = otactl(base(s, "wrongpw") + " --dest 1002 --user-data 027000aa");
    assert_int_equal(bad.status, 1);
    assert_true(bad.err.find("ESME_RINVPASWD") != std::string::npos);
    assert_true(bad.err.find("wrongpw") == std::string::npos);
    assert_true(bad.out.find("wrongpw") == std::string::npos);
    // A refused destination.
    auto refused = otactl(base(s) + " --dest 9999 --user-data 027000aa");
    assert_int_equal(refused.status, 1);
    auto rj = test::Json::parse(refused.out);
    assert_string_equal(rj["segments"][0]["status_name"].get<std::string>().c_str(),
                        "ESME_RINVDSTADR");
    // No PoR comes from 1002.
    auto nopor = otactl(base(s) + " --dest 1002 --user-data 027000aa --wait-por 0.3");
    assert_int_equal(nopor.status, 1);
    assert_true(nopor.err.find("no PoR") != std::string::npos);
    // Nobody listening.
    auto down =
        otactl("smpp submit --port 1 --system-id OTAGW --password otapass --dest 1 --user-data 00");
    assert_int_equal(down.status, 1);
    assert_true(down.err.find("ECONNREFUSED") != std::string::npos);
    // Bad input is exit 2.
    auto odd = otactl(base(s) + " --dest 1001 --user-data 0270");
    assert_int_equal(odd.status, 0); // 2 bytes of UD are fine to send
    auto badhex = otactl(base(s) + " --dest 1001 --user-data 027");
    assert_int_equal(badhex.status, 2);
}

} // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_submit_with_por),
        cmocka_unit_test(test_segments_and_failures),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
