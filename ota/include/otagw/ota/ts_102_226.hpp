// SPDX-License-Identifier: GPL-2.0-or-later
// ETSI TS 102 226 remote APDU formats carried in a secured packet's data: the compact format
// (§5.1: concatenated C-APDUs; response = executed count, last SW, last data) and the
// expanded format (§5.2: Command Scripting template 'AA' (definite) or 'AE' (indefinite,
// ended by '00 00') holding C-APDU TLVs '22'; Response Scripting template 'AB' / 'AF' holding
// the executed count '80', R-APDU TLVs '23' and bad format '90'). Template tags per
// ETSI TS 101 220 table 7.18. §5.3: a card tells the formats apart by the first byte, so do we.
#pragma once

#include <optional>
#include <vector>

#include "otagw/ota/apdu.hpp"
#include "otagw/ota/ts_102_225.hpp"

namespace otagw::ota::ram {

// TARs (ETSI TS 101 220 annex D, TS 102 226 §8.1).
constexpr Tar kTarIsdRam = {0x00, 0x00, 0x00};  // RAM of the Issuer Security Domain
constexpr Tar kTarRfmUicc = {0xb0, 0x00, 0x00}; // RFM of the UICC shared file system
constexpr Tar kTarRfmUsim = {0xb0, 0x00, 0x01}; // RFM of the USIM ADF
constexpr Tar kTarRfmIsim = {0xb0, 0x00, 0x02}; // RFM of the ISIM ADF
constexpr Tar kTarRfmGsm = {0xb0, 0x00, 0x10};  // RFM of the GSM SIM (DF GSM)

constexpr uint8_t kTagCommandDefinite = 0xaa;
constexpr uint8_t kTagCommandIndefinite = 0xae;
constexpr uint8_t kTagResponseDefinite = 0xab;
constexpr uint8_t kTagResponseIndefinite = 0xaf;
constexpr uint8_t kTagCApdu = 0x22;
constexpr uint8_t kTagRApdu = 0x23;
constexpr uint8_t kTagImmediateAction = 0x81;
constexpr uint8_t kTagErrorAction = 0x82;
constexpr uint8_t kTagScriptChaining = 0x83;
constexpr uint8_t kTagExecutedCount = 0x80;
constexpr uint8_t kTagBadFormat = 0x90;

// ---- Compact format (§5.1) ----------------------------------------------------------------------
Bytes compact_script(const std::vector<Apdu>& apdus);
// Splits a compact command string into APDUs. The format does not delimit commands: each one
// carries P3 (Lc, or Le for case 2), and this follows the command cases of the instructions
// (ISO/IEC 7816-4, GP): a trailing Le byte is taken when the instruction may carry one and the
// rest still parses.
Result<std::vector<Apdu>> parse_compact_script(ByteView script);

struct CompactResponse {
    uint8_t executed = 0; // number of commands executed
    uint16_t last_sw = 0; // status word of the last executed command
    Bytes last_data;      // its response data
};
Result<CompactResponse> parse_compact_response(ByteView data);
Bytes encode_compact_response(const CompactResponse& r);

// ---- Expanded format (§5.2) ---------------------------------------------------------------------
Bytes expanded_script(const std::vector<Apdu>& apdus, bool indefinite_length = false);

struct ScriptItem {
    uint8_t tag = 0; // 22 C-APDU, 81 immediate action, 82 error action, 83 script chaining
    Bytes value;
};
struct ExpandedScript {
    bool indefinite = false;
    std::vector<ScriptItem> items;
    std::vector<Apdu> apdus() const; // the parsed C-APDUs (items with tag 22)
};
Result<ExpandedScript> parse_expanded_script(ByteView data);

struct ExpandedResponse {
    bool indefinite = false;
    std::optional<uint8_t> executed;   // '80': number of executed C-APDU TLVs
    std::vector<ResponseApdu> r_apdus; // '23' in order
    std::optional<Bytes> bad_format;   // '90'
    std::vector<ScriptItem> other;     // '81', '83', ...
};
Result<ExpandedResponse> parse_expanded_response(ByteView data);
Bytes encode_expanded_response(const ExpandedResponse& r);

// ---- Format detection (§5.3) --------------------------------------------------------------------
bool is_expanded_command(ByteView data);  // first byte 'AA' or 'AE'
bool is_expanded_response(ByteView data); // first byte 'AB' or 'AF'

} // namespace otagw::ota::ram
