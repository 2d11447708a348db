// SPDX-License-Identifier: GPL-2.0-or-later
// Shared helpers for the CMocka tests: vector files, hex, byte assertions.
#pragma once

// Include this header last: cmocka defines a fail() macro that breaks <ios> included after it.
#include <algorithm>
#include <csetjmp>
#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "otagw/common/bytes.hpp"

extern "C" {
#include <cmocka.h>
}

namespace test {

using Json = nlohmann::json;

inline Json load_vectors(const std::string& file) {
    std::ifstream in(std::string(OTAGW_TEST_DATA_DIR) + "/" + file);
    if (!in) {
        print_error("cannot open %s/%s\n", OTAGW_TEST_DATA_DIR, file.c_str());
        fail();
    }
    return Json::parse(in);
}

inline std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    return s;
}

inline otagw::Bytes hex(const std::string& s) {
    auto r = otagw::parse_hex(s);
    if (!r) {
        print_error("bad hex in test data: %s\n", r.error().message.c_str());
        fail();
    }
    return std::move(r).value();
}

// Compares bytes against expected hex (case-insensitive), printing both on mismatch.
#define assert_hex_equal(bytes, expected_hex)                                                      \
    assert_string_equal(otagw::to_hex(bytes).c_str(), test::lower(expected_hex).c_str())

// Asserts a Result/Status is ok, printing its error otherwise.
#define assert_ok(r)                                                                               \
    do {                                                                                           \
        if (!(r).ok()) {                                                                           \
            print_error("%s:%d: unexpected error: %s\n", __FILE__, __LINE__,                       \
                        (r).error().message.c_str());                                              \
            fail();                                                                                \
        }                                                                                          \
    } while (0)

#define assert_error_contains(r, text)                                                             \
    do {                                                                                           \
        assert_false((r).ok());                                                                    \
        if ((r).error().message.find(text) == std::string::npos) {                                 \
            print_error("error '%s' does not mention '%s'\n", (r).error().message.c_str(), text);  \
            fail();                                                                                \
        }                                                                                          \
    } while (0)

} // namespace test
