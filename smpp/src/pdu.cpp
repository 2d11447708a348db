// SPDX-License-Identifier: GPL-2.0-or-later
// Accessors of the typed PDUs (no libsmpp34 here).
#include <algorithm>

#include "otagw/smpp/pdu.hpp"

namespace otagw::smpp {

const Tlv* ShortMessage::find(uint16_t tag) const {
    auto it = std::find_if(tlvs.begin(), tlvs.end(), [tag](const Tlv& t) { return t.tag == tag; });
    return it == tlvs.end() ? nullptr : &*it;
}

std::optional<uint16_t> ShortMessage::user_message_reference() const {
    const Tlv* t = find(kTlvUserMessageReference);
    if (!t || t->value.size() != 2)
        return std::nullopt;
    return load_be16(t->value.data());
}

void ShortMessage::set_user_message_reference(uint16_t ref) {
    Bytes v;
    append_be16(v, ref);
    for (Tlv& t : tlvs)
        if (t.tag == kTlvUserMessageReference) {
            t.value = v;
            return;
        }
    tlvs.push_back({kTlvUserMessageReference, v});
}

ByteView ShortMessage::user_data() const {
    if (const Tlv* t = find(kTlvMessagePayload))
        return t->value;
    return short_message;
}

std::optional<std::string> ShortMessage::receipted_message_id() const {
    const Tlv* t = find(kTlvReceiptedMessageId);
    if (!t)
        return std::nullopt;
    std::string id(t->value.begin(), t->value.end());
    id.erase(std::find(id.begin(), id.end(), '\0'), id.end()); // a C-octet string
    return id;
}

std::optional<uint8_t> ShortMessage::message_state() const {
    const Tlv* t = find(kTlvMessageState);
    if (!t || t->value.size() != 1)
        return std::nullopt;
    return t->value[0];
}

} // namespace otagw::smpp
