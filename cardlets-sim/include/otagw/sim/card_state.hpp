// SPDX-License-Identifier: GPL-2.0-or-later
// A card's whole persistent state as bytes (identity, keysets with counters, TARs, registry,
// cardlet data), for the simulator's state store: what a card keeps in its non-volatile memory.
#pragma once

#include "otagw/common/bytes.hpp"
#include "otagw/common/result.hpp"
#include "otagw/sim/uicc.hpp"

namespace otagw::sim {

Bytes save_card(const Uicc& card);
// Strict: any malformed or unknown element is an error naming it.
Result<Uicc> restore_card(ByteView state);

} // namespace otagw::sim
