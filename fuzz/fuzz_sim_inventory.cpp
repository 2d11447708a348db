// SPDX-License-Identifier: GPL-2.0-or-later
// Fuzz target: the simulator's file formats read from outside: a card inventory line (and a
// whole inventory file), and a stored card state; what parses must encode back and parse again.
#include <sstream>

#include "otagw/sim/card_state.hpp"
#include "otagw/sim/inventory.hpp"

using namespace otagw;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    if (auto card = sim::parse_inventory_line(text)) {
        const std::string line = sim::inventory_line(*card);
        if (!sim::parse_inventory_line(line))
            __builtin_trap();
    }
    std::stringstream file(std::string(sim::kInventoryMagic) + "\n" +
                           std::string(sim::kInventoryColumns) + "\n" + std::string(text));
    (void)sim::read_inventory(file);
    if (auto card = sim::restore_card(ByteView(data, size))) {
        const Bytes again = sim::save_card(*card);
        if (!sim::restore_card(again))
            __builtin_trap();
    }
    return 0;
}
