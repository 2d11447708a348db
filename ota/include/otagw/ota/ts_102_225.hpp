// SPDX-License-Identifier: GPL-2.0-or-later
// Secured packets, server side: ETSI TS 102 225 (SPI, KIc, KID, TAR, CNTR, PCNTR, RC/CC/DS,
// PoR status) in the SMS-PP dialect of 3GPP TS 31.115 (the command packet's checksum covers
// CPL..data, not the UDH; the response packet's checksum covers its UDH '027100' too).
//
// Ciphering is CBC with a zero IV over CNTR..padding; CC is the CBC-MAC (DES/3DES, zero padded,
// padding not sent) or the AES-CMAC truncated to its leftmost 8 bytes; RC is CRC-16 or CRC-32.
// Padding octets (counted by PCNTR) are sent as '00'. TS 102 225 defines padding only by its
// count: the receiver discards PCNTR octets whatever they hold, and our decoders accept any
// value (cards answer with '80 00..' padding, pySim and most servers send '00').
//
// This is the gateway's codec. The card simulator implements the card side on its own
// (CONVENTIONS.md); the decode-command / build-response functions here exist so the library
// can be tested in both directions.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include <span>

#include "otagw/common/crypto.hpp"
#include "otagw/common/des_lanes.hpp"

namespace otagw::ota {

// ---- Security parameter indicator (TS 102 225 §5.1.1) -------------------------------------------
enum class Integrity : uint8_t { None = 0, Rc = 1, Cc = 2, Ds = 3 };
enum class CounterMode : uint8_t {
    None = 0,      // no counter available
    Available = 1, // counter available, no replay or sequence checking
    Higher = 2,    // process if the counter is higher than the card's
    OneHigher = 3, // process if the counter is exactly one higher
};
enum class PorRequest : uint8_t { None = 0, Always = 1, OnError = 2, Reserved = 3 };

struct Spi {
    uint8_t first = 0;  // b2b1 integrity, b3 ciphering, b5b4 counter mode
    uint8_t second = 0; // b2b1 PoR, b4b3 PoR integrity, b5 PoR ciphered, b6 PoR via SMS-SUBMIT

    static Result<Spi> parse(std::string_view hex); // 4 hex digits
    Integrity integrity() const { return static_cast<Integrity>(first & 0x03); }
    bool ciphered() const { return first & 0x04; }
    CounterMode counter_mode() const { return static_cast<CounterMode>((first >> 3) & 0x03); }
    PorRequest por() const { return static_cast<PorRequest>(second & 0x03); }
    Integrity por_integrity() const { return static_cast<Integrity>((second >> 2) & 0x03); }
    bool por_ciphered() const { return second & 0x10; }
    bool por_via_sms_submit() const { return second & 0x20; }
};

const char* integrity_name(Integrity i);
const char* counter_mode_name(CounterMode m);

// ---- Algorithms named by KIc and KID (TS 102 225 §5.1.2, §5.1.3) --------------------------------
// KIc: b2b1 '01' DES family / '10' AES; for DES b4b3 '00' DES-CBC, '01' 3DES 2-key, '10' 3DES
// 3-key ('11' DES-ECB is not supported); for AES b4b3 '00' AES-CBC. b8..b5 is the key version.
Result<crypto::BlockAlgo> kic_cipher(uint8_t kic);
// KID used for a CC: the same DES codings (CBC-MAC), or '10'/'00' for AES-CMAC.
enum class CcAlgo : uint8_t { CbcMac, AesCmac };
struct CcSpec {
    crypto::BlockAlgo block;
    CcAlgo mac;
};
Result<CcSpec> kid_cc(uint8_t kid);
// KID used for an RC: b2b1 '01' CRC, b4b3 '00' CRC-16, '01' CRC-32.
enum class RcAlgo : uint8_t { Crc16, Crc32 };
Result<RcAlgo> kid_rc(uint8_t kid);
inline uint8_t key_version(uint8_t kic_or_kid) {
    return kic_or_kid >> 4;
}

// A keyset's algorithm as inventories name it (doc/card-inventory.md), one for its KIc, KID and
// KIK alike: its coding in b4..b1 of the KIc and KID bytes (§5.1.2, §5.1.3: '1' DES-CBC, '5'
// 3DES with 2 keys, '9' 3DES with 3 keys, '2' AES: CBC for KIc, CMAC for KID, the key length
// from the key) and its key length.
struct KeysetAlgorithm {
    const char* name; // des, 3des2, 3des3, aes128, aes192, aes256
    uint8_t coding;
    size_t key_size;
};
// nullptr for a name that is none of the above.
const KeysetAlgorithm* keyset_algorithm(std::string_view name);
constexpr const char* kKeysetAlgorithmNames = "des, 3des2, 3des3, aes128, aes192, aes256";
// The KIc (= KID) byte of a keyset: b8..b5 its key version number, b4..b1 its algorithm.
inline uint8_t kic_kid_byte(uint8_t kvn, const KeysetAlgorithm& algorithm) {
    return static_cast<uint8_t>(kvn << 4 | algorithm.coding);
}

// Length of the RC/CC/DS field for `integrity` with this KID: CRC-16 2, CRC-32 4, CC 8.
Result<size_t> integrity_length(Integrity integrity, uint8_t kid);

// The keys of one keyset, with their schedules computed once (per card keyset, reused for
// every packet). A key is validated against the algorithm its KIc/KID byte names; a key that
// does not fit is kept as an error and reported when a packet needs it.
class OtaKeys {
public:
    // Empty `kic_key` / `kid_key`: not available (only packets that do not need it can be built).
    static OtaKeys create(uint8_t kic, ByteView kic_key, uint8_t kid, ByteView kid_key);
    uint8_t kic() const { return kic_; }
    uint8_t kid() const { return kid_; }
    // Error naming the problem when the keyset cannot cipher / compute a CC.
    Status can_cipher() const;
    Status can_cc() const;
    // Problems with keys that were given, whether or not a packet would use them.
    Status check_given_keys() const;

    const crypto::BlockCipher* cipher() const { return cipher_ ? &*cipher_ : nullptr; }
    // CC over `parts`: writes 8 bytes.
    void compute_cc(crypto::Parts parts, uint8_t* cc) const;
    // DES-family keys laid out for the four-lane batch builder (null for AES or no key).
    const crypto::DesLaneKey* cipher_lanes() const {
        return cipher_lanes_ ? &*cipher_lanes_ : nullptr;
    }
    const crypto::DesLaneKey* cc_lanes() const { return cc_lanes_ ? &*cc_lanes_ : nullptr; }

private:
    uint8_t kic_ = 0, kid_ = 0;
    std::optional<crypto::BlockCipher> cipher_;
    std::optional<crypto::BlockCipher> cc_cbc_;
    std::optional<crypto::Cmac> cc_cmac_;
    std::optional<crypto::DesLaneKey> cipher_lanes_, cc_lanes_;
    std::string cipher_problem_, cc_problem_;
    bool kic_key_given_ = false, kid_key_given_ = false;
};

using Tar = std::array<uint8_t, 3>;
Result<Tar> parse_tar(std::string_view hex);
constexpr uint64_t kMaxCounter = 0xffffffffffULL;     // CNTR is 5 bytes
Result<uint64_t> parse_counter(std::string_view hex); // 10 hex digits

// ---- Command packet (TS 102 225 §5.1.1, TS 31.115 §4.2) -----------------------------------------
struct CommandHeader {
    Spi spi;
    uint8_t kic = 0;
    uint8_t kid = 0;
    Tar tar{};
    uint64_t counter = 0;
};

// Writes CPL..end (the SMS user data without its UDH '027000') into `out`, which is cleared
// first; keep one buffer per worker to build packets without allocating.
Status build_command_packet(const CommandHeader& header, const OtaKeys& keys, ByteView secured_data,
                            Bytes& out);

// Many packets at once, with the same results as build_command_packet one by one. Packets whose
// CC (and ciphering, if any) use the DES family are computed four at a time on interleaved
// lanes (common/des_lanes.hpp), which triples 3DES throughput on one core; others go one by one.
struct CommandJob {
    const CommandHeader* header = nullptr;
    const OtaKeys* keys = nullptr;
    ByteView secured_data;
    Bytes* out = nullptr;
    Status status; // set by the builder
};
void build_command_packets(std::span<CommandJob> jobs);

enum class IntegrityCheck : uint8_t { Ok, Failed, Absent };
const char* integrity_check_name(IntegrityCheck c); // "ok", "failed", "absent"

struct DecodedCommand {
    CommandHeader header;
    uint8_t pcntr = 0;
    Bytes integrity_value;
    Bytes secured_data; // padding removed
    IntegrityCheck integrity = IntegrityCheck::Absent;
};
// The reverse direction (a card's view), for tests and tools. A malformed packet is an error;
// a checksum mismatch is reported in `integrity`.
Result<DecodedCommand> decode_command_packet(ByteView packet, const OtaKeys& keys);

// ---- Response packet / PoR (TS 102 225 §5.2, TS 31.115 §4.3) ------------------------------------
enum class PorStatus : uint8_t {
    Ok = 0x00,
    IntegrityFailed = 0x01,
    CounterLow = 0x02,
    CounterHigh = 0x03,
    CounterBlocked = 0x04,
    CipheringError = 0x05,
    UnidentifiedSecurityError = 0x06,
    InsufficientMemory = 0x07,
    MoreTime = 0x08,
    TarUnknown = 0x09,
    InsufficientSecurityLevel = 0x0a,
    ResponseViaSmsSubmit = 0x0b,
};
// "por_ok", "rc_cc_ds_failed", "cntr_low", ... ("reserved" for other values)
const char* por_status_name(uint8_t status);

struct ResponseHeader {
    Spi spi; // the command's SPI: its second byte says how the PoR is secured
    uint8_t kic = 0;
    uint8_t kid = 0;
    Tar tar{};
    uint64_t counter = 0;
    uint8_t status = 0;
};

// Builds the SMS user data of a PoR: UDH '027100' followed by RPL..end, secured as the SPI's
// second byte asks. `secured` false sends it in clear without RC/CC/DS, as a card does when it
// cannot interpret the command's security (status 01..06, 0A).
Status build_response_packet(const ResponseHeader& header, const OtaKeys& keys,
                             ByteView response_data, bool secured, Bytes& out);

struct DecodedResponse {
    Tar tar{};
    uint64_t counter = 0;
    uint8_t pcntr = 0;
    uint8_t status = 0;
    bool ciphered = false;
    IntegrityCheck integrity = IntegrityCheck::Absent;
    Bytes integrity_value;
    Bytes data; // additional response data, padding removed
};
// `user_data`: the SMS user data with its UDH (e.g. '027100...'), or the response packet alone
// (RPL..end), in which case the checksum is computed over the standard UDH '027100'.
// A PoR without an RC/CC/DS field where the SPI asked for one is a card's clear error PoR:
// decoded without deciphering, integrity "absent".
Result<DecodedResponse> decode_response_packet(ByteView user_data, Spi command_spi,
                                               const OtaKeys& keys);

} // namespace otagw::ota
