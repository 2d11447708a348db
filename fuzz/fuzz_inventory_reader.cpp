// SPDX-License-Identifier: GPL-2.0-or-later
// Fuzz target: the gateway's streaming reader of card inventory files, fed in chunks whose
// size the input chooses; the same input read whole must give the same cards and issues.
#include "inventory/inventory_reader.hpp"

using namespace otagw;

namespace {

std::string read(std::string_view text, size_t chunk) {
    std::string trace;
    gateway::InventoryReader r(
        [&](db::CardImage&& c, uint64_t line) {
            if (c.card.iccid.size() < 18 || c.keysets.empty())
                __builtin_trap();
            for (const db::PskKeyset& k : c.psk_keysets)
                if (k.kvn < 0x40 || k.kvn > 0x4f || k.psk.size() < 16 || k.identity.empty())
                    __builtin_trap();
            trace += std::to_string(line) + " card " + c.card.iccid + "\n";
        },
        [&](gateway::InventoryIssue&& i) { trace += i.message() + "\n"; });
    for (size_t at = 0; at < text.size(); at += chunk)
        r.feed(text.substr(at, chunk));
    r.finish();
    return trace;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1)
        return 0;
    const size_t chunk = data[0] % 7 + 1;
    // Most inputs get the format and header lines, so the fuzzer works on card lines.
    std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
    // Most inputs get the format and header lines (of format 1 or 2), so the fuzzer works on
    // card lines.
    if (data[0] & 0x80)
        text = (data[0] & 0x40 ? "# ota-gateway card inventory v1\n"
                                 "iccid,imsi,msisdn,keysets,tars,load_files,apps\n"
                               : "# ota-gateway card inventory v2\n"
                                 "iccid,imsi,msisdn,keysets,tars,load_files,apps,scp81_keysets\n") +
               text;
    if (read(text, chunk) != read(text, text.size() + 1))
        __builtin_trap();
    return 0;
}
