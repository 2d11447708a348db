// SPDX-License-Identifier: GPL-2.0-or-later
// The daemon's configuration as plain structs. The VTY code (vty_config.cpp) fills them from
// the config file in Osmocom VTY syntax and writes them back (`write terminal`), so a config
// round-trips; modules receive their part as a plain struct.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "bip/admin_session_fsm.hpp"
#include "intake/application_request.hpp"
#include "otagw/db/store.hpp"
#include "otagw/smpp/esme.hpp"
#include "requests/card_keys.hpp"
#include "requests/request_fsm.hpp"

namespace otagw::gateway {

struct DbConfig {
    std::string path = "ota-gateway.db";
    std::string synchronous = "FULL";
    int busy_timeout_ms = 200;   // a write waits this long for another process's lock
    std::string master_key_file; // read at start; empty: use the variable
    std::string master_key_env = "OTAGW_MASTER_KEY"; // the variable's name, never its value
};

struct ApiToken {
    std::string name;   // who, for the audit log ("ops")
    std::string sha256; // of the bearer token, hex: the config never holds the token itself
};

struct ApiConfig {
    std::string ip = "127.0.0.1";
    uint16_t port = 8080;
    std::vector<ApiToken> tokens;
    size_t max_connections = 64;
    // Slow clients (http::ServerOptions): unauthenticated connections per client address, and
    // the time a request's head, then its buffered body, may take.
    size_t max_per_address = 16;
    uint32_t head_timeout_s = 10;
    uint32_t body_timeout_s = 60;
};

struct OtaConfig {
    // SPI (ETSI TS 102 225 §5.1.1): '16' CC, ciphered, counter higher; '39' PoR required, with
    // a CC, ciphered, sent by SMS-SUBMIT: osmo-msc drops a PoR in the delivery report.
    uint16_t spi = 0x1639;
    uint8_t kvn = 1;
    // When the SPI asks for a redundancy check (RC) instead of a cryptographic checksum, the
    // CRC the KID names (TS 102 225 §5.1.3); no KID key is used then.
    RcType rc = RcType::Crc32;
    std::optional<RcType> rc_in_use() const {
        return (spi >> 8 & 0x03) == 0x01 ? std::optional<RcType>(rc) : std::nullopt;
    }
    // The named timers and limits (`timer NAME VALUE`, config/timers.hpp): the request's...
    RequestLimits limits;
    // ...a card's BIP admin channel's...
    bip::SessionLimits bip;
    // ...a campaign target that failed for a transient reason is tried again after
    // campaign_retry_delay_s, doubled at each further try up to campaign_retry_max_s...
    uint32_t campaign_retry_delay_s = 30;
    uint32_t campaign_retry_max_s = 600;
    // ...and a provider's result not acknowledged is sent again after callback_retry_s, doubled
    // up to callback_retry_max_s.
    uint32_t callback_retry_s = 5;
    uint32_t callback_retry_max_s = 300;
    uint32_t callback_tries = 20; // then the result is given up (logged, audited)
    // The timers the config names (written back even at their default, so a config round-trips).
    std::vector<std::string> timers_given;
    // Loading a CAP file: a secured packet fills at most this many concatenated SMS
    // (TS 23.040 §9.2.3.24.1), and INSTALL [for load] carries the load file data block's hash
    // (GP 2.3 §11.5.2.3.3) when the cards want one.
    uint32_t max_segments = 4;
    enum class LoadHash : uint8_t { None, Sha1, Sha256 } load_hash = LoadHash::None;
    // The bearer of a request's scripts: SMS-PP, BIP (SCP81 over the RAS), or auto: BIP when
    // the request's scripts would take more than bip_above_sms SMS (a CAP load), else SMS-PP.
    // A request or a campaign may name its own.
    enum class Bearer : uint8_t { SmsPp, Bip, Auto } bearer = Bearer::SmsPp;
    uint32_t bip_above_sms = 4;
};

// The Remote Administration Server (GP Card Spec 2.3 Amendment B): where the cards' BIP
// sessions come in over PSK-TLS, and what a push tells them. No `listen`: no RAS.
struct RasConfig {
    std::string ip; // listen address; empty: the RAS is off
    uint16_t port = 0;
    std::string card_ip;      // what the push tells the cards ('84' Other address); default: ip
    uint16_t card_port = 0;   // default: port
    std::string host;         // Host header ('8A'); default: card_ip
    std::string uri = "/ras"; // the first POST's URI ('8C')
    std::string agent_id = "{iccid}";  // X-Admin-From ('8B'); {iccid} is the card's ICCID
    std::string apn;                   // the bearer's APN ('84' Network Access Name)
    uint16_t buffer_size = 1400;       // the channel's buffer ('84' Buffer size)
    uint32_t session_timeout_s = 120;  // a session with no POST for this long is closed
    uint32_t handshake_timeout_s = 30; // TCP accept to a finished TLS handshake
    size_t max_sessions = 10000;       // connections at once; more are refused
    std::vector<uint16_t> suites{0x00ae, 0x008c}; // TLS suites offered (tls_psk.hpp)
    uint16_t min_version = 0x0303;                // TLS 1.2; 0x0301 for cards of Amendment B v1.1
    uint16_t retry_count = 0;                     // the push's Session Retry Policy ('86')
    uint32_t retry_delay_s = 0;
    bool enabled() const { return !ip.empty(); }
};

struct ProviderConfig {
    std::string name;
    std::string url;
    std::string secret_file; // the HMAC-SHA256 shared secret
    std::string ca_file;     // trust this CA (PEM) for the provider's HTTPS, not the system's
    uint32_t timeout_ms = 10000;
    uint32_t retries = 3;
    size_t max_answer_bytes = 1 << 20; // a larger answer is provider_error, not read whole
    bool insecure_http = false;        // allow an http:// url (tests, never production)
};

// Application requests by SMS (doc/application-requests.md).
struct RequestsConfig {
    std::string short_code; // the number subscribers send requests to; empty: none taken
    std::string region;     // ISO 3166-1 region for national numbers; empty: international only
    std::vector<std::string> ranges; // E.164 prefixes served; empty: every number
    std::vector<Keywords> keywords = default_keywords();
};

struct GatewayConfig {
    smpp::EsmeConfig smpp;
    DbConfig db;
    ApiConfig api;
    OtaConfig ota;
    RequestsConfig requests;
    RasConfig ras;
    std::vector<db::Application> applications;
    // The CAP file of an application installed by loading it (`application NAME / cap FILE`),
    // by application name.
    std::map<std::string, std::string> cap_files;
    std::vector<ProviderConfig> providers;
};

} // namespace otagw::gateway
