// SPDX-License-Identifier: GPL-2.0-or-later
// ISO/IEC 7816-4 §5.6 status words and their GlobalPlatform Card Specification 2.3 meanings
// (§11.1.3 and the per-command tables), with a typed classification the pipeline acts on.
#pragma once

#include <cstdint>
#include <string>

namespace otagw::ota {

// Name of a status word, e.g. 0x6A88 -> "referenced data not found"; ranges such as 61xx and
// 6Cxx are named by their first byte. Unknown words get "unknown status word".
const char* status_word_name(uint16_t sw);
// "6a88 (referenced data not found)"
std::string describe_status_word(uint16_t sw);

// What a GlobalPlatform card-content-management status word means for the caller.
enum class GpStatus : uint8_t {
    Success,                    // 9000
    ResponseAvailable,          // 61xx: more response bytes available (T=0 / compact RAM)
    MoreData,                   // 6310: GET STATUS has more entries, ask for the next occurrence
    WrongLength,                // 6700
    SecurityStatusNotSatisfied, // 6982
    ConditionsNotSatisfied,     // 6985: e.g. invalid life-cycle transition, locked application
    IncorrectData,              // 6A80: incorrect values in the command data
    NotFound,                   // 6A82: application / load file not found
    NotEnoughMemory,            // 6A84
    IncorrectP1P2,              // 6A86
    ReferencedDataNotFound,     // 6A88: the AID or key referenced is not on the card
    MemoryFailure,              // 6581
    InvalidKeyCheckValue,       // 9485
    AlgorithmNotSupported,      // 9484
    InsNotSupported,            // 6D00
    ClaNotSupported,            // 6E00
    OtherError,                 // anything else not in 9000 / 61xx / 62xx / 63xx
    Warning,                    // other 62xx / 63xx: processed with a warning
};

GpStatus classify_gp_status(uint16_t sw);
const char* gp_status_name(GpStatus status);
// Processing completed (9000, 61xx, or a warning other than "more data").
bool is_success(uint16_t sw);

// A failed GlobalPlatform command: the status word with its classification.
struct GpError {
    uint16_t sw = 0;
    GpStatus status = GpStatus::OtherError;
    static GpError from(uint16_t sw) { return GpError{sw, classify_gp_status(sw)}; }
    std::string message() const { return describe_status_word(sw); }
};

} // namespace otagw::ota
