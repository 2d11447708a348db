// SPDX-License-Identifier: GPL-2.0-or-later
// Fuzz target: the card's answer to an operation's script, as the PoR carries it (TS 102 226
// compact response, then the GET STATUS registry entries of GP §11.4.3). Whatever the card
// says, the reading is an error or a consistent answer.
#include "requests/card_answer.hpp"
#include "requests/operations.hpp"

using namespace otagw;
using namespace otagw::gateway;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1)
        return 0;
    static const auto script = [] {
        db::Application a;
        a.name = "canteen";
        a.aid = "f04f5441470101010001";
        a.load_file_aid = "f04f5441470101";
        a.module_aid = "f04f544147010101";
        a.tar = "c00001";
        return *operation_script(Operation::Activate, a, {});
    }();
    const size_t length = 1 + data[0] % script.size();
    auto a = read_card_answer(ByteView(data + 1, size - 1), length, script.back(),
                              "f04f5441470101010001");
    if (a) {
        if (a->executed == 0 || a->executed > length)
            __builtin_trap();
        if (a->completed != a->registry_known)
            __builtin_trap();
        if (!a->completed && a->failed_command + 1 != a->executed)
            __builtin_trap();
        (void)state_from_registry(a->life_cycle, Operation::Activate);
    }
    return 0;
}
