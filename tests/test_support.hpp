// SPDX-License-Identifier: GPL-2.0-or-later
// Shared helpers for the CMocka tests: vector files, hex, byte assertions.
#pragma once

// Include this header last: cmocka defines a fail() macro that breaks <ios> included after it.
#include <algorithm>
#include <csetjmp>
#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
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
        const auto& otagw_ok_ = (r); /* evaluated once */                                          \
        if (!otagw_ok_.ok()) {                                                                     \
            print_error("%s:%d: unexpected error: %s\n", __FILE__, __LINE__,                       \
                        otagw_ok_.error().message.c_str());                                        \
            fail();                                                                                \
        }                                                                                          \
    } while (0)

#define assert_error_contains(r, text)                                                             \
    do {                                                                                           \
        const auto& otagw_r_ = (r); /* evaluated once: it may have side effects */                 \
        assert_false(otagw_r_.ok());                                                               \
        if (otagw_r_.error().message.find(text) == std::string::npos) {                            \
            print_error("error '%s' does not mention '%s'\n", otagw_r_.error().message.c_str(),    \
                        text);                                                                     \
            fail();                                                                                \
        }                                                                                          \
    } while (0)

// Runs a shell command line; its stdout, stderr and exit status.
struct CommandRun {
    int status = -1;
    std::string out, err;
};
inline CommandRun run_command(const std::string& command_line) {
    char err_path[] = "/tmp/otagw-test-stderr-XXXXXX";
    int fd = mkstemp(err_path);
    if (fd >= 0)
        close(fd);
    std::string cmd = command_line;
    cmd.append(" 2>");
    cmd.append(err_path);
    CommandRun r;
    FILE* p = popen(cmd.c_str(), "r");
    if (!p)
        return r;
    std::array<char, 4096> buf;
    size_t n;
    while ((n = fread(buf.data(), 1, buf.size(), p)) > 0)
        r.out.append(buf.data(), n);
    int st = pclose(p);
    r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    FILE* e = fopen(err_path, "r");
    while (e && (n = fread(buf.data(), 1, buf.size(), e)) > 0)
        r.err.append(buf.data(), n);
    if (e)
        fclose(e);
    unlink(err_path);
    return r;
}

// Runs the tests (between the group's `setup` and `teardown`, if any) with `dir` set to a fresh
// folder under /tmp, removed when they pass and kept (and named on stderr) when they fail.
template <size_t N>
int run_in_temp_dir(const char* prefix, std::string& dir, const CMUnitTest (&tests)[N],
                    CMFixtureFunction setup = nullptr, CMFixtureFunction teardown = nullptr) {
    std::string pattern = std::string("/tmp/") + prefix + "-XXXXXX";
    if (!mkdtemp(pattern.data()))
        return 1;
    dir = pattern;
    int rc = _cmocka_run_group_tests(prefix, tests, N, setup, teardown);
    if (rc == 0 && !std::getenv("OTAGW_KEEP_TEST_DIR"))
        std::system(("rm -rf " + dir).c_str());
    else
        std::fprintf(stderr, "logs and capture kept in %s\n", dir.c_str());
    return rc;
}

} // namespace test
