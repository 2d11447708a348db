// SPDX-License-Identifier: GPL-2.0-or-later
#include "provider/providers.hpp"

#include "otagw/common/log.hpp"

namespace otagw::gateway {

Providers::Providers(uv_loop_t* loop, http::CurlClient* curl,
                     const std::vector<ProviderConfig>& config) {
    if (!curl)
        return;
    for (const auto& p : config) {
        auto secret = read_secret_file(p.secret_file);
        if (!secret) {
            log::error("provider", "provider " + p.name + ": secret-file " +
                                       secret.error().message +
                                       "; its applications' requests will fail");
            continue;
        }
        clients_[p.name] =
            std::make_unique<ProviderClient>(loop, *curl, p, std::move(secret).value());
    }
}

ProviderClient* Providers::find(const std::string& name) {
    auto it = clients_.find(name);
    return it == clients_.end() ? nullptr : it->second.get();
}

Event decision_event(const Result<ProviderClient::Answer>& a) {
    auto failed = [](ReasonCode code, std::string message) {
        Event e(EventKind::ProviderFailed);
        e.reason = Reason::of(code);
        e.message = std::move(message);
        return e;
    };
    if (!a)
        return failed(a.error().code == Errc::Invalid ? ReasonCode::ProviderError
                                                      : ReasonCode::ProviderTimeout,
                      a.error().message);
    const auto& b = a->body;
    const auto decision = b.is_object() ? b.find("decision") : b.end();
    if (a->status / 100 != 2 || decision == b.end() || !decision->is_string())
        return failed(ReasonCode::ProviderError, "provider answered HTTP " +
                                                     std::to_string(a->status) +
                                                     " without a decision");
    const std::string& d = decision->get_ref<const std::string&>();
    if (d == "veto") {
        Event e(EventKind::ProviderVetoed);
        const auto reason = b.find("reason");
        e.message = reason != b.end() && reason->is_string() ? reason->get<std::string>()
                                                             : "no reason given";
        return e;
    }
    if (d != "approve")
        return failed(ReasonCode::ProviderError, "provider: decision is neither approve nor veto");
    Event e(EventKind::ProviderApproved);
    if (const auto perso = b.find("personalisation"); perso != b.end()) {
        if (!perso->is_string())
            return failed(ReasonCode::ProviderError, "provider: personalisation is not hex text");
        auto data = parse_hex(perso->get_ref<const std::string&>(), "personalisation");
        if (!data)
            return failed(ReasonCode::ProviderError, "provider: " + data.error().message);
        e.personalisation = std::move(*data);
    }
    return e;
}

} // namespace otagw::gateway
