// SPDX-License-Identifier: GPL-2.0-or-later
// Populations of simulated cards: deterministic from the seed, valid identities (Luhn ICCIDs),
// the card inventory file written and read back exactly, strict errors naming line and field
// (never a key), and the card state encoding round trip used by the state store.
#include <sstream>

#include "otagw/sim/card_state.hpp"
#include "otagw/sim/inventory.hpp"
#include "otagw/sim/population.hpp"
#include "test_support.hpp"

using namespace otagw;
using test::hex;

namespace {

sim::Population make(uint64_t seed, size_t cards, const char* profile = "standard") {
    sim::PopulationSpec s;
    s.seed = seed;
    s.cards = cards;
    s.profile = profile;
    auto p = sim::Population::generate(s);
    assert_ok(p);
    return std::move(p).value();
}

std::vector<const sim::Uicc*> all(sim::Population& p) {
    std::vector<const sim::Uicc*> v;
    for (size_t i = 0; i < p.size(); i++)
        v.push_back(&p.at(i));
    return v;
}

void test_generation_is_deterministic(void**) {
    auto a = make(42, 100), b = make(42, 100), c = make(43, 100);
    for (size_t i = 0; i < 100; i++)
        assert_string_equal(sim::inventory_line(a.at(i)).c_str(),
                            sim::inventory_line(b.at(i)).c_str());
    assert_true(a.at(0).keysets[0].kic != c.at(0).keysets[0].kic);
    assert_string_equal(a.at(0).iccid.c_str(),
                        c.at(0).iccid.c_str()); // identities follow the serial
    // Known identities of card 1 and keys that differ between cards and between key types.
    assert_string_equal(a.at(0).iccid.c_str(), "8988299000000000016");
    assert_string_equal(a.at(0).imsi.c_str(), "001010000000001");
    assert_string_equal(a.at(0).msisdn.c_str(), "999000000001");
    assert_string_equal(a.at(99).msisdn.c_str(), "999000000100");
    assert_true(a.at(0).keysets[0].kic != a.at(1).keysets[0].kic);
    assert_true(a.at(0).keysets[0].kic != a.at(0).keysets[0].kid);
    assert_int_equal(sim::luhn_digit("7992739871"), '3'); // the ISO/IEC 7812 worked example
    for (size_t i = 0; i < 100; i++) {
        const std::string& iccid = a.at(i).iccid;
        assert_int_equal(sim::luhn_digit(std::string_view(iccid).substr(0, 18)), iccid.back());
    }
    assert_ptr_equal(a.by_msisdn("+999000000007"), &a.at(6));
    assert_ptr_equal(a.by_msisdn("00999000000007"), &a.at(6));
    assert_ptr_equal(a.by_iccid(a.at(9).iccid), &a.at(9));
    assert_null(a.by_msisdn("999000000101"));
}

void test_profiles(void**) {
    auto standard = make(1, 1), full = make(1, 1, "full"), empty = make(1, 1, "empty");
    sim::Uicc& s = standard.at(0);
    assert_int_equal(s.apps.size(), 2);
    assert_int_equal(s.find_app(hex("f04f5441470101010001"))->life_cycle, 0x03); // to activate
    assert_int_equal(s.load_files.size(), 3); // the bank's load file, ready for INSTALL
    assert_int_equal(full.at(0).apps.size(), 3);
    for (const auto& app : full.at(0).apps) {
        assert_int_equal(app.life_cycle, 0x07);
        assert_true(std::get<bool>(app.cardlet->describe()[0].second)); // personalised
    }
    assert_int_equal(empty.at(0).apps.size(), 0);
    assert_int_equal(empty.at(0).tars.size(), 3); // ISD and two RFM TARs
    sim::PopulationSpec bad;
    bad.profile = "gold";
    assert_error_contains(sim::Population::generate(bad), "unknown profile 'gold'");
    bad.profile = "standard";
    bad.cards = 0;
    assert_error_contains(sim::Population::generate(bad), "at least one card");
}

void test_inventory_round_trip(void**) {
    auto p = make(5, 20, "full");
    p.at(3).keysets[1].counter = 77;
    p.at(4).apps[0].life_cycle = 0x87;
    std::stringstream file;
    sim::write_inventory(file, all(p), {"issuer: test"});
    const std::string text = file.str();
    assert_int_equal(
        text.rfind("# ota-gateway card inventory v2\n# issuer: test\niccid,imsi,msisdn,", 0), 0);
    auto back = sim::read_inventory(file);
    assert_ok(back);
    assert_int_equal(back->size(), 20);
    for (size_t i = 0; i < 20; i++)
        assert_string_equal(sim::inventory_line((*back)[i]).c_str(),
                            sim::inventory_line(p.at(i)).c_str());
    assert_int_equal((*back)[3].keysets[1].counter, 77);
    assert_int_equal((*back)[4].apps[0].life_cycle, 0x87);
    assert_non_null((*back)[4].apps[0].cardlet.get()); // a known module brings its behaviour
    const sim::PskKeyset& psk = (*back)[2].psk_keysets.at(0);
    assert_int_equal(psk.kvn, 0x40);
    assert_int_equal(psk.kid, 0x01);
    assert_string_equal(std::string(psk.identity.begin(), psk.identity.end()).c_str(),
                        p.at(2).iccid.c_str());
    assert_hex_equal(psk.psk, to_hex(p.at(2).psk_keysets[0].psk));
    assert_hex_equal(psk.dek, to_hex(p.at(2).psk_keysets[0].dek));
    assert_false(psk.psk == p.at(3).psk_keysets[0].psk); // each card its own keys
    // A format 1 file (no SCP81 column) reads: its cards have no SCP81 keysets.
    std::string v1 =
        std::string(sim::kInventoryMagicV1) + "\n" + std::string(sim::kInventoryColumnsV1) + "\n";
    const std::string line = sim::inventory_line(p.at(0));
    v1 += line.substr(0, line.rfind(',')) + "\n";
    std::stringstream v1_file(v1);
    auto old = sim::read_inventory(v1_file);
    assert_ok(old);
    assert_int_equal(old->size(), 1);
    assert_int_equal((*old)[0].psk_keysets.size(), 0);
    assert_int_equal((*old)[0].keysets.size(), 2);
    // CRLF line ends and comment lines are accepted.
    std::string crlf;
    for (char c : text)
        crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
    std::stringstream crlf_file(crlf);
    assert_ok(sim::read_inventory(crlf_file));
}

// Replaces field `col` (0-based) of data line `n` (0-based) of an exported file.
std::string with_field(const std::string& text, size_t n, size_t col, const std::string& value) {
    std::stringstream in(text);
    std::string line, out;
    size_t data = 0;
    while (std::getline(in, line)) {
        if (!line.empty() && line[0] != '#' && line.rfind("iccid,", 0) != 0 && data++ == n) {
            std::vector<std::string> f;
            std::stringstream ls(line);
            std::string x;
            while (std::getline(ls, x, ','))
                f.push_back(x);
            while (f.size() < 8)
                f.emplace_back();
            f[col] = value;
            line.clear();
            for (size_t i = 0; i < f.size(); i++)
                line += (i ? "," : "") + f[i];
        }
        out += line + "\n";
    }
    return out;
}

void expect_error(const std::string& text, const char* message) {
    std::stringstream in(text);
    auto r = sim::read_inventory(in);
    if (r.ok())
        print_error("no error, expected '%s'\n", message);
    assert_error_contains(r, message);
}

void test_inventory_errors_name_line_and_field(void**) {
    auto p = make(5, 3);
    std::stringstream file;
    sim::write_inventory(file, all(p), {});
    const std::string text = file.str();
    const std::string kic = to_hex(p.at(1).keysets[0].kic);
    // Line numbers count from the magic line: card 2 is on line 4.
    expect_error(with_field(text, 1, 0, "8988299000000000025"),
                 "line 4, field iccid: the last digit is not the Luhn check digit");
    expect_error(with_field(text, 1, 1, "00101x"), "line 4, field imsi: 6 to 15 digits");
    expect_error(with_field(text, 1, 2, "+999"), "line 4, field msisdn");
    const std::string short_key =
        "1:aes128:" + kic.substr(2) +
        ":00112233445566778899aabbccddeeff:00112233445566778899aabbccddeeff:0";
    std::stringstream in(with_field(text, 1, 3, short_key));
    auto r = sim::read_inventory(in);
    assert_error_contains(r, "line 4, field keysets: entry 1: kic");
    assert_true(r.error().message.find(kic.substr(2)) == std::string::npos); // never the key
    expect_error(with_field(text, 1, 3, "1:rot13:00:00:00:0"), "unknown algorithm");
    expect_error(with_field(text, 1, 3, ""), "at least one keyset");
    expect_error(with_field(text, 2, 3, "16:aes128:" + kic + ":" + kic + ":" + kic + ":0"),
                 "line 5, field keysets: entry 1: kvn must be 1..15");
    expect_error(
        with_field(text, 0, 3, "1:aes128:" + kic + ":" + kic + ":" + kic + ":1099511627776"),
        "counter");
    expect_error(with_field(text, 0, 4, "000000:isd:12;000000:rfm:12"),
                 "field tars: entry 2: TAR 000000 appears twice");
    expect_error(with_field(text, 0, 4, "c00001:app:12"), "names its application AID");
    expect_error(with_field(text, 0, 6, "f04f5441470101010001:07:f04f5441470199:f04f544147019901"),
                 "field apps: entry 1: its load file and module are not in load_files");
    expect_error(with_field(text, 0, 6, ""), "names an application not in apps");
    // Duplicates across lines, and the file structure.
    std::string dup = text + sim::inventory_line(p.at(0)) + "\n";
    expect_error(dup, "line 6, field iccid: 8988299000000000016 appears twice");
    expect_error("iccid,imsi\n", "line 1, not a card inventory");
    expect_error(std::string(sim::kInventoryMagic) + "\niccid,imsi\n",
                 "line 2, the column header must be");
    expect_error("", "the file is empty");
    expect_error(std::string(sim::kInventoryMagic) + "\n# nothing\n", "no column header");
    expect_error(with_field(text, 0, 0, "1,2"), "expected 8 comma-separated fields");
    // SCP81 keysets.
    const std::string psk = to_hex(p.at(0).psk_keysets[0].psk);
    expect_error(with_field(text, 0, 7, "3f:01:6964:" + psk + ":aes128:" + psk),
                 "line 3, field scp81_keysets: entry 1: kvn must be 40..4f");
    expect_error(with_field(text, 0, 7, "40:7f:6964:" + psk + ":aes128:" + psk),
                 "kid must be 01..7e");
    std::stringstream short_psk(
        with_field(text, 0, 7, "40:01:6964:" + psk.substr(2) + ":aes128:" + psk));
    auto bad_psk = sim::read_inventory(short_psk);
    assert_error_contains(bad_psk, "field scp81_keysets: entry 1: psk: 15 bytes, expected 16..32");
    assert_true(bad_psk.error().message.find(psk.substr(2)) == std::string::npos);
    expect_error(with_field(text, 0, 7, "40:01:6964:" + psk + ":aes256:" + psk),
                 "dek: 16 bytes, expected 32 for aes256");
    expect_error(with_field(text, 0, 7, "40:01:6964:" + psk + ":rc4:" + psk),
                 "unknown DEK algorithm");
    expect_error(with_field(text, 0, 7,
                            "40:01:6964:" + psk + ":aes128:" + psk + ";40:01:6965:" + psk +
                                ":aes128:" + psk),
                 "entry 2: kvn 40 appears twice");
    expect_error(with_field(text, 1, 7,
                            "40:01:" + to_hex(p.at(0).psk_keysets[0].identity) + ":" + psk +
                                ":aes128:" + psk),
                 "line 4, field scp81_keysets: PSK identity");
}

void test_card_state_round_trip(void**) {
    auto p = make(9, 2, "full");
    sim::Uicc& c = p.at(1);
    c.keysets[0].counter = 0x0102030405;
    c.card_life_cycle = 0x7f;
    const Bytes state = sim::save_card(c);
    auto back = sim::restore_card(state);
    assert_ok(back);
    assert_hex_equal(sim::save_card(*back), to_hex(state));
    assert_int_equal(back->keysets[0].counter, 0x0102030405);
    assert_int_equal(back->psk_keysets.size(), 1);
    assert_hex_equal(back->psk_keysets[0].psk, to_hex(c.psk_keysets[0].psk));
    assert_hex_equal(back->psk_keysets[0].identity, to_hex(c.psk_keysets[0].identity));
    assert_int_equal(back->apps.size(), 3);
    // Cardlet data comes back too: the balance survives.
    assert_true(std::get<int64_t>(back->apps[0].cardlet->describe()[2].second) == 1000);
    // Damaged state is refused with a reason, whatever byte is hit.
    for (size_t i = 0; i < state.size(); i += 7) {
        Bytes bad = state;
        bad.resize(i);
        assert_false(sim::restore_card(bad).ok());
    }
    Bytes wrong_tag = state;
    wrong_tag[0] = 0xe2;
    assert_error_contains(sim::restore_card(wrong_tag), "card template");
}

} // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_generation_is_deterministic),
        cmocka_unit_test(test_profiles),
        cmocka_unit_test(test_inventory_round_trip),
        cmocka_unit_test(test_inventory_errors_name_line_and_field),
        cmocka_unit_test(test_card_state_round_trip),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
