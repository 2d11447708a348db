// SPDX-License-Identifier: GPL-2.0-or-later
#include "requests/card_answer.hpp"

#include "otagw/ota/globalplatform.hpp"
#include "otagw/ota/ts_102_226.hpp"

namespace otagw::gateway {

namespace {

constexpr uint16_t kSwOk = 0x9000;
constexpr uint16_t kSwNotFound = 0x6a88; // GP §11.4.3: no registry entry matches

} // namespace

Result<CardAnswer> read_card_answer(ByteView por_data, size_t script_length, const ota::Apdu& last,
                                    std::string_view aid_hex) {
    auto compact = ota::ram::parse_compact_response(por_data);
    if (!compact)
        return make_error("PoR response data: " + compact.error().message);
    CardAnswer a;
    a.script_length = script_length;
    a.executed = compact->executed;
    if (a.executed == 0 || a.executed > script_length)
        return make_error("PoR response data: the card says it ran " + std::to_string(a.executed) +
                          " of " + std::to_string(script_length) + " commands");
    const bool last_ran = a.executed == script_length;
    const uint16_t sw = compact->last_sw;
    if (last.ins != ota::gp::kInsGetStatus && last_ran && sw == kSwOk) {
        a.completed = true; // a script without a closing GET STATUS (a load's): it all ran
        return a;
    }
    if (last.ins == ota::gp::kInsGetStatus && last_ran && (sw == kSwOk || sw == kSwNotFound)) {
        a.completed = true;
        a.registry_known = true;
        if (sw == kSwNotFound)
            return a;
        ota::gp::StatusScope scope = ota::gp::StatusScope::Applications;
        auto entries = ota::gp::parse_get_status_response(compact->last_data, scope,
                                                          last.p2 & 0x02 /* TLV format */);
        if (!entries)
            return make_error("GET STATUS answer: " + entries.error().message);
        for (const auto& e : *entries)
            if (e.aid.hex() == aid_hex)
                a.life_cycle = e.life_cycle;
        if (!a.life_cycle)
            return make_error("GET STATUS answer does not list " + std::string(aid_hex));
        return a;
    }
    a.failed_command = a.executed - 1;
    a.failed_sw = sw;
    return a;
}

} // namespace otagw::gateway
