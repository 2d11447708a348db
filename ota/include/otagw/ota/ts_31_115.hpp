// SPDX-License-Identifier: GPL-2.0-or-later
// SMS-PP transport of secured packets: 3GPP TS 23.040 §9.2.3.24 user data headers and
// concatenation, and 3GPP TS 31.115 §4 (command packet identifier IE '70', response packet
// identifier IE '71', which sits in the first segment only of a concatenated message).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "otagw/common/bytes.hpp"

namespace otagw::ota::sms {

constexpr size_t kMaxUserData = 140; // TP-UD octets of one SMS with 8-bit data coding
constexpr uint8_t kIeiConcat8 = 0x00;
constexpr uint8_t kIeiConcat16 = 0x08;
constexpr uint8_t kIeiCommandPacket = 0x70;
constexpr uint8_t kIeiResponsePacket = 0x71;

struct InformationElement {
    uint8_t iei = 0;
    ByteView value;
};

struct UserData {
    ByteView header; // UDHL and the IEs, empty when there is no UDH
    std::vector<InformationElement> ies;
    ByteView payload;
    const InformationElement* find(uint8_t iei) const;
};

// TP-UD with TP-UDHI set: UDHL, information elements, then the payload.
// `max_octets`: 140 (TS 23.040 §9.2.3.24), or 160 for GSM-7 text as SMPP carries it, a septet
// per octet (SMPP 3.4 §5.2.19: 153 characters behind a 6-octet UDH make 159).
constexpr size_t kMaxUnpackedSeptets = 160;
Result<UserData> parse_user_data(ByteView tp_ud, size_t max_octets = kMaxUserData);

struct Concatenation {
    uint16_t reference = 0;
    uint8_t total = 0;
    uint8_t sequence = 0;
};
// The concatenation IE ('00' 8-bit or '08' 16-bit reference) if present; malformed -> error.
Result<std::optional<Concatenation>> find_concatenation(const UserData& ud);

// The user data of one SMS carrying a command packet: '027000' || packet.
Bytes command_user_data(ByteView command_packet);

// Splits a packet into the TP-UD of each SMS. One SMS holds up to 137 packet bytes behind
// '027000'. Longer packets go in up to 255 concatenated SMS: the first carries IE `iei` ('70'
// or '71') and the concatenation IE with the 8-bit `reference` (UDH '07 70 00 00 03 ref n 1',
// 132 bytes of packet), the others only the concatenation IE (134 bytes each).
Result<std::vector<Bytes>> segment_packet(ByteView packet, uint8_t iei, uint8_t reference);
inline Result<std::vector<Bytes>> segment_command_packet(ByteView packet, uint8_t reference) {
    return segment_packet(packet, kIeiCommandPacket, reference);
}

// Reassembles concatenated SMS by (originator, reference, total). Segments may arrive out of
// order or twice; a complete message comes back as one user data: a UDH holding the first
// segment's IEs other than concatenation (e.g. '027100'; UDHL '00' when none is left), then the
// joined payloads. A message
// without concatenation comes back at once. The caller owns the timeouts: it passes the time
// with each segment and calls expire() with its cutoff.
class Reassembler {
public:
    explicit Reassembler(size_t max_pending = 100000) : max_pending_(max_pending) {}

    // nullopt while segments are missing.
    Result<std::optional<Bytes>> add(std::string_view originator, ByteView tp_ud, uint64_t now,
                                     size_t max_octets = kMaxUserData);
    // Drops partial messages whose first segment arrived before `cutoff`; returns how many.
    size_t expire(uint64_t cutoff);
    size_t pending() const { return pending_.size(); }

private:
    struct Partial {
        uint64_t first_seen = 0;
        std::vector<Bytes> parts;
        std::vector<bool> have;
        Bytes first_ies; // IEs of segment 1 other than concatenation
        size_t received = 0;
    };
    using Key = std::tuple<std::string, uint16_t, uint8_t>;
    std::map<Key, Partial> pending_;
    size_t max_pending_;
};

} // namespace otagw::ota::sms
