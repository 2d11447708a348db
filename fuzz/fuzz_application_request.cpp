// SPDX-License-Identifier: GPL-2.0-or-later
// Fuzz target: what a subscriber's or a card's MO SMS carries: the text in every data coding,
// the text grammar, and the binary request TLV (what parses must encode back the same).
#include "intake/application_request.hpp"

using namespace otagw;
using namespace otagw::gateway;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1)
        return 0;
    const ByteView ud(data + 1, size - 1);
    static const std::vector<Keywords> words = default_keywords();
    if (auto text = decode_sms_text(data[0], ud)) {
        TextParse p = parse_text_request(*text, words);
        if (p.request && (p.request->app_code.empty() || p.request->app_code.size() > 8))
            __builtin_trap();
    }
    (void)parse_text_request(std::string_view(reinterpret_cast<const char*>(ud.data()), ud.size()),
                             words);
    if (auto r = parse_binary_request(ud)) {
        auto again = parse_binary_request(encode_binary_request(*r));
        if (!again || again->aid != r->aid || again->app_code != r->app_code ||
            again->operation != r->operation || again->reference != r->reference)
            __builtin_trap();
    }
    return 0;
}
