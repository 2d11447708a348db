// SPDX-License-Identifier: GPL-2.0-or-later
// The gateway's side of the provider interface (doc/provider-api.md): JSON calls to a
// provider's HTTPS endpoint, each body signed with HMAC-SHA256 under the provider's shared
// secret (header X-OTAGW-Signature: hex), each answer's signature checked; a timeout or a 5xx
// is tried again up to `retries` times with a growing pause (then an Errc::Io error), a 4xx or
// a bad signature is not (a bad signature or a body that is not JSON: Errc::Invalid).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "config/config.hpp"
#include "otagw/common/bytes.hpp"
#include "otagw/common/result.hpp"
#include "otagw/common/uv.hpp"
#include "otagw/http/curl_client.hpp"

namespace otagw::gateway {

constexpr const char* kSignatureHeader = "X-OTAGW-Signature";

// A provider's shared secret from its file (`secret-file`): the bytes of the file without
// trailing line ends; an error (never the secret) when unreadable, empty, or readable by group or
// others.
Result<Bytes> read_secret_file(const std::string& path);

// hex(HMAC-SHA256(secret, body))
std::string sign_body(ByteView secret, std::string_view body);
bool signature_ok(ByteView secret, std::string_view body, std::string_view signature_hex);

class ProviderClient {
public:
    struct Answer {
        long status = 0;
        nlohmann::json body;
        int attempts = 0;
    };
    using Done = std::function<void(Result<Answer>)>;

    // `secret` is the provider's shared secret (read by the caller from secret_file).
    ProviderClient(uv_loop_t* loop, http::CurlClient& curl, ProviderConfig config, Bytes secret);

    // POSTs `body` to the provider's url + `path`. `done` runs once.
    void call(const std::string& path, const nlohmann::json& body, Done done);

    const std::string& name() const { return config_.name; }

private:
    struct Call;
    void attempt(std::shared_ptr<Call> call);

    uv_loop_t* loop_;
    http::CurlClient& curl_;
    ProviderConfig config_;
    Bytes secret_;
    std::map<Call*, std::shared_ptr<Call>> pausing_; // calls waiting for their next attempt
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);

public:
    ~ProviderClient() { *alive_ = false; }
};

} // namespace otagw::gateway
