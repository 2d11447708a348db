// SPDX-License-Identifier: GPL-2.0-or-later
// Fuzz target: the simulator's control port requests and fault settings.
#include "otagw/sim/control.hpp"

using namespace otagw;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    (void)sim::parse_control_line(text);
    sim::NetworkFaults net;
    smpp::SmscFaults smsc;
    (void)sim::apply_fault(text, net, smsc);
    return 0;
}
