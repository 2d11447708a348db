// SPDX-License-Identifier: GPL-2.0-or-later
// TLS with pre-shared keys (RFC 4279) on mbedTLS, as SCP81 needs it (GP Card Spec 2.3
// Amendment B §3.3.2): TLS 1.0 to 1.2, the PSK suites the amendment lists that Debian 12's
// mbedTLS 2.28 can serve (TLS_PSK_WITH_AES_128_CBC_SHA256 0x00AE, TLS_PSK_WITH_AES_128_CBC_SHA
// 0x008C, TLS_PSK_WITH_3DES_EDE_CBC_SHA 0x008B; no NULL suites, no TLS 1.3), and RFC 6066
// maximum fragment length down to 512.
//
// No I/O here: a Session is a memory pipe. Bytes from the network go in with feed(), bytes for
// the network come out of take_output(), application data goes in with write() and comes out
// of take_plain(). The caller (a libuv stream, a test) moves the bytes; nothing blocks.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "otagw/common/bytes.hpp"
#include "otagw/common/result.hpp"

namespace otagw::tls {

constexpr uint16_t kPskAes128CbcSha256 = 0x00ae;
constexpr uint16_t kPskAes128CbcSha = 0x008c;
constexpr uint16_t kPskTripleDesEdeCbcSha = 0x008b;

// "PSK-AES128-CBC-SHA256" style names of the suites above, and back.
std::string suite_name(uint16_t suite);
std::optional<uint16_t> suite_by_name(std::string_view name);

// TLS versions as the record layer codes them: 0x0301 TLS 1.0, 0x0302 1.1, 0x0303 1.2.
constexpr uint16_t kTls10 = 0x0301, kTls11 = 0x0302, kTls12 = 0x0303;

struct PskOptions {
    std::vector<uint16_t> suites{kPskAes128CbcSha256, kPskAes128CbcSha};
    uint16_t min_version = kTls12;
    uint16_t max_version = kTls12;
    // Client: its identity and key, and the maximum fragment length it asks for (RFC 6066: 512,
    // 1024, 2048 or 4096; 0 asks for none).
    Bytes identity;
    Bytes psk;
    uint16_t max_fragment = 0;
};

class Session;
// The server's lookup of a PSK identity for `session` (whose context() the caller set): the
// key (16 to 32 bytes), or nullopt for an unknown identity (the handshake then fails with alert
// unknown_psk_identity, RFC 4279 §2).
using PskLookup = std::function<std::optional<Bytes>(ByteView identity, Session& session)>;

// Shared by every session of one side: mbedTLS's configuration and its random generator.
class Config {
public:
    static Result<std::shared_ptr<Config>> server(const PskOptions& options, PskLookup lookup);
    static Result<std::shared_ptr<Config>> client(const PskOptions& options);
    ~Config();
    Config(const Config&) = delete;
    Config& operator=(const Config&) = delete;

    struct Impl;
    Impl& impl() { return *impl_; }

private:
    explicit Config(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

class Session {
public:
    enum class State { Handshake, Open, Closed, Failed };

    explicit Session(std::shared_ptr<Config> config);
    ~Session();
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    // A client starts its handshake (the ClientHello goes to take_output()); a server waits
    // for the peer's bytes.
    Status start();
    // Bytes from the peer. An error fails the session (state Failed, error() says why: an
    // unknown PSK identity, a bad record MAC from a wrong key, a malformed record...), and
    // take_output() may hold an alert for the peer.
    Status feed(ByteView bytes);
    // Application data to send (Open only), cut into records of the negotiated fragment size.
    Status write(ByteView plain);
    // Sends close_notify; the state becomes Closed.
    void close();

    Bytes take_output();
    Bytes take_plain();
    State state() const { return state_; }
    const std::string& error() const { return error_; }

    // Known once the handshake is done (the identity as soon as the peer sent it).
    const Bytes& identity() const { return identity_; }
    uint16_t suite() const;
    std::string version() const; // "TLSv1.2"
    size_t max_fragment() const; // what this side sends per record
    bool peer_closed() const { return peer_closed_; }

    // The server's PSK callback records the identity the peer sent.
    void note_identity(ByteView identity);
    // The caller's own pointer for this session, handed back to its PskLookup.
    void set_context(void* context) { context_ = context; }
    void* context() const { return context_; }

    struct Impl;

private:
    Status advance(); // runs the handshake or reads records, as far as the input goes
    Status fail(int mbedtls_error);

    std::shared_ptr<Config> config_;
    std::unique_ptr<Impl> impl_;
    State state_ = State::Handshake;
    std::string error_;
    Bytes identity_;
    bool peer_closed_ = false;
    void* context_ = nullptr;
};

} // namespace otagw::tls
