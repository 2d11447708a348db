// SPDX-License-Identifier: GPL-2.0-or-later
// Fuzz target: TS 102 226 expanded scripts and responses (definite and indefinite), compact
// scripts and compact responses.
#include <cstdlib>

#include "otagw/ota/ts_102_226.hpp"

using namespace otagw;
using namespace otagw::ota;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    ByteView in(data, size);
    if (auto s = ram::parse_expanded_script(in)) {
        auto apdus = s->apdus();
        // Re-encoding the C-APDUs gives a script that parses to the same commands.
        auto again = ram::parse_expanded_script(ram::expanded_script(apdus, s->indefinite));
        if (!again || again->apdus().size() != apdus.size())
            std::abort();
    }
    if (auto r = ram::parse_expanded_response(in)) {
        auto again = ram::parse_expanded_response(ram::encode_expanded_response(*r));
        if (!again || again->r_apdus.size() != r->r_apdus.size())
            std::abort();
    }
    if (auto c = ram::parse_compact_script(in)) {
        if (ram::compact_script(*c) != Bytes(in.begin(), in.end()))
            std::abort(); // a split must cover the input exactly
    }
    (void)ram::parse_compact_response(in);
    return 0;
}
