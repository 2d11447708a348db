// SPDX-License-Identifier: GPL-2.0-or-later
// Fuzz target: BER-TLV (flat and nested), COMPREHENSION-TLV, SIMPLE-TLV/DGI, COMPACT-TLV.
#include <cstdlib>

#include "otagw/common/tlv.hpp"

using namespace otagw;
using namespace otagw::tlv;

static void walk(ByteView in, int depth) {
    auto list = parse_ber_tlvs(in);
    if (!list)
        return;
    for (const auto& t : *list) {
        // Re-encoding a parsed object gives an object that parses to the same tag and value.
        Bytes again = ber_tlv(t.tag, t.value);
        size_t pos = 0;
        auto back = parse_ber_tlv(again, pos);
        if (!back || back->tag != t.tag || back->value.size() != t.value.size() ||
            pos != again.size())
            std::abort();
        if (t.constructed && depth < 16)
            walk(t.value, depth + 1);
    }
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    ByteView in(data, size);
    walk(in, 0);
    for (size_t pos = 0; pos < size;) {
        auto t = parse_comprehension_tlv(in, pos);
        if (!t)
            break;
        Bytes again;
        if (!append_comprehension_tlv(again, t->tag, t->value))
            std::abort();
    }
    for (size_t pos = 0; pos < size;)
        if (!parse_simple_tlv(in, pos))
            break;
    for (size_t pos = 0; pos < size;)
        if (!parse_dgi_tlv(in, pos))
            break;
    (void)parse_compact_tlvs(in);
    (void)ber_tag_from_bytes(in);
    return 0;
}
