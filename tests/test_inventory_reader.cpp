// SPDX-License-Identifier: GPL-2.0-or-later
// The gateway's reader of card inventory files (doc/card-inventory.md): a file the simulator
// exported reads back card for card whatever the chunking; each rule of the format names its
// line and field when broken; in-file duplicates are found.
#include <sstream>

#include "inventory/inventory_reader.hpp"
#include "otagw/sim/inventory.hpp"
#include "otagw/sim/population.hpp"
#include "test_support.hpp"

using namespace otagw;

namespace {

const std::string kHead = "# ota-gateway card inventory v1\n# a "
                          "comment\niccid,imsi,msisdn,keysets,tars,load_files,apps\n";
const std::string kCard =
    "8988299000000000016,001010000000001,999000000001,"
    "1:aes128:000102030405060708090a0b0c0d0e0f:101112131415161718191a1b1c1d1e1f:"
    "202122232425262728292a2b2c2d2e2f:5,"
    "000000:isd:12;c00001:app:12:f04f5441470101010001,"
    "f04f5441470101/f04f544147010101,"
    "f04f5441470101010001:87:f04f5441470101:f04f544147010101";

struct Read {
    std::vector<db::CardImage> cards;
    std::vector<std::string> issues;
};

Read read(const std::string& text, size_t chunk) {
    Read r;
    gateway::InventoryReader reader(
        [&](db::CardImage&& c, uint64_t) { r.cards.push_back(std::move(c)); },
        [&](gateway::InventoryIssue&& i) { r.issues.push_back(i.message()); });
    for (size_t at = 0; at < text.size(); at += chunk)
        reader.feed(std::string_view(text).substr(at, chunk));
    reader.finish();
    return r;
}

void test_simulator_export_reads_back(void**) {
    sim::PopulationSpec spec;
    spec.seed = 7;
    spec.cards = 40;
    auto population = sim::Population::generate(spec);
    assert_ok(population);
    std::vector<const sim::Uicc*> cards;
    for (size_t i = 0; i < population->size(); i++)
        cards.push_back(&population->at(i));
    std::stringstream file;
    sim::write_inventory(file, cards, {"issuer: test"});
    for (size_t chunk : {size_t{1}, size_t{7}, size_t{4096}}) {
        Read r = read(file.str(), chunk);
        assert_int_equal(r.issues.size(), 0);
        assert_int_equal(r.cards.size(), 40);
        for (size_t i = 0; i < 40; i++) {
            const sim::Uicc& want = *cards[i];
            const db::CardImage& got = r.cards[i];
            assert_string_equal(got.card.iccid.c_str(), want.iccid.c_str());
            assert_string_equal(got.card.msisdn.c_str(), want.msisdn.c_str());
            assert_int_equal(got.keysets.size(), want.keysets.size());
            assert_hex_equal(got.keysets[0].kic, to_hex(want.keysets[0].kic));
            assert_hex_equal(got.keysets[1].kik, to_hex(want.keysets[1].kik));
            assert_int_equal(got.tars.size(), want.tars.size());
            assert_int_equal(got.apps.size(), want.apps.size());
            assert_int_equal(got.psk_keysets.size(), 1);
            assert_int_equal(got.psk_keysets[0].kvn, 0x40);
            assert_int_equal(got.psk_keysets[0].kid, 0x01);
            assert_hex_equal(got.psk_keysets[0].identity, to_hex(want.psk_keysets[0].identity));
            assert_hex_equal(got.psk_keysets[0].psk, to_hex(want.psk_keysets[0].psk));
            assert_hex_equal(got.psk_keysets[0].dek, to_hex(want.psk_keysets[0].dek));
            assert_string_equal(got.psk_keysets[0].dek_algorithm.c_str(), "aes128");
        }
    }
}

void test_one_card_in_detail(void**) {
    Read r = read(kHead + kCard + "\r\n\n", 5); // CRLF and a blank line are fine
    assert_int_equal(r.issues.size(), 0);
    assert_int_equal(r.cards.size(), 1);
    const auto& c = r.cards[0];
    assert_int_equal(c.keysets[0].counter, 5);
    assert_string_equal(c.keysets[0].algorithm.c_str(), "aes128");
    assert_int_equal(c.tars[1].msl, 0x12);
    assert_string_equal(c.tars[1].aid.c_str(), "f04f5441470101010001");
    assert_int_equal(*c.apps[0].life_cycle, 0x87);
    assert_string_equal(c.apps[0].state.c_str(), "suspended");
    assert_string_equal(gateway::app_state_for_life_cycle(0x03).c_str(), "installed");
    assert_string_equal(gateway::app_state_for_life_cycle(0x07).c_str(), "active");
    assert_string_equal(gateway::app_state_for_life_cycle(0x0f).c_str(), "active");
}

// Each broken rule, reported on line 4 (the card) with its field, without quoting a key.
void test_every_rule_names_line_and_field(void**) {
    struct Case {
        std::string from, to, message;
    };
    const Case cases[] = {
        {"8988299000000000016", "8988299000000000017",
         "line 4, field iccid: the Luhn check digit is wrong"},
        {"8988299000000000016", "89882990016", "line 4, field iccid: an ICCID is 18 to 20 digits"},
        {"001010000000001", "00101x", "line 4, field imsi: an IMSI is 6 to 15 digits"},
        {"999000000001", "+999",
         "line 4, field msisdn: an MSISDN is 3 to 15 digits (E.164 without '+')"},
        {"1:aes128:", "16:aes128:", "line 4, field keysets: entry 1: kvn must be 1 to 15"},
        {"aes128", "aes512",
         "line 4, field keysets: entry 1: unknown algorithm (des, 3des2, 3des3, aes128, aes192, "
         "aes256)"},
        {"101112131415161718191a1b1c1d1e1f", "1011",
         "line 4, field keysets: entry 1: kid must be 16 bytes of hex for aes128"},
        {"2e2f:5", "2e2f:1099511627776",
         "line 4, field keysets: entry 1: counter must be a decimal 0 to 1099511627775"},
        {"000000:isd:12", "000000:sim:12",
         "line 4, field tars: entry 1: kind must be isd, rfm or app"},
        {"c00001:app:12:f04f5441470101010001", "c00001:app:12:f04f5441470109010001",
         "line 4, field tars: entry 2: application f04f5441470109010001 is not in apps"},
        {"000000:isd:12;", "000000:isd:12;000000:rfm:12;",
         "line 4, field tars: entry 2: TAR 000000 appears twice"},
        {"f04f5441470101/f04f544147010101,", "f04f/f04f544147010101,",
         "line 4, field load_files: entry 1: AIDs are 5 to 16 bytes of hex (part 1)"},
        {":87:", ":04:",
         "line 4, field apps: entry 1: life_cycle 04 is not an application state (GP 2.3 §5.3.1)"},
        {"f04f5441470101:f04f544147010101", "f04f5441470101:f04f544147010109",
         "line 4, field apps: entry 1: module f04f544147010109 is not in load file f04f5441470101"},
        {",f04f5441470101/", ",,f04f5441470101/",
         "line 4: expected 7 fields (iccid,imsi,msisdn,keysets,tars,load_files,apps), got 8"},
    };
    for (const Case& c : cases) {
        std::string line = kCard;
        const size_t at = line.find(c.from);
        assert_true(at != std::string::npos);
        line.replace(at, c.from.size(), c.to);
        Read r = read(kHead + line + "\n", 64);
        assert_int_equal(r.cards.size(), 0);
        assert_int_equal(r.issues.size(), 1);
        assert_string_equal(r.issues[0].c_str(), c.message.c_str());
        assert_true(r.issues[0].find("0001020304") == std::string::npos);
    }
    // Two keysets with the same KVN.
    std::string twice = kCard;
    const std::string ks =
        "1:aes128:000102030405060708090a0b0c0d0e0f:101112131415161718191a1b1c1d1e1f:"
        "202122232425262728292a2b2c2d2e2f:5";
    twice.replace(twice.find(ks), ks.size(), ks + ";" + ks);
    assert_string_equal(read(kHead + twice, 100).issues.at(0).c_str(),
                        "line 4, field keysets: entry 2: KVN 1 appears twice");
}

const std::string kHead2 = "# ota-gateway card inventory v2\n"
                           "iccid,imsi,msisdn,keysets,tars,load_files,apps,scp81_keysets\n";
const std::string kScp81 =
    "40:01:38393838323939303030303030303030303136:"
    "0f1e2d3c4b5a69788796a5b4c3d2e1f0:aes128:00112233445566778899aabbccddeeff";

// Format 2: format 1 and the SCP81 keysets column, which may be empty.
void test_format_2(void**) {
    // (The reader takes a line at a time: duplicates across lines are the importer's to find.)
    Read r = read(kHead2 + kCard + "," + kScp81 + ";41:11:6964:" + std::string(64, 'a') +
                      ":3des2:" + std::string(32, 'b') + "\n" + kCard + ",\n",
                  9);
    assert_int_equal(r.issues.size(), 0);
    assert_int_equal(r.cards.size(), 2);
    const auto& k = r.cards[0].psk_keysets;
    assert_int_equal(k.size(), 2);
    assert_int_equal(k[0].kvn, 0x40);
    assert_int_equal(k[0].kid, 0x01);
    assert_hex_equal(k[0].identity, "38393838323939303030303030303030303136");
    assert_hex_equal(k[0].psk, "0f1e2d3c4b5a69788796a5b4c3d2e1f0");
    assert_string_equal(k[0].dek_algorithm.c_str(), "aes128");
    assert_hex_equal(k[0].dek, "00112233445566778899aabbccddeeff");
    assert_int_equal(k[1].kvn, 0x41);
    assert_int_equal(k[1].kid, 0x11);
    assert_int_equal(k[1].psk.size(), 32);
    assert_string_equal(k[1].dek_algorithm.c_str(), "3des2");
    assert_int_equal(r.cards[1].psk_keysets.size(), 0);
    // A format 1 file reads as before: no SCP81 keysets.
    Read v1 = read(kHead + kCard + "\n", 64);
    assert_int_equal(v1.issues.size(), 0);
    assert_int_equal(v1.cards.at(0).psk_keysets.size(), 0);

    struct Case {
        std::string entry, message;
    };
    const Case cases[] = {
        {"3f:01:6964:" + std::string(32, 'a') + ":aes128:" + std::string(32, 'b'),
         "entry 1: kvn must be 1 byte of hex, 40 to 4f"},
        {"40:7f:6964:" + std::string(32, 'a') + ":aes128:" + std::string(32, 'b'),
         "entry 1: kid must be 1 byte of hex, 01 to 7e (the DEK takes kid + 1)"},
        {"40:01::" + std::string(32, 'a') + ":aes128:" + std::string(32, 'b'),
         "entry 1: identity must be 1 to 128 bytes of hex"},
        {"40:01:6964:" + std::string(66, 'a') + ":aes128:" + std::string(32, 'b'),
         "entry 1: psk must be 16 to 32 bytes of hex"},
        {"40:01:6964:" + std::string(30, 'a') + ":aes128:" + std::string(32, 'b'),
         "entry 1: psk must be 16 to 32 bytes of hex"},
        {"40:01:6964:" + std::string(32, 'a') + ":rc4:" + std::string(32, 'b'),
         "entry 1: unknown DEK algorithm (des, 3des2, 3des3, aes128, aes192, aes256)"},
        {"40:01:6964:" + std::string(32, 'a') + ":aes256:" + std::string(32, 'b'),
         "entry 1: dek must be 32 bytes of hex for aes256"},
        {"40:01:6964:" + std::string(32, 'a') + ":aes128",
         "entry 1: expected kvn:kid:identity:psk:dek_algo:dek (6 parts), got 5"},
        {kScp81 + ";" + kScp81, "entry 2: KVN 40 appears twice"},
        {kScp81 + ";41" + kScp81.substr(2), "entry 2: the PSK identity appears twice"},
    };
    for (const Case& c : cases) {
        Read bad = read(kHead2 + kCard + "," + c.entry + "\n", 50);
        assert_int_equal(bad.cards.size(), 0);
        assert_int_equal(bad.issues.size(), 1);
        assert_string_equal(bad.issues[0].c_str(),
                            ("line 3, field scp81_keysets: " + c.message).c_str());
        assert_true(bad.issues[0].find("aaaa") == std::string::npos); // no key quoted
    }
    // Eight fields in a format 1 file, seven in a format 2 file.
    assert_string_equal(
        read(kHead + kCard + "," + kScp81 + "\n", 64).issues.at(0).c_str(),
        "line 4: expected 7 fields (iccid,imsi,msisdn,keysets,tars,load_files,apps), "
        "got 8");
    assert_string_equal(read(kHead2 + kCard + "\n", 64).issues.at(0).c_str(),
                        "line 3: expected 8 fields (iccid,imsi,msisdn,keysets,tars,load_files,apps,"
                        "scp81_keysets), got 7");
}

void test_file_structure(void**) {
    assert_string_equal(read("", 10).issues.at(0).c_str(), "line 0: the file is empty");
    assert_string_equal(read("iccid,imsi\n", 10).issues.at(0).c_str(),
                        "line 1: not a card inventory file of a known format: line 1 must be "
                        "\"# ota-gateway card inventory v1\" or \"# ota-gateway card inventory "
                        "v2\"");
    assert_true(read("# ota-gateway card inventory v3\n", 10).issues.at(0).find("known format") !=
                std::string::npos);
    Read no_header = read("# ota-gateway card inventory v1\n" + kCard + "\n", 10);
    assert_int_equal(no_header.cards.size(), 0);
    assert_string_equal(no_header.issues.at(0).c_str(),
                        "line 2: the column header of format 1 must be \"iccid,imsi,msisdn,"
                        "keysets,tars,load_files,apps\"");
    // A format 2 file with the header of format 1.
    assert_string_equal(
        read("# ota-gateway card inventory v2\niccid,imsi,msisdn,keysets,tars,load_files,apps\n",
             10)
            .issues.at(0)
            .c_str(),
        "line 2: the column header of format 2 must be \"iccid,imsi,msisdn,keysets,tars,"
        "load_files,apps,scp81_keysets\"");
    // A line too long is one issue; the reader goes on with the next line.
    Read longer = read(kHead + std::string(70000, 'x') + "\n" + kCard, 1000);
    assert_int_equal(longer.cards.size(), 1);
    assert_string_equal(longer.issues.at(0).c_str(), "line 4: line longer than 65536 bytes");
}

void test_duplicates(void**) {
    gateway::DuplicateFinder f;
    f.add("a", 10);
    f.add("b", 11);
    f.add("a", 12);
    f.add("c", 13);
    f.add("a", 15);
    auto reps = f.repeats();
    assert_int_equal(reps.size(), 2);
    assert_int_equal(reps[0].first, 10);
    assert_int_equal(reps[0].second, 12);
    assert_int_equal(reps[1].first, 10);
    assert_int_equal(reps[1].second, 15);
}

} // namespace

int main() {
    const CMUnitTest tests[] = {
        cmocka_unit_test(test_simulator_export_reads_back),
        cmocka_unit_test(test_one_card_in_detail),
        cmocka_unit_test(test_every_rule_names_line_and_field),
        cmocka_unit_test(test_format_2),
        cmocka_unit_test(test_file_structure),
        cmocka_unit_test(test_duplicates),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
