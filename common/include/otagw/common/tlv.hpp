// SPDX-License-Identifier: GPL-2.0-or-later
// TLV codecs used on cards and in OTA: BER-TLV (ISO/IEC 7816-4 §5.2, X.690 subset),
// COMPREHENSION-TLV (ETSI TS 101 220 §7.1.1), SIMPLE-TLV and DGI (GlobalPlatform STORE DATA),
// COMPACT-TLV (ISO/IEC 7816-4 §5.2.2, historical bytes). Decoders are strict: a truncated or
// malformed object is an error naming what is wrong, never a crash or a silent guess.
#pragma once

#include <cstdint>
#include <vector>

#include "otagw/common/bytes.hpp"

namespace otagw::tlv {

// ---- BER-TLV ------------------------------------------------------------------------------------
// Tags are 1 to 3 bytes, held as the big-endian integer of their encoding (0x9F70, 0xE3, ...).
// Lengths are definite, 1 to 4 bytes ('00'-'7F', '81 xx', '82 xxxx', '83 xxxxxx').
constexpr size_t kMaxBerLength = 0xFFFFFF;

enum class TagClass : uint8_t { Universal = 0, Application = 1, Context = 2, Private = 3 };

struct BerTag {
    uint32_t value = 0;       // encoded bytes as a big-endian integer
    uint8_t encoded_size = 0; // 1..3
    TagClass tag_class() const;
    bool constructed() const;
    uint32_t number() const; // X.690 tag number
};

struct BerTlv {
    uint32_t tag = 0;
    bool constructed = false;
    ByteView value;
    ByteView encoded; // tag, length and value as found in the input
};

// Parse a tag at `pos` and advance past it.
Result<BerTag> parse_ber_tag(ByteView in, size_t& pos);
// A whole byte string that must be exactly one tag.
Result<uint32_t> ber_tag_from_bytes(ByteView bytes);
// Parse a definite length at `pos` and advance past it (does not check it against the input).
Result<size_t> parse_ber_length(ByteView in, size_t& pos);
// Parse one whole TLV at `pos` and advance past it.
Result<BerTlv> parse_ber_tlv(ByteView in, size_t& pos);
// Parse a flat list of TLVs that fills `in` exactly.
Result<std::vector<BerTlv>> parse_ber_tlvs(ByteView in);
// First TLV with `tag` in `list`, or nullptr.
const BerTlv* find_tag(const std::vector<BerTlv>& list, uint32_t tag);

// True when `tag` is a well-formed 1..3 byte BER tag encoding.
bool is_valid_ber_tag(uint32_t tag);
size_t ber_tag_size(uint32_t tag);
size_t ber_length_size(size_t length);
void append_ber_tag(Bytes& out, uint32_t tag);
// Minimal-length encoding; `length` must not exceed kMaxBerLength.
void append_ber_length(Bytes& out, size_t length);
void append_ber_tlv(Bytes& out, uint32_t tag, ByteView value);
Bytes ber_tlv(uint32_t tag, ByteView value);

// ---- COMPREHENSION-TLV (ETSI TS 101 220 §7.1.1) -------------------------------------------------
// Single-byte tags '01'-'7E' (b8 = comprehension required) or the three-byte form
// '7F' + 2 bytes (b16 = CR, 15-bit tag value). Lengths as BER-TLV.
struct ComprehensionTag {
    uint16_t value = 0;
    bool comprehension_required = false;
};
struct ComprehensionTlv {
    ComprehensionTag tag;
    ByteView value;
};
Result<ComprehensionTag> parse_comprehension_tag(ByteView in, size_t& pos);
Result<ComprehensionTlv> parse_comprehension_tlv(ByteView in, size_t& pos);
// Uses the single-byte form for tag values '01'-'7E', the three-byte form otherwise.
Status append_comprehension_tag(Bytes& out, ComprehensionTag tag);
Status append_comprehension_tlv(Bytes& out, ComprehensionTag tag, ByteView value);

// ---- SIMPLE-TLV and DGI (GlobalPlatform Card Spec §11.11, ISO/IEC 7816-4 §5.2) ------------------
// Length: one byte '00'-'FE', or 'FF' followed by two bytes (up to 65535).
constexpr size_t kMaxSimpleLength = 0xFFFF;
Result<size_t> parse_simple_length(ByteView in, size_t& pos);
Status append_simple_length(Bytes& out, size_t length);
struct SimpleTlv {
    uint8_t tag = 0; // '01'-'FE'
    ByteView value;
};
Result<SimpleTlv> parse_simple_tlv(ByteView in, size_t& pos);
struct DgiTlv {
    uint16_t dgi = 0;
    ByteView value;
};
Result<DgiTlv> parse_dgi_tlv(ByteView in, size_t& pos);
Status append_dgi_tlv(Bytes& out, uint16_t dgi, ByteView value);

// ---- COMPACT-TLV (ISO/IEC 7816-4 §5.2.2): one byte tag (high nibble) || length (low nibble) -----
struct CompactTlv {
    uint8_t tag = 0;
    ByteView value;
};
Result<std::vector<CompactTlv>> parse_compact_tlvs(ByteView in);
Status append_compact_tlv(Bytes& out, uint8_t tag, ByteView value);

} // namespace otagw::tlv
