// SPDX-License-Identifier: GPL-2.0-or-later
// The HTTP admin protocol of GP Card Spec 2.3 Amendment B §3.4, server side: what a card's
// POST says (read_admin_post) and the answer that carries the next remote APDU script or ends
// the session (admin_response). The HTTP framing itself is http::RequestParser's; this reads
// the Amendment B headers and body with clear errors, and never trusts a header for who the
// card is (the PSK identity says that).
#pragma once

#include <optional>
#include <string>

#include "otagw/common/bytes.hpp"
#include "otagw/common/result.hpp"
#include "otagw/http/http.hpp"
#include "otagw/ota/ts_102_226.hpp"

namespace otagw::gateway::bip {

// X-Admin-Script-Status (§3.4.1): absent on a session's first POST.
enum class ScriptStatus : uint8_t {
    None,
    Ok,
    UnknownApplication,
    NotASecurityDomain,
    SecurityError
};
const char* script_status_name(ScriptStatus s); // "ok", "unknown-application", ...

struct AdminPost {
    std::string uri;      // the request target as sent
    std::string agent_id; // X-Admin-From
    std::string host;     // Host, may be empty
    ScriptStatus status = ScriptStatus::None;
    bool resume = false; // X-Admin-Resume: true (a session started again after a breakdown)
    // With status ok: the card's results (ETSI TS 102 226 §5.2 Response Scripting template
    // 'AB' definite or 'AF' indefinite); the bytes as sent, and as read.
    Bytes body;
    std::optional<ota::ram::ExpandedResponse> results;
};

// Checks a POST against §3.4.1: the method, X-Admin-Protocol, the script status and what it
// implies for the body (results with ok, none otherwise), the content type when a body comes,
// X-Admin-Resume. Unknown headers are fine. Errors name the part that is wrong.
Result<AdminPost> read_admin_post(const http::Request& request);

// The answer (§3.4.2): 200 with the command script (TS 102 226 expanded format, 'AA') and
// X-Admin-Next-URI where the card posts its results; or, with no script, 204 No Content with
// neither Next-URI nor Content-Type: the end of the session. The whole HTTP/1.1 message.
std::string admin_response(const std::optional<Bytes>& script, const std::string& next_uri);

// An error answer (4xx/5xx: the card closes the session, §3.4.2), with Connection: close.
std::string admin_error(int status, const std::string& why);

} // namespace otagw::gateway::bip
