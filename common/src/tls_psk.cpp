// SPDX-License-Identifier: GPL-2.0-or-later
#include "otagw/common/tls_psk.hpp"

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/ssl.h>
#include <mbedtls/ssl_ciphersuites.h>

#include <algorithm>
#include <cstring>

namespace otagw::tls {

namespace {

struct SuiteName {
    uint16_t id;
    const char* name;
};
constexpr SuiteName kSuites[] = {
    {kPskAes128CbcSha256, "PSK-AES128-CBC-SHA256"},
    {kPskAes128CbcSha, "PSK-AES128-CBC-SHA"},
    {kPskTripleDesEdeCbcSha, "PSK-3DES-EDE-CBC-SHA"},
};

std::string mbedtls_message(int err) {
    char buf[160];
    mbedtls_strerror(err, buf, sizeof buf);
    return std::string(buf);
}

int minor_of(uint16_t version) {
    return version & 0xff;
}

} // namespace

std::string suite_name(uint16_t suite) {
    for (const auto& s : kSuites)
        if (s.id == suite)
            return s.name;
    char hex[8];
    std::snprintf(hex, sizeof hex, "0x%04x", suite);
    return hex;
}

std::optional<uint16_t> suite_by_name(std::string_view name) {
    for (const auto& s : kSuites)
        if (name == s.name)
            return s.id;
    return std::nullopt;
}

struct Config::Impl {
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
    mbedtls_ssl_config conf;
    std::vector<int> suites; // zero-terminated, kept alive for mbedTLS
    PskLookup lookup;
    Bytes identity, psk; // client

    Impl() {
        mbedtls_entropy_init(&entropy);
        mbedtls_ctr_drbg_init(&drbg);
        mbedtls_ssl_config_init(&conf);
    }
    ~Impl() {
        mbedtls_ssl_config_free(&conf);
        mbedtls_ctr_drbg_free(&drbg);
        mbedtls_entropy_free(&entropy);
        std::fill(psk.begin(), psk.end(), 0);
    }
};

struct Session::Impl {
    mbedtls_ssl_context ssl;
    Bytes in; // from the peer, not yet read by mbedTLS
    size_t in_pos = 0;
    Bytes out;   // for the peer
    Bytes plain; // application data read
    Session* owner = nullptr;

    Impl() { mbedtls_ssl_init(&ssl); }
    ~Impl() { mbedtls_ssl_free(&ssl); }

    static int send(void* ctx, const unsigned char* buf, size_t len) {
        auto* self = static_cast<Impl*>(ctx);
        self->out.insert(self->out.end(), buf, buf + len);
        return static_cast<int>(len);
    }
    static int recv(void* ctx, unsigned char* buf, size_t len) {
        auto* self = static_cast<Impl*>(ctx);
        const size_t left = self->in.size() - self->in_pos;
        if (left == 0)
            return MBEDTLS_ERR_SSL_WANT_READ;
        const size_t n = std::min(len, left);
        std::memcpy(buf, self->in.data() + self->in_pos, n);
        self->in_pos += n;
        if (self->in_pos == self->in.size()) {
            self->in.clear();
            self->in_pos = 0;
        }
        return static_cast<int>(n);
    }
};

namespace {

// mbedTLS's PSK callback: the session is found through the context's BIO pointer.
int on_psk(void* config, mbedtls_ssl_context* ssl, const unsigned char* id, size_t id_len) {
    auto* c = static_cast<Config::Impl*>(config);
    auto* s = static_cast<Session::Impl*>(ssl->p_bio);
    const ByteView identity(id, id_len);
    s->owner->note_identity(identity);
    std::optional<Bytes> key = c->lookup ? c->lookup(identity, *s->owner) : std::nullopt;
    if (!key)
        return -1; // mbedTLS sends unknown_psk_identity
    const int rc = mbedtls_ssl_set_hs_psk(ssl, key->data(), key->size());
    std::fill(key->begin(), key->end(), 0);
    return rc;
}

Result<std::unique_ptr<Config::Impl>> make_impl(int endpoint, const PskOptions& o) {
    auto impl = std::make_unique<Config::Impl>();
    static const char kPersonal[] = "otagw tls psk";
    int rc = mbedtls_ctr_drbg_seed(&impl->drbg, mbedtls_entropy_func, &impl->entropy,
                                   reinterpret_cast<const unsigned char*>(kPersonal),
                                   sizeof kPersonal - 1);
    if (rc != 0)
        return make_error("TLS: seeding the random generator: " + mbedtls_message(rc));
    rc = mbedtls_ssl_config_defaults(&impl->conf, endpoint, MBEDTLS_SSL_TRANSPORT_STREAM,
                                     MBEDTLS_SSL_PRESET_DEFAULT);
    if (rc != 0)
        return make_error("TLS: configuration: " + mbedtls_message(rc));
    mbedtls_ssl_conf_rng(&impl->conf, mbedtls_ctr_drbg_random, &impl->drbg);
    if (o.suites.empty())
        return make_error("TLS: no cipher suite configured");
    for (uint16_t s : o.suites) {
        if (!mbedtls_ssl_ciphersuite_from_id(s))
            return make_error("TLS: cipher suite " + suite_name(s) +
                              " is not available in this mbedTLS");
        impl->suites.push_back(s);
    }
    impl->suites.push_back(0);
    mbedtls_ssl_conf_ciphersuites(&impl->conf, impl->suites.data());
    if (o.min_version < kTls10 || o.max_version > kTls12 || o.min_version > o.max_version)
        return make_error("TLS: versions must be TLS 1.0 to 1.2, the lowest first");
    mbedtls_ssl_conf_min_version(&impl->conf, MBEDTLS_SSL_MAJOR_VERSION_3, minor_of(o.min_version));
    mbedtls_ssl_conf_max_version(&impl->conf, MBEDTLS_SSL_MAJOR_VERSION_3, minor_of(o.max_version));
    return impl;
}

} // namespace

Config::Config(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Config::~Config() = default;

Result<std::shared_ptr<Config>> Config::server(const PskOptions& options, PskLookup lookup) {
    auto impl = make_impl(MBEDTLS_SSL_IS_SERVER, options);
    if (!impl)
        return impl.take_error();
    (*impl)->lookup = std::move(lookup);
    mbedtls_ssl_conf_psk_cb(&(*impl)->conf, on_psk, impl->get());
    return std::shared_ptr<Config>(new Config(std::move(*impl)));
}

Result<std::shared_ptr<Config>> Config::client(const PskOptions& options) {
    auto impl = make_impl(MBEDTLS_SSL_IS_CLIENT, options);
    if (!impl)
        return impl.take_error();
    Impl& c = **impl;
    c.identity = options.identity;
    c.psk = options.psk;
    int rc = mbedtls_ssl_conf_psk(&c.conf, c.psk.data(), c.psk.size(), c.identity.data(),
                                  c.identity.size());
    if (rc != 0)
        return make_error("TLS: the PSK (" + std::to_string(c.psk.size()) +
                          " bytes) or its identity is refused: " + mbedtls_message(rc));
    unsigned char code = MBEDTLS_SSL_MAX_FRAG_LEN_NONE;
    switch (options.max_fragment) {
    case 0:
        break;
    case 512:
        code = MBEDTLS_SSL_MAX_FRAG_LEN_512;
        break;
    case 1024:
        code = MBEDTLS_SSL_MAX_FRAG_LEN_1024;
        break;
    case 2048:
        code = MBEDTLS_SSL_MAX_FRAG_LEN_2048;
        break;
    case 4096:
        code = MBEDTLS_SSL_MAX_FRAG_LEN_4096;
        break;
    default:
        return make_error("TLS: a maximum fragment length is 512, 1024, 2048 or 4096 (RFC 6066)");
    }
    mbedtls_ssl_conf_max_frag_len(&c.conf, code);
    return std::shared_ptr<Config>(new Config(std::move(*impl)));
}

Session::Session(std::shared_ptr<Config> config)
    : config_(std::move(config)), impl_(std::make_unique<Impl>()) {
    impl_->owner = this;
}

Session::~Session() = default;

void Session::note_identity(ByteView identity) {
    identity_.assign(identity.begin(), identity.end());
}

Status Session::start() {
    const int rc = mbedtls_ssl_setup(&impl_->ssl, &config_->impl().conf);
    if (rc != 0)
        return fail(rc);
    mbedtls_ssl_set_bio(&impl_->ssl, impl_.get(), Impl::send, Impl::recv, nullptr);
    return advance();
}

Status Session::fail(int err) {
    state_ = State::Failed;
    error_ = mbedtls_message(err);
    return make_error("TLS: " + error_);
}

Status Session::advance() {
    mbedtls_ssl_context* ssl = &impl_->ssl;
    if (state_ == State::Handshake) {
        const int rc = mbedtls_ssl_handshake(ssl);
        if (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE)
            return {};
        if (rc != 0)
            return fail(rc);
        state_ = State::Open;
    }
    while (state_ == State::Open) {
        uint8_t buf[4096];
        const int n = mbedtls_ssl_read(ssl, buf, sizeof buf);
        if (n > 0) {
            impl_->plain.insert(impl_->plain.end(), buf, buf + n);
            continue;
        }
        if (n == MBEDTLS_ERR_SSL_WANT_READ || n == MBEDTLS_ERR_SSL_WANT_WRITE)
            return {};
        if (n == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY || n == 0) {
            peer_closed_ = true;
            state_ = State::Closed;
            return {};
        }
        return fail(n);
    }
    return {};
}

Status Session::feed(ByteView bytes) {
    if (state_ == State::Failed)
        return make_error("TLS: " + error_);
    if (state_ == State::Closed)
        return {};
    impl_->in.insert(impl_->in.end(), bytes.begin(), bytes.end());
    return advance();
}

Status Session::write(ByteView plain) {
    if (state_ != State::Open)
        return make_error("TLS: the session is not open");
    size_t done = 0;
    while (done < plain.size()) {
        const int n = mbedtls_ssl_write(&impl_->ssl, plain.data() + done, plain.size() - done);
        if (n < 0)
            return fail(n);
        done += static_cast<size_t>(n);
    }
    return {};
}

void Session::close() {
    if (state_ == State::Open)
        (void)mbedtls_ssl_close_notify(&impl_->ssl);
    if (state_ != State::Failed)
        state_ = State::Closed;
}

Bytes Session::take_output() {
    return std::exchange(impl_->out, Bytes());
}

Bytes Session::take_plain() {
    return std::exchange(impl_->plain, Bytes());
}

uint16_t Session::suite() const {
    const char* name = mbedtls_ssl_get_ciphersuite(&impl_->ssl);
    return name ? static_cast<uint16_t>(mbedtls_ssl_get_ciphersuite_id(name)) : 0;
}

std::string Session::version() const {
    return mbedtls_ssl_get_version(&impl_->ssl);
}

size_t Session::max_fragment() const {
    return mbedtls_ssl_get_output_max_frag_len(&impl_->ssl);
}

} // namespace otagw::tls
