// SPDX-License-Identifier: GPL-2.0-or-later
// Crypto primitives: CMAC against NIST SP 800-38B / RFC 4493 (cmac.json), CBC-MAC and CMAC
// against the CC inputs of the SCP80 vectors, CRC check values, GP key check values.
#include <cstring>

#include <random>

#include "otagw/common/crypto.hpp"
#include "otagw/common/des_lanes.hpp"
#include "test_support.hpp"

using namespace otagw;
using namespace otagw::crypto;
using test::hex;

namespace {

BlockAlgo algo_named(const std::string& name) {
    if (name.rfind("AES", 0) == 0)
        return BlockAlgo::Aes;
    if (name == "TDEA 3-key")
        return BlockAlgo::TripleDes3Key;
    if (name == "TDEA 2-key")
        return BlockAlgo::TripleDes2Key;
    print_error("unknown cipher %s\n", name.c_str());
    fail();
    return BlockAlgo::Des;
}

void test_cmac_vectors(void**) {
    auto file = test::load_vectors("cmac.json");
    size_t n = 0;
    for (const auto& v : file["vectors"]) {
        print_message("vector %s\n", v["id"].get<std::string>().c_str());
        auto cmac = Cmac::create(algo_named(v["inputs"]["cipher"]), hex(v["inputs"]["key"]));
        assert_ok(cmac);
        uint8_t mac[kMaxBlockSize];
        Bytes msg = hex(v["inputs"]["message"]);
        cmac->compute({msg}, mac);
        assert_hex_equal(ByteView(mac, cmac->block_size()),
                         v["expected"]["mac"].get<std::string>());
        // The same message split into uneven parts gives the same MAC.
        if (msg.size() > 3) {
            uint8_t mac2[kMaxBlockSize];
            ByteView all(msg);
            cmac->compute({all.first(1), all.subspan(1, 2), all.subspan(3)}, mac2);
            assert_memory_equal(mac, mac2, cmac->block_size());
        }
        n++;
    }
    assert_int_equal(n, file["vectors"].size());
    assert_true(n >= 20);
}

// The SCP80 vectors give the exact CC input and CC that pySim computed: check the primitives on
// them directly (3DES CBC-MAC zero padded, AES-CMAC truncated to 8).
void test_cc_primitives_on_scp80_inputs(void**) {
    auto file = test::load_vectors("ota_scp80.json");
    size_t checked = 0;
    for (const auto& v : file["vectors"]) {
        if (!v.contains("derived_with_pysim_code") ||
            !v["derived_with_pysim_code"].contains("cc_input"))
            continue;
        const auto& d = v["derived_with_pysim_code"];
        const std::string kid = v["inputs"]["kid_byte"];
        Bytes key = hex(v["inputs"]["kid_key"]);
        Bytes input = hex(d["cc_input"]);
        uint8_t mac[kMaxBlockSize];
        if (kid == "22") {
            auto cmac = Cmac::create(BlockAlgo::Aes, key);
            assert_ok(cmac);
            cmac->compute({input}, mac);
        } else {
            auto c = BlockCipher::create(BlockAlgo::TripleDes2Key, key);
            assert_ok(c);
            cbc_mac(*c, {input}, mac);
        }
        assert_hex_equal(ByteView(mac, 8), d["cc"].get<std::string>());
        checked++;
    }
    assert_true(checked >= 5);
}

void test_cbc_roundtrip_all_algorithms(void**) {
    struct Case {
        BlockAlgo algo;
        size_t key;
    } cases[] = {
        {BlockAlgo::Des, 8},  {BlockAlgo::TripleDes2Key, 16}, {BlockAlgo::TripleDes3Key, 24},
        {BlockAlgo::Aes, 16}, {BlockAlgo::Aes, 24},           {BlockAlgo::Aes, 32}};
    for (const auto& c : cases) {
        Bytes key(c.key);
        for (size_t i = 0; i < key.size(); i++)
            key[i] = static_cast<uint8_t>(i * 7 + 1);
        auto cipher = BlockCipher::create(c.algo, key);
        assert_ok(cipher);
        Bytes plain(64);
        for (size_t i = 0; i < plain.size(); i++)
            plain[i] = static_cast<uint8_t>(i);
        Bytes buf = plain;
        uint8_t iv[kMaxBlockSize] = {};
        cipher->cbc_encrypt(iv, buf.data(), buf.data(), buf.size());
        assert_memory_not_equal(buf.data(), plain.data(), plain.size());
        std::memset(iv, 0, sizeof iv);
        cipher->cbc_decrypt(iv, buf.data(), buf.data(), buf.size());
        assert_memory_equal(buf.data(), plain.data(), plain.size());
        // Wrong key sizes are refused with a message naming the algorithm.
        Bytes short_key(c.key - 1);
        auto bad = BlockCipher::create(c.algo, short_key);
        assert_error_contains(bad, block_algo_name(c.algo));
    }
}

void test_known_3des_and_aes_blocks(void**) {
    // NIST SP 800-38B D.7 example 17 key, FIPS-197 C.1 AES-128 block.
    auto aes = BlockCipher::create(BlockAlgo::Aes, hex("000102030405060708090a0b0c0d0e0f"));
    assert_ok(aes);
    Bytes block = hex("00112233445566778899aabbccddeeff");
    aes->encrypt_block(block.data(), block.data());
    assert_hex_equal(block, "69c4e0d86a7b0430d8cdb78070b4c55a");
    aes->decrypt_block(block.data(), block.data());
    assert_hex_equal(block, "00112233445566778899aabbccddeeff");
}

void test_crc_check_values(void**) {
    const char* check = "123456789";
    ByteView msg(reinterpret_cast<const uint8_t*>(check), 9);
    // CRC-16/X-25 (ISO/IEC 13239) and CRC-32 check values of "123456789".
    assert_int_equal(crc16({msg}), 0x906e);
    assert_int_equal(crc32({msg}), 0xcbf43926);
    // Split input gives the same result.
    assert_int_equal(crc16({msg.first(4), msg.subspan(4)}), 0x906e);
    // CRC-32 of '0102030405' (the example used for TS 102 225 RC).
    Bytes five = hex("0102030405");
    assert_int_equal(crc32({five}), 0x470b99f4);
}

void test_key_check_values(void**) {
    // AES: AES-ECB(key, 01*16)[0:3] (pySim PUT KEY vector); DES: 3DES-ECB(key, 00*8)[0:3]
    // (GlobalPlatform.NET PUT KEY vector).
    auto aes = key_check_value(BlockAlgo::Aes, hex("000102030405060708090a0b0c0d0e0f"));
    assert_ok(aes);
    assert_hex_equal(*aes, "c35280");
    auto des = key_check_value(BlockAlgo::TripleDes2Key, hex("404142434445464748494a4b4c4d4e4f"));
    assert_ok(des);
    assert_hex_equal(*des, "8baf47");
}

// The four-lane DES must give exactly what mbedTLS gives, for every key kind and lane count.
void test_des_lanes_match_mbedtls(void**) {
    // FIPS 46 worked example (key 133457799BBCDFF1): single DES runs as EDE with equal keys.
    auto fips = DesLaneKey::create(BlockAlgo::Des, hex("133457799bbcdff1"));
    assert_ok(fips);
    const DesLaneKey* one[1] = {&*fips};
    uint64_t block[1] = {0x0123456789abcdefULL};
    des_encrypt_lanes(one, block, 1);
    assert_int_equal(block[0], 0x85e813540f0ab405ULL);

    std::mt19937 rng(2024);
    const BlockAlgo algos[] = {BlockAlgo::Des, BlockAlgo::TripleDes2Key, BlockAlgo::TripleDes3Key};
    for (size_t trial = 0; trial < 200; trial++) {
        const size_t n = 1 + trial % kMaxDesLanes;
        std::vector<DesLaneKey> lane_keys;
        std::vector<BlockCipher> refs;
        lane_keys.reserve(n);
        const DesLaneKey* ptrs[kMaxDesLanes];
        uint64_t blocks[kMaxDesLanes];
        for (size_t i = 0; i < n; i++) {
            BlockAlgo algo = algos[(trial + i) % 3];
            Bytes key(algo == BlockAlgo::Des ? 8 : algo == BlockAlgo::TripleDes2Key ? 16 : 24);
            for (auto& b : key)
                b = static_cast<uint8_t>(rng());
            lane_keys.push_back(*DesLaneKey::create(algo, key));
            refs.push_back(BlockCipher::create(algo, key).value());
            blocks[i] = static_cast<uint64_t>(rng()) << 32 | rng();
        }
        uint64_t in[kMaxDesLanes];
        for (size_t i = 0; i < n; i++) {
            ptrs[i] = &lane_keys[i];
            in[i] = blocks[i];
        }
        des_encrypt_lanes(ptrs, blocks, n);
        for (size_t i = 0; i < n; i++) {
            uint8_t b[8];
            store_be64(b, in[i]);
            refs[i].encrypt_block(b, b);
            assert_int_equal(blocks[i], load_be64(b));
        }
    }
    assert_false(DesLaneKey::create(BlockAlgo::Aes, Bytes(16)).ok());
    assert_false(DesLaneKey::create(BlockAlgo::TripleDes2Key, Bytes(8)).ok());
}

} // namespace

// RFC 4231 §4.2 and §4.3 (HMAC-SHA-256 test cases 1 and 2); FIPS 180-2 appendix B.1 ("abc").
void test_hmac_sha256_known_answers(void**) {
    const Bytes key1(20, 0x0b);
    const std::string hi = "Hi There";
    assert_hex_equal(
        crypto::hmac_sha256(key1, ByteView(reinterpret_cast<const uint8_t*>(hi.data()), hi.size())),
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    const std::string jefe = "Jefe", what = "what do ya want for nothing?";
    assert_hex_equal(
        crypto::hmac_sha256(ByteView(reinterpret_cast<const uint8_t*>(jefe.data()), jefe.size()),
                            ByteView(reinterpret_cast<const uint8_t*>(what.data()), what.size())),
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    const std::string abc = "abc";
    assert_hex_equal(
        crypto::sha256(ByteView(reinterpret_cast<const uint8_t*>(abc.data()), abc.size())),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cmac_vectors),
        cmocka_unit_test(test_cc_primitives_on_scp80_inputs),
        cmocka_unit_test(test_cbc_roundtrip_all_algorithms),
        cmocka_unit_test(test_known_3des_and_aes_blocks),
        cmocka_unit_test(test_crc_check_values),
        cmocka_unit_test(test_key_check_values),
        cmocka_unit_test(test_des_lanes_match_mbedtls),
        cmocka_unit_test(test_hmac_sha256_known_answers),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
