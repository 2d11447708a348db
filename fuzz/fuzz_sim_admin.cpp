// SPDX-License-Identifier: GPL-2.0-or-later
// Fuzz target: what the simulated card reads from outside in an admin session over BIP: the
// trigger's '81' template (GP Amendment B §3.7) and the server's HTTP answers, fed in pieces the
// input chooses. Never a crash; a trigger taken names an address, a port and a URI; the answers
// taken off the buffer never exceed it.
#include "otagw/sim/bip_handset.hpp"

using namespace otagw;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1)
        return 0;
    const ByteView rest(data + 1, size - 1);
    if (data[0] & 1) {
        auto t = sim::parse_admin_trigger(rest);
        if (t && (t->ip.empty() || t->uri.empty() || t->uri[0] != '/'))
            __builtin_trap();
        return 0;
    }
    const size_t piece = data[0] / 2 + 1;
    std::string in;
    for (size_t at = 0; at < rest.size(); at += piece) {
        in.append(reinterpret_cast<const char*>(rest.data() + at),
                  std::min(piece, rest.size() - at));
        while (true) {
            const size_t before = in.size();
            auto r = sim::take_admin_response(in, 4096);
            if (!r) {
                in.clear();
                break;
            }
            if (!*r)
                break;
            if ((*r)->body.size() > before || in.size() >= before)
                __builtin_trap();
        }
    }
    return 0;
}
