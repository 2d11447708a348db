// SPDX-License-Identifier: GPL-2.0-or-later
// SMPP 3.4 §5.1.3 command_status values, their names, and how a sender should treat them.
#pragma once

#include <cstdint>
#include <string>

namespace otagw::smpp {

enum CommandStatus : uint32_t {
    ESME_ROK = 0x00000000,
    ESME_RINVMSGLEN = 0x00000001,
    ESME_RINVCMDLEN = 0x00000002,
    ESME_RINVCMDID = 0x00000003,
    ESME_RINVBNDSTS = 0x00000004,
    ESME_RALYBND = 0x00000005,
    ESME_RINVPRTFLG = 0x00000006,
    ESME_RINVREGDLVFLG = 0x00000007,
    ESME_RSYSERR = 0x00000008,
    ESME_RINVSRCADR = 0x0000000a,
    ESME_RINVDSTADR = 0x0000000b,
    ESME_RINVMSGID = 0x0000000c,
    ESME_RBINDFAIL = 0x0000000d,
    ESME_RINVPASWD = 0x0000000e,
    ESME_RINVSYSID = 0x0000000f,
    ESME_RMSGQFUL = 0x00000014,
    ESME_RINVSERTYP = 0x00000015,
    ESME_RINVESMCLASS = 0x00000043,
    ESME_RSUBMITFAIL = 0x00000045,
    ESME_RINVSRCTON = 0x00000048,
    ESME_RINVSRCNPI = 0x00000049,
    ESME_RINVDSTTON = 0x00000050,
    ESME_RINVDSTNPI = 0x00000051,
    ESME_RINVSYSTYP = 0x00000053,
    ESME_RTHROTTLED = 0x00000058,
    ESME_RINVSCHED = 0x00000061,
    ESME_RINVEXPIRY = 0x00000062,
    ESME_RX_T_APPN = 0x00000064,
    ESME_RX_P_APPN = 0x00000065,
    ESME_RX_R_APPN = 0x00000066,
    ESME_RINVOPTPARSTREAM = 0x000000c0,
    ESME_ROPTPARNOTALLWD = 0x000000c1,
    ESME_RINVPARLEN = 0x000000c2,
    ESME_RMISSINGOPTPARAM = 0x000000c3,
    ESME_RINVOPTPARAMVAL = 0x000000c4,
    ESME_RDELIVERYFAILURE = 0x000000fe,
    ESME_RUNKNOWNERR = 0x000000ff,
};

// "ESME_RTHROTTLED", or "ESME_0x...." for values without a name.
std::string status_name(uint32_t status);
// Throttling and queue-full: wait and send again, the message itself is fine.
bool is_throttling(uint32_t status);
// Worth another try later or over another bind (system errors, delivery failure, ...).
bool is_transient(uint32_t status);

} // namespace otagw::smpp
