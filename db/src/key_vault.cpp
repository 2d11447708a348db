// SPDX-License-Identifier: GPL-2.0-or-later
#include "otagw/db/key_vault.hpp"

#include <sys/random.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include <mbedtls/gcm.h>
#include <mbedtls/platform_util.h>

#include "otagw/common/files.hpp"

namespace otagw::db {

namespace {

constexpr uint8_t kFormat = 0x01;
constexpr size_t kNonceSize = 12;
constexpr size_t kTagSize = 16;

Status random_bytes(uint8_t* out, size_t n) {
    while (n) {
        const ssize_t got = getrandom(out, n, 0);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            return make_error(std::string("getrandom: ") + std::strerror(errno));
        }
        out += got;
        n -= static_cast<size_t>(got);
    }
    return {};
}

} // namespace

struct KeyVault::State {
    mbedtls_gcm_context gcm;
    // Nonces come from the kernel's CSPRNG in blocks (one getrandom per 341 seals): a million
    // imported cards seal six million keys.
    uint8_t pool[4092];
    size_t pool_left = 0;
    State() { mbedtls_gcm_init(&gcm); }
    ~State() {
        mbedtls_gcm_free(&gcm);
        mbedtls_platform_zeroize(pool, sizeof pool);
    }
    Status nonce(uint8_t* out) {
        if (pool_left < kNonceSize) {
            OTAGW_TRY_STATUS(random_bytes(pool, sizeof pool));
            pool_left = sizeof pool;
        }
        std::memcpy(out, pool + sizeof pool - pool_left, kNonceSize);
        mbedtls_platform_zeroize(pool + sizeof pool - pool_left, kNonceSize);
        pool_left -= kNonceSize;
        return {};
    }
};

KeyVault::KeyVault(std::unique_ptr<State> s) : s_(std::move(s)) {}
KeyVault::KeyVault(KeyVault&&) noexcept = default;
KeyVault& KeyVault::operator=(KeyVault&&) noexcept = default;
KeyVault::~KeyVault() = default;

Result<KeyVault> KeyVault::from_hex(std::string_view text, const std::string& source) {
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())))
        text.remove_prefix(1);
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
        text.remove_suffix(1);
    auto key = parse_hex_exact(text, kMasterKeySize, "master key");
    if (!key)
        return make_error(source + ": the master key must be " +
                          std::to_string(kMasterKeySize * 2) + " hex digits (AES-256)");
    auto s = std::make_unique<State>();
    const int rc = mbedtls_gcm_setkey(&s->gcm, MBEDTLS_CIPHER_ID_AES, key->data(), 256);
    mbedtls_platform_zeroize(key->data(), key->size());
    if (rc != 0)
        return make_error(source + ": cannot set up AES-GCM");
    return KeyVault(std::move(s));
}

Result<KeyVault> KeyVault::from_file(const std::string& path) {
    OTAGW_TRY_STATUS(only_owner_may_read(path, "master key file"));
    std::ifstream in(path);
    if (!in)
        return make_error("master key file " + path + ": cannot open");
    std::stringstream text;
    text << in.rdbuf();
    std::string content = text.str();
    auto vault = from_hex(content, "master key file " + path);
    mbedtls_platform_zeroize(content.data(), content.size());
    return vault;
}

Result<KeyVault> KeyVault::from_env(const char* variable) {
    const char* value = std::getenv(variable);
    if (!value || !*value)
        return make_error(std::string("environment variable ") + variable + " is not set");
    return from_hex(value, std::string("environment variable ") + variable);
}

Result<Bytes> KeyVault::seal(ByteView plain, std::string_view aad) const {
    Bytes out(kOverhead + plain.size());
    out[0] = kFormat;
    uint8_t* nonce = out.data() + 1;
    OTAGW_TRY_STATUS(s_->nonce(nonce));
    uint8_t* body = nonce + kNonceSize;
    const int rc =
        mbedtls_gcm_crypt_and_tag(&s_->gcm, MBEDTLS_GCM_ENCRYPT, plain.size(), nonce, kNonceSize,
                                  reinterpret_cast<const uint8_t*>(aad.data()), aad.size(),
                                  plain.data(), body, kTagSize, body + plain.size());
    if (rc != 0)
        return make_error("key vault: sealing failed");
    return out;
}

Result<Bytes> KeyVault::open(ByteView sealed, std::string_view aad) const {
    if (sealed.size() < kOverhead || sealed[0] != kFormat)
        return make_error("key vault: not a sealed key");
    const uint8_t* nonce = sealed.data() + 1;
    const uint8_t* body = nonce + kNonceSize;
    const size_t n = sealed.size() - kOverhead;
    Bytes plain(n);
    const int rc = mbedtls_gcm_auth_decrypt(&s_->gcm, n, nonce, kNonceSize,
                                            reinterpret_cast<const uint8_t*>(aad.data()),
                                            aad.size(), body + n, kTagSize, body, plain.data());
    if (rc != 0)
        return make_error("key vault: a sealed key does not open (wrong master key, or the data "
                          "was changed or moved)");
    return plain;
}

std::string key_aad(std::string_view iccid, unsigned kvn, std::string_view role) {
    std::string s;
    s.reserve(iccid.size() + role.size() + 6);
    s.append(iccid).append("/").append(std::to_string(kvn)).append("/").append(role);
    return s;
}

} // namespace otagw::db
