// SPDX-License-Identifier: GPL-2.0-or-later
// The libuv layer: timers, a loopback TCP echo with large and coalesced writes, peer close,
// refused connections, name resolution, and objects destroyed from their own callbacks.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "otagw/common/uv.hpp"
#include "test_support.hpp"

using namespace otagw;

namespace {

struct Loop {
    uv_loop_t loop;
    Loop() { uv_loop_init(&loop); }
    ~Loop() {
        uv_run(&loop, UV_RUN_NOWAIT);
        // A test ends with no handle left open (libuv's own test rule).
        assert_int_equal(uv_loop_close(&loop), 0);
    }
};

void test_timers(void**) {
    Loop l;
    int fired = 0, repeats = 0, never = 0;
    {
        uv::Timer once(&l.loop), repeat(&l.loop);
        auto cancelled = std::make_unique<uv::Timer>(&l.loop);
        once.start(5, [&] { fired++; });
        repeat.start(
            1,
            [&] {
                if (++repeats == 3)
                    repeat.stop();
            },
            1);
        cancelled->start(1, [&] { never++; });
        cancelled.reset(); // destroyed before firing: its callback never runs
        assert_true(uv::run_for(&l.loop, 2000));
    }
    assert_int_equal(fired, 1);
    assert_int_equal(repeats, 3);
    assert_int_equal(never, 0);
}

// Three steps chained with `chain` from a timer callback, step 1 waking an async handle (the
// stand-in for a socket): the order things ran in.
std::vector<std::string> chained(void (*chain)(uv_loop_t*, std::function<void()>)) {
    Loop l;
    std::vector<std::string> order;
    uv_async_t wake;
    uv_async_init(&l.loop, &wake, [](uv_async_t* a) {
        static_cast<std::vector<std::string>*>(a->data)->push_back("io");
        uv_close(reinterpret_cast<uv_handle_t*>(a), nullptr);
    });
    wake.data = &order;
    std::function<void(int)> step = [&](int n) {
        order.push_back("step" + std::to_string(n));
        if (n == 1)
            uv_async_send(&wake);
        if (n < 3)
            chain(&l.loop, [&step, n] { step(n + 1); });
    };
    uv::Timer start(&l.loop);
    start.start(0, [&] { step(1); });
    uv_run(&l.loop, UV_RUN_DEFAULT);
    return order;
}

// Steps chained with after_io() let I/O in between; chained with defer() from a timer, they
// run in one pass and the wake-up waits for them all.
void test_after_io_lets_io_in_between_steps(void**) {
    const std::vector<std::string> between{"step1", "io", "step2", "step3"};
    assert_true(chained(uv::after_io) == between);
    const std::vector<std::string> held{"step1", "step2", "step3", "io"};
    assert_true(chained(uv::defer) == held);
}

void test_echo_large_and_close(void**) {
    Loop l;
    std::vector<std::unique_ptr<uv::TcpStream>> accepted;
    uv::TcpServer server(&l.loop);
    assert_int_equal(server.listen("127.0.0.1", 0,
                                   [&](std::unique_ptr<uv::TcpStream> s) {
                                       uv::TcpStream* raw = s.get();
                                       accepted.push_back(std::move(s));
                                       raw->start([raw](ByteView d) { raw->write(d); }, [](int) {});
                                   }),
                     0);
    assert_true(server.port() != 0);

    Bytes sent(1 << 20), got;
    for (size_t i = 0; i < sent.size(); i++)
        sent[i] = static_cast<uint8_t>(i * 7);
    int closed = 1;
    uv::TcpStream client(&l.loop);
    assert_int_equal(
        client.connect(
            "127.0.0.1", server.port(),
            [&](int status) {
                assert_int_equal(status, 0);
                client.start(
                    [&](ByteView d) {
                        append(got, d);
                        if (got.size() == sent.size()) {
                            accepted.clear(); // the server side goes away: the client sees EOF
                        }
                    },
                    [&](int err) {
                        closed = err;
                        server.close();
                    });
                // Many small writes while one is in flight go out together.
                for (size_t off = 0; off < sent.size(); off += 4096)
                    client.write(ByteView(sent).subspan(off, 4096));
            }),
        0);
    assert_true(uv::run_for(&l.loop, 10000));
    assert_true(got == sent);
    assert_int_equal(closed, UV_EOF);
    assert_int_equal(client.pending_write_bytes(), 0);
    client.close();
}

void test_refused_resolve_and_self_destruction(void**) {
    Loop l;
    // A port nobody listens on.
    uint16_t free_port;
    {
        uv::TcpServer probe(&l.loop);
        assert_int_equal(probe.listen("127.0.0.1", 0, [](std::unique_ptr<uv::TcpStream>) {}), 0);
        free_port = probe.port();
    }
    uv_run(&l.loop, UV_RUN_NOWAIT);
    int refused = 0;
    auto client = std::make_unique<uv::TcpStream>(&l.loop);
    assert_int_equal(client->connect("127.0.0.1", free_port,
                                     [&](int status) {
                                         refused = status;
                                         client.reset(); // destroyed from inside its own callback
                                     }),
                     0);
    // Resolution of a name goes through the thread pool, not the loop.
    uv::TcpServer server(&l.loop);
    std::unique_ptr<uv::TcpStream> peer;
    assert_int_equal(server.listen("127.0.0.1", 0,
                                   [&](std::unique_ptr<uv::TcpStream> s) {
                                       peer = std::move(s);
                                       server.close();
                                   }),
                     0);
    int resolved = 1;
    uv::TcpStream named(&l.loop);
    assert_int_equal(
        named.connect("localhost", server.port(), [&](int status) { resolved = status; }), 0);
    // A connect abandoned half way: no callback after destruction.
    int abandoned = 0;
    {
        uv::TcpStream gone(&l.loop);
        assert_int_equal(gone.connect("localhost", server.port(), [&](int) { abandoned++; }), 0);
    }
    assert_true(uv::run_for(&l.loop, 5000));
    assert_int_equal(refused, UV_ECONNREFUSED);
    assert_int_equal(resolved, 0);
    assert_int_equal(abandoned, 0);
    assert_true(uv::error_name(UV_ECONNREFUSED).find("ECONNREFUSED") == 0);
    named.close();
    peer.reset();
}

} // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_timers),
        cmocka_unit_test(test_after_io_lets_io_in_between_steps),
        cmocka_unit_test(test_echo_large_and_close),
        cmocka_unit_test(test_refused_resolve_and_self_destruction),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
