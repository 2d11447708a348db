// SPDX-License-Identifier: GPL-2.0-or-later
// SMPP 3.4 PDUs as typed structs, packed and unpacked with libsmpp34 (in one translation unit,
// src/pdu_codec.cpp, so its unprefixed macros stay there). Covers what an ESME and a test SMSC
// exchange: binds, unbind, enquire_link, generic_nack, submit_sm, deliver_sm, alert_notification.
// Other command ids decode as "unsupported" so the receiver can answer generic_nack.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "otagw/common/bytes.hpp"

namespace otagw::smpp {

// SMPP 3.4 §5.1.2 command ids.
enum CommandId : uint32_t {
    kGenericNack = 0x80000000,
    kBindReceiver = 0x00000001,
    kBindReceiverResp = 0x80000001,
    kBindTransmitter = 0x00000002,
    kBindTransmitterResp = 0x80000002,
    kQuerySm = 0x00000003,
    kQuerySmResp = 0x80000003,
    kSubmitSm = 0x00000004,
    kSubmitSmResp = 0x80000004,
    kDeliverSm = 0x00000005,
    kDeliverSmResp = 0x80000005,
    kUnbind = 0x00000006,
    kUnbindResp = 0x80000006,
    kReplaceSm = 0x00000007,
    kReplaceSmResp = 0x80000007,
    kCancelSm = 0x00000008,
    kCancelSmResp = 0x80000008,
    kBindTransceiver = 0x00000009,
    kBindTransceiverResp = 0x80000009,
    kOutbind = 0x0000000b,
    kEnquireLink = 0x00000015,
    kEnquireLinkResp = 0x80000015,
    kSubmitMulti = 0x00000021,
    kSubmitMultiResp = 0x80000021,
    kAlertNotification = 0x00000102,
    kDataSm = 0x00000103,
    kDataSmResp = 0x80000103,
};
constexpr uint32_t kResponseBit = 0x80000000;
const char* command_name(uint32_t command_id); // "submit_sm", ... or "unknown"

// SMPP 3.4 §5.2.21 TLV tags we read or write.
enum TlvTag : uint16_t {
    kTlvReceiptedMessageId = 0x001e,
    kTlvUserMessageReference = 0x0204,
    kTlvSarMsgRefNum = 0x020c,
    kTlvSarTotalSegments = 0x020e,
    kTlvSarSegmentSeqnum = 0x020f,
    kTlvScInterfaceVersion = 0x0210,
    kTlvNetworkErrorCode = 0x0423,
    kTlvMessagePayload = 0x0424,
    kTlvMsAvailabilityStatus = 0x0422,
    kTlvMessageState = 0x0427,
};

constexpr size_t kHeaderSize = 16;
constexpr size_t kMaxPduSize = 65536; // a larger command_length is an error, not a read
constexpr uint8_t kInterfaceVersion = 0x34;
constexpr size_t kMaxShortMessage = 254; // sm_length is one octet; libsmpp34 holds 254
constexpr size_t kMaxMessagePayload = 1024;

struct Header {
    uint32_t command_length = 0;
    uint32_t command_id = 0;
    uint32_t command_status = 0;
    uint32_t sequence_number = 0;
};
// The header of the PDU that starts `in` (16 bytes needed).
std::optional<Header> peek_header(ByteView in);

struct Address {
    uint8_t ton = 0; // 1 international, 3 network specific (osmo-msc's MO sources), ...
    uint8_t npi = 0; // 1 ISDN/E.164, 6 E.212, ...
    std::string addr;
};

struct Tlv {
    uint16_t tag = 0;
    Bytes value; // as on the wire (integers big-endian)
};

enum class BindType : uint8_t { Transmitter, Receiver, Transceiver };
uint32_t bind_command(BindType type);

struct Bind {
    BindType type = BindType::Transceiver;
    std::string system_id;
    std::string password;
    std::string system_type;
    uint8_t interface_version = kInterfaceVersion;
    Address address_range;
};

struct BindResp {
    BindType type = BindType::Transceiver;
    std::string system_id;
    std::optional<uint8_t> sc_interface_version;
};

// submit_sm and deliver_sm share their body (SMPP 3.4 §4.4.1, §4.6.1).
struct ShortMessage {
    std::string service_type;
    Address source;
    Address dest;
    uint8_t esm_class = 0;
    uint8_t protocol_id = 0;
    uint8_t priority_flag = 0;
    std::string schedule_delivery_time;
    std::string validity_period;
    uint8_t registered_delivery = 0;
    uint8_t replace_if_present = 0;
    uint8_t data_coding = 0;
    uint8_t sm_default_msg_id = 0;
    Bytes short_message;
    std::vector<Tlv> tlvs;

    const Tlv* find(uint16_t tag) const;
    std::optional<uint16_t> user_message_reference() const;
    void set_user_message_reference(uint16_t ref);
    // message_payload TLV when present, else short_message.
    ByteView user_data() const;
    std::optional<std::string> receipted_message_id() const;
    std::optional<uint8_t> message_state() const;
};
struct SubmitSm : ShortMessage {};
struct DeliverSm : ShortMessage {};

struct SubmitSmResp {
    std::string message_id;
};
struct DeliverSmResp {
    std::string message_id;
};
struct AlertNotification {
    Address source;
    Address esme;
    std::optional<uint8_t> ms_availability_status;
};
// enquire_link(_resp), unbind(_resp), generic_nack: header only.
struct NoBody {};

using Body = std::variant<NoBody, Bind, BindResp, SubmitSm, SubmitSmResp, DeliverSm, DeliverSmResp,
                          AlertNotification>;

struct Pdu {
    uint32_t command_id = 0;
    uint32_t command_status = 0;
    uint32_t sequence_number = 0; // 1..0x7FFFFFFF
    Body body;
};

// Packs `pdu` into `out` (cleared first). Errors name the field libsmpp34 refused, never its
// value (a bind carries the password).
Status encode(const Pdu& pdu, Bytes& out);

// Why a PDU could not be read, with the SMPP status to answer it with.
struct DecodeError {
    uint32_t command_status = 0; // ESME_RINVCMDLEN, ESME_RINVCMDID, ESME_RSYSERR, ...
    std::string message;
};
// Unpacks one whole PDU (command_length must equal in.size()).
std::variant<Pdu, DecodeError> decode(ByteView in);

} // namespace otagw::smpp
