// SPDX-License-Identifier: GPL-2.0-or-later
// bench_smpp: submit_sm per second over loopback, ESME and the in-repo SMSC in two processes
// pinned to two cores, one bind, window 64. Counts acknowledged submit_sm (each a 40-byte
// SMS-PP command packet with its user_message_reference).
//
//   build/bench/bench_smpp [messages] [window]
#include <csignal>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "otagw/common/log.hpp"
#include "otagw/smpp/esme.hpp"
#include "otagw/smpp/smsc.hpp"

using namespace otagw;
using namespace otagw::smpp;

static void pin(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu % static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN)), &set);
    sched_setaffinity(0, sizeof set, &set);
}

int main(int argc, char** argv) {
    // A peer that goes away mid-write must be an error on that connection (EPIPE), not the
    // end of the process.
    std::signal(SIGPIPE, SIG_IGN);
    const size_t total = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 200000;
    const uint32_t window =
        argc > 2 ? static_cast<uint32_t>(std::strtoul(argv[2], nullptr, 10)) : 64;
    log::set_sink({});
    int ports[2];
    if (pipe(ports) != 0)
        return 1;
    pid_t child = fork();
    if (child == 0) { // the SMSC
        pin(1);
        uv_loop_t loop;
        uv_loop_init(&loop);
        SmscConfig c;
        c.accounts.push_back({"BENCH", "bench"});
        Smsc smsc(&loop, c);
        if (smsc.start() != 0)
            _exit(1);
        uint16_t port = smsc.port();
        if (write(ports[1], &port, sizeof port) != sizeof port)
            _exit(1);
        uv_run(&loop, UV_RUN_DEFAULT);
        _exit(0);
    }
    pin(0);
    uint16_t port = 0;
    if (read(ports[0], &port, sizeof port) != sizeof port)
        return 1;

    uv_loop_t loop;
    uv_loop_init(&loop);
    EsmeConfig cfg;
    BindConfig b;
    b.port = port;
    b.system_id = "BENCH";
    b.password = "bench";
    b.window = window;
    cfg.binds.push_back(b);
    size_t done = 0, failed = 0;
    std::chrono::steady_clock::time_point start;
    bool started = false;
    Esme* esme_ptr = nullptr;
    Esme::Handlers h;
    h.on_bind_state = [&](const std::string&, bool up) {
        if (!up || started)
            return;
        started = true;
        Bytes ud(40, 0x5a);
        ud[0] = 0x02;
        ud[1] = 0x70;
        ud[2] = 0x00;
        start = std::chrono::steady_clock::now();
        for (size_t i = 0; i < total; i++) {
            SmsPp m;
            m.source = {1, 1, "8888"};
            m.dest = {1, 1, std::to_string(1000000 + i % 100000)};
            m.user_data = ud;
            m.registered_delivery = false;
            esme_ptr->submit(std::move(m), [&](const SubmitResult& r) {
                done++;
                failed += !r.ok;
                if (done == total)
                    esme_ptr->stop([&] { uv_stop(&loop); });
            });
        }
    };
    Esme esme(&loop, cfg, h);
    esme_ptr = &esme;
    esme.start();
    uv_run(&loop, UV_RUN_DEFAULT);
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    kill(child, SIGTERM);
    waitpid(child, nullptr, 0);
    std::printf(
        "bench_smpp: %zu submit_sm acknowledged (%zu failed) in %.2f s over loopback, window %u: "
        "%.0f submit_sm/s\n",
        done - failed, failed, secs, window, static_cast<double>(done - failed) / secs);
    return failed ? 1 : 0;
}
