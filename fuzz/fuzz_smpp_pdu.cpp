// SPDX-License-Identifier: GPL-2.0-or-later
// Fuzz target: SMPP PDU decoding (every command id, truncated and oversized bodies). A PDU that
// decodes re-encodes to one that decodes to the same command; libsmpp34 must not leak.
#include <cstdlib>

#include "otagw/smpp/pdu.hpp"

using namespace otagw;
using namespace otagw::smpp;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size > kMaxPduSize)
        return 0;
    Bytes in(data, data + size);
    if (size >= 4) { // most inputs get a command_length that matches, to reach the bodies
        in[0] = static_cast<uint8_t>(size >> 24);
        in[1] = static_cast<uint8_t>(size >> 16);
        in[2] = static_cast<uint8_t>(size >> 8);
        in[3] = static_cast<uint8_t>(size);
    }
    for (ByteView v : {ByteView(data, size), ByteView(in)}) {
        auto r = decode(v);
        const Pdu* pdu = std::get_if<Pdu>(&r);
        if (!pdu || pdu->sequence_number == 0 || pdu->sequence_number > 0x7fffffff)
            continue;
        Bytes again;
        if (!encode(*pdu, again))
            continue; // e.g. a field libsmpp34 packs more strictly than it unpacks
        auto back = decode(again);
        const Pdu* p2 = std::get_if<Pdu>(&back);
        if (!p2 || p2->command_id != pdu->command_id || p2->sequence_number != pdu->sequence_number)
            std::abort();
    }
    return 0;
}
