// SPDX-License-Identifier: GPL-2.0-or-later
#include "bip/admin_http.hpp"

#include <algorithm>
#include <cctype>

#include "otagw/ota/amd_b.hpp"

namespace otagw::gateway::bip {

namespace {

std::string trimmed_lower(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

// A media type without its parameters' spacing: "a/b; version=1.0" and "a/b;version=1.0" match.
std::string media_type(std::string_view value) {
    std::string out;
    for (char c : trimmed_lower(value))
        if (c != ' ' && c != '\t')
            out.push_back(c);
    return out;
}

constexpr struct {
    ScriptStatus status;
    const char* name;
} kStatuses[] = {
    {ScriptStatus::Ok, "ok"},
    {ScriptStatus::UnknownApplication, "unknown-application"},
    {ScriptStatus::NotASecurityDomain, "not-a-security-domain"},
    {ScriptStatus::SecurityError, "security-error"},
};

} // namespace

const char* script_status_name(ScriptStatus s) {
    for (const auto& k : kStatuses)
        if (k.status == s)
            return k.name;
    return "none";
}

Result<AdminPost> read_admin_post(const http::Request& r) {
    if (r.method != "POST")
        return make_error("method " + r.method + ": the admin protocol posts (GP Amd B §3.4.1)");
    const std::string* protocol = r.header("x-admin-protocol");
    if (!protocol)
        return make_error("X-Admin-Protocol is missing");
    if (trimmed_lower(*protocol) != ota::amdb::kAdminProtocol)
        return make_error("X-Admin-Protocol '" + protocol->substr(0, 64) + "' is not " +
                          std::string(ota::amdb::kAdminProtocol));
    AdminPost p;
    p.uri = r.target;
    if (const std::string* from = r.header("x-admin-from"))
        p.agent_id = *from;
    if (const std::string* host = r.header("host"))
        p.host = *host;
    if (const std::string* status = r.header("x-admin-script-status")) {
        const std::string s = trimmed_lower(*status);
        const auto* k = std::find_if(std::begin(kStatuses), std::end(kStatuses),
                                     [&](const auto& x) { return s == x.name; });
        if (k == std::end(kStatuses))
            return make_error("X-Admin-Script-Status '" + status->substr(0, 64) +
                              "' is none of ok, unknown-application, not-a-security-domain, "
                              "security-error");
        p.status = k->status;
    }
    if (const std::string* resume = r.header("x-admin-resume")) {
        if (trimmed_lower(*resume) != "true")
            return make_error("X-Admin-Resume '" + resume->substr(0, 64) + "' is not true");
        p.resume = true;
    }
    p.body.assign(r.body.begin(), r.body.end());
    if (!p.body.empty()) {
        if (p.status != ScriptStatus::Ok)
            return make_error(std::string("a body comes only with X-Admin-Script-Status ok, not ") +
                              script_status_name(p.status));
        if (const std::string* type = r.header("content-type");
            type && media_type(*type) != media_type(ota::amdb::kResponseContentType))
            return make_error("Content-Type '" + type->substr(0, 96) + "' is not " +
                              std::string(ota::amdb::kResponseContentType));
        if (!ota::ram::is_expanded_response(p.body))
            return make_error("the body is no Response Scripting template ('AB' or 'AF', "
                              "ETSI TS 102 226 §5.2)");
        auto results = ota::ram::parse_expanded_response(p.body);
        if (!results)
            return make_error("the response script: " + results.error().message);
        p.results = std::move(*results);
    } else if (p.status == ScriptStatus::Ok) {
        return make_error("X-Admin-Script-Status ok without the response script");
    }
    return p;
}

std::string admin_response(const std::optional<Bytes>& script, const std::string& next_uri) {
    std::string m;
    if (!script) {
        m = "HTTP/1.1 204 No Content\r\nX-Admin-Protocol: ";
        m.append(ota::amdb::kAdminProtocol).append("\r\n\r\n");
        return m;
    }
    m = "HTTP/1.1 200 OK\r\nX-Admin-Protocol: ";
    m.append(ota::amdb::kAdminProtocol).append("\r\n");
    m.append("X-Admin-Next-URI: ").append(next_uri).append("\r\n");
    m.append("Content-Type: ").append(ota::amdb::kCommandContentType).append("\r\n");
    m.append("Content-Length: ").append(std::to_string(script->size())).append("\r\n\r\n");
    m.append(script->begin(), script->end());
    return m;
}

std::string admin_error(int status, const std::string& why) {
    std::string m = "HTTP/1.1 " + std::to_string(status) + " " + http::status_text(status) +
                    "\r\nX-Admin-Protocol: ";
    m.append(ota::amdb::kAdminProtocol).append("\r\nContent-Type: text/plain\r\n");
    m.append("Content-Length: ").append(std::to_string(why.size() + 1)).append("\r\n");
    m.append("Connection: close\r\n\r\n").append(why).append("\n");
    return m;
}

} // namespace otagw::gateway::bip
