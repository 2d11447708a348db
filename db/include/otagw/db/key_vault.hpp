// SPDX-License-Identifier: GPL-2.0-or-later
// Card keys at rest: sealed with AES-256-GCM under the master key, which is read from a file or
// an environment variable and never stored, printed or logged. The additional data binds a
// sealed key to its place (card, keyset, role), so a key copied into another row does not open.
//
// Sealed form: '01' (format) || nonce (12 random bytes) || ciphertext || tag (16 bytes).
#pragma once

#include <array>
#include <memory>
#include <string>

#include "otagw/common/bytes.hpp"
#include "otagw/common/result.hpp"

namespace otagw::db {

class KeyVault {
public:
    static constexpr size_t kMasterKeySize = 32;
    static constexpr size_t kOverhead = 1 + 12 + 16;

    // The master key as 64 hex digits (surrounding whitespace ignored). Errors name the source,
    // never the content.
    static Result<KeyVault> from_hex(std::string_view hex, const std::string& source);
    static Result<KeyVault> from_file(const std::string& path);
    static Result<KeyVault> from_env(const char* variable);

    KeyVault(KeyVault&&) noexcept;
    KeyVault& operator=(KeyVault&&) noexcept;
    ~KeyVault(); // wipes the key schedule

    Result<Bytes> seal(ByteView plain, std::string_view aad) const;
    // Fails (without saying more) when the data was changed, or belongs to another place.
    Result<Bytes> open(ByteView sealed, std::string_view aad) const;

private:
    struct State;
    explicit KeyVault(std::unique_ptr<State> s);
    std::unique_ptr<State> s_;
};

// The additional data for a key of a keyset: "<iccid>/<kvn>/<role>" (role kic, kid or kik of
// an OTA keyset, KVN 1..15; psk or dek of an SCP81 keyset, KVN 64..79).
std::string key_aad(std::string_view iccid, unsigned kvn, std::string_view role);

} // namespace otagw::db
