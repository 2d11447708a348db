// SPDX-License-Identifier: GPL-2.0-or-later
// Fuzz target: GET STATUS responses (TLV and legacy formats, every scope) and the key
// information template.
#include "otagw/ota/globalplatform.hpp"

using namespace otagw;
using namespace otagw::ota;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    ByteView in(data, size);
    for (auto scope : {gp::StatusScope::Isd, gp::StatusScope::Applications,
                       gp::StatusScope::LoadFiles, gp::StatusScope::LoadFilesAndModules}) {
        for (bool tlv : {true, false}) {
            auto r = gp::parse_get_status_response(in, scope, tlv);
            if (r)
                for (const auto& e : *r) {
                    (void)gp::life_cycle_name(scope, e.life_cycle);
                    if (e.privileges)
                        (void)e.privileges->names();
                }
        }
    }
    (void)gp::parse_key_information(in);
    return 0;
}
