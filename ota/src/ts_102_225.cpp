// SPDX-License-Identifier: GPL-2.0-or-later
// ETSI TS 102 225 / 3GPP TS 31.115 secured command and response packets (SMS-PP dialect).
#include "otagw/ota/ts_102_225.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace otagw::ota {

namespace {

std::string hex_byte(uint8_t v) {
    char b[3];
    std::snprintf(b, sizeof b, "%02x", v);
    return b;
}

void store_counter(uint8_t* p, uint64_t counter) {
    for (int i = 4; i >= 0; i--) {
        p[i] = static_cast<uint8_t>(counter);
        counter >>= 8;
    }
}

uint64_t load_counter(const uint8_t* p) {
    uint64_t v = 0;
    for (int i = 0; i < 5; i++)
        v = v << 8 | p[i];
    return v;
}

// Standard UDH of a response packet (TS 31.115 §4.3): UDHL 02, IEI 71, IEIDL 00.
constexpr uint8_t kResponseUdh[3] = {0x02, 0x71, 0x00};

// Computes the RC or CC over `parts` into `out` (2, 4 or 8 bytes, as integrity_length says).
Status compute_integrity(Integrity integrity, uint8_t kid, const OtaKeys& keys, crypto::Parts parts,
                         uint8_t* out) {
    if (integrity == Integrity::Cc) {
        keys.compute_cc(parts, out);
        return {};
    }
    auto rc = kid_rc(kid);
    if (!rc)
        return rc.take_error();
    if (*rc == RcAlgo::Crc16) {
        store_be16(out, crypto::crc16(parts));
    } else {
        uint32_t crc = crypto::crc32(parts);
        out[0] = static_cast<uint8_t>(crc >> 24);
        out[1] = static_cast<uint8_t>(crc >> 16);
        out[2] = static_cast<uint8_t>(crc >> 8);
        out[3] = static_cast<uint8_t>(crc);
    }
    return {};
}

Status check_integrity_keys(Integrity integrity, const OtaKeys& keys) {
    if (integrity == Integrity::Cc)
        return keys.can_cc();
    return {};
}

size_t padding_for(size_t len, size_t block) {
    return (block - len % block) % block;
}

} // namespace

// ---- SPI, KIc, KID ------------------------------------------------------------------------------

Result<Spi> Spi::parse(std::string_view hex) {
    auto b = parse_hex_exact(hex, 2, "SPI");
    if (!b)
        return b.take_error();
    return Spi{(*b)[0], (*b)[1]};
}

const char* integrity_name(Integrity i) {
    switch (i) {
    case Integrity::None:
        return "none";
    case Integrity::Rc:
        return "RC";
    case Integrity::Cc:
        return "CC";
    case Integrity::Ds:
        return "DS";
    }
    return "?";
}

const char* counter_mode_name(CounterMode m) {
    switch (m) {
    case CounterMode::None:
        return "none";
    case CounterMode::Available:
        return "available";
    case CounterMode::Higher:
        return "higher";
    case CounterMode::OneHigher:
        return "one higher";
    }
    return "?";
}

// TS 102 225 §5.1.2 (KIc) and §5.1.3.1 (KID for CC) share the DES codings of b4b3.
static Result<crypto::BlockAlgo> des_family(uint8_t byte, const char* what) {
    switch ((byte >> 2) & 0x03) {
    case 0:
        return crypto::BlockAlgo::Des;
    case 1:
        return crypto::BlockAlgo::TripleDes2Key;
    case 2:
        return crypto::BlockAlgo::TripleDes3Key;
    default:
        return make_error(std::string(what) + " " + hex_byte(byte) +
                          ": DES in ECB mode is not supported");
    }
}

const KeysetAlgorithm* keyset_algorithm(std::string_view name) {
    static constexpr KeysetAlgorithm kAll[] = {{"des", 0x01, 8},     {"3des2", 0x05, 16},
                                               {"3des3", 0x09, 24},  {"aes128", 0x02, 16},
                                               {"aes192", 0x02, 24}, {"aes256", 0x02, 32}};
    for (const auto& a : kAll)
        if (name == a.name)
            return &a;
    return nullptr;
}

Result<crypto::BlockAlgo> kic_cipher(uint8_t kic) {
    switch (kic & 0x03) {
    case 1:
        return des_family(kic, "KIc");
    case 2:
        if ((kic & 0x0c) != 0)
            return make_error("KIc " + hex_byte(kic) + ": reserved AES mode");
        return crypto::BlockAlgo::Aes;
    case 0:
        return make_error("KIc " + hex_byte(kic) +
                          ": algorithm 'known implicitly' is not supported, name it in b2b1");
    default:
        return make_error("KIc " + hex_byte(kic) + ": proprietary algorithm is not supported");
    }
}

Result<CcSpec> kid_cc(uint8_t kid) {
    switch (kid & 0x03) {
    case 1: {
        auto algo = des_family(kid, "KID");
        if (!algo)
            return algo.take_error();
        return CcSpec{*algo, CcAlgo::CbcMac};
    }
    case 2:
        if ((kid & 0x0c) != 0)
            return make_error("KID " + hex_byte(kid) + ": reserved AES mode (only CMAC, b4b3 00)");
        return CcSpec{crypto::BlockAlgo::Aes, CcAlgo::AesCmac};
    case 0:
        return make_error("KID " + hex_byte(kid) +
                          ": algorithm 'known implicitly' is not supported, name it in b2b1");
    default:
        return make_error("KID " + hex_byte(kid) + ": proprietary algorithm is not supported");
    }
}

Result<RcAlgo> kid_rc(uint8_t kid) {
    if ((kid & 0x03) != 0x01)
        return make_error("KID " + hex_byte(kid) +
                          ": b2b1 must be 01 (CRC) for a redundancy check");
    switch ((kid >> 2) & 0x03) {
    case 0:
        return RcAlgo::Crc16;
    case 1:
        return RcAlgo::Crc32;
    default:
        return make_error("KID " + hex_byte(kid) + ": reserved CRC algorithm");
    }
}

Result<size_t> integrity_length(Integrity integrity, uint8_t kid) {
    switch (integrity) {
    case Integrity::None:
        return size_t{0};
    case Integrity::Rc: {
        auto rc = kid_rc(kid);
        if (!rc)
            return rc.take_error();
        return size_t{*rc == RcAlgo::Crc16 ? 2u : 4u};
    }
    case Integrity::Cc: {
        auto cc = kid_cc(kid);
        if (!cc)
            return cc.take_error();
        return size_t{8}; // DES/3DES CBC-MAC block; AES-CMAC truncated to 8 (TS 102 225 §5.1.3.1)
    }
    case Integrity::Ds:
        return make_error("digital signature (DS) is not supported");
    }
    return make_error("invalid integrity");
}

OtaKeys OtaKeys::create(uint8_t kic, ByteView kic_key, uint8_t kid, ByteView kid_key) {
    OtaKeys k;
    k.kic_ = kic;
    k.kid_ = kid;
    k.kic_key_given_ = !kic_key.empty();
    k.kid_key_given_ = !kid_key.empty();
    if (kic_key.empty()) {
        k.cipher_problem_ = "no KIc key given";
    } else if (auto algo = kic_cipher(kic); !algo) {
        k.cipher_problem_ = algo.error().message;
    } else if (auto c = crypto::BlockCipher::create(*algo, kic_key); !c) {
        k.cipher_problem_ = "KIc key: KIc " + hex_byte(kic) + " names " +
                            crypto::block_algo_name(*algo) + ", which needs " +
                            crypto::key_sizes_text(*algo) + ", got " +
                            std::to_string(kic_key.size());
    } else {
        k.cipher_.emplace(std::move(*c));
        if (*algo != crypto::BlockAlgo::Aes)
            k.cipher_lanes_.emplace(crypto::DesLaneKey::create(*algo, kic_key).value());
    }
    if (kid_key.empty()) {
        k.cc_problem_ = "no KID key given";
    } else if (auto spec = kid_cc(kid); !spec) {
        k.cc_problem_ = spec.error().message;
    } else if (!crypto::key_size_valid(spec->block, kid_key.size())) {
        k.cc_problem_ = "KID key: KID " + hex_byte(kid) + " names " +
                        crypto::block_algo_name(spec->block) + ", which needs " +
                        crypto::key_sizes_text(spec->block) + ", got " +
                        std::to_string(kid_key.size());
    } else if (spec->mac == CcAlgo::AesCmac) {
        k.cc_cmac_.emplace(crypto::Cmac::create(spec->block, kid_key).value());
    } else {
        k.cc_cbc_.emplace(crypto::BlockCipher::create(spec->block, kid_key).value());
        k.cc_lanes_.emplace(crypto::DesLaneKey::create(spec->block, kid_key).value());
    }
    return k;
}

Status OtaKeys::can_cipher() const {
    if (!cipher_)
        return make_error("ciphering: " + cipher_problem_);
    return {};
}

Status OtaKeys::can_cc() const {
    if (!cc_cbc_ && !cc_cmac_)
        return make_error("cryptographic checksum: " + cc_problem_);
    return {};
}

Status OtaKeys::check_given_keys() const {
    // Only a key whose size contradicts a concrete algorithm is an error here; an algorithm
    // we cannot use is reported when a packet needs it.
    if (kic_key_given_ && !cipher_ && kic_cipher(kic_).ok())
        return make_error(cipher_problem_);
    if (kid_key_given_ && !cc_cbc_ && !cc_cmac_ && kid_cc(kid_).ok())
        return make_error(cc_problem_);
    return {};
}

void OtaKeys::compute_cc(crypto::Parts parts, uint8_t* cc) const {
    uint8_t mac[crypto::kMaxBlockSize];
    if (cc_cmac_)
        cc_cmac_->compute(parts, mac);
    else
        crypto::cbc_mac(*cc_cbc_, parts, mac);
    std::memcpy(cc, mac, 8);
}

Result<Tar> parse_tar(std::string_view hex) {
    auto b = parse_hex_exact(hex, 3, "TAR");
    if (!b)
        return b.take_error();
    return Tar{(*b)[0], (*b)[1], (*b)[2]};
}

Result<uint64_t> parse_counter(std::string_view hex) {
    auto b = parse_hex_exact(hex, 5, "CNTR");
    if (!b)
        return b.take_error();
    return load_counter(b->data());
}

const char* integrity_check_name(IntegrityCheck c) {
    switch (c) {
    case IntegrityCheck::Ok:
        return "ok";
    case IntegrityCheck::Failed:
        return "failed";
    case IntegrityCheck::Absent:
        return "absent";
    }
    return "?";
}

// ---- Command packet -----------------------------------------------------------------------------
//  CPL(2) CHL(1) SPI(2) KIc(1) KID(1) TAR(3) | CNTR(5) PCNTR(1) RC/CC/DS(n) data padding
//  offsets:  0      2      3       5      6      7 |  10       15       16
constexpr size_t kCmdCipherOffset = 10;
constexpr size_t kCmdIntegrityOffset = 16;

namespace {

// Where the packet's secured parts sit once laid out.
struct CommandLayout {
    size_t ilen = 0;  // RC/CC/DS length
    size_t pcntr = 0; // padding octets
};

// Writes everything but the RC/CC/DS and the ciphering: header, counter, data, '00' padding.
Status layout_command(const CommandHeader& h, const OtaKeys& keys, ByteView secured_data,
                      Bytes& out, CommandLayout& layout) {
    auto ilen = integrity_length(h.spi.integrity(), h.kid);
    if (!ilen)
        return ilen.take_error();
    OTAGW_TRY_STATUS(check_integrity_keys(h.spi.integrity(), keys));
    if (h.counter > kMaxCounter)
        return make_error("CNTR exceeds 5 bytes");
    size_t pcntr = 0;
    if (h.spi.ciphered()) {
        OTAGW_TRY_STATUS(keys.can_cipher());
        pcntr = padding_for(6 + *ilen + secured_data.size(), keys.cipher()->block_size());
    }
    const size_t chl = 13 + *ilen;
    const size_t cpl = 1 + chl + secured_data.size() + pcntr;
    if (cpl > 0xffff)
        return make_error("command packet of " + std::to_string(cpl) + " bytes exceeds CPL range");

    out.resize(2 + cpl);
    uint8_t* p = out.data();
    store_be16(p, static_cast<uint16_t>(cpl));
    p[2] = static_cast<uint8_t>(chl);
    p[3] = h.spi.first;
    p[4] = h.spi.second;
    p[5] = h.kic;
    p[6] = h.kid;
    std::memcpy(p + 7, h.tar.data(), 3);
    store_counter(p + 10, h.counter);
    p[15] = static_cast<uint8_t>(pcntr);
    uint8_t* data = p + kCmdIntegrityOffset + *ilen;
    if (!secured_data.empty())
        std::memcpy(data, secured_data.data(), secured_data.size());
    std::memset(data + secured_data.size(), 0, pcntr);
    layout = {*ilen, pcntr};
    return {};
}

// The RC/CC/DS covers CPL..PCNTR and the secured data with padding (TS 31.115 §4.2).
ByteView integrity_head(const Bytes& out) {
    return ByteView(out.data(), kCmdIntegrityOffset);
}
ByteView integrity_tail(const Bytes& out, const CommandLayout& l) {
    return ByteView(out).subspan(kCmdIntegrityOffset + l.ilen);
}

Status secure_command(const CommandHeader& h, const OtaKeys& keys, Bytes& out,
                      const CommandLayout& l) {
    if (l.ilen > 0)
        OTAGW_TRY_STATUS(compute_integrity(h.spi.integrity(), h.kid, keys,
                                           {integrity_head(out), integrity_tail(out, l)},
                                           out.data() + kCmdIntegrityOffset));
    if (h.spi.ciphered()) {
        uint8_t iv[crypto::kMaxBlockSize] = {};
        keys.cipher()->cbc_encrypt(iv, out.data() + kCmdCipherOffset, out.data() + kCmdCipherOffset,
                                   out.size() - kCmdCipherOffset);
    }
    return {};
}

// A job the lanes can take: a DES-family CC, and DES-family ciphering if any.
bool lane_eligible(const CommandJob& j) {
    const Spi spi = j.header->spi;
    return spi.integrity() == Integrity::Cc && j.keys->cc_lanes() &&
           (!spi.ciphered() || j.keys->cipher_lanes());
}

// Block k of the zero-padded CC input: the 16-byte head, then the data and padding.
uint64_t mac_block(const Bytes& out, const CommandLayout& l, size_t k) {
    if (k < 2)
        return crypto::load_be64(out.data() + 8 * k);
    ByteView tail = integrity_tail(out, l);
    const size_t off = (k - 2) * 8;
    if (off + 8 <= tail.size())
        return crypto::load_be64(tail.data() + off);
    uint8_t last[8] = {};
    std::memcpy(last, tail.data() + off, tail.size() - off);
    return crypto::load_be64(last);
}

// CBC chains of up to four jobs at once. `blocks(i)` is the number of blocks of lane i,
// `input(i, k)` its k-th input, `output(i, k, v)` receives the k-th chained result.
template <typename Count, typename Input, typename Output>
void run_lanes(size_t n, const crypto::DesLaneKey* const keys[], Count blocks, Input input,
               Output output) {
    uint64_t state[crypto::kMaxDesLanes] = {};
    size_t steps = 0;
    for (size_t i = 0; i < n; i++)
        steps = std::max(steps, blocks(i));
    for (size_t k = 0; k < steps; k++) {
        const crypto::DesLaneKey* active_keys[crypto::kMaxDesLanes];
        uint64_t v[crypto::kMaxDesLanes];
        size_t lane[crypto::kMaxDesLanes], m = 0;
        for (size_t i = 0; i < n; i++) {
            if (k < blocks(i)) {
                active_keys[m] = keys[i];
                v[m] = state[i] ^ input(i, k);
                lane[m++] = i;
            }
        }
        crypto::des_encrypt_lanes(active_keys, v, m);
        for (size_t a = 0; a < m; a++) {
            state[lane[a]] = v[a];
            output(lane[a], k, v[a]);
        }
    }
}

void secure_on_lanes(CommandJob* const group[], const CommandLayout layouts[], size_t n) {
    const crypto::DesLaneKey* keys[crypto::kMaxDesLanes];
    // CC: CBC-MAC over the zero-padded head and tail; the last chained block is the CC.
    for (size_t i = 0; i < n; i++)
        keys[i] = group[i]->keys->cc_lanes();
    run_lanes(
        n, keys,
        [&](size_t i) {
            return (kCmdIntegrityOffset + integrity_tail(*group[i]->out, layouts[i]).size() + 7) /
                   8;
        },
        [&](size_t i, size_t k) { return mac_block(*group[i]->out, layouts[i], k); },
        [&](size_t i, size_t, uint64_t v) {
            crypto::store_be64(group[i]->out->data() + kCmdIntegrityOffset, v);
        });
    // Ciphering: CBC with a zero IV over CNTR..padding, in place.
    size_t m = 0;
    CommandJob* ciphered[crypto::kMaxDesLanes];
    for (size_t i = 0; i < n; i++) {
        if (group[i]->header->spi.ciphered()) {
            keys[m] = group[i]->keys->cipher_lanes();
            ciphered[m++] = group[i];
        }
    }
    if (m == 0)
        return;
    run_lanes(
        m, keys, [&](size_t i) { return (ciphered[i]->out->size() - kCmdCipherOffset) / 8; },
        [&](size_t i, size_t k) {
            return crypto::load_be64(ciphered[i]->out->data() + kCmdCipherOffset + 8 * k);
        },
        [&](size_t i, size_t k, uint64_t v) {
            crypto::store_be64(ciphered[i]->out->data() + kCmdCipherOffset + 8 * k, v);
        });
}

} // namespace

Status build_command_packet(const CommandHeader& h, const OtaKeys& keys, ByteView secured_data,
                            Bytes& out) {
    CommandLayout layout;
    OTAGW_TRY_STATUS(layout_command(h, keys, secured_data, out, layout));
    return secure_command(h, keys, out, layout);
}

void build_command_packets(std::span<CommandJob> jobs) {
    CommandJob* group[crypto::kMaxDesLanes];
    CommandLayout layouts[crypto::kMaxDesLanes];
    size_t n = 0;
    for (CommandJob& j : jobs) {
        CommandLayout layout;
        j.status = layout_command(*j.header, *j.keys, j.secured_data, *j.out, layout);
        if (!j.status)
            continue;
        if (!lane_eligible(j)) {
            j.status = secure_command(*j.header, *j.keys, *j.out, layout);
            continue;
        }
        group[n] = &j;
        layouts[n++] = layout;
        if (n == crypto::kMaxDesLanes) {
            secure_on_lanes(group, layouts, n);
            n = 0;
        }
    }
    if (n > 0)
        secure_on_lanes(group, layouts, n);
}

Result<DecodedCommand> decode_command_packet(ByteView packet, const OtaKeys& keys) {
    if (packet.size() < kCmdIntegrityOffset)
        return make_error("command packet: " + std::to_string(packet.size()) +
                          " bytes, the header needs at least 16");
    const size_t cpl = load_be16(packet.data());
    if (cpl != packet.size() - 2)
        return make_error("command packet: CPL " + std::to_string(cpl) + " but " +
                          std::to_string(packet.size() - 2) + " bytes follow it");
    DecodedCommand d;
    CommandHeader& h = d.header;
    const size_t chl = packet[2];
    h.spi = Spi{packet[3], packet[4]};
    h.kic = packet[5];
    h.kid = packet[6];
    std::memcpy(h.tar.data(), packet.data() + 7, 3);
    if (h.kic != keys.kic() || h.kid != keys.kid())
        return make_error("command packet: KIc " + hex_byte(h.kic) + " / KID " + hex_byte(h.kid) +
                          " do not name this keyset (" + hex_byte(keys.kic()) + " / " +
                          hex_byte(keys.kid()) + ")");
    auto ilen = integrity_length(h.spi.integrity(), h.kid);
    if (!ilen)
        return make_error("command packet: " + ilen.error().message);
    if (chl != 13 + *ilen)
        return make_error("command packet: CHL " + std::to_string(chl) + " but the SPI's " +
                          integrity_name(h.spi.integrity()) + " needs " +
                          std::to_string(13 + *ilen));
    Bytes body(packet.begin() + kCmdCipherOffset, packet.end());
    if (h.spi.ciphered()) {
        OTAGW_TRY_STATUS(keys.can_cipher());
        const size_t bs = keys.cipher()->block_size();
        if (body.size() % bs != 0)
            return make_error("command packet: ciphered part of " + std::to_string(body.size()) +
                              " bytes is not a multiple of the " + std::to_string(bs) +
                              "-byte block");
        uint8_t iv[crypto::kMaxBlockSize] = {};
        keys.cipher()->cbc_decrypt(iv, body.data(), body.data(), body.size());
    }
    if (body.size() < 6 + *ilen)
        return make_error("command packet: shorter than CNTR, PCNTR and RC/CC/DS");
    h.counter = load_counter(body.data());
    d.pcntr = body[5];
    d.integrity_value.assign(body.begin() + 6, body.begin() + 6 + static_cast<long>(*ilen));
    ByteView padded(body.data() + 6 + *ilen, body.size() - 6 - *ilen);
    if (*ilen > 0) {
        OTAGW_TRY_STATUS(check_integrity_keys(h.spi.integrity(), keys));
        uint8_t expect[8];
        OTAGW_TRY_STATUS(compute_integrity(
            h.spi.integrity(), h.kid, keys,
            {packet.first(kCmdCipherOffset), ByteView(body.data(), 6), padded}, expect));
        d.integrity = equal_ct(ByteView(expect, *ilen), d.integrity_value) ? IntegrityCheck::Ok
                                                                           : IntegrityCheck::Failed;
    }
    if (d.pcntr > padded.size()) {
        if (d.integrity != IntegrityCheck::Failed)
            return make_error("command packet: PCNTR " + std::to_string(d.pcntr) + " exceeds the " +
                              std::to_string(padded.size()) + " bytes of secured data");
        d.secured_data.assign(padded.begin(), padded.end());
    } else {
        d.secured_data.assign(padded.begin(), padded.end() - d.pcntr);
    }
    return d;
}

// ---- Response packet ----------------------------------------------------------------------------
//  [UDH 027100] RPL(2) RHL(1) TAR(3) | CNTR(5) PCNTR(1) Status(1) RC/CC/DS(n) data padding
//  packet offsets: 0       2      3   |  6        11        12         13

const char* por_status_name(uint8_t status) {
    switch (status) {
    case 0x00:
        return "por_ok";
    case 0x01:
        return "rc_cc_ds_failed";
    case 0x02:
        return "cntr_low";
    case 0x03:
        return "cntr_high";
    case 0x04:
        return "cntr_blocked";
    case 0x05:
        return "ciphering_error";
    case 0x06:
        return "unidentified_security_error";
    case 0x07:
        return "insufficient_memory";
    case 0x08:
        return "more_time_needed";
    case 0x09:
        return "tar_unknown";
    case 0x0a:
        return "insufficient_security_level";
    case 0x0b:
        return "actual_response_sms_submit";
    case 0x0c:
        return "actual_response_ussd";
    default:
        return "reserved";
    }
}

Status build_response_packet(const ResponseHeader& h, const OtaKeys& keys, ByteView response_data,
                             bool secured, Bytes& out) {
    const Integrity integrity = secured ? h.spi.por_integrity() : Integrity::None;
    auto ilen = integrity_length(integrity, h.kid);
    if (!ilen)
        return ilen.take_error();
    OTAGW_TRY_STATUS(check_integrity_keys(integrity, keys));
    const bool ciphered = secured && h.spi.por_ciphered();
    size_t pcntr = 0;
    if (ciphered) {
        OTAGW_TRY_STATUS(keys.can_cipher());
        pcntr = padding_for(7 + *ilen + response_data.size(), keys.cipher()->block_size());
    }
    const size_t rhl = 10 + *ilen;
    const size_t rpl = 1 + rhl + response_data.size() + pcntr;
    if (rpl > 0xffff)
        return make_error("response packet exceeds RPL range");
    out.resize(3 + 2 + rpl);
    uint8_t* u = out.data();
    std::memcpy(u, kResponseUdh, 3);
    uint8_t* p = u + 3;
    store_be16(p, static_cast<uint16_t>(rpl));
    p[2] = static_cast<uint8_t>(rhl);
    std::memcpy(p + 3, h.tar.data(), 3);
    store_counter(p + 6, h.counter);
    p[11] = static_cast<uint8_t>(pcntr);
    p[12] = h.status;
    uint8_t* data = p + 13 + *ilen;
    if (!response_data.empty())
        std::memcpy(data, response_data.data(), response_data.size());
    std::memset(data + response_data.size(), 0, pcntr);
    if (*ilen > 0) {
        ByteView head(u, 3 + 13);
        ByteView tail(data, response_data.size() + pcntr);
        OTAGW_TRY_STATUS(compute_integrity(integrity, h.kid, keys, {head, tail}, p + 13));
    }
    if (ciphered) {
        uint8_t iv[crypto::kMaxBlockSize] = {};
        keys.cipher()->cbc_encrypt(iv, p + 6, p + 6, out.size() - 3 - 6);
    }
    return {};
}

// The size of the UDH (TS 23.040 §9.2.3.24) that starts `user_data`, when it is a well-formed
// UDH holding IE '71' and the RPL after it matches what follows; nullopt otherwise.
static std::optional<size_t> response_udh_size(ByteView user_data) {
    if (user_data.empty())
        return std::nullopt;
    const size_t end = 1 + user_data[0];
    if (end == 1 || end > user_data.size())
        return std::nullopt;
    bool has_71 = false;
    for (size_t i = 1; i < end; i += 2 + user_data[i + 1]) {
        if (i + 2 > end || i + 2 + user_data[i + 1] > end)
            return std::nullopt;
        has_71 |= user_data[i] == 0x71;
    }
    ByteView packet = user_data.subspan(end);
    if (!has_71 || packet.size() < 2 || load_be16(packet.data()) != packet.size() - 2)
        return std::nullopt;
    return end;
}

Result<DecodedResponse> decode_response_packet(ByteView user_data, Spi spi, const OtaKeys& keys) {
    ByteView udh(kResponseUdh, 3);
    ByteView packet = user_data;
    if (auto n = response_udh_size(user_data)) {
        udh = user_data.first(*n);
        packet = user_data.subspan(*n);
    } else if (user_data.size() < 2 || load_be16(user_data.data()) != user_data.size() - 2) {
        return make_error("response packet: the RPL matches neither the " +
                          std::to_string(user_data.size()) +
                          " bytes given nor what follows a UDH with the response packet "
                          "identifier (IE 71)");
    }
    if (packet.size() < 13)
        return make_error("response packet: " + std::to_string(packet.size()) +
                          " bytes, the header needs at least 13");
    DecodedResponse d;
    const size_t rhl = packet[2];
    std::memcpy(d.tar.data(), packet.data() + 3, 3);
    auto ilen = integrity_length(spi.por_integrity(), keys.kid());
    if (!ilen)
        return make_error("response packet: " + ilen.error().message);
    bool secured = true;
    if (rhl == 10 && *ilen > 0) {
        // A card that cannot process the command's security answers in clear, without
        // RC/CC/DS (TS 102 225 §5.2.2, status 06 "unidentified security error" and friends).
        secured = false;
        *ilen = 0;
    } else if (rhl != 10 + *ilen) {
        return make_error("response packet: RHL " + std::to_string(rhl) + " but the SPI's PoR " +
                          integrity_name(spi.por_integrity()) + " needs " +
                          std::to_string(10 + *ilen));
    }
    Bytes body(packet.begin() + 6, packet.end());
    d.ciphered = secured && spi.por_ciphered();
    if (d.ciphered) {
        OTAGW_TRY_STATUS(keys.can_cipher());
        const size_t bs = keys.cipher()->block_size();
        if (*ilen == 0 && body.size() % bs != 0) {
            d.ciphered = false; // a clear error PoR: no checksum asked, length not block-aligned
        } else if (body.size() % bs != 0) {
            return make_error("response packet: ciphered part of " + std::to_string(body.size()) +
                              " bytes is not a multiple of the " + std::to_string(bs) +
                              "-byte block");
        } else {
            uint8_t iv[crypto::kMaxBlockSize] = {};
            keys.cipher()->cbc_decrypt(iv, body.data(), body.data(), body.size());
        }
    }
    if (body.size() < 7 + *ilen)
        return make_error("response packet: shorter than CNTR, PCNTR, status and RC/CC/DS");
    d.counter = load_counter(body.data());
    d.pcntr = body[5];
    d.status = body[6];
    d.integrity_value.assign(body.begin() + 7, body.begin() + 7 + static_cast<long>(*ilen));
    ByteView padded(body.data() + 7 + *ilen, body.size() - 7 - *ilen);
    if (*ilen > 0) {
        OTAGW_TRY_STATUS(check_integrity_keys(spi.por_integrity(), keys));
        uint8_t expect[8];
        OTAGW_TRY_STATUS(compute_integrity(spi.por_integrity(), keys.kid(), keys,
                                           {udh, packet.first(6), ByteView(body.data(), 7), padded},
                                           expect));
        d.integrity = equal_ct(ByteView(expect, *ilen), d.integrity_value) ? IntegrityCheck::Ok
                                                                           : IntegrityCheck::Failed;
    }
    if (d.pcntr > padded.size()) {
        if (d.integrity != IntegrityCheck::Failed)
            return make_error("response packet: PCNTR " + std::to_string(d.pcntr) +
                              " exceeds the " + std::to_string(padded.size()) + " bytes of data");
        d.data.assign(padded.begin(), padded.end());
    } else {
        d.data.assign(padded.begin(), padded.end() - d.pcntr);
    }
    return d;
}

} // namespace otagw::ota
