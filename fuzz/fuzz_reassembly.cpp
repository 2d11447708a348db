// SPDX-License-Identifier: GPL-2.0-or-later
// Fuzz target: SMS user data parsing and concatenated-SMS reassembly. The input is a series
// of segments, each prefixed by one length byte and one originator byte.
#include <cstdlib>

#include "otagw/ota/ts_31_115.hpp"

using namespace otagw;
using namespace otagw::ota;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    sms::Reassembler r(8);
    size_t pos = 0;
    uint64_t now = 0;
    while (pos + 2 <= size) {
        size_t len = data[pos];
        std::string originator(1, static_cast<char>('0' + (data[pos + 1] & 3)));
        pos += 2;
        if (len > size - pos)
            len = size - pos;
        ByteView ud(data + pos, len);
        pos += len;
        (void)sms::parse_user_data(ud);
        auto out = r.add(originator, ud, now++);
        if (out && *out && (*out)->size() > 255 * sms::kMaxUserData)
            std::abort();
        if (now % 7 == 0)
            r.expire(now - 3);
    }
    return 0;
}
