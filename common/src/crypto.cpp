// SPDX-License-Identifier: GPL-2.0-or-later
// Block ciphers, CBC-MAC, CMAC, CRCs and key check values on mbedTLS and zlib.
#include "otagw/common/crypto.hpp"

#include <mbedtls/md.h>
#include <mbedtls/sha1.h>
#include <mbedtls/sha256.h>

#include <algorithm>
#include <cassert>
#include <cstring>

#include <mbedtls/aes.h>
#include <mbedtls/des.h>
#include <zlib.h>

namespace otagw::crypto {

const char* block_algo_name(BlockAlgo algo) {
    switch (algo) {
    case BlockAlgo::Des:
        return "DES";
    case BlockAlgo::TripleDes2Key:
        return "3DES 2-key";
    case BlockAlgo::TripleDes3Key:
        return "3DES 3-key";
    case BlockAlgo::Aes:
        return "AES";
    }
    return "?";
}

bool key_size_valid(BlockAlgo algo, size_t size) {
    switch (algo) {
    case BlockAlgo::Des:
        return size == 8;
    case BlockAlgo::TripleDes2Key:
        return size == 16;
    case BlockAlgo::TripleDes3Key:
        return size == 24;
    case BlockAlgo::Aes:
        return size == 16 || size == 24 || size == 32;
    }
    return false;
}

const char* key_sizes_text(BlockAlgo algo) {
    switch (algo) {
    case BlockAlgo::Des:
        return "8 bytes";
    case BlockAlgo::TripleDes2Key:
        return "16 bytes";
    case BlockAlgo::TripleDes3Key:
        return "24 bytes";
    case BlockAlgo::Aes:
        return "16, 24 or 32 bytes";
    }
    return "?";
}

struct BlockCipher::State {
    State() {
        mbedtls_des_init(&des_enc);
        mbedtls_des_init(&des_dec);
        mbedtls_des3_init(&des3_enc);
        mbedtls_des3_init(&des3_dec);
        mbedtls_aes_init(&aes_enc);
        mbedtls_aes_init(&aes_dec);
    }
    ~State() {
        mbedtls_des_free(&des_enc);
        mbedtls_des_free(&des_dec);
        mbedtls_des3_free(&des3_enc);
        mbedtls_des3_free(&des3_dec);
        mbedtls_aes_free(&aes_enc);
        mbedtls_aes_free(&aes_dec);
    }
    State(const State&) = delete;
    State& operator=(const State&) = delete;

    mbedtls_des_context des_enc, des_dec;
    mbedtls_des3_context des3_enc, des3_dec;
    mbedtls_aes_context aes_enc, aes_dec;
};

BlockCipher::BlockCipher(BlockAlgo algo, std::unique_ptr<State> state)
    : algo_(algo), state_(std::move(state)) {}
BlockCipher::BlockCipher(BlockCipher&&) noexcept = default;
BlockCipher& BlockCipher::operator=(BlockCipher&&) noexcept = default;
BlockCipher::~BlockCipher() = default;

Result<BlockCipher> BlockCipher::create(BlockAlgo algo, ByteView key) {
    if (!key_size_valid(algo, key.size()))
        return make_error(std::string(block_algo_name(algo)) + " key must be " +
                          key_sizes_text(algo) + ", got " + std::to_string(key.size()));
    auto s = std::make_unique<State>();
    int rc = 0;
    switch (algo) {
    case BlockAlgo::Des:
        rc = mbedtls_des_setkey_enc(&s->des_enc, key.data()) ||
             mbedtls_des_setkey_dec(&s->des_dec, key.data());
        break;
    case BlockAlgo::TripleDes2Key:
        rc = mbedtls_des3_set2key_enc(&s->des3_enc, key.data()) ||
             mbedtls_des3_set2key_dec(&s->des3_dec, key.data());
        break;
    case BlockAlgo::TripleDes3Key:
        rc = mbedtls_des3_set3key_enc(&s->des3_enc, key.data()) ||
             mbedtls_des3_set3key_dec(&s->des3_dec, key.data());
        break;
    case BlockAlgo::Aes: {
        auto bits = static_cast<unsigned>(key.size() * 8);
        rc = mbedtls_aes_setkey_enc(&s->aes_enc, key.data(), bits) ||
             mbedtls_aes_setkey_dec(&s->aes_dec, key.data(), bits);
        break;
    }
    }
    if (rc)
        return make_error(std::string(block_algo_name(algo)) + ": key schedule failed");
    return BlockCipher(algo, std::move(s));
}

void BlockCipher::encrypt_block(const uint8_t* in, uint8_t* out) const {
    switch (algo_) {
    case BlockAlgo::Des:
        mbedtls_des_crypt_ecb(&state_->des_enc, in, out);
        break;
    case BlockAlgo::TripleDes2Key:
    case BlockAlgo::TripleDes3Key:
        mbedtls_des3_crypt_ecb(&state_->des3_enc, in, out);
        break;
    case BlockAlgo::Aes:
        mbedtls_aes_crypt_ecb(&state_->aes_enc, MBEDTLS_AES_ENCRYPT, in, out);
        break;
    }
}

void BlockCipher::decrypt_block(const uint8_t* in, uint8_t* out) const {
    switch (algo_) {
    case BlockAlgo::Des:
        mbedtls_des_crypt_ecb(&state_->des_dec, in, out);
        break;
    case BlockAlgo::TripleDes2Key:
    case BlockAlgo::TripleDes3Key:
        mbedtls_des3_crypt_ecb(&state_->des3_dec, in, out);
        break;
    case BlockAlgo::Aes:
        mbedtls_aes_crypt_ecb(&state_->aes_dec, MBEDTLS_AES_DECRYPT, in, out);
        break;
    }
}

void BlockCipher::cbc_encrypt(uint8_t* iv, const uint8_t* in, uint8_t* out, size_t len) const {
    assert(len % block_size() == 0);
    switch (algo_) {
    case BlockAlgo::Des:
        mbedtls_des_crypt_cbc(&state_->des_enc, MBEDTLS_DES_ENCRYPT, len, iv, in, out);
        break;
    case BlockAlgo::TripleDes2Key:
    case BlockAlgo::TripleDes3Key:
        mbedtls_des3_crypt_cbc(&state_->des3_enc, MBEDTLS_DES_ENCRYPT, len, iv, in, out);
        break;
    case BlockAlgo::Aes:
        mbedtls_aes_crypt_cbc(&state_->aes_enc, MBEDTLS_AES_ENCRYPT, len, iv, in, out);
        break;
    }
}

void BlockCipher::cbc_decrypt(uint8_t* iv, const uint8_t* in, uint8_t* out, size_t len) const {
    assert(len % block_size() == 0);
    switch (algo_) {
    case BlockAlgo::Des:
        mbedtls_des_crypt_cbc(&state_->des_dec, MBEDTLS_DES_DECRYPT, len, iv, in, out);
        break;
    case BlockAlgo::TripleDes2Key:
    case BlockAlgo::TripleDes3Key:
        mbedtls_des3_crypt_cbc(&state_->des3_dec, MBEDTLS_DES_DECRYPT, len, iv, in, out);
        break;
    case BlockAlgo::Aes:
        mbedtls_aes_crypt_cbc(&state_->aes_dec, MBEDTLS_AES_DECRYPT, len, iv, in, out);
        break;
    }
}

namespace {

// Feeds a message given in parts through a block chain: every full block except the last is
// chained into `state` (state = E(state ^ block)); the last (possibly partial, possibly
// empty) block is left in `last`/`last_len` for the caller's finishing rule.
struct ChainedBlocks {
    uint8_t state[kMaxBlockSize] = {};
    uint8_t last[kMaxBlockSize] = {};
    size_t last_len = 0;

    void run(const BlockCipher& c, Parts parts) {
        const size_t bs = c.block_size();
        for (ByteView part : parts) {
            const uint8_t* p = part.data();
            size_t n = part.size();
            while (n > 0) {
                if (last_len == bs) { // a full block pending and more data follows: chain it
                    for (size_t i = 0; i < bs; i++)
                        state[i] ^= last[i];
                    c.encrypt_block(state, state);
                    last_len = 0;
                }
                size_t take = std::min(n, bs - last_len);
                std::memcpy(last + last_len, p, take);
                last_len += take;
                p += take;
                n -= take;
            }
        }
    }
};

void shift_left_one(const uint8_t* in, uint8_t* out, size_t n) {
    uint8_t carry = 0;
    for (size_t i = n; i-- > 0;) {
        uint8_t b = in[i];
        out[i] = static_cast<uint8_t>(b << 1 | carry);
        carry = b >> 7;
    }
}

} // namespace

void cbc_mac(const BlockCipher& cipher, Parts parts, uint8_t* mac) {
    const size_t bs = cipher.block_size();
    ChainedBlocks chain;
    chain.run(cipher, parts);
    if (chain.last_len == 0) // empty message: the MAC of one zero block
        chain.last_len = bs;
    std::memset(chain.last + chain.last_len, 0, bs - chain.last_len);
    for (size_t i = 0; i < bs; i++)
        chain.state[i] ^= chain.last[i];
    cipher.encrypt_block(chain.state, mac);
}

Cmac::Cmac(BlockCipher cipher) : cipher_(std::move(cipher)) {}

Result<Cmac> Cmac::create(BlockAlgo algo, ByteView key) {
    auto cipher = BlockCipher::create(algo, key);
    if (!cipher)
        return cipher.take_error();
    Cmac cmac(std::move(*cipher));
    // SP 800-38B §6.1: L = E(0^b); K1 = L << 1 (^ Rb if msb(L)); K2 = K1 << 1 (^ Rb if msb(K1)).
    const size_t bs = cmac.block_size();
    const uint8_t rb = bs == 16 ? 0x87 : 0x1b;
    uint8_t l[kMaxBlockSize] = {};
    cmac.cipher_.encrypt_block(l, l);
    shift_left_one(l, cmac.k1_, bs);
    if (l[0] & 0x80)
        cmac.k1_[bs - 1] ^= rb;
    shift_left_one(cmac.k1_, cmac.k2_, bs);
    if (cmac.k1_[0] & 0x80)
        cmac.k2_[bs - 1] ^= rb;
    return cmac;
}

void Cmac::compute(Parts parts, uint8_t* mac) const {
    const size_t bs = block_size();
    ChainedBlocks chain;
    chain.run(cipher_, parts);
    const uint8_t* subkey = k1_;
    if (chain.last_len < bs) { // SP 800-38B §6.2 step 4: pad 10..0 and use K2
        chain.last[chain.last_len] = 0x80;
        std::memset(chain.last + chain.last_len + 1, 0, bs - chain.last_len - 1);
        subkey = k2_;
    }
    for (size_t i = 0; i < bs; i++)
        chain.state[i] ^= chain.last[i] ^ subkey[i];
    cipher_.encrypt_block(chain.state, mac);
}

uint16_t crc16(Parts parts) {
    // Reflected CCITT polynomial 0x1021 -> 0x8408, one table built on first use.
    static const auto table = [] {
        struct {
            uint16_t v[256];
        } t;
        for (unsigned i = 0; i < 256; i++) {
            uint16_t c = static_cast<uint16_t>(i);
            for (int k = 0; k < 8; k++)
                c = (c & 1) ? static_cast<uint16_t>((c >> 1) ^ 0x8408)
                            : static_cast<uint16_t>(c >> 1);
            t.v[i] = c;
        }
        return t;
    }();
    uint16_t crc = 0xffff;
    for (ByteView part : parts)
        for (uint8_t b : part)
            crc = static_cast<uint16_t>((crc >> 8) ^ table.v[(crc ^ b) & 0xff]);
    return static_cast<uint16_t>(crc ^ 0xffff);
}

uint32_t crc32(Parts parts) {
    uLong crc = ::crc32(0L, Z_NULL, 0);
    for (ByteView part : parts)
        crc = ::crc32(crc, part.data(), static_cast<uInt>(part.size()));
    return static_cast<uint32_t>(crc);
}

Result<Bytes> key_check_value(BlockAlgo algo, ByteView key) {
    auto cipher = BlockCipher::create(algo, key);
    if (!cipher)
        return cipher.take_error();
    uint8_t block[kMaxBlockSize];
    std::memset(block, algo == BlockAlgo::Aes ? 0x01 : 0x00, sizeof block);
    cipher->encrypt_block(block, block);
    return Bytes(block, block + 3);
}

std::array<uint8_t, 32> hmac_sha256(ByteView key, ByteView message) {
    std::array<uint8_t, 32> out{};
    mbedtls_md_hmac(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), key.data(), key.size(),
                    message.data(), message.size(), out.data());
    return out;
}

std::array<uint8_t, 32> sha256(ByteView message) {
    std::array<uint8_t, 32> out{};
    mbedtls_sha256_ret(message.data(), message.size(), out.data(), 0);
    return out;
}

Bytes sha1(ByteView message) {
    Bytes out(20);
    mbedtls_sha1_ret(message.data(), message.size(), out.data());
    return out;
}

} // namespace otagw::crypto
