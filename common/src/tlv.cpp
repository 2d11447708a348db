// SPDX-License-Identifier: GPL-2.0-or-later
// BER-TLV, COMPREHENSION-TLV, SIMPLE-TLV/DGI and COMPACT-TLV codecs.
#include "otagw/common/tlv.hpp"

#include <cassert>
#include <string>

namespace otagw::tlv {

namespace {
std::string at(size_t pos) {
    return " at offset " + std::to_string(pos);
}
} // namespace

// ---- BER-TLV ------------------------------------------------------------------------------------

TagClass BerTag::tag_class() const {
    uint8_t first = static_cast<uint8_t>(value >> (8 * (encoded_size - 1)));
    return static_cast<TagClass>(first >> 6);
}

bool BerTag::constructed() const {
    uint8_t first = static_cast<uint8_t>(value >> (8 * (encoded_size - 1)));
    return first & 0x20;
}

uint32_t BerTag::number() const {
    if (encoded_size == 1)
        return value & 0x1f;
    uint32_t n = 0;
    for (int i = encoded_size - 2; i >= 0; i--)
        n = n << 7 | ((value >> (8 * i)) & 0x7f);
    return n;
}

Result<BerTag> parse_ber_tag(ByteView in, size_t& pos) {
    size_t start = pos;
    if (pos >= in.size())
        return make_error("BER-TLV: truncated, tag missing" + at(pos));
    uint8_t first = in[pos++];
    if (first == 0x00)
        return make_error("BER-TLV: tag '00' is not a valid tag" + at(start));
    BerTag tag{first, 1};
    if ((first & 0x1f) != 0x1f)
        return tag; // X.690 §8.1.2.2: low tag number form
    // X.690 §8.1.2.4: high tag number form; b8 of each subsequent byte says "more follows".
    for (;;) {
        if (pos >= in.size())
            return make_error("BER-TLV: truncated tag" + at(start));
        uint8_t b = in[pos++];
        if (tag.encoded_size == 1 && b == 0x80)
            return make_error("BER-TLV: tag number with a leading zero group" + at(start));
        if (tag.encoded_size == 3)
            return make_error("BER-TLV: tag longer than 3 bytes" + at(start));
        tag.value = tag.value << 8 | b;
        tag.encoded_size++;
        if (!(b & 0x80))
            return tag;
    }
}

Result<uint32_t> ber_tag_from_bytes(ByteView bytes) {
    size_t pos = 0;
    auto tag = parse_ber_tag(bytes, pos);
    if (!tag)
        return tag.take_error();
    if (pos != bytes.size())
        return make_error("BER-TLV: " + std::to_string(bytes.size() - pos) +
                          " bytes after the end of the tag");
    return tag->value;
}

// BER definite length (X.690 §8.1.3); `what` prefixes error messages.
static Result<size_t> parse_definite_length(ByteView in, size_t& pos, const char* what) {
    size_t start = pos;
    if (pos >= in.size())
        return make_error(std::string(what) + ": truncated, length missing" + at(pos));
    uint8_t first = in[pos++];
    if (first < 0x80)
        return size_t{first};
    if (first == 0x80)
        return make_error(std::string(what) + ": indefinite length not allowed here" + at(start));
    size_t n = first & 0x7f;
    if (n > 3)
        return make_error(std::string(what) + ": length field of " + std::to_string(n + 1) +
                          " bytes, at most 4 allowed" + at(start));
    if (in.size() - pos < n)
        return make_error(std::string(what) + ": truncated length field" + at(start));
    size_t len = 0;
    for (size_t i = 0; i < n; i++)
        len = len << 8 | in[pos++];
    return len;
}

Result<size_t> parse_ber_length(ByteView in, size_t& pos) {
    return parse_definite_length(in, pos, "BER-TLV");
}

Result<BerTlv> parse_ber_tlv(ByteView in, size_t& pos) {
    size_t start = pos;
    auto tag = parse_ber_tag(in, pos);
    if (!tag)
        return tag.take_error();
    auto len = parse_ber_length(in, pos);
    if (!len)
        return len.take_error();
    if (in.size() - pos < *len)
        return make_error("BER-TLV: value of tag " + to_hex(in.subspan(start, tag->encoded_size)) +
                          " needs " + std::to_string(*len) + " bytes, only " +
                          std::to_string(in.size() - pos) + " left" + at(start));
    BerTlv tlv;
    tlv.tag = tag->value;
    tlv.constructed = tag->constructed();
    tlv.value = in.subspan(pos, *len);
    pos += *len;
    tlv.encoded = in.subspan(start, pos - start);
    return tlv;
}

Result<std::vector<BerTlv>> parse_ber_tlvs(ByteView in) {
    std::vector<BerTlv> list;
    size_t pos = 0;
    while (pos < in.size()) {
        auto tlv = parse_ber_tlv(in, pos);
        if (!tlv)
            return tlv.take_error();
        list.push_back(*tlv);
    }
    return list;
}

const BerTlv* find_tag(const std::vector<BerTlv>& list, uint32_t tag) {
    for (const auto& t : list)
        if (t.tag == tag)
            return &t;
    return nullptr;
}

size_t ber_tag_size(uint32_t tag) {
    if (tag <= 0xff)
        return 1;
    if (tag <= 0xffff)
        return 2;
    return 3;
}

bool is_valid_ber_tag(uint32_t tag) {
    if (tag == 0 || tag > 0xffffff)
        return false;
    size_t n = ber_tag_size(tag);
    uint8_t b[3];
    for (size_t i = 0; i < n; i++)
        b[i] = static_cast<uint8_t>(tag >> (8 * (n - 1 - i)));
    if (n == 1)
        return (b[0] & 0x1f) != 0x1f;
    if ((b[0] & 0x1f) != 0x1f)
        return false;
    for (size_t i = 1; i < n - 1; i++)
        if (!(b[i] & 0x80))
            return false;
    if (n == 3 && b[1] == 0x80)
        return false;
    return !(b[n - 1] & 0x80);
}

size_t ber_length_size(size_t length) {
    if (length < 0x80)
        return 1;
    if (length <= 0xff)
        return 2;
    if (length <= 0xffff)
        return 3;
    return 4;
}

void append_ber_tag(Bytes& out, uint32_t tag) {
    assert(is_valid_ber_tag(tag));
    for (size_t n = ber_tag_size(tag); n > 0; n--)
        out.push_back(static_cast<uint8_t>(tag >> (8 * (n - 1))));
}

void append_ber_length(Bytes& out, size_t length) {
    assert(length <= kMaxBerLength);
    size_t n = ber_length_size(length);
    if (n > 1)
        out.push_back(static_cast<uint8_t>(0x80 | (n - 1)));
    for (size_t i = n > 1 ? n - 1 : 1; i > 0; i--)
        out.push_back(static_cast<uint8_t>(length >> (8 * (i - 1))));
}

void append_ber_tlv(Bytes& out, uint32_t tag, ByteView value) {
    append_ber_tag(out, tag);
    append_ber_length(out, value.size());
    append(out, value);
}

Bytes ber_tlv(uint32_t tag, ByteView value) {
    Bytes out;
    out.reserve(ber_tag_size(tag) + ber_length_size(value.size()) + value.size());
    append_ber_tlv(out, tag, value);
    return out;
}

// ---- COMPREHENSION-TLV --------------------------------------------------------------------------

Result<ComprehensionTag> parse_comprehension_tag(ByteView in, size_t& pos) {
    size_t start = pos;
    if (pos >= in.size())
        return make_error("COMPREHENSION-TLV: truncated, tag missing" + at(pos));
    uint8_t first = in[pos++];
    if (first == 0x00 || first == 0x80 || first == 0xff)
        return make_error("COMPREHENSION-TLV: reserved tag byte " + to_hex(ByteView(&first, 1)) +
                          at(start));
    if (first != 0x7f)
        return ComprehensionTag{static_cast<uint16_t>(first & 0x7f), (first & 0x80) != 0};
    if (in.size() - pos < 2)
        return make_error("COMPREHENSION-TLV: truncated three-byte tag" + at(start));
    uint16_t v = load_be16(&in[pos]);
    pos += 2;
    if ((v & 0x7fff) == 0)
        return make_error("COMPREHENSION-TLV: three-byte tag with value 0" + at(start));
    return ComprehensionTag{static_cast<uint16_t>(v & 0x7fff), (v & 0x8000) != 0};
}

Result<ComprehensionTlv> parse_comprehension_tlv(ByteView in, size_t& pos) {
    size_t start = pos;
    auto tag = parse_comprehension_tag(in, pos);
    if (!tag)
        return tag.take_error();
    auto len = parse_definite_length(in, pos, "COMPREHENSION-TLV");
    if (!len)
        return len.take_error();
    if (in.size() - pos < *len)
        return make_error("COMPREHENSION-TLV: value needs " + std::to_string(*len) +
                          " bytes, only " + std::to_string(in.size() - pos) + " left" + at(start));
    ComprehensionTlv tlv{*tag, in.subspan(pos, *len)};
    pos += *len;
    return tlv;
}

Status append_comprehension_tag(Bytes& out, ComprehensionTag tag) {
    if (tag.value == 0 || tag.value > 0x7fff)
        return make_error("COMPREHENSION-TLV: tag value " + std::to_string(tag.value) +
                          " out of range 1..32767");
    if (tag.value < 0x7f) {
        out.push_back(static_cast<uint8_t>(tag.value | (tag.comprehension_required ? 0x80 : 0)));
    } else {
        out.push_back(0x7f);
        append_be16(out,
                    static_cast<uint16_t>(tag.value | (tag.comprehension_required ? 0x8000 : 0)));
    }
    return {};
}

Status append_comprehension_tlv(Bytes& out, ComprehensionTag tag, ByteView value) {
    if (value.size() > kMaxBerLength)
        return make_error("COMPREHENSION-TLV: value too long");
    OTAGW_TRY_STATUS(append_comprehension_tag(out, tag));
    append_ber_length(out, value.size());
    append(out, value);
    return {};
}

// ---- SIMPLE-TLV and DGI -------------------------------------------------------------------------

Result<size_t> parse_simple_length(ByteView in, size_t& pos) {
    size_t start = pos;
    if (pos >= in.size())
        return make_error("SIMPLE-TLV: truncated, length missing" + at(pos));
    uint8_t first = in[pos++];
    if (first != 0xff)
        return size_t{first};
    if (in.size() - pos < 2)
        return make_error("SIMPLE-TLV: truncated three-byte length" + at(start));
    size_t len = load_be16(&in[pos]);
    pos += 2;
    return len;
}

Status append_simple_length(Bytes& out, size_t length) {
    if (length > kMaxSimpleLength)
        return make_error("SIMPLE-TLV: length " + std::to_string(length) + " exceeds 65535");
    if (length < 0xff) {
        out.push_back(static_cast<uint8_t>(length));
    } else {
        out.push_back(0xff);
        append_be16(out, static_cast<uint16_t>(length));
    }
    return {};
}

static Result<ByteView> simple_value(ByteView in, size_t& pos, size_t start, const char* what) {
    auto len = parse_simple_length(in, pos);
    if (!len)
        return len.take_error();
    if (in.size() - pos < *len)
        return make_error(std::string(what) + ": value needs " + std::to_string(*len) +
                          " bytes, only " + std::to_string(in.size() - pos) + " left" + at(start));
    ByteView v = in.subspan(pos, *len);
    pos += *len;
    return v;
}

Result<SimpleTlv> parse_simple_tlv(ByteView in, size_t& pos) {
    size_t start = pos;
    if (pos >= in.size())
        return make_error("SIMPLE-TLV: truncated, tag missing" + at(pos));
    uint8_t tag = in[pos++];
    if (tag == 0x00 || tag == 0xff)
        return make_error("SIMPLE-TLV: invalid tag " + to_hex(ByteView(&tag, 1)) + at(start));
    auto v = simple_value(in, pos, start, "SIMPLE-TLV");
    if (!v)
        return v.take_error();
    return SimpleTlv{tag, *v};
}

Result<DgiTlv> parse_dgi_tlv(ByteView in, size_t& pos) {
    size_t start = pos;
    if (in.size() - pos < 2)
        return make_error("DGI: truncated, DGI tag missing" + at(pos));
    uint16_t dgi = load_be16(&in[pos]);
    pos += 2;
    auto v = simple_value(in, pos, start, "DGI");
    if (!v)
        return v.take_error();
    return DgiTlv{dgi, *v};
}

Status append_dgi_tlv(Bytes& out, uint16_t dgi, ByteView value) {
    Bytes head;
    append_be16(head, dgi);
    OTAGW_TRY_STATUS(append_simple_length(head, value.size()));
    append(out, head);
    append(out, value);
    return {};
}

// ---- COMPACT-TLV --------------------------------------------------------------------------------

Result<std::vector<CompactTlv>> parse_compact_tlvs(ByteView in) {
    std::vector<CompactTlv> list;
    size_t pos = 0;
    while (pos < in.size()) {
        uint8_t head = in[pos];
        size_t len = head & 0x0f;
        if (in.size() - pos - 1 < len)
            return make_error("COMPACT-TLV: value needs " + std::to_string(len) + " bytes, only " +
                              std::to_string(in.size() - pos - 1) + " left" + at(pos));
        list.push_back({static_cast<uint8_t>(head >> 4), in.subspan(pos + 1, len)});
        pos += 1 + len;
    }
    return list;
}

Status append_compact_tlv(Bytes& out, uint8_t tag, ByteView value) {
    if (tag > 0x0f || value.size() > 0x0f)
        return make_error("COMPACT-TLV: tag and length must each fit in 4 bits");
    out.push_back(static_cast<uint8_t>(tag << 4 | value.size()));
    append(out, value);
    return {};
}

} // namespace otagw::tlv
