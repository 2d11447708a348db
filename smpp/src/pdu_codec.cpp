// SPDX-License-Identifier: GPL-2.0-or-later
// The only translation unit that includes libsmpp34: typed PDUs <-> libsmpp34 structs.
#include <cstring>
#include <memory>
#include <span>
#include <string>

#include "otagw/smpp/pdu.hpp"
#include "otagw/smpp/status.hpp"

extern "C" {
#include <libsmpp34/smpp34.h>
#include <libsmpp34/smpp34_structs.h>

// smpp34_params.h needs the struct typedefs first.
#include <libsmpp34/smpp34_params.h>
}

namespace otagw::smpp {

namespace {

// libsmpp34 reports errors as a dump of every field with its value; keep the name and reason
// of the field that failed only ("[password:secret(Invalid value)]" must not reach a log).
std::string libsmpp34_reason() {
    const char* last = std::strrchr(smpp34_strerror, '[');
    if (!last)
        return "libsmpp34 error";
    std::string item(last + 1);
    const size_t colon = item.find(':');
    const size_t open = item.rfind('(');
    const size_t close = item.rfind(')');
    if (colon == std::string::npos || open == std::string::npos || close == std::string::npos ||
        open < colon)
        return "libsmpp34 error";
    return item.substr(0, colon) + ": " + item.substr(open + 1, close - open - 1);
}

struct TlvList {
    tlv_t* head = nullptr;
    ~TlvList() {
        if (head)
            destroy_tlv(head);
    }
};

// Copies a C-octet string field; `size` includes the NUL.
Status put_string(uint8_t* dst, size_t size, const std::string& s, const char* field) {
    if (s.size() + 1 > size || s.find('\0') != std::string::npos)
        return make_error(std::string(field) + ": at most " + std::to_string(size - 1) +
                          " characters, got " + std::to_string(s.size()));
    std::memcpy(dst, s.c_str(), s.size() + 1);
    return {};
}

std::string get_string(const uint8_t* src, size_t size) {
    return std::string(reinterpret_cast<const char*>(src),
                       strnlen(reinterpret_cast<const char*>(src), size));
}

constexpr size_t kMaxTlvs = 16;

// How libsmpp34 holds each TLV of a PDU: its def_frame/*.tlv tables, per command. Integers must
// have their exact size and octet strings stay within libsmpp34's buffer, else unpack fails
// half way (and leaks) or pack refuses; tags not listed are octet strings of up to 1024 bytes.
enum class TlvKind : uint8_t { U08, U16, Octets };
struct TlvSpec {
    uint16_t tag;
    TlvKind kind;
    uint16_t max; // octet strings
};
constexpr TlvSpec kSubmitSmTlvs[] = {
    {0x0204, TlvKind::U16, 2},     {0x020a, TlvKind::U16, 2},       {0x000d, TlvKind::U08, 1},
    {0x020b, TlvKind::U16, 2},     {0x0005, TlvKind::U08, 1},       {0x020c, TlvKind::U16, 2},
    {0x020e, TlvKind::U08, 1},     {0x020f, TlvKind::U08, 1},       {0x0426, TlvKind::U08, 1},
    {0x0019, TlvKind::U08, 1},     {0x0424, TlvKind::Octets, 1024}, {0x0201, TlvKind::U08, 1},
    {0x0381, TlvKind::Octets, 19}, {0x0302, TlvKind::U08, 1},       {0x0303, TlvKind::Octets, 65},
    {0x0202, TlvKind::Octets, 23}, {0x0203, TlvKind::Octets, 23},   {0x0205, TlvKind::U08, 1},
    {0x1201, TlvKind::U08, 1},     {0x1203, TlvKind::U16, 2},       {0x1204, TlvKind::U08, 1},
    {0x0030, TlvKind::U08, 1},     {0x0304, TlvKind::U08, 1},       {0x130c, TlvKind::Octets, 0},
    {0x020d, TlvKind::U08, 1},     {0x1380, TlvKind::U08, 1},       {0x1383, TlvKind::U16, 2},
    {0x0501, TlvKind::Octets, 1},
};
constexpr TlvSpec kDeliverSmTlvs[] = {
    {0x0204, TlvKind::U16, 2},       {0x020a, TlvKind::U16, 2},     {0x020b, TlvKind::U16, 2},
    {0x020c, TlvKind::U16, 2},       {0x020e, TlvKind::U08, 1},     {0x020f, TlvKind::U08, 1},
    {0x0205, TlvKind::U08, 1},       {0x0201, TlvKind::U08, 1},     {0x0019, TlvKind::U08, 1},
    {0x0424, TlvKind::Octets, 1024}, {0x0381, TlvKind::Octets, 19}, {0x0202, TlvKind::Octets, 23},
    {0x0203, TlvKind::Octets, 23},   {0x020d, TlvKind::U08, 1},     {0x1383, TlvKind::U16, 2},
    {0x0423, TlvKind::Octets, 3},    {0x0427, TlvKind::U08, 1},     {0x001e, TlvKind::Octets, 65},
    {0x0421, TlvKind::U08, 1},       {0x000e, TlvKind::U08, 1},
};
constexpr TlvSpec kBindRespTlvs[] = {{0x0210, TlvKind::U08, 1}};
constexpr TlvSpec kAlertTlvs[] = {{0x0422, TlvKind::U08, 1}};

TlvSpec tlv_spec(uint32_t command_id, uint16_t tag) {
    std::span<const TlvSpec> table;
    switch (command_id) {
    case kSubmitSm:
        table = kSubmitSmTlvs;
        break;
    case kDeliverSm:
        table = kDeliverSmTlvs;
        break;
    case kBindTransmitterResp:
    case kBindReceiverResp:
    case kBindTransceiverResp:
        table = kBindRespTlvs;
        break;
    case kAlertNotification:
        table = kAlertTlvs;
        break;
    default:
        break;
    }
    for (const TlvSpec& t : table)
        if (t.tag == tag)
            return t;
    return {tag, TlvKind::Octets, static_cast<uint16_t>(kMaxMessagePayload)};
}

std::string tag_hex(uint16_t tag) {
    const uint8_t b[2] = {static_cast<uint8_t>(tag >> 8), static_cast<uint8_t>(tag)};
    return to_hex(ByteView(b, 2));
}

Status put_tlvs(uint32_t command_id, tlv_t** list, const std::vector<Tlv>& tlvs) {
    if (tlvs.size() > kMaxTlvs)
        return make_error("more than " + std::to_string(kMaxTlvs) + " TLVs");
    for (const Tlv& t : tlvs) {
        const TlvSpec spec = tlv_spec(command_id, t.tag);
        tlv_t item;
        std::memset(&item, 0, sizeof item);
        item.tag = t.tag;
        item.length = static_cast<uint16_t>(t.value.size());
        switch (spec.kind) {
        case TlvKind::U08:
            if (t.value.size() != 1)
                return make_error("TLV " + tag_hex(t.tag) + ": must be 1 byte");
            item.value.val08 = t.value[0];
            break;
        case TlvKind::U16:
            if (t.value.size() != 2)
                return make_error("TLV " + tag_hex(t.tag) + ": must be 2 bytes");
            item.value.val16 = load_be16(t.value.data());
            break;
        case TlvKind::Octets:
            if (t.value.size() > spec.max)
                return make_error("TLV " + tag_hex(t.tag) + ": longer than " +
                                  std::to_string(spec.max) + " bytes");
            if (!t.value.empty())
                std::memcpy(item.value.octet, t.value.data(), t.value.size());
            break;
        }
        if (build_tlv(list, &item) != 0)
            return make_error("TLV: out of memory");
    }
    return {};
}

std::vector<Tlv> get_tlvs(uint32_t command_id, const tlv_t* list) {
    std::vector<Tlv> out;
    for (const tlv_t* t = list; t; t = t->next) {
        Tlv tlv;
        tlv.tag = t->tag;
        switch (tlv_spec(command_id, t->tag).kind) {
        case TlvKind::U08:
            tlv.value = {t->value.val08};
            break;
        case TlvKind::U16:
            append_be16(tlv.value, t->value.val16);
            break;
        case TlvKind::Octets:
            tlv.value.assign(t->value.octet,
                             t->value.octet + std::min<size_t>(t->length, kMaxMessagePayload));
            break;
        }
        out.push_back(std::move(tlv));
    }
    return out;
}

template <typename T>
void set_header(T& s, const Pdu& pdu) {
    s.command_id = pdu.command_id;
    s.command_status = pdu.command_status;
    s.sequence_number = pdu.sequence_number;
}

template <typename T>
Status pack(T& s, uint32_t type, Bytes& out, size_t capacity) {
    out.resize(capacity);
    int len = 0;
    if (smpp34_pack(type, out.data(), static_cast<int>(out.size()), &len, &s) != 0)
        return make_error(std::string(command_name(type)) + ": " + libsmpp34_reason());
    out.resize(static_cast<size_t>(len));
    return {};
}

template <typename T>
Status fill_bind(T& s, const Bind& b) {
    OTAGW_TRY_STATUS(put_string(s.system_id, sizeof s.system_id, b.system_id, "system_id"));
    OTAGW_TRY_STATUS(put_string(s.password, sizeof s.password, b.password, "password"));
    OTAGW_TRY_STATUS(put_string(s.system_type, sizeof s.system_type, b.system_type, "system_type"));
    OTAGW_TRY_STATUS(
        put_string(s.address_range, sizeof s.address_range, b.address_range.addr, "address_range"));
    s.interface_version = b.interface_version;
    s.addr_ton = b.address_range.ton;
    s.addr_npi = b.address_range.npi;
    return {};
}

template <typename T>
Bind read_bind(const T& s, BindType type) {
    Bind b;
    b.type = type;
    b.system_id = get_string(s.system_id, sizeof s.system_id);
    b.password = get_string(s.password, sizeof s.password);
    b.system_type = get_string(s.system_type, sizeof s.system_type);
    b.interface_version = s.interface_version;
    b.address_range = {s.addr_ton, s.addr_npi, get_string(s.address_range, sizeof s.address_range)};
    return b;
}

template <typename T>
Status fill_bind_resp(T& s, const BindResp& r, TlvList& tlvs) {
    OTAGW_TRY_STATUS(put_string(s.system_id, sizeof s.system_id, r.system_id, "system_id"));
    if (r.sc_interface_version)
        OTAGW_TRY_STATUS(put_tlvs(kBindTransceiverResp, &tlvs.head,
                                  {Tlv{kTlvScInterfaceVersion, {*r.sc_interface_version}}}));
    s.tlv = tlvs.head;
    return {};
}

template <typename T>
BindResp read_bind_resp(const T& s, BindType type) {
    BindResp r;
    r.type = type;
    r.system_id = get_string(s.system_id, sizeof s.system_id);
    for (const Tlv& t : get_tlvs(kBindTransceiverResp, s.tlv))
        if (t.tag == kTlvScInterfaceVersion && t.value.size() == 1)
            r.sc_interface_version = t.value[0];
    return r;
}

template <typename T>
Status fill_short_message(T& s, uint32_t command_id, const ShortMessage& m, TlvList& tlvs) {
    OTAGW_TRY_STATUS(
        put_string(s.service_type, sizeof s.service_type, m.service_type, "service_type"));
    OTAGW_TRY_STATUS(put_string(s.source_addr, sizeof s.source_addr, m.source.addr, "source_addr"));
    OTAGW_TRY_STATUS(
        put_string(s.destination_addr, sizeof s.destination_addr, m.dest.addr, "destination_addr"));
    OTAGW_TRY_STATUS(put_string(s.schedule_delivery_time, sizeof s.schedule_delivery_time,
                                m.schedule_delivery_time, "schedule_delivery_time"));
    OTAGW_TRY_STATUS(put_string(s.validity_period, sizeof s.validity_period, m.validity_period,
                                "validity_period"));
    if (m.short_message.size() > kMaxShortMessage)
        return make_error("short_message: at most 254 bytes, got " +
                          std::to_string(m.short_message.size()) + " (use message_payload)");
    s.source_addr_ton = m.source.ton;
    s.source_addr_npi = m.source.npi;
    s.dest_addr_ton = m.dest.ton;
    s.dest_addr_npi = m.dest.npi;
    s.esm_class = m.esm_class;
    s.protocol_id = m.protocol_id;
    s.priority_flag = m.priority_flag;
    s.registered_delivery = m.registered_delivery;
    s.replace_if_present_flag = m.replace_if_present;
    s.data_coding = m.data_coding;
    s.sm_default_msg_id = m.sm_default_msg_id;
    s.sm_length = static_cast<uint8_t>(m.short_message.size());
    if (!m.short_message.empty())
        std::memcpy(s.short_message, m.short_message.data(), m.short_message.size());
    OTAGW_TRY_STATUS(put_tlvs(command_id, &tlvs.head, m.tlvs));
    s.tlv = tlvs.head;
    return {};
}

template <typename T, typename M>
M read_short_message(const T& s, uint32_t command_id) {
    M m;
    m.service_type = get_string(s.service_type, sizeof s.service_type);
    m.source = {s.source_addr_ton, s.source_addr_npi,
                get_string(s.source_addr, sizeof s.source_addr)};
    m.dest = {s.dest_addr_ton, s.dest_addr_npi,
              get_string(s.destination_addr, sizeof s.destination_addr)};
    m.esm_class = s.esm_class;
    m.protocol_id = s.protocol_id;
    m.priority_flag = s.priority_flag;
    m.schedule_delivery_time =
        get_string(s.schedule_delivery_time, sizeof s.schedule_delivery_time);
    m.validity_period = get_string(s.validity_period, sizeof s.validity_period);
    m.registered_delivery = s.registered_delivery;
    m.replace_if_present = s.replace_if_present_flag;
    m.data_coding = s.data_coding;
    m.sm_default_msg_id = s.sm_default_msg_id;
    m.short_message.assign(s.short_message,
                           s.short_message + std::min<size_t>(s.sm_length, kMaxShortMessage));
    m.tlvs = get_tlvs(command_id, s.tlv);
    return m;
}

// Walks a PDU body as SMPP 3.4 lays it out, before libsmpp34 sees it: libsmpp34 leaks a TLV
// node when it meets a malformed TLV (seen under valgrind), so only well-formed bodies reach it.
class BodyWalker {
public:
    BodyWalker(uint32_t command_id, ByteView body) : command_id_(command_id), in_(body) {}
    bool c_string(size_t max_with_nul, const char* field) {
        for (size_t i = 0; i < max_with_nul && pos_ + i < in_.size(); i++)
            if (in_[pos_ + i] == 0) {
                pos_ += i + 1;
                return true;
            }
        return fail(field, "not terminated within " + std::to_string(max_with_nul) + " bytes");
    }
    bool bytes(size_t n, const char* field) {
        if (in_.size() - pos_ < n)
            return fail(field, "truncated");
        pos_ += n;
        return true;
    }
    bool short_message() {
        if (!bytes(1, "sm_length"))
            return false;
        return bytes(in_[pos_ - 1], "short_message");
    }
    // TLVs fill the rest exactly; integer TLVs have their size. At most kMaxTlvs: libsmpp34
    // writes a trace of every field into a 2048-byte buffer and overruns it (seen crashing) when
    // a PDU carries a few dozen TLVs.
    bool tlvs() {
        size_t count = 0;
        while (pos_ < in_.size()) {
            if (++count > kMaxTlvs)
                return fail("TLV", "more than " + std::to_string(kMaxTlvs) + " TLVs");
            if (in_.size() - pos_ < 4)
                return fail("TLV", "truncated header");
            const uint16_t tag = load_be16(&in_[pos_]);
            const size_t len = load_be16(&in_[pos_ + 2]);
            pos_ += 4;
            if (in_.size() - pos_ < len)
                return fail("TLV", tag_hex(tag) + " of " + std::to_string(len) +
                                       " bytes overruns the PDU");
            const TlvSpec spec = tlv_spec(command_id_, tag);
            if ((spec.kind == TlvKind::U08 && len != 1) ||
                (spec.kind == TlvKind::U16 && len != 2) ||
                (spec.kind == TlvKind::Octets && len > spec.max))
                return fail("TLV",
                            tag_hex(tag) + " has a wrong length (" + std::to_string(len) + ")");
            pos_ += len;
        }
        return true;
    }
    bool done(const char* what) {
        if (pos_ != in_.size())
            return fail(what, std::to_string(in_.size() - pos_) + " bytes after the last field");
        return true;
    }
    const std::string& error() const { return error_; }

private:
    bool fail(const char* field, const std::string& why) {
        error_ = std::string(field) + ": " + why;
        return false;
    }
    uint32_t command_id_;
    ByteView in_;
    size_t pos_ = 0;
    std::string error_;
};

// Field sizes (with the NUL) as libsmpp34 holds them; deliver_sm's schedule_delivery_time and
// validity_period must be empty (SMPP 3.4 §4.6.1).
bool walk_short_message(BodyWalker& w, bool deliver) {
    const size_t time_size = deliver ? 1 : 17;
    return w.c_string(6, "service_type") && w.bytes(2, "source_addr_ton/npi") &&
           w.c_string(21, "source_addr") && w.bytes(2, "dest_addr_ton/npi") &&
           w.c_string(21, "destination_addr") &&
           w.bytes(3, "esm_class/protocol_id/priority_flag") &&
           w.c_string(time_size, "schedule_delivery_time") &&
           w.c_string(time_size, "validity_period") &&
           w.bytes(4, "registered_delivery..sm_default_msg_id") && w.short_message() && w.tlvs();
}

// A libsmpp34 struct, zeroed, whose TLV list (if unpacking allocated one) is freed at the end.
template <typename T>
struct Unpacked {
    T s;
    Unpacked() { std::memset(&s, 0, sizeof s); }
    ~Unpacked() { free_tlv(s); }
    Unpacked(const Unpacked&) = delete;
    Unpacked& operator=(const Unpacked&) = delete;

private:
    template <typename U>
    static auto free_tlv(U& u) -> decltype(u.tlv, void()) {
        if (u.tlv)
            destroy_tlv(u.tlv);
        u.tlv = nullptr;
    }
    static void free_tlv(...) {}
};

} // namespace

const char* command_name(uint32_t id) {
    switch (id) {
    case kGenericNack:
        return "generic_nack";
    case kBindReceiver:
        return "bind_receiver";
    case kBindReceiverResp:
        return "bind_receiver_resp";
    case kBindTransmitter:
        return "bind_transmitter";
    case kBindTransmitterResp:
        return "bind_transmitter_resp";
    case kQuerySm:
        return "query_sm";
    case kQuerySmResp:
        return "query_sm_resp";
    case kSubmitSm:
        return "submit_sm";
    case kSubmitSmResp:
        return "submit_sm_resp";
    case kDeliverSm:
        return "deliver_sm";
    case kDeliverSmResp:
        return "deliver_sm_resp";
    case kUnbind:
        return "unbind";
    case kUnbindResp:
        return "unbind_resp";
    case kReplaceSm:
        return "replace_sm";
    case kReplaceSmResp:
        return "replace_sm_resp";
    case kCancelSm:
        return "cancel_sm";
    case kCancelSmResp:
        return "cancel_sm_resp";
    case kBindTransceiver:
        return "bind_transceiver";
    case kBindTransceiverResp:
        return "bind_transceiver_resp";
    case kOutbind:
        return "outbind";
    case kEnquireLink:
        return "enquire_link";
    case kEnquireLinkResp:
        return "enquire_link_resp";
    case kSubmitMulti:
        return "submit_multi";
    case kSubmitMultiResp:
        return "submit_multi_resp";
    case kAlertNotification:
        return "alert_notification";
    case kDataSm:
        return "data_sm";
    case kDataSmResp:
        return "data_sm_resp";
    default:
        return "unknown";
    }
}

uint32_t bind_command(BindType type) {
    switch (type) {
    case BindType::Transmitter:
        return kBindTransmitter;
    case BindType::Receiver:
        return kBindReceiver;
    case BindType::Transceiver:
        return kBindTransceiver;
    }
    return kBindTransceiver;
}

std::optional<Header> peek_header(ByteView in) {
    if (in.size() < kHeaderSize)
        return std::nullopt;
    auto be32 = [&](size_t off) {
        return static_cast<uint32_t>(in[off]) << 24 | static_cast<uint32_t>(in[off + 1]) << 16 |
               static_cast<uint32_t>(in[off + 2]) << 8 | in[off + 3];
    };
    return Header{be32(0), be32(4), be32(8), be32(12)};
}

Status encode(const Pdu& pdu, Bytes& out) {
    if (pdu.sequence_number == 0 || pdu.sequence_number > 0x7fffffff)
        return make_error(std::string(command_name(pdu.command_id)) +
                          ": sequence_number must be 1..0x7FFFFFFF");
    TlvList tlvs;
    auto bad_body = [&]() -> Status {
        return make_error(std::string(command_name(pdu.command_id)) +
                          ": body does not match the command");
    };
    switch (pdu.command_id) {
#define BIND_CASE(ID, TYPE)                                                                        \
    case ID: {                                                                                     \
        const Bind* b = std::get_if<Bind>(&pdu.body);                                              \
        if (!b)                                                                                    \
            return bad_body();                                                                     \
        TYPE s;                                                                                    \
        std::memset(&s, 0, sizeof s);                                                              \
        set_header(s, pdu);                                                                        \
        OTAGW_TRY_STATUS(fill_bind(s, *b));                                                        \
        return pack(s, ID, out, 256);                                                              \
    }
        BIND_CASE(kBindTransmitter, bind_transmitter_t)
        BIND_CASE(kBindReceiver, bind_receiver_t)
        BIND_CASE(kBindTransceiver, bind_transceiver_t)
#undef BIND_CASE
#define BIND_RESP_CASE(ID, TYPE)                                                                   \
    case ID: {                                                                                     \
        const BindResp* r = std::get_if<BindResp>(&pdu.body);                                      \
        if (!r)                                                                                    \
            return bad_body();                                                                     \
        TYPE s;                                                                                    \
        std::memset(&s, 0, sizeof s);                                                              \
        set_header(s, pdu);                                                                        \
        OTAGW_TRY_STATUS(fill_bind_resp(s, *r, tlvs));                                             \
        return pack(s, ID, out, 256);                                                              \
    }
        BIND_RESP_CASE(kBindTransmitterResp, bind_transmitter_resp_t)
        BIND_RESP_CASE(kBindReceiverResp, bind_receiver_resp_t)
        BIND_RESP_CASE(kBindTransceiverResp, bind_transceiver_resp_t)
#undef BIND_RESP_CASE
    case kSubmitSm: {
        const SubmitSm* m = std::get_if<SubmitSm>(&pdu.body);
        if (!m)
            return bad_body();
        auto s = std::make_unique<submit_sm_t>();
        std::memset(s.get(), 0, sizeof *s);
        set_header(*s, pdu);
        OTAGW_TRY_STATUS(fill_short_message(*s, kSubmitSm, *m, tlvs));
        return pack(*s, kSubmitSm, out, 512 + 4 * kMaxMessagePayload);
    }
    case kDeliverSm: {
        const DeliverSm* m = std::get_if<DeliverSm>(&pdu.body);
        if (!m)
            return bad_body();
        auto s = std::make_unique<deliver_sm_t>();
        std::memset(s.get(), 0, sizeof *s);
        set_header(*s, pdu);
        OTAGW_TRY_STATUS(fill_short_message(*s, kDeliverSm, *m, tlvs));
        return pack(*s, kDeliverSm, out, 512 + 4 * kMaxMessagePayload);
    }
    case kSubmitSmResp: {
        const SubmitSmResp* r = std::get_if<SubmitSmResp>(&pdu.body);
        if (!r)
            return bad_body();
        submit_sm_resp_t s;
        std::memset(&s, 0, sizeof s);
        set_header(s, pdu);
        OTAGW_TRY_STATUS(
            put_string(s.message_id, sizeof s.message_id, r->message_id, "message_id"));
        return pack(s, kSubmitSmResp, out, 128);
    }
    case kDeliverSmResp: {
        deliver_sm_resp_t s;
        std::memset(&s, 0, sizeof s);
        set_header(s, pdu); // message_id is unused in deliver_sm_resp (SMPP 3.4 §4.6.2): NULL
        return pack(s, kDeliverSmResp, out, 64);
    }
    case kAlertNotification: {
        const AlertNotification* a = std::get_if<AlertNotification>(&pdu.body);
        if (!a)
            return bad_body();
        alert_notification_t s;
        std::memset(&s, 0, sizeof s);
        set_header(s, pdu);
        OTAGW_TRY_STATUS(
            put_string(s.source_addr, sizeof s.source_addr, a->source.addr, "source_addr"));
        OTAGW_TRY_STATUS(put_string(s.esme_addr, sizeof s.esme_addr, a->esme.addr, "esme_addr"));
        s.source_addr_ton = a->source.ton;
        s.source_addr_npi = a->source.npi;
        s.esme_addr_ton = a->esme.ton;
        s.esme_addr_npi = a->esme.npi;
        if (a->ms_availability_status)
            OTAGW_TRY_STATUS(
                put_tlvs(kAlertNotification, &tlvs.head,
                         {Tlv{kTlvMsAvailabilityStatus, {*a->ms_availability_status}}}));
        s.tlv = tlvs.head;
        return pack(s, kAlertNotification, out, 256);
    }
#define EMPTY_CASE(ID, TYPE)                                                                       \
    case ID: {                                                                                     \
        TYPE s;                                                                                    \
        std::memset(&s, 0, sizeof s);                                                              \
        set_header(s, pdu);                                                                        \
        return pack(s, ID, out, 64);                                                               \
    }
        EMPTY_CASE(kEnquireLink, enquire_link_t)
        EMPTY_CASE(kEnquireLinkResp, enquire_link_resp_t)
        EMPTY_CASE(kUnbind, unbind_t)
        EMPTY_CASE(kUnbindResp, unbind_resp_t)
        EMPTY_CASE(kGenericNack, generic_nack_t)
#undef EMPTY_CASE
    default:
        return make_error(std::string("cannot encode ") + command_name(pdu.command_id));
    }
}

std::variant<Pdu, DecodeError> decode(ByteView in) {
    auto h = peek_header(in);
    if (!h)
        return DecodeError{ESME_RINVCMDLEN, "PDU shorter than its 16-byte header"};
    if (h->command_length != in.size())
        return DecodeError{ESME_RINVCMDLEN, "command_length " + std::to_string(h->command_length) +
                                                " but the PDU has " + std::to_string(in.size()) +
                                                " bytes"};
    Pdu pdu;
    pdu.command_id = h->command_id;
    pdu.command_status = h->command_status;
    pdu.sequence_number = h->sequence_number;
    const uint8_t* data = in.data();
    const int len = static_cast<int>(in.size());
    auto failed = [&](uint32_t status) {
        return DecodeError{status,
                           std::string(command_name(h->command_id)) + ": " + libsmpp34_reason()};
    };
    // A response with an error status may come without its body (SMPP 3.4 §3.3).
    const bool bodyless_error =
        (h->command_id & kResponseBit) && h->command_status != 0 && in.size() == kHeaderSize;
    BodyWalker walker(h->command_id, in.subspan(kHeaderSize));
    bool well_formed = true;
    switch (h->command_id) {
    case kSubmitSm:
    case kDeliverSm:
        well_formed = walk_short_message(walker, h->command_id == kDeliverSm);
        break;
    case kBindTransmitterResp:
    case kBindReceiverResp:
    case kBindTransceiverResp:
        well_formed = bodyless_error || (walker.c_string(16, "system_id") && walker.tlvs());
        break;
    case kAlertNotification:
        well_formed = walker.bytes(2, "source_addr_ton/npi") &&
                      walker.c_string(65, "source_addr") && walker.bytes(2, "esme_addr_ton/npi") &&
                      walker.c_string(65, "esme_addr") && walker.tlvs();
        break;
    default:
        break;
    }
    if (!well_formed)
        return DecodeError{h->command_id == kSubmitSm || h->command_id == kDeliverSm
                               ? uint32_t{ESME_RINVMSGLEN}
                               : uint32_t{ESME_RINVCMDLEN},
                           std::string(command_name(h->command_id)) + ": " + walker.error()};
    switch (h->command_id) {
#define BIND_CASE(ID, TYPE, BT)                                                                    \
    case ID: {                                                                                     \
        Unpacked<TYPE> u;                                                                          \
        if (smpp34_unpack(ID, &u.s, data, len) != 0)                                               \
            return failed(ESME_RINVCMDLEN);                                                        \
        pdu.body = read_bind(u.s, BT);                                                             \
        return pdu;                                                                                \
    }
        BIND_CASE(kBindTransmitter, bind_transmitter_t, BindType::Transmitter)
        BIND_CASE(kBindReceiver, bind_receiver_t, BindType::Receiver)
        BIND_CASE(kBindTransceiver, bind_transceiver_t, BindType::Transceiver)
#undef BIND_CASE
#define BIND_RESP_CASE(ID, TYPE, BT)                                                               \
    case ID: {                                                                                     \
        if (bodyless_error) {                                                                      \
            pdu.body = BindResp{BT, {}, {}};                                                       \
            return pdu;                                                                            \
        }                                                                                          \
        Unpacked<TYPE> u;                                                                          \
        if (smpp34_unpack(ID, &u.s, data, len) != 0)                                               \
            return failed(ESME_RINVCMDLEN);                                                        \
        pdu.body = read_bind_resp(u.s, BT);                                                        \
        return pdu;                                                                                \
    }
        BIND_RESP_CASE(kBindTransmitterResp, bind_transmitter_resp_t, BindType::Transmitter)
        BIND_RESP_CASE(kBindReceiverResp, bind_receiver_resp_t, BindType::Receiver)
        BIND_RESP_CASE(kBindTransceiverResp, bind_transceiver_resp_t, BindType::Transceiver)
#undef BIND_RESP_CASE
    case kSubmitSm: {
        auto u = std::make_unique<Unpacked<submit_sm_t>>();
        if (smpp34_unpack(kSubmitSm, &u->s, data, len) != 0)
            return failed(ESME_RINVMSGLEN);
        pdu.body = read_short_message<submit_sm_t, SubmitSm>(u->s, kSubmitSm);
        return pdu;
    }
    case kDeliverSm: {
        auto u = std::make_unique<Unpacked<deliver_sm_t>>();
        if (smpp34_unpack(kDeliverSm, &u->s, data, len) != 0)
            return failed(ESME_RINVMSGLEN);
        pdu.body = read_short_message<deliver_sm_t, DeliverSm>(u->s, kDeliverSm);
        return pdu;
    }
    case kSubmitSmResp: {
        if (bodyless_error) {
            pdu.body = SubmitSmResp{};
            return pdu;
        }
        Unpacked<submit_sm_resp_t> u;
        if (smpp34_unpack(kSubmitSmResp, &u.s, data, len) != 0)
            return failed(ESME_RINVCMDLEN);
        pdu.body = SubmitSmResp{get_string(u.s.message_id, sizeof u.s.message_id)};
        return pdu;
    }
    case kDeliverSmResp: {
        if (bodyless_error) {
            pdu.body = DeliverSmResp{};
            return pdu;
        }
        Unpacked<deliver_sm_resp_t> u;
        if (smpp34_unpack(kDeliverSmResp, &u.s, data, len) != 0)
            return failed(ESME_RINVCMDLEN);
        pdu.body = DeliverSmResp{get_string(u.s.message_id, sizeof u.s.message_id)};
        return pdu;
    }
    case kAlertNotification: {
        Unpacked<alert_notification_t> u;
        if (smpp34_unpack(kAlertNotification, &u.s, data, len) != 0)
            return failed(ESME_RINVCMDLEN);
        AlertNotification a;
        a.source = {u.s.source_addr_ton, u.s.source_addr_npi,
                    get_string(u.s.source_addr, sizeof u.s.source_addr)};
        a.esme = {u.s.esme_addr_ton, u.s.esme_addr_npi,
                  get_string(u.s.esme_addr, sizeof u.s.esme_addr)};
        for (const Tlv& t : get_tlvs(kAlertNotification, u.s.tlv))
            if (t.tag == kTlvMsAvailabilityStatus && t.value.size() == 1)
                a.ms_availability_status = t.value[0];
        pdu.body = a;
        return pdu;
    }
    case kEnquireLink:
    case kEnquireLinkResp:
    case kUnbind:
    case kUnbindResp:
    case kGenericNack:
        if (in.size() != kHeaderSize)
            return DecodeError{ESME_RINVCMDLEN, std::string(command_name(h->command_id)) +
                                                    " carries " +
                                                    std::to_string(in.size() - kHeaderSize) +
                                                    " body bytes, it has none"};
        pdu.body = NoBody{};
        return pdu;
    default:
        return DecodeError{ESME_RINVCMDID, std::string("unsupported command ") +
                                               command_name(h->command_id) + " (" +
                                               std::to_string(h->command_id) + ")"};
    }
}

} // namespace otagw::smpp
