// SPDX-License-Identifier: GPL-2.0-or-later
#include "requests/por_reader.hpp"

namespace otagw::gateway {

const SentPacket* answered_packet(const RequestData& data, const ota::DecodedResponse& por) {
    const auto& list = data.outstanding;
    for (const auto& p : list)
        if (p.counter == por.counter)
            return &p;
    // Not our counter: the card's own. Counter low (02) answers a packet whose counter is not
    // above the card's; counter high (03) one more than one above it; other errors the packet
    // the card was sent last.
    const SentPacket* found = nullptr;
    for (const auto& p : list) {
        switch (static_cast<ota::PorStatus>(por.status)) {
        case ota::PorStatus::Ok:
            break;
        case ota::PorStatus::CounterLow:
            if (p.counter <= por.counter)
                found = &p;
            break;
        case ota::PorStatus::CounterHigh:
            if (p.counter > por.counter + 1)
                found = &p;
            break;
        default:
            found = &p;
        }
    }
    return found;
}

Event por_event(const SentPacket& packet, const ota::DecodedResponse& por,
                const std::vector<ota::Apdu>& script, std::string_view aid_hex) {
    Event e(packet.phase == Phase::Audit ? EventKind::AuditAnswer : EventKind::Por);
    e.por.message_id = packet.message_id;
    e.por.status = static_cast<ota::PorStatus>(por.status);
    e.por.card_counter = por.counter;
    if (e.por.status != ota::PorStatus::Ok)
        return e;
    if (script.empty()) {
        e.por.answer_error = "no script to read the answer against";
        return e;
    }
    auto answer = read_card_answer(por.data, script.size(), script.back(), aid_hex);
    if (answer)
        e.por.answer = *answer;
    else
        e.por.answer_error = answer.error().message;
    return e;
}

Event results_event(const SentPacket& packet, const ota::ram::ExpandedResponse& results,
                    const std::vector<ota::Apdu>& script, std::string_view aid_hex) {
    Event e(packet.phase == Phase::Audit ? EventKind::AuditAnswer : EventKind::Por);
    e.por.message_id = packet.message_id;
    e.por.status = ota::PorStatus::Ok;
    if (results.bad_format) {
        e.por.answer_error =
            "the card found the script badly formatted ('90' " + to_hex(*results.bad_format) + ")";
        return e;
    }
    if (results.r_apdus.empty()) {
        e.por.answer_error = "the results hold no R-APDU";
        return e;
    }
    if (script.empty()) {
        e.por.answer_error = "no script to read the answer against";
        return e;
    }
    ota::ram::CompactResponse compact;
    compact.executed = results.executed.value_or(static_cast<uint8_t>(results.r_apdus.size()));
    compact.last_sw = results.r_apdus.back().sw;
    compact.last_data = results.r_apdus.back().data;
    auto answer = read_card_answer(ota::ram::encode_compact_response(compact), script.size(),
                                   script.back(), aid_hex);
    if (answer)
        e.por.answer = *answer;
    else
        e.por.answer_error = answer.error().message;
    return e;
}

} // namespace otagw::gateway
