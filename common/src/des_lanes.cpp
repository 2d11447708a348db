// SPDX-License-Identifier: GPL-2.0-or-later
// Table-driven DES (FIPS 46-3) and triple DES on up to four interleaved lanes. The tables are
// derived at start-up from the standard's S-boxes and permutations.
#include "otagw/common/des_lanes.hpp"

#include <cstring>

namespace otagw::crypto {

namespace {

// ---- FIPS 46-3 constants (bit positions are 1-based, bit 1 = most significant) ------------------
constexpr uint8_t kSBoxes[8][64] = {
    {14, 4,  13, 1, 2,  15, 11, 8, 3, 10, 6, 12, 5,  9,  0,  7,  0,  15, 7,  4,  14, 2,
     13, 1,  10, 6, 12, 11, 9,  5, 3, 8,  4, 1,  14, 8,  13, 6,  2,  11, 15, 12, 9,  7,
     3,  10, 5,  0, 15, 12, 8,  2, 4, 9,  1, 7,  5,  11, 3,  14, 10, 0,  6,  13},
    {15, 1,  8,  14, 6,  11, 3,  4, 9,  7,  2, 13, 12, 0,  5,  10, 3,  13, 4,  7, 15, 2,
     8,  14, 12, 0,  1,  10, 6,  9, 11, 5,  0, 14, 7,  11, 10, 4,  13, 1,  5,  8, 12, 6,
     9,  3,  2,  15, 13, 8,  10, 1, 3,  15, 4, 2,  11, 6,  7,  12, 0,  5,  14, 9},
    {10, 0,  9,  14, 6, 3,  15, 5,  1,  13, 12, 7, 11, 4,  2,  8,  13, 7, 0,  9, 3, 4,
     6,  10, 2,  8,  5, 14, 12, 11, 15, 1,  13, 6, 4,  9,  8,  15, 3,  0, 11, 1, 2, 12,
     5,  10, 14, 7,  1, 10, 13, 0,  6,  9,  8,  7, 4,  15, 14, 3,  11, 5, 2,  12},
    {7, 13, 14, 3, 0, 6,  9, 10, 1,  2, 8,  5, 11, 12, 4,  15, 13, 8,  11, 5, 6, 15,
     0, 3,  4,  7, 2, 12, 1, 10, 14, 9, 10, 6, 9,  0,  12, 11, 7,  13, 15, 1, 3, 14,
     5, 2,  8,  4, 3, 15, 0, 6,  10, 1, 13, 8, 9,  4,  5,  11, 12, 7,  2,  14},
    {2,  12, 4, 1,  7,  10, 11, 6, 8, 5,  3, 15, 13, 0,  14, 9,  14, 11, 2,  12, 4,  7,
     13, 1,  5, 0,  15, 10, 3,  9, 8, 6,  4, 2,  1,  11, 10, 13, 7,  8,  15, 9,  12, 5,
     6,  3,  0, 14, 11, 8,  12, 7, 1, 14, 2, 13, 6,  15, 0,  9,  10, 4,  5,  3},
    {12, 1,  10, 15, 9,  2,  6, 8,  0, 13, 3,  4,  14, 7,  5, 11, 10, 15, 4, 2, 7, 12,
     9,  5,  6,  1,  13, 14, 0, 11, 3, 8,  9,  14, 15, 5,  2, 8,  12, 3,  7, 0, 4, 10,
     1,  13, 11, 6,  4,  3,  2, 12, 9, 5,  15, 10, 11, 14, 1, 7,  6,  0,  8, 13},
    {4, 11, 2,  14, 15, 0,  8,  13, 3, 12, 9,  7, 5,  10, 6,  1,  13, 0,  11, 7,  4, 9,
     1, 10, 14, 3,  5,  12, 2,  15, 8, 6,  1,  4, 11, 13, 12, 3,  7,  14, 10, 15, 6, 8,
     0, 5,  9,  2,  6,  11, 13, 8,  1, 4,  10, 7, 9,  5,  0,  15, 14, 2,  3,  12},
    {13, 2, 8,  4, 6, 15, 11, 1,  10, 9,  3, 14, 5,  0,  12, 7,  1,  15, 13, 8, 10, 3,
     7,  4, 12, 5, 6, 11, 0,  14, 9,  2,  7, 11, 4,  1,  9,  12, 14, 2,  0,  6, 10, 13,
     15, 3, 5,  8, 2, 1,  14, 7,  4,  10, 8, 13, 15, 12, 9,  0,  3,  5,  6,  11},
};
constexpr uint8_t kP[32] = {16, 7, 20, 21, 29, 12, 28, 17, 1,  15, 23, 26, 5,  18, 31, 10,
                            2,  8, 24, 14, 32, 27, 3,  9,  19, 13, 30, 6,  22, 11, 4,  25};
constexpr uint8_t kPc1[56] = {57, 49, 41, 33, 25, 17, 9,  1,  58, 50, 42, 34, 26, 18,
                              10, 2,  59, 51, 43, 35, 27, 19, 11, 3,  60, 52, 44, 36,
                              63, 55, 47, 39, 31, 23, 15, 7,  62, 54, 46, 38, 30, 22,
                              14, 6,  61, 53, 45, 37, 29, 21, 13, 5,  28, 20, 12, 4};
constexpr uint8_t kPc2[48] = {14, 17, 11, 24, 1,  5,  3,  28, 15, 6,  21, 10, 23, 19, 12, 4,
                              26, 8,  16, 7,  27, 20, 13, 2,  41, 52, 31, 37, 47, 55, 30, 40,
                              51, 45, 33, 48, 44, 49, 39, 56, 34, 53, 46, 42, 50, 36, 29, 32};
constexpr uint8_t kShifts[16] = {1, 1, 2, 2, 2, 2, 2, 2, 1, 2, 2, 2, 2, 2, 2, 1};
constexpr uint8_t kIp[64] = {58, 50, 42, 34, 26, 18, 10, 2, 60, 52, 44, 36, 28, 20, 12, 4,
                             62, 54, 46, 38, 30, 22, 14, 6, 64, 56, 48, 40, 32, 24, 16, 8,
                             57, 49, 41, 33, 25, 17, 9,  1, 59, 51, 43, 35, 27, 19, 11, 3,
                             61, 53, 45, 37, 29, 21, 13, 5, 63, 55, 47, 39, 31, 23, 15, 7};

inline uint64_t bit(uint64_t v, int position, int width) {
    return (v >> (width - position)) & 1;
}

// Lookup tables derived from the constants above.
struct Tables {
    // sp[i][x]: S-box i on the 6-bit chunk x (row = b6 b1, column = b5..b2), placed in its
    // 4-bit slot of the 32-bit S-box output and put through P.
    uint32_t sp[8][64];
    // Initial and final permutations, one table per input byte.
    uint64_t ip[8][256];
    uint64_t fp[8][256];

    Tables() {
        for (int i = 0; i < 8; i++) {
            for (int x = 0; x < 64; x++) {
                const int row = ((x >> 4) & 2) | (x & 1), col = (x >> 1) & 15;
                const uint32_t slot = static_cast<uint32_t>(kSBoxes[i][row * 16 + col])
                                      << (28 - 4 * i);
                uint32_t out = 0;
                for (int j = 0; j < 32; j++)
                    if (bit(slot, kP[j], 32))
                        out |= 1u << (31 - j);
                sp[i][x] = out;
            }
        }
        uint8_t inverse[64];
        for (int i = 0; i < 64; i++)
            inverse[kIp[i] - 1] = static_cast<uint8_t>(i + 1);
        for (int b = 0; b < 8; b++) {
            for (int v = 0; v < 256; v++) {
                const uint64_t in = static_cast<uint64_t>(v) << (56 - 8 * b);
                uint64_t a = 0, c = 0;
                for (int i = 0; i < 64; i++) {
                    a = a << 1 | bit(in, kIp[i], 64);
                    c = c << 1 | bit(in, inverse[i], 64);
                }
                ip[b][v] = a;
                fp[b][v] = c;
            }
        }
    }
};

const Tables& tables() {
    static const Tables t;
    return t;
}

inline uint64_t permute(const uint64_t (&t)[8][256], uint64_t v) {
    return t[0][v >> 56] | t[1][(v >> 48) & 255] | t[2][(v >> 40) & 255] | t[3][(v >> 32) & 255] |
           t[4][(v >> 24) & 255] | t[5][(v >> 16) & 255] | t[6][(v >> 8) & 255] | t[7][v & 255];
}

inline uint32_t rotr(uint32_t v, int n) {
    return (v >> n) | (v << (32 - n));
}

// The round function f(R, K). The expansion E gives chunk i = bits 4i..4i+5 of R (with wrap):
// in rotr(R, 3) the even chunks sit at bits 31..26, 23..18, 15..10, 7..2 shifted down to byte
// boundaries, in rotl(R, 1) the odd ones; the round keys are stored in the same layout.
inline uint32_t f(const uint32_t (&sp)[8][64], uint32_t r, uint32_t even, uint32_t odd) {
    const uint32_t a = rotr(r, 3) ^ even, b = rotr(r, 31) ^ odd;
    return sp[0][(a >> 24) & 63] ^ sp[2][(a >> 16) & 63] ^ sp[4][(a >> 8) & 63] ^ sp[6][a & 63] ^
           sp[1][(b >> 24) & 63] ^ sp[3][(b >> 16) & 63] ^ sp[5][(b >> 8) & 63] ^ sp[7][b & 63];
}

// 16 round keys of one DES key, in encryption or decryption order.
void schedule(const uint8_t* key, bool decrypt, uint32_t (&even)[16], uint32_t (&odd)[16]) {
    const uint64_t k = load_be64(key);
    uint64_t cd = 0;
    for (int i = 0; i < 56; i++)
        cd = cd << 1 | bit(k, kPc1[i], 64);
    uint32_t c = static_cast<uint32_t>(cd >> 28), d = static_cast<uint32_t>(cd & 0xfffffff);
    for (int round = 0; round < 16; round++) {
        for (int s = 0; s < kShifts[round]; s++) {
            c = ((c << 1) | (c >> 27)) & 0xfffffff;
            d = ((d << 1) | (d >> 27)) & 0xfffffff;
        }
        const uint64_t both = static_cast<uint64_t>(c) << 28 | d;
        uint64_t sub = 0;
        for (int i = 0; i < 48; i++)
            sub = sub << 1 | bit(both, kPc2[i], 56);
        uint32_t chunk[8];
        for (int i = 0; i < 8; i++)
            chunk[i] = static_cast<uint32_t>(sub >> (42 - 6 * i)) & 63;
        const int at = decrypt ? 15 - round : round;
        even[at] = chunk[0] << 24 | chunk[2] << 16 | chunk[4] << 8 | chunk[6];
        odd[at] = chunk[1] << 24 | chunk[3] << 16 | chunk[5] << 8 | chunk[7];
    }
}

template <size_t N>
void encrypt(uint64_t blocks[], const uint32_t (*even[])[3][16], const uint32_t (*odd[])[3][16]) {
    const Tables& t = tables();
    uint32_t l[N], r[N];
    for (size_t j = 0; j < N; j++) {
        const uint64_t v = permute(t.ip, blocks[j]);
        l[j] = static_cast<uint32_t>(v >> 32);
        r[j] = static_cast<uint32_t>(v);
    }
    for (int stage = 0; stage < 3; stage++) {
        for (int round = 0; round < 16; round += 2) {
            for (size_t j = 0; j < N; j++)
                l[j] ^= f(t.sp, r[j], (*even[j])[stage][round], (*odd[j])[stage][round]);
            for (size_t j = 0; j < N; j++)
                r[j] ^= f(t.sp, l[j], (*even[j])[stage][round + 1], (*odd[j])[stage][round + 1]);
        }
        for (size_t j = 0; j < N; j++) { // undo the last round's swap: each DES outputs R16 L16
            const uint32_t tmp = l[j];
            l[j] = r[j];
            r[j] = tmp;
        }
    }
    for (size_t j = 0; j < N; j++)
        blocks[j] = permute(t.fp, static_cast<uint64_t>(l[j]) << 32 | r[j]);
}

} // namespace

Result<DesLaneKey> DesLaneKey::create(BlockAlgo algo, ByteView key) {
    if (algo == BlockAlgo::Aes || !key_size_valid(algo, key.size()))
        return make_error(std::string(block_algo_name(algo)) + " key must be " +
                          key_sizes_text(algo) + ", got " + std::to_string(key.size()));
    DesLaneKey k;
    const uint8_t* k1 = key.data();
    const uint8_t* k2 = algo == BlockAlgo::Des ? k1 : k1 + 8;
    const uint8_t* k3 = algo == BlockAlgo::TripleDes3Key ? k1 + 16 : k1;
    schedule(k1, false, k.even_[0], k.odd_[0]);
    schedule(k2, true, k.even_[1], k.odd_[1]);
    schedule(k3, false, k.even_[2], k.odd_[2]);
    tables(); // built once, before the first packet
    return k;
}

DesLaneKey::~DesLaneKey() {
    volatile uint32_t* p = &even_[0][0];
    for (size_t i = 0; i < sizeof even_ / sizeof(uint32_t); i++)
        p[i] = 0;
    p = &odd_[0][0];
    for (size_t i = 0; i < sizeof odd_ / sizeof(uint32_t); i++)
        p[i] = 0;
}

void des_encrypt_lanes(const DesLaneKey* const keys[], uint64_t blocks[], size_t n) {
    const uint32_t(*even[kMaxDesLanes])[3][16];
    const uint32_t(*odd[kMaxDesLanes])[3][16];
    for (size_t j = 0; j < n; j++) {
        even[j] = &keys[j]->even_;
        odd[j] = &keys[j]->odd_;
    }
    switch (n) {
    case 1:
        return encrypt<1>(blocks, even, odd);
    case 2:
        return encrypt<2>(blocks, even, odd);
    case 3:
        return encrypt<3>(blocks, even, odd);
    case 4:
        return encrypt<4>(blocks, even, odd);
    default:
        return;
    }
}

} // namespace otagw::crypto
