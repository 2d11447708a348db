// SPDX-License-Identifier: GPL-2.0-or-later
// Fuzz target: decoding a command packet (CPL..end) under keysets of every algorithm, and the
// GP/ISO command APDU parser.
#include <cstdlib>

#include "otagw/ota/apdu.hpp"
#include "otagw/ota/ts_102_225.hpp"

using namespace otagw;
using namespace otagw::ota;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static const Bytes key(32, 0x5a);
    static const OtaKeys keysets[] = {
        OtaKeys::create(0x11, ByteView(key).first(8), 0x11, ByteView(key).first(8)),
        OtaKeys::create(0x15, ByteView(key).first(16), 0x15, ByteView(key).first(16)),
        OtaKeys::create(0x19, ByteView(key).first(24), 0x19, ByteView(key).first(24)),
        OtaKeys::create(0x12, ByteView(key).first(16), 0x12, ByteView(key).first(16)),
        OtaKeys::create(0x12, ByteView(key).first(32), 0x12, ByteView(key).first(32)),
    };
    ByteView in(data, size);
    for (const auto& keys : keysets) {
        // Let the packet name the keyset under test, so the decoder goes past that check.
        Bytes packet(in.begin(), in.end());
        if (packet.size() > 6) {
            packet[5] = keys.kic();
            packet[6] = keys.kid();
        }
        auto r = decode_command_packet(packet, keys);
        if (r && r->integrity == IntegrityCheck::Ok && r->header.spi.integrity() == Integrity::Cc) {
            // An accepted packet re-encodes to itself (zero padding) or differs only there.
            Bytes again;
            if (!build_command_packet(r->header, keys, r->secured_data, again) ||
                again.size() != packet.size())
                std::abort();
        }
    }
    (void)Apdu::parse(in);
    (void)ResponseApdu::parse(in);
    return 0;
}
