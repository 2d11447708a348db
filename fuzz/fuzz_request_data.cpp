// SPDX-License-Identifier: GPL-2.0-or-later
// Fuzz target: a request's working data as the store keeps it (requests.detail, read by
// requests/request_data.cpp after a restart or for the API). Whatever the row holds (a damaged
// file, an edit by hand), reading it is an error or data that writes back to itself.
#include <string>

#include "requests/request_data.hpp"

using namespace otagw::gateway;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    auto d = decode_request_data(text);
    if (!d)
        return 0;
    const std::string once = encode_request_data(*d);
    auto again = decode_request_data(once);
    if (!again || encode_request_data(*again) != once)
        __builtin_trap();
    return 0;
}
