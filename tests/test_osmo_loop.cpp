// SPDX-License-Identifier: GPL-2.0-or-later
// The libosmocore bridge: osmo timers and osmo fds run inside the libuv loop, a closed fd whose
// number is reused in the same iteration is polled afresh, and the loop ends once osmo has
// nothing left to watch (as osmo_select_main would block forever, libuv would not).
#include <fcntl.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "otagw/common/osmo.hpp"
#include "otagw/common/osmo_loop.hpp"
#include "test_support.hpp"

namespace {

struct Pipe {
    int rd = -1;
    int wr = -1;
    Pipe() {
        int fds[2];
        assert_int_equal(pipe2(fds, O_NONBLOCK | O_CLOEXEC), 0);
        rd = fds[0];
        wr = fds[1];
    }
};

struct Trace {
    std::vector<std::string> events;
};

Trace g_trace;

void test_timers_and_fds(void**) {
    g_trace = {};
    uv_loop_t loop;
    uv_loop_init(&loop);
    {
        otagw::osmo::LoopBridge bridge(&loop);
        // Two osmo timers: they fire in order, from inside uv_run.
        osmo_timer_list t1{}, t2{};
        osmo_timer_setup(
            &t1, [](void*) { g_trace.events.push_back("t1"); }, nullptr);
        osmo_timer_setup(
            &t2, [](void*) { g_trace.events.push_back("t2"); }, nullptr);
        osmo_timer_schedule(&t2, 0, 40000);
        osmo_timer_schedule(&t1, 0, 10000);
        // A pipe watched by osmo: a uv timer writes, the osmo callback reads and unregisters.
        static Pipe p;
        p = Pipe();
        static osmo_fd ofd;
        ofd = {};
        osmo_fd_setup(
            &ofd, p.rd, OSMO_FD_READ,
            [](osmo_fd* f, unsigned int what) -> int {
                char buf[16];
                const ssize_t n = read(f->fd, buf, sizeof buf);
                g_trace.events.push_back("read " + std::string(buf, n > 0 ? n : 0) +
                                         (what & OSMO_FD_READ ? " R" : ""));
                osmo_fd_unregister(f);
                close(f->fd);
                return 0;
            },
            nullptr, 0);
        assert_int_equal(osmo_fd_register(&ofd), 0);
        uv_timer_t writer;
        uv_timer_init(&loop, &writer);
        uv_timer_start(
            &writer, [](uv_timer_t*) { assert_int_equal(write(p.wr, "abc", 3), 3); }, 20, 0);
        // Runs until osmo has neither fds nor timers: the bridge alone keeps nothing alive.
        const uint64_t start = uv_now(&loop);
        uv_run(&loop, UV_RUN_DEFAULT);
        assert_true(uv_now(&loop) - start >= 40);
        assert_true(uv_now(&loop) - start < 2000);
        assert_int_equal(g_trace.events.size(), 3);
        assert_string_equal(g_trace.events[0].c_str(), "t1");
        assert_string_equal(g_trace.events[1].c_str(), "read abc R");
        assert_string_equal(g_trace.events[2].c_str(), "t2");
        assert_int_equal(bridge.mirrored_fds(), 0);
        close(p.wr);
        uv_close(reinterpret_cast<uv_handle_t*>(&writer), nullptr);
        uv_run(&loop, UV_RUN_DEFAULT);
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

// One callback closes its fd and opens another that gets the same number: the new one must be
// polled (libuv's epoll lost the old file with its close).
void test_reused_fd_number(void**) {
    g_trace = {};
    uv_loop_t loop;
    uv_loop_init(&loop);
    static Pipe first, second;
    first = Pipe();
    static osmo_fd a, b;
    a = {};
    b = {};
    auto on_b = [](osmo_fd* f, unsigned int) -> int {
        char buf[16];
        const ssize_t n = read(f->fd, buf, sizeof buf);
        g_trace.events.push_back("b " + std::string(buf, n > 0 ? n : 0));
        osmo_fd_unregister(f);
        close(f->fd);
        close(second.wr);
        return 0;
    };
    osmo_fd_setup(
        &a, first.rd, OSMO_FD_READ,
        [](osmo_fd* f, unsigned int) -> int {
            char buf[16];
            (void)!read(f->fd, buf, sizeof buf);
            const int old = f->fd;
            osmo_fd_unregister(f);
            close(f->fd);
            close(first.wr);
            second = Pipe(); // lowest free numbers: the read end takes `old` again
            g_trace.events.push_back(second.rd == old ? "a reused" : "a other");
            osmo_fd_setup(&b, second.rd, OSMO_FD_READ,
                          reinterpret_cast<int (*)(osmo_fd*, unsigned)>(f->data), nullptr, 0);
            osmo_fd_register(&b);
            assert_int_equal(write(second.wr, "xy", 2), 2);
            return 0;
        },
        reinterpret_cast<void*>(+on_b), 0);
    assert_int_equal(osmo_fd_register(&a), 0);
    otagw::osmo::LoopBridge bridge(&loop);
    assert_int_equal(write(first.wr, "go", 2), 2);
    uv_timer_t guard; // fails the test instead of hanging if b is never served
    uv_timer_init(&loop, &guard);
    uv_timer_start(
        &guard, [](uv_timer_t*) { fail_msg("b was never served"); }, 2000, 0);
    uv_unref(reinterpret_cast<uv_handle_t*>(&guard));
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(g_trace.events.size(), 2);
    assert_string_equal(g_trace.events[0].c_str(), "a reused");
    assert_string_equal(g_trace.events[1].c_str(), "b xy");
    bridge.close();
    uv_close(reinterpret_cast<uv_handle_t*>(&guard), nullptr);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

} // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_timers_and_fds),
        cmocka_unit_test(test_reused_fd_number),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
