// SPDX-License-Identifier: GPL-2.0-or-later
// Triple DES encryption of up to four independent blocks at once (FIPS 46-3, NIST SP 800-67).
//
// Why this exists beside mbedTLS: one DES block is a serial chain of 16 rounds whose table
// lookups wait on each other, so a 3DES block costs about 280 ns on this machine class in
// mbedTLS (and 310 ns in OpenSSL) however the calls are arranged. Building many secured packets
// at once, the chains of different packets are independent; computing up to four of them in the
// same loop lets the CPU overlap them (measured: ~170 ns per block with four lanes). This is
// encryption only, for the batch packet builder; every other DES use goes through mbedTLS
// (BlockCipher), and the tests hold the two to the same results.
#pragma once

#include <cstdint>

#include "otagw/common/crypto.hpp"

namespace otagw::crypto {

constexpr size_t kMaxDesLanes = 4;

// Round keys of one DES, 2-key or 3-key triple DES key for encryption (EDE). A single DES key
// runs as EDE with three equal keys, which is DES.
class DesLaneKey {
public:
    static Result<DesLaneKey> create(BlockAlgo algo, ByteView key);
    ~DesLaneKey();

private:
    friend void des_encrypt_lanes(const DesLaneKey* const keys[], uint64_t blocks[], size_t n);
    // [stage][round]: the 48-bit round key as two words, even S-box chunks in `even`, odd in
    // `odd`, one 6-bit chunk per byte; stage 1 (the "D" of EDE) in decryption order.
    uint32_t even_[3][16] = {};
    uint32_t odd_[3][16] = {};
};

// blocks[i] = 3DES-EDE encryption of blocks[i] under keys[i], for i < n (1..4). Blocks are the
// 8 bytes read big-endian.
void des_encrypt_lanes(const DesLaneKey* const keys[], uint64_t blocks[], size_t n);

inline uint64_t load_be64(const uint8_t* p) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}
inline void store_be64(uint8_t* p, uint64_t v) {
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = static_cast<uint8_t>(v);
}

} // namespace otagw::crypto
