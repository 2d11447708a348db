// SPDX-License-Identifier: GPL-2.0-or-later
// Fuzz target: what a card POSTs to the Remote Administration Server, as the RAS reads it: the
// HTTP request parser, then the Amendment B interpretation (headers, script status, the
// response script in the TS 102 226 expanded format). Never a crash; an accepted POST with
// status ok always carries parsed results, and a body only with ok.
#include "bip/admin_http.hpp"

using namespace otagw;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const char* text = reinterpret_cast<const char*>(data);
    http::Request request;
    std::string body;
    bool complete = false;
    http::RequestParser::Events ev;
    ev.headers = [&](http::Request& r) {
        request = std::move(r);
        return true;
    };
    ev.body = [&](std::string_view chunk) {
        body.append(chunk);
        return body.size() < (256 << 10);
    };
    ev.complete = [&] {
        complete = true;
    };
    http::RequestParser parser(ev);
    size_t at = 0;
    while (at < size && !parser.failed() && !complete) {
        const size_t used = parser.feed(text + at, size - at);
        if (used == 0)
            break;
        at += used;
    }
    if (!complete)
        return 0;
    request.body = std::move(body);
    auto post = gateway::bip::read_admin_post(request);
    if (post) {
        const bool ok = post->status == gateway::bip::ScriptStatus::Ok;
        if (ok != post->results.has_value() || (!ok && !post->body.empty()))
            __builtin_trap();
    } else if (post.error().message.empty()) {
        __builtin_trap();
    }
    return 0;
}
