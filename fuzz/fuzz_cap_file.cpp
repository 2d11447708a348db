// SPDX-License-Identifier: GPL-2.0-or-later
// Fuzz target: CAP files (ZIP archives of Java Card components), their load file data block and
// LOAD commands.
#include <cstdlib>

#include "otagw/ota/cap_file.hpp"
#include "otagw/ota/globalplatform.hpp"

using namespace otagw;
using namespace otagw::ota;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    auto cap = cap::read(ByteView(data, size));
    if (!cap)
        return 0;
    for (bool descriptor : {false, true}) {
        const Bytes block = cap->load_file_data_block(descriptor);
        if (block.empty() || block[0] != 0xc4)
            std::abort();
        auto apdus = gp::load_commands(block, 1 + size % 255);
        if (!apdus)
            continue;
        Bytes joined;
        for (const Apdu& a : *apdus)
            append(joined, a.data);
        if (joined != block || apdus->back().p1 != 0x80)
            std::abort();
    }
    return 0;
}
