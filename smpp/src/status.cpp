// SPDX-License-Identifier: GPL-2.0-or-later
// SMPP command_status names and classes.
#include "otagw/smpp/status.hpp"

#include <cstdio>

namespace otagw::smpp {

std::string status_name(uint32_t status) {
    switch (status) {
#define NAME(x)                                                                                    \
    case x:                                                                                        \
        return #x;
        NAME(ESME_ROK)
        NAME(ESME_RINVMSGLEN)
        NAME(ESME_RINVCMDLEN)
        NAME(ESME_RINVCMDID)
        NAME(ESME_RINVBNDSTS)
        NAME(ESME_RALYBND)
        NAME(ESME_RINVPRTFLG)
        NAME(ESME_RINVREGDLVFLG)
        NAME(ESME_RSYSERR)
        NAME(ESME_RINVSRCADR)
        NAME(ESME_RINVDSTADR)
        NAME(ESME_RINVMSGID)
        NAME(ESME_RBINDFAIL)
        NAME(ESME_RINVPASWD)
        NAME(ESME_RINVSYSID)
        NAME(ESME_RMSGQFUL)
        NAME(ESME_RINVSERTYP)
        NAME(ESME_RINVESMCLASS)
        NAME(ESME_RSUBMITFAIL)
        NAME(ESME_RINVSRCTON)
        NAME(ESME_RINVSRCNPI)
        NAME(ESME_RINVDSTTON)
        NAME(ESME_RINVDSTNPI)
        NAME(ESME_RINVSYSTYP)
        NAME(ESME_RTHROTTLED)
        NAME(ESME_RINVSCHED)
        NAME(ESME_RINVEXPIRY)
        NAME(ESME_RX_T_APPN)
        NAME(ESME_RX_P_APPN)
        NAME(ESME_RX_R_APPN)
        NAME(ESME_RINVOPTPARSTREAM)
        NAME(ESME_ROPTPARNOTALLWD)
        NAME(ESME_RINVPARLEN)
        NAME(ESME_RMISSINGOPTPARAM)
        NAME(ESME_RINVOPTPARAMVAL)
        NAME(ESME_RDELIVERYFAILURE)
        NAME(ESME_RUNKNOWNERR)
#undef NAME
    default: {
        char buf[24];
        std::snprintf(buf, sizeof buf, "ESME_0x%08x", status);
        return buf;
    }
    }
}

bool is_throttling(uint32_t status) {
    return status == ESME_RTHROTTLED || status == ESME_RMSGQFUL;
}

bool is_transient(uint32_t status) {
    switch (status) {
    case ESME_RTHROTTLED:
    case ESME_RMSGQFUL:
    case ESME_RSYSERR:
    case ESME_RX_T_APPN:
    case ESME_RDELIVERYFAILURE:
    case ESME_RUNKNOWNERR:
    case ESME_RINVBNDSTS: // the bind went away under us: another bind may take it
        return true;
    default:
        return false;
    }
}

} // namespace otagw::smpp
