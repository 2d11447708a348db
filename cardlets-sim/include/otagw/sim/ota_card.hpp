// SPDX-License-Identifier: GPL-2.0-or-later
// The card's side of OTA: SMS-PP data download of secured packets (ETSI TS 102 225, 3GPP TS
// 31.115) and the remote APDU scripts they carry (ETSI TS 102 226). Written for the card on its
// own; it shares only crypto primitives and TLV helpers with the gateway, so a codec bug on
// either side cannot hide behind a round trip through the same code.
//
// Order of the checks, each leaving the card unchanged when it fails: keyset known and KIc/KID
// naming its algorithm (06), deciphering (05), RC/CC (01), TAR known (09), minimum security
// level of the TAR (0A), counter rules of the SPI (02 low, 03 high, 04 blocked); then the
// counter is taken and the script runs (00). Security errors (01, 05, 06) are answered in
// clear without RC/CC/DS, since the card cannot trust the keys; other statuses are secured as
// SPI2 asks. The PoR's CNTR is the command's, or the card's own for 02/03/04 so the server can
// resynchronise.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <tuple>

#include "otagw/sim/uicc.hpp"

namespace otagw::sim {

struct PorOutcome {
    uint8_t status = 0;      // TS 102 225 response status code
    bool por_wanted = false; // SPI2: PoR required, or on error and there was one
    bool via_submit = false; // SPI2 b6: by SMS-SUBMIT, else in the delivery report
    Bytes por;               // SMS user data of the PoR: '027100' || response packet
    Tar tar{};
    std::string error; // why, for the log
    // The secured data was an administration session trigger for the ISD (GP Card Spec 2.3
    // Amendment B §3.7, the '81' template, not a script): the handset opens the session.
    std::optional<Bytes> admin_trigger;
};

// The block cipher a KIc or KID byte names (TS 102 225 §5.1.2, §5.1.3.1), if any.
std::optional<crypto::BlockAlgo> algo_named_by(uint8_t kic_or_kid);

// Processes one command packet (CPL..end, without UDH) on `card`.
PorOutcome process_command_packet(Uicc& card, ByteView packet);

// Runs a TS 102 226 script (compact, or expanded 'AA'/'AE': §5.3 tells them by the first byte)
// through `execute`; returns the response data (compact: count, last SW, last data; expanded:
// 'AB'/'AF' with the count and every R-APDU).
Bytes run_script(ByteView script, const std::function<RApdu(const CApdu&)>& execute);

// Splits a compact script into commands as a card does: the instruction tells whether P3 is Le
// or Lc; a trailing Le is taken when the byte after it starts another command or ends the
// script. Returns false for a string that does not split.
bool split_compact_script(ByteView script, std::vector<CApdu>& out);

// Builds a response packet as the card sends it (exposed for the offline `encode-por` tool).
struct PorFields {
    uint8_t spi2 = 0;
    uint8_t kic = 0, kid = 0;            // the command's: they name the PoR's algorithms
    const Keyset* cipher_keys = nullptr; // KIc's keyset: its kic ciphers the PoR
    const Keyset* check_keys = nullptr;  // KID's keyset: its kid computes the CC
    bool in_clear = false;               // no RC/CC/DS and no ciphering whatever SPI2 says
    Tar tar{};
    uint64_t counter = 0;
    uint8_t status = 0;
};
Result<Bytes> build_por(const PorFields& f, ByteView data);

// What a card reads out of a command packet, before it runs it (for the offline
// `decode-command` tool and the tests): header fields, the deciphered secured data and the
// integrity check with the given keys (KIc and KID may name different algorithms: the first
// keyset's algorithm and kic deciphers, the second's algorithm and kid checks).
struct CommandView {
    uint8_t spi1 = 0, spi2 = 0, kic = 0, kid = 0;
    Tar tar{};
    uint64_t counter = 0;
    uint8_t pcntr = 0;
    std::string integrity; // "ok", "failed", "absent"
    Bytes secured_data;
};
Result<CommandView> read_command_packet(ByteView packet, const Keyset& cipher_keys,
                                        const Keyset& check_keys);
inline Result<CommandView> read_command_packet(ByteView packet, const Keyset& keys) {
    return read_command_packet(packet, keys, keys);
}

// Concatenated SMS-PP segments arriving at one card, reassembled (TS 23.040 §9.2.3.24.1).
// Keyed by the caller's `originator` string, the reference and the segment count; a segment
// seen twice keeps its first copy. Partial messages are bounded in number and dropped by
// expire() once too old.
class SegmentBuffer {
public:
    explicit SegmentBuffer(size_t max_pending = 10000) : max_pending_(max_pending) {}
    // The whole TP-UD once complete (UDH without the concatenation IE), else nullopt; a
    // malformed user data header is dropped.
    std::optional<Bytes> add(const std::string& originator, ByteView tp_ud, uint64_t now = 0);
    // Drops partial messages whose first segment came before `cutoff`; returns how many.
    size_t expire(uint64_t cutoff);
    size_t pending() const { return partials_.size(); }

private:
    struct Partial {
        uint64_t first_seen = 0;
        std::map<uint8_t, Bytes> parts;
        Bytes first_ies;
    };
    size_t max_pending_;
    std::map<std::tuple<std::string, uint16_t, uint8_t>, Partial> partials_;
};

} // namespace otagw::sim
