// SPDX-License-Identifier: GPL-2.0-or-later
// Fuzz target: decoding a PoR (with or without UDH) for every PoR SPI setting; the first byte
// of the input picks the SPI's second byte.
#include <cstdlib>

#include "otagw/ota/ts_102_225.hpp"

using namespace otagw;
using namespace otagw::ota;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1)
        return 0;
    static const Bytes key(32, 0xa5);
    static const OtaKeys keysets[] = {
        OtaKeys::create(0x15, ByteView(key).first(16), 0x15, ByteView(key).first(16)),
        OtaKeys::create(0x12, ByteView(key).first(16), 0x12, ByteView(key).first(16)),
        OtaKeys::create(0x11, ByteView(key).first(8), 0x11, {}), // RC: CRC-16, no CC key
        OtaKeys::create(0x15, {}, 0x15, {}),                     // no keys at all
    };
    Spi spi{0x16, data[0]};
    ByteView in(data + 1, size - 1);
    for (const auto& keys : keysets)
        (void)decode_response_packet(in, spi, keys);
    return 0;
}
