// SPDX-License-Identifier: GPL-2.0-or-later
#include "provider/provider_client.hpp"

#include <fstream>
#include <iterator>

#include "otagw/common/crypto.hpp"
#include "otagw/common/files.hpp"
#include "otagw/common/log.hpp"

namespace otagw::gateway {

namespace {

ByteView bytes_of(std::string_view s) {
    return ByteView(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

} // namespace

Result<Bytes> read_secret_file(const std::string& path) {
    OTAGW_TRY_STATUS(only_owner_may_read(path, "secret file"));
    std::ifstream in(path, std::ios::binary);
    if (!in)
        return make_error("cannot read " + path);
    std::string v((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    while (!v.empty() && (v.back() == '\n' || v.back() == '\r'))
        v.pop_back();
    if (v.empty())
        return make_error(path + " is empty");
    return Bytes(v.begin(), v.end());
}

std::string sign_body(ByteView secret, std::string_view body) {
    return to_hex(crypto::hmac_sha256(secret, bytes_of(body)));
}

bool signature_ok(ByteView secret, std::string_view body, std::string_view signature_hex) {
    auto given = parse_hex(signature_hex);
    if (!given || given->size() != 32)
        return false;
    const auto want = crypto::hmac_sha256(secret, bytes_of(body));
    return equal_ct(ByteView(want.data(), want.size()), *given);
}

struct ProviderClient::Call {
    std::string path;
    std::string body;
    Done done;
    int attempts = 0;
    std::unique_ptr<uv::Timer> pause;
};

ProviderClient::ProviderClient(uv_loop_t* loop, http::CurlClient& curl, ProviderConfig config,
                               Bytes secret)
    : loop_(loop), curl_(curl), config_(std::move(config)), secret_(std::move(secret)) {}

void ProviderClient::call(const std::string& path, const nlohmann::json& body, Done done) {
    auto c = std::make_shared<Call>();
    c->path = path;
    c->body = body.dump();
    c->done = std::move(done);
    attempt(c);
}

void ProviderClient::attempt(std::shared_ptr<Call> c) {
    c->attempts++;
    http::CurlClient::Request req;
    req.method = "POST";
    req.url = config_.url + c->path;
    req.body = c->body;
    req.timeout_ms = config_.timeout_ms;
    req.ca_file = config_.ca_file;
    req.max_body = config_.max_answer_bytes;
    req.headers = {{"Content-Type", "application/json"},
                   {kSignatureHeader, sign_body(secret_, c->body)}};
    std::weak_ptr<bool> alive = alive_;
    curl_.perform(std::move(req), [this, alive, c](Result<http::CurlClient::Response> r) {
        if (!alive.lock())
            return;
        // What is worth another try: no answer, or the provider's own trouble (5xx).
        std::string failure;
        bool retry = false;
        if (!r && r.error().code == Errc::Invalid) {
            c->done(
                make_error("provider " + config_.name + ": " + r.error().message, Errc::Invalid));
            return;
        }
        if (!r) {
            failure = r.error().message;
            retry = true;
        } else if (r->status >= 500) {
            failure = config_.name + " answered " + std::to_string(r->status);
            retry = true;
        } else {
            const std::string* sig = nullptr;
            for (const auto& [k, v] : r->headers)
                if (k == "x-otagw-signature")
                    sig = &v;
            if (!sig || !signature_ok(secret_, r->body, *sig)) {
                c->done(make_error("provider " + config_.name +
                                       ": the answer's signature is missing or wrong",
                                   Errc::Invalid));
                return;
            }
            auto json = nlohmann::json::parse(r->body, nullptr, false);
            if (json.is_discarded()) {
                c->done(make_error("provider " + config_.name + ": the answer is not JSON",
                                   Errc::Invalid));
                return;
            }
            c->done(Answer{r->status, std::move(json), c->attempts});
            return;
        }
        if (!retry || c->attempts > static_cast<int>(config_.retries)) {
            c->done(make_error("provider " + config_.name + ": " + failure + " (after " +
                                   std::to_string(c->attempts) + " attempts)",
                               Errc::Io));
            return;
        }
        log::notice("provider", config_.name + ": " + failure + "; trying again");
        // 200 ms, 400 ms, 800 ms, ... at most 10 s between attempts.
        const uint64_t pause = std::min<uint64_t>(10000, 200ULL << std::min(c->attempts - 1, 6));
        c->pause = std::make_unique<uv::Timer>(loop_);
        pausing_[c.get()] = c; // the client keeps it; the timer only names it (no cycle)
        c->pause->start(pause, [this, alive, raw = c.get()] {
            if (!alive.lock())
                return;
            auto it = pausing_.find(raw);
            if (it == pausing_.end())
                return;
            auto again = std::move(it->second);
            pausing_.erase(it);
            attempt(std::move(again));
        });
    });
}

} // namespace otagw::gateway
