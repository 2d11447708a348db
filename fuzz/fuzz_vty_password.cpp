// SPDX-License-Identifier: GPL-2.0-or-later
// Fuzz target: the telnet bytes a client types at the VTY's "Password:" prompt (option
// negotiation, escapes, editing keys) and their check against a crypt(3) hash.
#include <cstdlib>

#include "config/vty_auth.hpp"

using namespace otagw::gateway;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    vty_auth::LineCollector collector;
    bool checked = false;
    for (size_t i = 0; i < size; i++) {
        if (!collector.feed(data[i]))
            continue;
        const std::string line = collector.take();
        if (line.size() > 256)
            std::abort();
        for (char c : line)
            if (c < 32 || c > 126)
                std::abort();
        if (!checked) { // a hash check costs a millisecond: once per input
            checked = true;
            // "example-vty-password" (doc/examples/ota-gateway.cfg)
            const bool ok = vty_auth::verify(
                line, "$6$otagwvty$L8KMZSL60wWZ4MXCuxExYVuJ2zxC8r057Qg17J6eNw3Cpj/qTIHwheUDz7ef4wr"
                      "bidJBS/48wi5MwZ1uqpcoa0");
            if (ok != (line == "example-vty-password"))
                std::abort();
        }
    }
    return 0;
}
