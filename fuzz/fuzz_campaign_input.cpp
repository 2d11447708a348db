// SPDX-License-Identifier: GPL-2.0-or-later
// Fuzz target: what an operator gives to create a campaign: a target file's lines and the
// inventory filter. What parses must be what the grammar allows.
#include <algorithm>
#include <string_view>

#include "campaigns/campaign_input.hpp"

using namespace otagw;
using namespace otagw::gateway;

namespace {

bool digits(const std::string& s) {
    return !s.empty() &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    bool first = true;
    for (std::string_view rest = text; !rest.empty();) {
        const size_t nl = rest.find('\n');
        auto ref = parse_target_line(rest.substr(0, nl), first);
        first = false;
        if (ref && *ref) {
            const std::string& v = (*ref)->value;
            const bool iccid = (*ref)->kind == TargetRef::Kind::Iccid;
            if (!digits(v) || (iccid && (v.size() < 17 || v.size() > 20 || v.rfind("89", 0))) ||
                (!iccid && (v.size() > 15 || v[0] == '0')))
                __builtin_trap();
        }
        rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    }
    if (auto f = parse_campaign_filter(text)) {
        if (f->app.empty() && f->state.empty() && f->msisdn_prefix.empty())
            __builtin_trap();
        if (!f->state.empty() && f->app.empty())
            __builtin_trap();
        if (!f->msisdn_prefix.empty() &&
            (!digits(f->msisdn_prefix) || f->msisdn_prefix.size() > 15))
            __builtin_trap();
    }
    (void)campaign_operation(text);
    return 0;
}
