// SPDX-License-Identifier: GPL-2.0-or-later
// The application providers of the config (doc/provider-api.md), each a ProviderClient with its
// shared secret; and what their answer to `authorize` means for the request: an event of the
// request's state machine, each field checked against doc/provider-api.yaml (a wrong type or a
// missing decision is a provider_error, never an abort).
#pragma once

#include <map>
#include <memory>
#include <string>

#include "provider/provider_client.hpp"
#include "requests/request_fsm.hpp"

namespace otagw::gateway {

class Providers {
public:
    // Providers whose secret file cannot be read are left out (logged): their applications'
    // requests fail with provider_unavailable.
    Providers(uv_loop_t* loop, http::CurlClient* curl, const std::vector<ProviderConfig>& config);
    ProviderClient* find(const std::string& name);

private:
    std::map<std::string, std::unique_ptr<ProviderClient>> clients_;
};

// ProviderApproved (with its personalisation data), ProviderVetoed, or ProviderFailed
// (provider_timeout when no answer came, provider_error for an answer that is no decision).
Event decision_event(const Result<ProviderClient::Answer>& answer);

} // namespace otagw::gateway
