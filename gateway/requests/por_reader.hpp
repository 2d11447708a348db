// SPDX-License-Identifier: GPL-2.0-or-later
// A verified PoR (ETSI TS 102 225 §5.2, TS 31.115 §4.3) turned into the event of the request it
// answers: which of its packets (by counter; a PoR refusing a packet may carry the card's own
// counter instead), and what the card said, the script's answer read against that packet's
// script. Pure.
#pragma once

#include <string_view>
#include <vector>

#include "otagw/ota/apdu.hpp"
#include "otagw/ota/ts_102_225.hpp"
#include "otagw/ota/ts_102_226.hpp"
#include "requests/request_fsm.hpp"

namespace otagw::gateway {

// The packet of `data` that `por` answers, or null.
const SentPacket* answered_packet(const RequestData& data, const ota::DecodedResponse& por);

// The Por or AuditAnswer event for `packet` (by its phase); `script` is the packet's script, the
// GET STATUS of `aid_hex` last.
Event por_event(const SentPacket& packet, const ota::DecodedResponse& por,
                const std::vector<ota::Apdu>& script, std::string_view aid_hex);

// The same for a script that went over BIP: the card's results (the expanded Response Scripting
// template, ETSI TS 102 226 §5.2) in the place of a PoR, read the same way (their last R-APDU and
// the executed count are what a compact PoR carries).
Event results_event(const SentPacket& packet, const ota::ram::ExpandedResponse& results,
                    const std::vector<ota::Apdu>& script, std::string_view aid_hex);

} // namespace otagw::gateway
