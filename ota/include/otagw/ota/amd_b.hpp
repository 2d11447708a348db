// SPDX-License-Identifier: GPL-2.0-or-later
// GlobalPlatform Card Specification 2.3 Amendment B ("Remote Application Management over
// HTTP", SCP81), the parts the gateway writes: the Administration Session Triggering
// Parameters a push carries to the security domain (§3.7 Table 3-3, §3.8) and the constants of
// the HTTP admin protocol (§3.4). The push is an ordinary secured packet to the ISD's TAR whose
// secured data is this '81' template itself (ETSI TS 101 220 §7.2 lists '81' beside the
// 'AA'/'AE' templates), not a C-APDU.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "otagw/common/bytes.hpp"
#include "otagw/common/result.hpp"

namespace otagw::ota::amdb {

// §3.4: header values.
constexpr std::string_view kAdminProtocol = "globalplatform-remote-admin/1.0";
constexpr std::string_view kCommandContentType =
    "application/vnd.globalplatform.card-content-mgt;version=1.0";
constexpr std::string_view kResponseContentType =
    "application/vnd.globalplatform.card-content-mgt-response;version=1.0";

// Table 3-3 tags.
constexpr uint8_t kTagTrigger = 0x81;
constexpr uint8_t kTagSessionParameters = 0x83;
constexpr uint8_t kTagRasConnection = 0x84;
constexpr uint8_t kTagSecurity = 0x85;
constexpr uint8_t kTagRetryPolicy = 0x86;
constexpr uint8_t kTagHttpPost = 0x89;
constexpr uint8_t kTagHost = 0x8a;
constexpr uint8_t kTagAgentId = 0x8b;
constexpr uint8_t kTagUri = 0x8c;

// '84' RAS Connection Parameters: the COMPREHENSION-TLVs of an OPEN CHANNEL (ETSI TS 102 223
// §6.6.27) for a TCP connection from the card to the server, in the card's "UICC client,
// remote" mode.
struct RasConnection {
    uint8_t bearer = 0x03;         // '35' Bearer description (§8.52): '03' default bearer
    uint16_t buffer_size = 1400;   // '39' Buffer size (§8.55)
    std::string apn;               // '47' Network Access Name (§8.61); empty: none
    std::array<uint8_t, 4> ipv4{}; // '3E' Other address (§8.58), type '21' IPv4
    uint16_t port = 0;             // '3C' UICC/terminal interface transport level (§8.59), '02'
};

// '85' Security Parameters (§3.8.2 Table 3-6): the PSK identity, then '02' KVN KID.
struct SecurityParameters {
    Bytes identity;
    uint8_t kvn = 0x40;
    uint8_t kid = 0x01;
};

// '86' Session Retry Policy (§3.8.3): a retry counter and the delay between retries as a Timer
// Value TLV (TS 102 223 §8.38).
struct RetryPolicy {
    uint16_t counter = 0;
    uint32_t delay_s = 0;
};

// '89' HTTP POST Parameters: the Host header, X-Admin-From, and the URI of the first POST.
struct HttpPost {
    std::string host;
    std::string agent_id;
    std::string uri;
};

// What the push sets; a part left out is completed by the card from its security domain (and
// then the ISD), §3.7.
struct Trigger {
    std::optional<RasConnection> connection;
    std::optional<SecurityParameters> security;
    std::optional<RetryPolicy> retry;
    std::optional<HttpPost> http;
};

// The '81' template, lengths in BER. Errors name the part too large for its field.
Result<Bytes> encode_trigger(const Trigger& trigger);

// The Timer Value TLV of TS 102 223 §8.38 (tag '25' with its comprehension-required bit, 'A5'):
// hours, minutes, seconds, each two BCD digits with the nibbles swapped as in TP-SCTS
// (Wireshark's ETSI CAT dissector reads it so). At most 99:59:59.
Result<Bytes> timer_value(uint32_t seconds);

// The Network Access Name of §8.61: the APN as DNS labels (TS 23.003 §9.1), "internet" ->
// 08 'internet'. Labels of 1 to 63 characters.
Result<Bytes> apn_labels(std::string_view apn);

} // namespace otagw::ota::amdb
