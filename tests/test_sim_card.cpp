// SPDX-License-Identifier: GPL-2.0-or-later
// The simulated card's side of OTA, held to the external vectors (command packets decode and
// verify; PoRs build byte for byte where the vector fixes every byte), then driven by the
// gateway's own codec (ota/) with real scripts: INSTALL, lock, unlock, DELETE, GET STATUS change
// the registry as a card does, and every security failure leaves it unchanged.
#include "cap_builder.hpp"
#include "otagw/common/crypto.hpp"
#include "otagw/common/tlv.hpp"
#include "otagw/ota/cap_file.hpp"
#include "otagw/ota/globalplatform.hpp"
#include "otagw/ota/ts_102_225.hpp"
#include "otagw/ota/ts_102_226.hpp"
#include "otagw/sim/card_state.hpp"
#include "otagw/sim/ota_card.hpp"
#include "test_support.hpp"

using namespace otagw;
using test::hex;
using Json = test::Json;

namespace {

namespace built = ::test::cap;

crypto::BlockAlgo algo_of(const std::string& kic_byte) {
    return kic_byte == "22" ? crypto::BlockAlgo::Aes : crypto::BlockAlgo::TripleDes2Key;
}

sim::Keyset keyset_of(const Json& in) {
    sim::Keyset k;
    k.kvn = static_cast<uint8_t>(hex(in["kic_byte"])[0] >> 4);
    k.algo = algo_of(in["kic_byte"]);
    k.kic = hex(in["kic_key"]);
    k.kid = hex(in["kid_key"]);
    k.kik = k.kid;
    return k;
}

void test_card_side_vectors(void**) {
    auto file = test::load_vectors("ota_scp80.json");
    size_t commands = 0, pors = 0;
    for (const auto& v : file["vectors"]) {
        const auto& exp = v["expected"];
        const auto& in = v["inputs"];
        std::string packet;
        if (exp.contains("command_packet"))
            packet = exp["command_packet"];
        else if (exp.contains("command_packet_as_output_by_pysim"))
            packet = v["derived_with_pysim_code"]["command_packet_with_cpl"];
        if (!packet.empty()) {
            auto view = sim::read_command_packet(hex(packet), keyset_of(in));
            assert_ok(view);
            assert_hex_equal(view->secured_data, in["secured_data_apdu"].get<std::string>());
            const bool checked = (hex(in["spi"])[0] & 0x03) != 0;
            assert_string_equal(view->integrity.c_str(), checked ? "ok" : "absent");
            assert_hex_equal(view->tar, in["tar"].get<std::string>());
            commands++;
        }
        // PoRs of the pySim SJA5 vectors: the card pads with '00', so every byte is fixed.
        if (v.contains("response")) {
            const auto& r = v["response"];
            const auto& d = r["derived_with_pysim_code"];
            sim::Keyset k = keyset_of(in);
            sim::PorFields f;
            f.spi2 = hex(in["spi"])[1];
            f.kic = hex(in["kic_byte"])[0];
            f.kid = hex(in["kid_byte"])[0];
            f.cipher_keys = f.check_keys = &k;
            const Bytes tar = hex(d["tar"]);
            std::copy(tar.begin(), tar.end(), f.tar.begin());
            f.counter = 0;
            f.status = 0;
            auto por = sim::build_por(f, hex(d["additional_response_data"]));
            assert_ok(por);
            assert_hex_equal(*por, r["input_response_packet_with_udh"].get<std::string>());
            pors++;
        }
    }
    assert_int_equal(commands, 7);
    assert_int_equal(pors, 4);
}

// ---- A card and the gateway's codec ------------------------------------------------------------

const Bytes kKic = hex("11223344556677889900aabbccddeeff");
const Bytes kKid = hex("0f1e2d3c4b5a69788796a5b4c3d2e1f0");
const Bytes kKik = hex("a1b2c3d4e5f60718293a4b5c6d7e8f90");

sim::Uicc make_card() {
    sim::Uicc c;
    c.iccid = "8949000000000000017";
    c.msisdn = "4917000000001";
    c.keysets.push_back({1, crypto::BlockAlgo::Aes, kKic, kKid, kKik, 0});
    c.tars.push_back({{0, 0, 0}, sim::TarKind::Isd, {}, 0x16}); // MSL: CC, ciphered, counter higher
    const auto* wallet = sim::find_module_by_name("canteen-wallet");
    c.preinstall(*wallet, wallet->instance, 0x07); // its TAR C00001 with MSL 12
    return c;
}

struct Gateway {
    ota::OtaKeys keys = ota::OtaKeys::create(0x12, kKic, 0x12, kKid);
    uint64_t counter = 0;

    // Secures `apdus` for `tar`, runs them on the card, decodes the PoR.
    ota::DecodedResponse send(sim::Uicc& card, const std::vector<ota::Apdu>& apdus,
                              ota::Tar tar = {0, 0, 0}, const char* spi = "1639",
                              std::optional<uint64_t> cntr = {},
                              const ota::OtaKeys* with = nullptr) {
        ota::CommandHeader h;
        h.spi = *ota::Spi::parse(spi);
        h.kic = 0x12;
        h.kid = 0x12;
        h.tar = tar;
        h.counter = cntr ? *cntr : ++counter;
        Bytes packet;
        Status st = ota::build_command_packet(h, with ? *with : keys,
                                              ota::ram::compact_script(apdus), packet);
        assert_ok(st);
        sim::PorOutcome out = sim::process_command_packet(card, packet);
        assert_true(out.por_wanted);
        assert_true(out.via_submit);
        auto por = ota::decode_response_packet(out.por, h.spi, keys);
        assert_ok(por);
        return std::move(*por);
    }
};

ota::Aid aid(const char* h) {
    return *ota::Aid::parse(h);
}

// A package holding `modules` as its applets, loaded in blocks of `block` bytes.
std::vector<ota::Apdu> load_script(const char* elf, std::vector<const char*> modules,
                                   size_t block = 64, Bytes hash = {}, Bytes params = {}) {
    built::Package p;
    p.aid = hex(elf);
    for (const char* m : modules)
        p.applets.push_back(hex(m));
    std::vector<ota::Apdu> s;
    s.push_back(*ota::gp::install_for_load(
        {aid(elf), aid("a000000151000000"), std::move(hash), std::move(params), {}}));
    auto blocks = ota::gp::load_commands(p.load_file_data_block(), block);
    for (auto& b : *blocks)
        s.push_back(b);
    return s;
}

uint16_t last_sw(const ota::DecodedResponse& r) {
    auto c = ota::ram::parse_compact_response(r.data);
    assert_ok(c);
    return c->last_sw;
}

void test_scripts_change_the_registry(void**) {
    sim::Uicc card = make_card();
    Gateway gw;
    // INSTALL a transit applet: load its file, then install and make selectable.
    const char* elf = "f04f5441470102";
    const char* module = "f04f544147010201";
    const char* transit = "f04f5441470102010001";
    auto r = gw.send(card, load_script(elf, {module}));
    assert_int_equal(r.status, 0);
    assert_int_equal(last_sw(r), 0x9000);
    assert_non_null(card.find_load_file(hex(elf)));
    ota::gp::InstallForInstall ins;
    ins.load_file = aid(elf);
    ins.module = aid(module);
    ins.instance = aid(transit);
    ins.make_selectable = true;
    // UICC toolkit parameters (TS 102 226 §8.2.1.3.2.2.1): priority 01, no timers, menu text
    // 10, no menu entries, no channels, MSL parameter 01 with MSL 12, TAR C00002.
    ota::gp::InstallParameters params;
    params.uicc_toolkit = hex("01001000"
                              "00"
                              "020112"
                              "03c00002");
    ins.install_parameters = *params.encode();
    r = gw.send(card, {*ota::gp::install_for_install(ins)});
    assert_int_equal(last_sw(r), 0x9000);
    assert_int_equal(card.find_app(hex(transit))->life_cycle, 0x07);
    const sim::TarEntry* transit_tar = card.find_tar({0xc0, 0x00, 0x02});
    assert_non_null(transit_tar);
    assert_hex_equal(transit_tar->aid, transit);
    assert_int_equal(transit_tar->msl, 0x12);
    // The transit card answers on its TAR: ADD RIDES (INS 62 in the simulated applet).
    r = gw.send(card, {ota::Apdu{0x80, 0x62, 0, 0, {5}, std::nullopt}}, {0xc0, 0x00, 0x02});
    assert_int_equal(r.status, 0x00);
    assert_hex_equal(ota::ram::parse_compact_response(r.data)->last_data, "05");
    // Installing it twice is refused as a card does.
    r = gw.send(card, {*ota::gp::install_for_install(ins)});
    assert_int_equal(last_sw(r), 0x6985);
    // Lock, then a locked wallet refuses payments; unlock again.
    const char* wallet = "f04f5441470101010001";
    r = gw.send(card, {ota::gp::set_application_lock(aid(wallet), true)});
    assert_int_equal(last_sw(r), 0x9000);
    assert_int_equal(card.find_app(hex(wallet))->life_cycle, 0x87);
    r = gw.send(card, {ota::gp::set_application_lock(aid(wallet), true)});
    assert_int_equal(last_sw(r), 0x6985); // locking a locked application
    assert_int_equal(card.local(hex(wallet), {0x80, 0x54, 0, 0, hex("00000001"), {}}).sw, 0x6a82);
    r = gw.send(card, {ota::gp::set_application_lock(aid(wallet), false)});
    assert_int_equal(last_sw(r), 0x9000);
    assert_int_equal(card.find_app(hex(wallet))->life_cycle, 0x07);
    // Personalise through INSTALL [for personalization] + STORE DATA, then pay.
    Bytes dgis;
    assert_ok(tlv::append_dgi_tlv(dgis, 0x0101, hex("00000042")));
    assert_ok(tlv::append_dgi_tlv(dgis, 0x0102, kKic));
    assert_ok(tlv::append_dgi_tlv(dgis, 0x0103, hex("00000064")));
    std::vector<ota::Apdu> perso{*ota::gp::install_for_personalization(aid(wallet))};
    auto stores = ota::gp::store_data(dgis, 200, ota::gp::kStoreDataDgi);
    for (auto& a : *stores)
        perso.push_back(a);
    r = gw.send(card, perso);
    assert_int_equal(last_sw(r), 0x9000);
    {
        auto paid = card.local(hex(wallet), {0x80, 0x54, 0, 0, hex("0000000a"), {}});
        assert_int_equal(paid.sw, 0x9000);
        assert_hex_equal(paid.data, "0000005a");
    }
    // GET STATUS sees both applications.
    ota::gp::GetStatusRequest gs;
    gs.scope = ota::gp::StatusScope::Applications;
    r = gw.send(card, {*ota::gp::get_status(gs)});
    auto c = ota::ram::parse_compact_response(r.data);
    assert_int_equal(c->last_sw, 0x9000);
    auto entries = ota::gp::parse_get_status_response(c->last_data, gs.scope);
    assert_ok(entries);
    assert_int_equal(entries->size(), 2);
    // DELETE the load file with its applications.
    r = gw.send(card, {ota::gp::delete_object(aid(elf), false)});
    assert_int_equal(last_sw(r), 0x6985); // it has an instance
    r = gw.send(card, {ota::gp::delete_object(aid(elf), true)});
    assert_int_equal(last_sw(r), 0x9000);
    assert_null(card.find_app(hex(transit)));
    assert_null(card.find_load_file(hex(elf)));
    assert_null(card.find_tar({0xc0, 0x00, 0x02})); // its TAR went with it
    r = gw.send(card, {ota::Apdu{0x80, 0x64, 0, 0, {}, 1}}, {0xc0, 0x00, 0x02});
    assert_int_equal(r.status, 0x09);
    r = gw.send(card, {ota::gp::delete_object(aid(transit), false)});
    assert_int_equal(last_sw(r), 0x6a88);
    // Execution stops at the first error: the count says how far it went.
    r = gw.send(card, {ota::gp::set_application_lock(aid(wallet), true),
                       ota::gp::delete_object(aid(transit), false),
                       ota::gp::set_application_lock(aid(wallet), false)});
    c = ota::ram::parse_compact_response(r.data);
    assert_int_equal(c->executed, 2);
    assert_int_equal(c->last_sw, 0x6a88);
    assert_int_equal(card.find_app(hex(wallet))->life_cycle, 0x87);
}

// Loading across scripts: the sequence of blocks, the package read from its components, the
// hash, memory, and a load left unfinished (kept with the card, dropped by DELETE).
void test_loading(void**) {
    sim::Uicc card = make_card();
    Gateway gw;
    const char* elf = "f0112233440a";
    built::Package p;
    p.aid = hex(elf);
    p.applets = {hex("f0112233440a01"), hex("f0112233440a02")};
    p.exports = true;
    p.method_size = 100;
    const Bytes block = p.load_file_data_block();
    auto loads = *ota::gp::load_commands(block, 40);
    assert_true(loads.size() >= 4);
    const ota::Apdu install = *ota::gp::install_for_load({aid(elf), std::nullopt, {}, {}, {}});
    // Script 1: INSTALL [for load] and two blocks; script 2: the rest. The load lasts across.
    auto r = gw.send(card, {install, loads[0], loads[1]});
    assert_int_equal(last_sw(r), 0x9000);
    assert_true(card.loading.has_value());
    assert_int_equal(card.loading->next_block, 2);
    // Kept with the card's state (non-volatile).
    card.imsi = "001010000000001";
    card.msisdn = "999000000001";
    auto saved = sim::restore_card(sim::save_card(card));
    assert_ok(saved);
    assert_int_equal(saved->loading->next_block, 2);
    assert_true(saved->loading->data == card.loading->data);
    // No second load over it.
    r = gw.send(card, {install});
    assert_int_equal(last_sw(r), 0x6985);
    std::vector<ota::Apdu> rest(loads.begin() + 2, loads.end());
    r = gw.send(card, rest);
    assert_int_equal(last_sw(r), 0x9000);
    assert_false(card.loading.has_value());
    const sim::LoadFile* lf = card.find_load_file(hex(elf));
    assert_non_null(lf);
    assert_int_equal(lf->modules.size(), 2);
    assert_hex_equal(lf->modules[1], "f0112233440a02");
    assert_int_equal(lf->size, block.size());
    assert_int_equal(card.memory_used(), block.size());
    // Install one module; it answers SELECT from the handset.
    ota::gp::InstallForInstall ins;
    ins.load_file = aid(elf);
    ins.module = aid("f0112233440a02");
    ins.instance = aid("f0112233440a0201");
    ins.make_selectable = true;
    r = gw.send(card, {*ota::gp::install_for_install(ins)});
    assert_int_equal(last_sw(r), 0x9000);
    {
        auto selected = card.local(hex("f0112233440a0201"),
                                   {0x00, 0xa4, 0x04, 0x00, hex("f0112233440a0201"), {}});
        assert_int_equal(selected.sw, 0x9000);
        assert_hex_equal(selected.data, "6f0a8408f0112233440a0201"); // FCI: its AID
    }
    r = gw.send(card, {ota::gp::delete_object(aid(elf), true)});
    assert_int_equal(last_sw(r), 0x9000);
    assert_int_equal(card.memory_used(), 0);

    // Out of sequence: the load is dropped.
    r = gw.send(card, {install, loads[0], loads[2]});
    assert_int_equal(last_sw(r), 0x6a86);
    assert_false(card.loading.has_value());
    // An unfinished load dropped by DELETE of its AID; then DELETE finds nothing.
    r = gw.send(card, {install, loads[0]});
    assert_int_equal(last_sw(r), 0x9000);
    r = gw.send(card, {ota::gp::delete_object(aid(elf), false)});
    assert_int_equal(last_sw(r), 0x9000);
    assert_false(card.loading.has_value());
    r = gw.send(card, {ota::gp::delete_object(aid(elf), false)});
    assert_int_equal(last_sw(r), 0x6a88);

    // The hash (SHA-256, then SHA-1, over the C4 value) checked at the last block.
    const ByteView code = ByteView(block).subspan(3);
    auto with_hash = [&](Bytes hash) {
        std::vector<ota::Apdu> s{
            *ota::gp::install_for_load({aid(elf), std::nullopt, hash, {}, {}})};
        s.insert(s.end(), loads.begin(), loads.end());
        return s;
    };
    assert_int_equal(block[1], 0x81); // C4 81 LL: the value starts at byte 3
    auto sha = crypto::sha256(code);
    r = gw.send(card, with_hash(Bytes(sha.begin(), sha.end())));
    assert_int_equal(last_sw(r), 0x9000);
    r = gw.send(card, {ota::gp::delete_object(aid(elf), true)});
    Bytes wrong(sha.begin(), sha.end());
    wrong[0] ^= 1;
    r = gw.send(card, with_hash(wrong));
    assert_int_equal(last_sw(r), 0x6a80);
    assert_null(card.find_load_file(hex(elf)));
    r = gw.send(card, with_hash(crypto::sha1(code)));
    assert_int_equal(last_sw(r), 0x9000);
    r = gw.send(card, {ota::gp::delete_object(aid(elf), true)});

    // Memory: a need declared beyond the free memory is refused at once; blocks beyond it
    // stop the load, which leaves nothing behind.
    card.memory = 60;
    r = gw.send(
        card, {*ota::gp::install_for_load({aid(elf), std::nullopt, {}, hex("ef04c6020400"), {}})});
    assert_int_equal(last_sw(r), 0x6a84);
    assert_false(card.loading.has_value());
    r = gw.send(card, load_script(elf, {"f0112233440a01"}, 40));
    assert_int_equal(last_sw(r), 0x6a84);
    assert_false(card.loading.has_value());
    assert_null(card.find_load_file(hex(elf)));
    assert_int_equal(card.memory_used(), 0);
    card.memory = 64 * 1024;
    // A package other than the one announced is refused at the last block.
    built::Package other = p;
    other.aid = hex("f0112233440b");
    std::vector<ota::Apdu> s{install};
    auto other_loads = ota::gp::load_commands(other.load_file_data_block(), 200);
    s.insert(s.end(), other_loads->begin(), other_loads->end());
    r = gw.send(card, s);
    assert_int_equal(last_sw(r), 0x6a80);
    assert_null(card.find_load_file(hex(elf)));
}

// Counts the registry, keys and counters: a refused packet must leave all of them as they were.
std::string snapshot(sim::Uicc& c) {
    std::string s;
    for (const auto& a : c.apps)
        s += to_hex(a.aid) + ":" + std::to_string(a.life_cycle) + ";";
    for (const auto& k : c.keysets)
        s += std::to_string(k.kvn) + "/" + std::to_string(k.counter) + ";";
    return s;
}

void test_security_failures_leave_the_card_unchanged(void**) {
    sim::Uicc card = make_card();
    Gateway gw;
    const auto lock = ota::gp::set_application_lock(aid("f04f5441470101010001"), true);
    auto ok = gw.send(card, {ota::gp::get_data(0x00e0)});
    assert_int_equal(ok.status, 0);
    const std::string before = snapshot(card);
    // Replayed counter: 02, and the PoR tells the card's counter.
    auto r = gw.send(card, {lock}, {0, 0, 0}, "1639", gw.counter);
    assert_int_equal(r.status, 0x02);
    assert_int_equal(r.counter, gw.counter);
    assert_int_equal(static_cast<int>(r.integrity), static_cast<int>(ota::IntegrityCheck::Ok));
    // "Exactly one higher" with a gap: 03.
    r = gw.send(card, {lock}, {0, 0, 0}, "1e39", gw.counter + 5);
    assert_int_equal(r.status, 0x03);
    // Wrong KID key: 01, answered in clear.
    ota::OtaKeys wrong =
        ota::OtaKeys::create(0x12, kKic, 0x12, hex("00000000000000000000000000000000"));
    r = gw.send(card, {lock}, {0, 0, 0}, "1639", gw.counter + 1, &wrong);
    assert_int_equal(r.status, 0x01);
    assert_int_equal(static_cast<int>(r.integrity), static_cast<int>(ota::IntegrityCheck::Absent));
    // Unknown TAR: 09.
    r = gw.send(card, {lock}, {0xb2, 0x00, 0x99}, "1639", gw.counter + 1);
    assert_int_equal(r.status, 0x09);
    // Below the ISD's minimum security level (CC + ciphering + counter): CC only, 0A.
    r = gw.send(card, {lock}, {0, 0, 0}, "1239", gw.counter + 1);
    assert_int_equal(r.status, 0x0a);
    assert_string_equal(snapshot(card).c_str(), before.c_str());
    // The next good command still works, with the next counter.
    r = gw.send(card, {lock});
    assert_int_equal(r.status, 0);
    assert_int_equal(last_sw(r), 0x9000);
}

// PUT KEY (GP §11.8) through OTA: the card deciphers each key with the securing keyset's KIK and
// checks its KCV; a wrong or oversized KCV is refused and leaves the keysets as they were.
void test_put_key_adds_a_keyset(void**) {
    sim::Uicc card = make_card();
    Gateway gw;
    auto kik = crypto::BlockCipher::create(crypto::BlockAlgo::Aes, kKik);
    assert_ok(kik);
    ota::gp::PutKeyRequest req;
    req.new_kvn = 3;
    for (const char* k : {"000102030405060708090a0b0c0d0e0f", "101112131415161718191a1b1c1d1e1f",
                          "202122232425262728292a2b2c2d2e2f"})
        req.keys.push_back({crypto::BlockAlgo::Aes, hex(k)});
    const ota::Apdu good = *ota::gp::put_key(req, &*kik);
    // Data: KVN, then '88' 11 (length byte + 16 key bytes) 03 KCV for each key.
    assert_int_equal(good.data[1], 0x88);
    assert_int_equal(good.data[2], 0x11);
    const size_t kcv_len_at = 3 + 0x11;
    assert_int_equal(good.data[kcv_len_at], 3);
    ota::Apdu wrong_kcv = good;
    wrong_kcv.data[kcv_len_at + 1] ^= 0x01;
    ota::Apdu long_kcv = good;
    long_kcv.data[kcv_len_at] = 20; // longer than any check value
    const std::string before = snapshot(card);
    assert_int_equal(last_sw(gw.send(card, {wrong_kcv})), 0x9485);
    assert_int_equal(last_sw(gw.send(card, {long_kcv})), 0x6a80);
    assert_null(card.keyset(3));
    auto r = gw.send(card, {good});
    assert_int_equal(last_sw(r), 0x9000);
    const sim::Keyset* added = card.keyset(3);
    assert_non_null(added);
    assert_hex_equal(added->kic, "000102030405060708090a0b0c0d0e0f");
    assert_hex_equal(added->kik, "202122232425262728292a2b2c2d2e2f");
    assert_int_equal(added->counter, 0);
    assert_true(snapshot(card) != before);
}

void test_expanded_script_and_paging(void**) {
    sim::Uicc card = make_card();
    // Enough applications for two GET STATUS pages.
    const auto* bank = sim::find_module_by_name("bank");
    for (int i = 0; i < 12; i++) {
        Bytes a = hex("f04f544147010301000100");
        a.back() = static_cast<uint8_t>(i);
        card.preinstall(*bank, a, 0x07);
    }
    Gateway gw;
    ota::gp::GetStatusRequest gs;
    gs.scope = ota::gp::StatusScope::Applications;
    ota::gp::GetStatusReader reader(gs);
    std::optional<ota::Apdu> cmd = *reader.first();
    int pages = 0;
    while (cmd) {
        ota::CommandHeader h;
        h.spi = *ota::Spi::parse("1639");
        h.kic = h.kid = 0x12;
        h.counter = ++gw.counter;
        Bytes packet;
        assert_ok(ota::build_command_packet(
            h, gw.keys, ota::ram::expanded_script({*cmd}, pages % 2 == 1), packet));
        auto out = sim::process_command_packet(card, packet);
        auto por = ota::decode_response_packet(out.por, h.spi, gw.keys);
        assert_ok(por);
        auto resp = ota::ram::parse_expanded_response(por->data);
        assert_ok(resp);
        assert_int_equal(*resp->executed, 1);
        auto next = reader.on_response(resp->r_apdus.at(0));
        assert_ok(next);
        cmd = *next;
        pages++;
    }
    assert_true(pages >= 2);
    assert_int_equal(reader.entries().size(), 13);
}

} // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_card_side_vectors),
        cmocka_unit_test(test_scripts_change_the_registry),
        cmocka_unit_test(test_loading),
        cmocka_unit_test(test_security_failures_leave_the_card_unchanged),
        cmocka_unit_test(test_expanded_script_and_paging),
        cmocka_unit_test(test_put_key_adds_a_keyset),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
