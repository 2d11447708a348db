// SPDX-License-Identifier: GPL-2.0-or-later
// The one place C++ includes libosmocore: its headers have no extern "C" guards and use GNU
// typeof (the project builds as gnu++20). Include this instead of <osmocom/...>.
#pragma once

extern "C" {
#include <osmocom/core/application.h>
#include <osmocom/core/logging.h>
#include <osmocom/core/rate_ctr.h>
#include <osmocom/core/select.h>
#include <osmocom/core/stats.h>
#include <osmocom/core/talloc.h>
#include <osmocom/core/timer.h>
#include <osmocom/core/utils.h>
#include <osmocom/vty/command.h>
#include <osmocom/vty/logging.h>
#include <osmocom/vty/misc.h>
#include <osmocom/vty/stats.h>
#include <osmocom/vty/telnet_interface.h>
#include <osmocom/vty/vty.h>
}
