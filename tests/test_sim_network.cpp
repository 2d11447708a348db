// SPDX-License-Identifier: GPL-2.0-or-later
// The card simulator as the gateway sees it: secured scripts submitted by the ESME through the
// simulator's SMSC reach a simulated card, change its registry as a card does, and the PoR comes
// back as an MO deliver_sm; security failures give their PoR status and leave the card as it
// was; handsets send text (English, Chinese) and binary requests; faults (loss, duplicates,
// delivery-report PoRs) behave as in a real network; the state store keeps counters and
// registries across a restart and holds each PoR until its card is saved.
#include "cap_builder.hpp"
#include "otagw/common/tlv.hpp"
#include "otagw/ota/cap_file.hpp"
#include "otagw/ota/globalplatform.hpp"
#include "otagw/ota/ts_102_225.hpp"
#include "otagw/ota/ts_102_226.hpp"
#include "otagw/ota/ts_31_115.hpp"
#include "otagw/sim/network.hpp"
#include "otagw/smpp/status.hpp"
#include "smpp_harness.hpp"
#include "test_support.hpp"

using namespace otagw;
using test::hex;

namespace {

const char* kWallet = "f04f5441470101010001";
const char* kTransit = "f04f5441470102010001";
const char* kBankElf = "f04f5441470103";
const char* kBankModule = "f04f544147010301";
const char* kBank = "f04f5441470103010001";

ota::Aid aid(const char* h) {
    return *ota::Aid::parse(h);
}

sim::PopulationSpec spec(size_t cards = 3) {
    sim::PopulationSpec s;
    s.seed = 7;
    s.cards = cards;
    return s;
}

// The gateway's view of one card: its keyset 1 (AES), the counter it last used.
struct CardKeys {
    ota::OtaKeys keys;
    uint64_t counter = 0;
    explicit CardKeys(const sim::Uicc& c)
        : keys(ota::OtaKeys::create(0x12, c.keysets[0].kic, 0x12, c.keysets[0].kid)) {}
};

struct Net {
    test::Loop l;
    sim::Population pop;
    std::unique_ptr<sim::StateStore> store;
    std::unique_ptr<sim::Network> net;
    std::unique_ptr<smpp::Esme> esme;
    std::vector<smpp::Mo> mos;
    std::vector<smpp::Receipt> receipts;

    explicit Net(sim::NetworkConfig config = {}, const std::string& state = {}, size_t cards = 3)
        : pop(sim::Population::generate(spec(cards)).value()) {
        if (!state.empty()) {
            auto s = sim::StateStore::open(state);
            assert_ok(s);
            store = std::move(*s);
            auto stored = store->load();
            assert_ok(stored);
            if (*stored)
                pop = sim::Population::of(std::move((*stored)->cards));
            else
                assert_ok(store->save_all(pop, "seed=7"));
        }
        config.smsc = test::smsc_config();
        config.smsc.handler_sends_receipts = true;
        net = std::make_unique<sim::Network>(&l.loop, pop, config, store.get());
        assert_int_equal(net->start(), 0);
        smpp::EsmeConfig ec;
        ec.binds.push_back(test::bind_to(net->port()));
        smpp::Esme::Handlers h;
        h.on_mo = [this](const smpp::Mo& m) {
            mos.push_back(m);
            return smpp::MoVerdict::Taken;
        };
        h.on_receipt = [this](const smpp::Receipt& r) {
            receipts.push_back(r);
        };
        esme = std::make_unique<smpp::Esme>(&l.loop, ec, h);
        esme->start();
        assert_true(test::run_until(
            &l.loop, [&] { return esme->bound_sessions() == 1; }, 3000));
    }
    ~Net() {
        bool stopped = false;
        esme->stop([&] { stopped = true; });
        test::run_until(
            &l.loop, [&] { return stopped; }, 3000);
        esme.reset();
        net.reset();
    }

    // Submits a secured script; returns the SMS user data of the PoR (nullopt if none came
    // within `wait_ms`).
    std::optional<Bytes> submit(const sim::Uicc& card, const CardKeys& k, ByteView script,
                                ota::Tar tar, const char* spi, uint64_t counter,
                                uint32_t wait_ms = 3000) {
        ota::CommandHeader h;
        h.spi = *ota::Spi::parse(spi);
        h.kic = k.keys.kic();
        h.kid = k.keys.kid();
        h.tar = tar;
        h.counter = counter;
        Bytes packet;
        assert_ok(ota::build_command_packet(h, k.keys, script, packet));
        smpp::SmsPp sms;
        sms.source = {1, 1, "8888"};
        sms.dest = {1, 1, card.msisdn};
        sms.user_data = ota::sms::command_user_data(packet);
        const size_t before = mos.size();
        bool submitted = false;
        esme->submit(sms, [&](const smpp::SubmitResult& r) {
            assert_true(r.ok);
            submitted = true;
        });
        auto por_from_card = [&] {
            for (size_t i = before; i < mos.size(); i++)
                if (mos[i].source.addr == card.msisdn && mos[i].udhi)
                    return true;
            return false;
        };
        if (!test::run_until(
                &l.loop, [&] { return submitted && por_from_card(); }, wait_ms))
            return std::nullopt;
        for (size_t i = before; i < mos.size(); i++)
            if (mos[i].source.addr == card.msisdn)
                return mos[i].user_data;
        return std::nullopt;
    }

    // A RAM script for the ISD, secured with SPI 1639 (CC, ciphered, counter higher; PoR CC,
    // ciphered, by SMS-SUBMIT), decoded.
    ota::DecodedResponse ram(const sim::Uicc& card, CardKeys& k,
                             const std::vector<ota::Apdu>& apdus, ota::Tar tar = {0, 0, 0},
                             const char* spi = "1639", std::optional<uint64_t> counter = {}) {
        auto ud = submit(card, k, ota::ram::compact_script(apdus), tar, spi,
                         counter ? *counter : ++k.counter);
        assert_true(ud.has_value());
        assert_hex_equal(ByteView(*ud).first(3), "027100");
        auto por = ota::decode_response_packet(*ud, *ota::Spi::parse(spi), k.keys);
        assert_ok(por);
        return *por;
    }
};

uint16_t last_sw(const ota::DecodedResponse& r) {
    auto c = ota::ram::parse_compact_response(r.data);
    assert_ok(c);
    return c->last_sw;
}

std::string registry(const sim::Uicc& c) {
    std::string s;
    for (const auto& a : c.apps)
        s += to_hex(a.aid) + ":" + to_hex(ByteView(&a.life_cycle, 1)) + " ";
    for (const auto& t : c.tars)
        s += to_hex(t.tar) + " ";
    for (const auto& k : c.keysets)
        s += std::to_string(k.counter) + " ";
    return s;
}

void test_install_lock_unlock_delete_get_status(void**) {
    Net n;
    sim::Uicc& card = n.pop.at(1);
    CardKeys k(card);
    // INSTALL [for install and make selectable] of the bank card, with its toolkit TAR C00003 and
    // MSL 16 in the UICC toolkit parameters (TS 102 226 §8.2.1.3.2.2.1).
    ota::gp::InstallForInstall ins;
    ins.load_file = aid(kBankElf);
    ins.module = aid(kBankModule);
    ins.instance = aid(kBank);
    ins.make_selectable = true;
    ota::gp::InstallParameters params;
    params.uicc_toolkit = hex("01000000"
                              "00"
                              "020116"
                              "03c00003");
    ins.install_parameters = *params.encode();
    auto r = n.ram(card, k, {*ota::gp::install_for_install(ins)});
    assert_int_equal(r.status, 0x00);
    assert_int_equal(last_sw(r), 0x9000);
    assert_int_equal(r.counter, k.counter);
    assert_int_equal(card.find_app(hex(kBank))->life_cycle, 0x07);
    assert_non_null(card.find_tar({0xc0, 0x00, 0x03}));
    // Lock and unlock the transit card.
    r = n.ram(card, k, {ota::gp::set_application_lock(aid(kTransit), true)});
    assert_int_equal(last_sw(r), 0x9000);
    assert_int_equal(card.find_app(hex(kTransit))->life_cycle, 0x87);
    r = n.ram(card, k, {ota::gp::set_application_lock(aid(kTransit), false)});
    assert_int_equal(last_sw(r), 0x9000);
    assert_int_equal(card.find_app(hex(kTransit))->life_cycle, 0x07);
    // DELETE the bank card: gone, with its TAR.
    r = n.ram(card, k, {ota::gp::delete_object(aid(kBank), false)});
    assert_int_equal(last_sw(r), 0x9000);
    assert_null(card.find_app(hex(kBank)));
    assert_null(card.find_tar({0xc0, 0x00, 0x03}));
    // GET STATUS reports the registry as it is.
    ota::gp::GetStatusRequest gs;
    gs.scope = ota::gp::StatusScope::Applications;
    r = n.ram(card, k, {*ota::gp::get_status(gs)});
    auto c = ota::ram::parse_compact_response(r.data);
    assert_int_equal(c->last_sw, 0x9000);
    auto entries = ota::gp::parse_get_status_response(c->last_data, gs.scope);
    assert_ok(entries);
    assert_int_equal(entries->size(), 2);
    assert_hex_equal((*entries)[0].aid.bytes(), kWallet);
    assert_int_equal((*entries)[0].life_cycle, 0x03);
    assert_hex_equal((*entries)[1].aid.bytes(), kTransit);
    assert_int_equal((*entries)[1].life_cycle, 0x07);
    // The other cards were not touched.
    assert_int_equal(n.pop.at(0).keysets[0].counter, 0);
    assert_int_equal(n.net->counters().get("sim:command:processed"), 5);
    assert_int_equal(n.net->counters().get("sim:por:status:00"), 5);
    // Every submission got its receipt, after the handset had the message.
    assert_true(test::run_until(
        &n.l.loop, [&] { return n.receipts.size() == 5; }, 2000));
    assert_string_equal(n.receipts[0].stat.c_str(), "DELIVRD");
}

void test_security_failures_through_the_smsc(void**) {
    Net n;
    sim::Uicc& card = n.pop.at(0);
    CardKeys k(card);
    const auto lock = ota::gp::set_application_lock(aid(kTransit), true);
    auto r = n.ram(card, k, {ota::gp::get_data(0x00e0)});
    assert_int_equal(r.status, 0x00);
    const std::string before = registry(card);
    // Replayed counter: 02, the PoR carries the card's counter.
    r = n.ram(card, k, {lock}, {0, 0, 0}, "1639", k.counter);
    assert_int_equal(r.status, 0x02);
    assert_int_equal(r.counter, k.counter);
    // Wrong KID key: 01, in clear.
    CardKeys wrong(card);
    wrong.keys = ota::OtaKeys::create(0x12, card.keysets[0].kic, 0x12,
                                      hex("000102030405060708090a0b0c0d0e0f"));
    auto ud =
        n.submit(card, wrong, ota::ram::compact_script({lock}), {0, 0, 0}, "1639", k.counter + 1);
    assert_true(ud.has_value());
    auto clear = ota::decode_response_packet(*ud, *ota::Spi::parse("1639"), k.keys);
    assert_ok(clear);
    assert_int_equal(clear->status, 0x01);
    // Unknown TAR: 09.
    r = n.ram(card, k, {lock}, {0xb2, 0x01, 0x23}, "1639", k.counter + 1);
    assert_int_equal(r.status, 0x09);
    // Below the minimum security level of the ISD (12: CC and counter): CC alone, 0A.
    r = n.ram(card, k, {lock}, {0, 0, 0}, "0239", k.counter + 1);
    assert_int_equal(r.status, 0x0a);
    // Below the bank TAR's MSL 16 would need the bank installed; the wallet's TAR C00001 asks 12.
    assert_string_equal(registry(card).c_str(), before.c_str());
    // The next good command works with the next counter.
    r = n.ram(card, k, {lock});
    assert_int_equal(r.status, 0x00);
    assert_int_equal(card.find_app(hex(kTransit))->life_cycle, 0x87);
}

void test_concatenated_command_and_por(void**) {
    Net n;
    sim::Uicc& card = n.pop.at(2);
    CardKeys k(card);
    // A load file big enough for several SMS, then a GET STATUS of load files whose response
    // does not fit one SMS either: expanded format lists every R-APDU.
    ::test::cap::Package package;
    package.aid = hex("f04f5441470199");
    for (uint8_t m = 1; m <= 30; m++) { // 30 applets
        Bytes module = hex("f04f5441470199");
        module.push_back(m);
        package.applets.push_back(module);
    }
    const Bytes content = package.load_file_data_block();
    std::vector<ota::Apdu> script;
    script.push_back(
        *ota::gp::install_for_load({aid("f04f5441470199"), aid("a000000151000000"), {}, {}, {}}));
    auto blocks = ota::gp::load_commands(content, 120);
    for (auto& b : *blocks)
        script.push_back(b);
    ota::gp::GetStatusRequest gs;
    gs.scope = ota::gp::StatusScope::LoadFilesAndModules;
    script.push_back(*ota::gp::get_status(gs)); // a page and 6310: the PoR needs two SMS
    auto ud =
        n.submit(card, k, ota::ram::expanded_script(script, false), {0, 0, 0}, "1639", ++k.counter);
    assert_true(ud.has_value());
    auto por = ota::decode_response_packet(*ud, *ota::Spi::parse("1639"), k.keys);
    assert_ok(por);
    auto resp = ota::ram::parse_expanded_response(por->data);
    assert_ok(resp);
    assert_int_equal(*resp->executed, script.size());
    assert_int_equal(resp->r_apdus.back().sw, 0x6310);
    assert_true(resp->r_apdus.back().data.size() > 100); // the other load files; ours is next
    assert_int_equal(resp->r_apdus[resp->r_apdus.size() - 2].sw, 0x9000); // the last LOAD
    assert_int_equal(n.net->counters().get("sim:por:sent"), 2);
    assert_non_null(card.find_load_file(hex("f04f5441470199")));
    assert_int_equal(card.find_load_file(hex("f04f5441470199"))->modules.size(), 30);
    assert_true(n.net->counters().get("sim:mt:segment") >= 2);
}

void test_requests_and_inbox(void**) {
    Net n;
    const std::string msisdn = n.pop.at(0).msisdn;
    uint32_t en = 1, zh = 1, bin = 1;
    assert_ok(n.net->send_text(msisdn, "4321", "ACT 01", [&](uint32_t s) { en = s; }));
    assert_ok(n.net->send_text(msisdn, "4321", "开通 01", [&](uint32_t s) { zh = s; }));
    assert_ok(n.net->send_binary(msisdn, "4321", hex("e00a4f05f04f544147800103"), false,
                                 [&](uint32_t s) { bin = s; }));
    assert_true(test::run_until(
        &n.l.loop, [&] { return n.mos.size() == 3 && !en && !zh && !bin; }, 3000));
    assert_string_equal(n.mos[0].source.addr.c_str(), msisdn.c_str());
    assert_string_equal(n.mos[0].dest.addr.c_str(), "4321");
    assert_int_equal(n.mos[0].data_coding, 0x00);
    assert_hex_equal(n.mos[0].user_data,
                     to_hex(ByteView(reinterpret_cast<const uint8_t*>("ACT 01"), 6)));
    assert_int_equal(n.mos[1].data_coding, 0x08);
    assert_hex_equal(n.mos[1].user_data, "5f00901a002000300031"); // UCS-2 of 开通 01
    assert_int_equal(n.mos[2].data_coding, 0x04);
    assert_hex_equal(n.mos[2].user_data, "e00a4f05f04f544147800103");
    // Unknown handsets and bad text are refused with a reason.
    assert_error_contains(n.net->send_text("123", "4321", "x"), "no simulated handset");
    assert_error_contains(n.net->send_text(msisdn, "4321", "\xff\xfe"), "UTF-8");
    // A reply to the subscriber (UCS-2, in two concatenated parts) lands in the handset's inbox.
    const char* parts[] = {"050003070201"
                           "5df2",
                           "050003070202"
                           "5f00901a"};
    for (const char* p : parts) {
        smpp::SmsPp sms;
        sms.source = {0, 1, "4321"};
        sms.dest = {1, 1, msisdn};
        sms.user_data = hex(p);
        sms.protocol_id = 0x00;
        sms.data_coding = 0x08;
        n.esme->submit(sms, [](const smpp::SubmitResult&) {});
    }
    assert_true(test::run_until(
        &n.l.loop, [&] { return n.net->inbox(msisdn)->size() == 1; }, 3000));
    assert_string_equal(n.net->inbox(msisdn)->front().text.c_str(), "已开通");
    assert_string_equal(n.net->inbox(msisdn)->front().from.c_str(), "4321");
}

void test_faults_loss_duplicates_and_delivery_report_pors(void**) {
    sim::NetworkConfig config;
    config.faults.latency_ms = 20;
    Net n(config);
    sim::Uicc& card = n.pop.at(0);
    CardKeys k(card);
    const auto get = ota::ram::compact_script({ota::gp::get_data(0x00e0)});
    // Lost on the radio path: the card never sees it, no PoR, no receipt.
    n.net->faults().mt_loss = 1.0;
    assert_false(n.submit(card, k, get, {0, 0, 0}, "1639", ++k.counter, 300).has_value());
    assert_int_equal(card.keysets[0].counter, 0);
    assert_int_equal(n.net->counters().get("sim:fault:mt_lost"), 1);
    n.net->faults().mt_loss = 0;
    // Delivered twice: the second copy replays the counter, and the card says so (02).
    n.net->faults().mt_duplicate = 1.0;
    auto ud = n.submit(card, k, get, {0, 0, 0}, "1639", ++k.counter);
    assert_true(ud.has_value());
    assert_true(test::run_until(
        &n.l.loop, [&] { return n.mos.size() == 2; }, 2000));
    auto second = ota::decode_response_packet(n.mos[1].user_data, *ota::Spi::parse("1639"), k.keys);
    assert_ok(second);
    assert_int_equal(second->status, 0x02);
    n.net->faults().mt_duplicate = 0;
    // A PoR asked for in the delivery report (SPI2 b6 = 0) never reaches the ESME.
    assert_false(n.submit(card, k, get, {0, 0, 0}, "1619", ++k.counter, 300).has_value());
    assert_int_equal(card.keysets[0].counter, k.counter); // the card did run it
    assert_int_equal(n.net->counters().get("sim:por:in_delivery_report_dropped"), 1);
    // An unknown MSISDN: the receipt says UNDELIV.
    sim::Uicc stranger;
    stranger.msisdn = "999999999999";
    const size_t receipts = n.receipts.size();
    assert_false(n.submit(stranger, k, get, {0, 0, 0}, "1639", 1, 300).has_value());
    assert_true(test::run_until(
        &n.l.loop, [&] { return n.receipts.size() > receipts; }, 2000));
    assert_string_equal(n.receipts.back().stat.c_str(), "UNDELIV");
}

std::string g_dir;

void test_state_survives_a_restart(void**) {
    {
        const std::string path = g_dir + "/state.db";
        std::string before;
        uint64_t counter = 0;
        {
            Net n({}, path);
            sim::Uicc& card = n.pop.at(1);
            CardKeys k(card);
            auto r = n.ram(card, k, {ota::gp::set_application_lock(aid(kTransit), true)});
            assert_int_equal(last_sw(r), 0x9000);
            // The PoR left only once the card was saved.
            assert_true(n.net->counters().get("sim:state:saved") >= 1);
            counter = k.counter;
            before = registry(card);
        }
        Net n({}, path);
        sim::Uicc& card = n.pop.at(1);
        assert_string_equal(registry(card).c_str(), before.c_str());
        assert_int_equal(card.keysets[0].counter, counter);
        // The restarted card still refuses the old counter.
        CardKeys k(card);
        auto r = n.ram(card, k, {ota::gp::set_application_lock(aid(kTransit), false)}, {0, 0, 0},
                       "1639", counter);
        assert_int_equal(r.status, 0x02);
    }
}

} // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_install_lock_unlock_delete_get_status),
        cmocka_unit_test(test_security_failures_through_the_smsc),
        cmocka_unit_test(test_concatenated_command_and_por),
        cmocka_unit_test(test_requests_and_inbox),
        cmocka_unit_test(test_faults_loss_duplicates_and_delivery_report_pors),
        cmocka_unit_test(test_state_survives_a_restart),
    };
    return test::run_in_temp_dir("test_sim_network", g_dir, tests);
}
