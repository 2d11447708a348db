// SPDX-License-Identifier: GPL-2.0-or-later
// Fuzz target: the admin API's request parser (http/), fed the input in two pieces split at a
// point the input chooses: it must never crash, and a request it completes must have a method
// and a path starting with '/'.
#include "otagw/http/http.hpp"

using namespace otagw;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1)
        return 0;
    const size_t split = data[0] % (size);
    const char* text = reinterpret_cast<const char*>(data + 1);
    const size_t n = size - 1;
    size_t body = 0;
    http::RequestParser::Events ev;
    http::Request seen;
    ev.headers = [&](http::Request& r) {
        if (r.method.empty() || r.path.empty() || r.path[0] != '/')
            __builtin_trap();
        seen = r;
        return true;
    };
    ev.body = [&](std::string_view chunk) {
        body += chunk.size();
        return body < (1 << 20);
    };
    ev.complete = [] {
    };
    http::RequestParser p(ev);
    size_t at = 0;
    for (const size_t end : {std::min(split, n), n}) {
        while (at < end && !p.failed()) {
            const size_t used = p.feed(text + at, end - at);
            if (used == 0)
                break;
            at += used;
        }
    }
    (void)p.error();
    (void)seen.param("x");
    std::string out;
    (void)http::percent_decode(std::string_view(text, n), out, true);
    return 0;
}
