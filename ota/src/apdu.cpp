// SPDX-License-Identifier: GPL-2.0-or-later
// Short command/response APDU encoding (ISO/IEC 7816-4 §5.1).
#include "otagw/ota/apdu.hpp"

#include <cassert>

namespace otagw::ota {

void Apdu::encode_to(Bytes& out) const {
    assert(data.size() <= 255);
    out.push_back(cla);
    out.push_back(ins);
    out.push_back(p1);
    out.push_back(p2);
    if (!data.empty()) {
        out.push_back(static_cast<uint8_t>(data.size()));
        append(out, data);
    }
    if (le)
        out.push_back(*le);
}

Bytes Apdu::encode() const {
    Bytes out;
    out.reserve(encoded_size());
    encode_to(out);
    return out;
}

Result<Apdu> Apdu::parse(ByteView in) {
    if (in.size() < 4)
        return make_error("APDU: " + std::to_string(in.size()) + " bytes, a header needs 4");
    Apdu a;
    a.cla = in[0];
    a.ins = in[1];
    a.p1 = in[2];
    a.p2 = in[3];
    if (in.size() == 4) // case 1
        return a;
    if (in.size() == 5) { // case 2: P3 is Le
        a.le = in[4];
        return a;
    }
    size_t lc = in[4];
    if (lc == 0)
        return make_error("APDU: Lc is 0 but data follows (extended length is not supported)");
    if (in.size() == 5 + lc) { // case 3
        a.data.assign(in.begin() + 5, in.end());
        return a;
    }
    if (in.size() == 6 + lc) { // case 4
        a.data.assign(in.begin() + 5, in.end() - 1);
        a.le = in.back();
        return a;
    }
    return make_error("APDU: Lc " + std::to_string(lc) + " does not match the " +
                      std::to_string(in.size()) + "-byte command");
}

Result<ResponseApdu> ResponseApdu::parse(ByteView in) {
    if (in.size() < 2)
        return make_error("R-APDU: " + std::to_string(in.size()) + " bytes, SW1 SW2 need 2");
    ResponseApdu r;
    r.data.assign(in.begin(), in.end() - 2);
    r.sw = load_be16(&in[in.size() - 2]);
    return r;
}

Bytes ResponseApdu::encode() const {
    Bytes out = data;
    append_be16(out, sw);
    return out;
}

} // namespace otagw::ota
