// SPDX-License-Identifier: GPL-2.0-or-later
// Fuzz target: a remote APDU script (TS 102 226 compact or expanded) run on the simulated card:
// the script splitter, C-APDU parsing and every card manager command (INSTALL, LOAD, DELETE,
// SET STATUS, GET STATUS, STORE DATA, PUT KEY, GET DATA, SELECT), RFM and the cardlets. The
// first byte picks the target: ISD, RFM, or a cardlet's TAR.
#include "otagw/sim/card_state.hpp"
#include "otagw/sim/ota_card.hpp"
#include "otagw/sim/population.hpp"

using namespace otagw;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1)
        return 0;
    static const Bytes fresh = [] {
        sim::PopulationSpec s;
        s.cards = 1;
        s.profile = "full";
        return sim::save_card(sim::Population::generate(s)->at(0));
    }();
    sim::Uicc card = sim::restore_card(fresh).value();
    sim::ScriptContext ctx;
    ctx.keyset = card.keysets[data[0] & 1];
    const int target = data[0] % 5;
    const Bytes wallet = card.apps[0].aid, bank = card.apps[2].aid;
    // Twice, so that state left by the first run (pending LOAD, GET STATUS paging) is used.
    for (int round = 0; round < 2; round++)
        (void)sim::run_script(ByteView(data + 1, size - 1), [&](const sim::CApdu& a) {
            switch (target) {
            case 0:
            case 1:
                return card.card_manager(a, ctx);
            case 2:
                return card.rfm(a);
            case 3:
                return card.to_cardlet(wallet, a);
            default:
                return card.local(bank, a);
            }
        });
    // Whatever the script did, the card's state still encodes and decodes.
    if (!sim::restore_card(sim::save_card(card)))
        __builtin_trap();
    return 0;
}
