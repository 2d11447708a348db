// SPDX-License-Identifier: GPL-2.0-or-later
// Fuzz target: the simulated card receiving SMS-PP data download: concatenated segments
// reassembled (SegmentBuffer), then the command packet checked and run (process_command_packet)
// on a card whose ISD TAR accepts unsecured packets (MSL 00), so inputs reach the RAM script
// and the card manager. The first byte splits the input into user data segments.
#include "otagw/sim/card_state.hpp"
#include "otagw/sim/ota_card.hpp"
#include "otagw/sim/population.hpp"

using namespace otagw;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1)
        return 0;
    static const Bytes fresh = [] { // a card's state, restored for every input
        sim::PopulationSpec s;
        s.cards = 1;
        s.profile = "full";
        return sim::save_card(sim::Population::generate(s)->at(0));
    }();
    sim::Uicc card = sim::restore_card(fresh).value();
    for (auto& t : card.tars)
        t.msl = 0;
    sim::SegmentBuffer segments(8);
    const size_t cut = data[0];
    ByteView in(data + 1, size - 1);
    // As one packet, and as user data segments of at most `cut` + 1 bytes.
    (void)sim::process_command_packet(card, in);
    for (size_t pos = 0; pos < in.size(); pos += cut + 1) {
        auto whole = segments.add("fuzz", in.subspan(pos, std::min(cut + 1, in.size() - pos)));
        if (whole && !whole->empty() && whole->front() < whole->size())
            (void)sim::process_command_packet(card, ByteView(*whole).subspan(1 + whole->front()));
    }
    return 0;
}
