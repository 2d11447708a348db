// SPDX-License-Identifier: GPL-2.0-or-later
// ISO/IEC 7816-4 / GlobalPlatform status word names and classification.
#include "otagw/ota/status_words.hpp"

#include <cstdio>

namespace otagw::ota {

namespace {
struct Named {
    uint16_t sw;
    const char* name;
};

// ISO/IEC 7816-4 §5.6 tables 5-6, GlobalPlatform Card Spec 2.3 §11 (9484, 9485, 6310).
constexpr Named kExact[] = {
    {0x9000, "success"},
    {0x6200, "warning: no information given, non-volatile memory unchanged"},
    {0x6281, "warning: part of returned data may be corrupted"},
    {0x6282, "warning: end of data reached before Le bytes"},
    {0x6283, "warning: selected file or application invalidated (locked)"},
    {0x6284, "warning: FCI not formatted"},
    {0x6300, "warning: non-volatile memory changed, authentication failed"},
    {0x6310, "more data available"},
    {0x6400, "execution error, non-volatile memory unchanged"},
    {0x6500, "execution error, non-volatile memory changed"},
    {0x6581, "memory failure"},
    {0x6700, "wrong length"},
    {0x6800, "functions in CLA not supported"},
    {0x6881, "logical channel not supported"},
    {0x6882, "secure messaging not supported"},
    {0x6900, "command not allowed"},
    {0x6981, "command incompatible with file structure"},
    {0x6982, "security status not satisfied"},
    {0x6983, "authentication method blocked"},
    {0x6984, "referenced data not usable"},
    {0x6985, "conditions of use not satisfied"},
    {0x6986, "command not allowed, no current EF"},
    {0x6987, "expected secure messaging data objects missing"},
    {0x6988, "incorrect secure messaging data objects"},
    {0x6999, "applet selection failed"},
    {0x6a80, "incorrect parameters in the data field"},
    {0x6a81, "function not supported"},
    {0x6a82, "file or application not found"},
    {0x6a83, "record not found"},
    {0x6a84, "not enough memory space"},
    {0x6a85, "Lc inconsistent with TLV structure"},
    {0x6a86, "incorrect parameters P1-P2"},
    {0x6a87, "Lc inconsistent with P1-P2"},
    {0x6a88, "referenced data not found"},
    {0x6a89, "file already exists"},
    {0x6a8a, "DF name already exists"},
    {0x6b00, "wrong parameters P1-P2"},
    {0x6d00, "instruction code not supported or invalid"},
    {0x6e00, "class not supported"},
    {0x6f00, "no precise diagnosis"},
    {0x9484, "algorithm not supported"},
    {0x9485, "invalid key check value"},
};

constexpr Named kBySw1[] = {
    {0x6100, "response bytes still available"},
    {0x6300, "warning: non-volatile memory changed"},
    {0x6c00, "wrong Le field, SW2 gives the exact length"},
    {0x6200, "warning: non-volatile memory unchanged"},
    {0x6400, "execution error, non-volatile memory unchanged"},
    {0x6500, "execution error, non-volatile memory changed"},
    {0x6700, "wrong length"},
    {0x6800, "functions in CLA not supported"},
    {0x6900, "command not allowed"},
    {0x6a00, "wrong parameters P1-P2"},
};
} // namespace

const char* status_word_name(uint16_t sw) {
    for (const auto& n : kExact)
        if (n.sw == sw)
            return n.name;
    if ((sw & 0xfff0) == 0x63c0)
        return "warning: counter, SW2 low nibble gives retries left";
    for (const auto& n : kBySw1)
        if (n.sw == (sw & 0xff00))
            return n.name;
    return "unknown status word";
}

std::string describe_status_word(uint16_t sw) {
    char hex[5];
    std::snprintf(hex, sizeof hex, "%04x", sw);
    return std::string(hex) + " (" + status_word_name(sw) + ")";
}

GpStatus classify_gp_status(uint16_t sw) {
    switch (sw) {
    case 0x9000:
        return GpStatus::Success;
    case 0x6310:
        return GpStatus::MoreData;
    case 0x6700:
        return GpStatus::WrongLength;
    case 0x6982:
        return GpStatus::SecurityStatusNotSatisfied;
    case 0x6985:
        return GpStatus::ConditionsNotSatisfied;
    case 0x6a80:
        return GpStatus::IncorrectData;
    case 0x6a82:
        return GpStatus::NotFound;
    case 0x6a84:
        return GpStatus::NotEnoughMemory;
    case 0x6a86:
        return GpStatus::IncorrectP1P2;
    case 0x6a88:
        return GpStatus::ReferencedDataNotFound;
    case 0x6581:
        return GpStatus::MemoryFailure;
    case 0x9484:
        return GpStatus::AlgorithmNotSupported;
    case 0x9485:
        return GpStatus::InvalidKeyCheckValue;
    case 0x6d00:
        return GpStatus::InsNotSupported;
    case 0x6e00:
        return GpStatus::ClaNotSupported;
    default:
        break;
    }
    switch (sw >> 8) {
    case 0x61:
        return GpStatus::ResponseAvailable;
    case 0x62:
    case 0x63:
        return GpStatus::Warning;
    default:
        return GpStatus::OtherError;
    }
}

const char* gp_status_name(GpStatus status) {
    switch (status) {
    case GpStatus::Success:
        return "success";
    case GpStatus::ResponseAvailable:
        return "response_available";
    case GpStatus::MoreData:
        return "more_data";
    case GpStatus::WrongLength:
        return "wrong_length";
    case GpStatus::SecurityStatusNotSatisfied:
        return "security_status_not_satisfied";
    case GpStatus::ConditionsNotSatisfied:
        return "conditions_not_satisfied";
    case GpStatus::IncorrectData:
        return "incorrect_data";
    case GpStatus::NotFound:
        return "not_found";
    case GpStatus::NotEnoughMemory:
        return "not_enough_memory";
    case GpStatus::IncorrectP1P2:
        return "incorrect_p1_p2";
    case GpStatus::ReferencedDataNotFound:
        return "referenced_data_not_found";
    case GpStatus::MemoryFailure:
        return "memory_failure";
    case GpStatus::InvalidKeyCheckValue:
        return "invalid_key_check_value";
    case GpStatus::AlgorithmNotSupported:
        return "algorithm_not_supported";
    case GpStatus::InsNotSupported:
        return "ins_not_supported";
    case GpStatus::ClaNotSupported:
        return "cla_not_supported";
    case GpStatus::OtherError:
        return "error";
    case GpStatus::Warning:
        return "warning";
    }
    return "?";
}

bool is_success(uint16_t sw) {
    GpStatus s = classify_gp_status(sw);
    return s == GpStatus::Success || s == GpStatus::ResponseAvailable || s == GpStatus::Warning;
}

} // namespace otagw::ota
