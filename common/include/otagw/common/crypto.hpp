// SPDX-License-Identifier: GPL-2.0-or-later
// Block-cipher primitives on mbedTLS with key schedules computed once per key: ECB/CBC for
// DES, 2- and 3-key triple DES and AES; CBC-MAC (ISO/IEC 9797-1 MAC algorithm 1, zero IV,
// zero padding) and CMAC (NIST SP 800-38B) with cached subkeys; CRC16/CRC32 (ISO/IEC 13239);
// GlobalPlatform key check values. Shared by the gateway's OTA codec and the card simulator.
#pragma once

#include <array>

#include <cstdint>
#include <initializer_list>
#include <memory>

#include "otagw/common/bytes.hpp"

namespace otagw::crypto {

enum class BlockAlgo : uint8_t { Des, TripleDes2Key, TripleDes3Key, Aes };

const char* block_algo_name(BlockAlgo algo);
// Key sizes: DES 8, 2-key 3DES 16, 3-key 3DES 24, AES 16/24/32.
bool key_size_valid(BlockAlgo algo, size_t size);
const char* key_sizes_text(BlockAlgo algo);
constexpr size_t block_size(BlockAlgo algo) {
    return algo == BlockAlgo::Aes ? 16 : 8;
}
constexpr size_t kMaxBlockSize = 16;

// A key with its encryption and decryption schedules. Move-only: mbedTLS AES contexts point
// into themselves, so they live on the heap and are wiped (mbedtls_*_free) on destruction.
class BlockCipher {
public:
    static Result<BlockCipher> create(BlockAlgo algo, ByteView key);
    BlockCipher(BlockCipher&&) noexcept;
    BlockCipher& operator=(BlockCipher&&) noexcept;
    ~BlockCipher();

    BlockAlgo algo() const { return algo_; }
    size_t block_size() const { return crypto::block_size(algo_); }

    void encrypt_block(const uint8_t* in, uint8_t* out) const;
    void decrypt_block(const uint8_t* in, uint8_t* out) const;
    // CBC over `len` bytes (a multiple of the block size), in place allowed; `iv` is updated.
    void cbc_encrypt(uint8_t* iv, const uint8_t* in, uint8_t* out, size_t len) const;
    void cbc_decrypt(uint8_t* iv, const uint8_t* in, uint8_t* out, size_t len) const;

private:
    struct State;
    BlockCipher(BlockAlgo algo, std::unique_ptr<State> state);
    BlockAlgo algo_;
    std::unique_ptr<State> state_;
};

// Message given as consecutive parts, so callers MAC non-contiguous fields without copying.
using Parts = std::initializer_list<ByteView>;

// CBC-MAC with a zero IV over the parts padded with '00' to the block size (nothing is added
// when already aligned); writes block_size() bytes. This is the DES/3DES CC of ETSI TS 102 225
// §5.1.3.1 and the "full" 3DES MAC of GlobalPlatform.
void cbc_mac(const BlockCipher& cipher, Parts parts, uint8_t* mac);

// CMAC (NIST SP 800-38B) with the subkeys derived once.
class Cmac {
public:
    static Result<Cmac> create(BlockAlgo algo, ByteView key);
    size_t block_size() const { return cipher_.block_size(); }
    // Writes the full block_size() bytes; truncate by taking the leftmost bytes.
    void compute(Parts parts, uint8_t* mac) const;

private:
    explicit Cmac(BlockCipher cipher);
    BlockCipher cipher_;
    uint8_t k1_[kMaxBlockSize];
    uint8_t k2_[kMaxBlockSize];
};

// ISO/IEC 13239 (HDLC) frame checking sequences, as ETSI TS 102 225 §5.1.3.2 uses them for
// the redundancy check: CRC-16 (x^16+x^12+x^5+1, reflected, init and final XOR FFFF) and
// CRC-32 (the zlib/IEEE 802.3 CRC).
uint16_t crc16(Parts parts);
uint32_t crc32(Parts parts);

// GlobalPlatform key check value (first 3 bytes): DES keys encrypt 8 x '00', AES keys
// encrypt 16 x '01' (GP Card Spec §11.8.2.3, Amendment D §7.2).
Result<Bytes> key_check_value(BlockAlgo algo, ByteView key);

// HMAC-SHA256 (RFC 2104, FIPS 180-4): how requests to and from providers are signed.
std::array<uint8_t, 32> hmac_sha256(ByteView key, ByteView message);
std::array<uint8_t, 32> sha256(ByteView message);
// SHA-1: for GlobalPlatform's load file data block hash only (GP 2.3 §11.5.2.3.3), never a MAC.
Bytes sha1(ByteView message);

} // namespace otagw::crypto
