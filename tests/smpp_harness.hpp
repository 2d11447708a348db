// SPDX-License-Identifier: GPL-2.0-or-later
// Test helpers for SMPP scenarios on one loop: a loop that must end clean, and run_until.
#pragma once

#include <functional>

#include "otagw/common/uv.hpp"
#include "otagw/smpp/esme.hpp"
#include "otagw/smpp/smsc.hpp"

namespace test {

struct Loop {
    uv_loop_t loop;
    Loop() { uv_loop_init(&loop); }
    ~Loop() {
        for (int i = 0; i < 10; i++)
            uv_run(&loop, UV_RUN_NOWAIT);
        uv_loop_close(&loop);
    }
};

// Runs the loop until `done()` holds (checked every 2 ms) or `timeout_ms` passes.
inline bool run_until(uv_loop_t* loop, const std::function<bool()>& done, uint64_t timeout_ms) {
    bool ok = false;
    otagw::uv::Timer check(loop);
    check.start(
        0,
        [&] {
            if (done()) {
                ok = true;
                uv_stop(loop);
            }
        },
        2);
    otagw::uv::run_for(loop, timeout_ms);
    check.stop();
    return ok || done();
}

inline otagw::smpp::BindConfig bind_to(uint16_t port, const std::string& name = "smsc") {
    otagw::smpp::BindConfig b;
    b.name = name;
    b.host = "127.0.0.1";
    b.port = port;
    b.system_id = "OTAGW";
    b.password = "otapass";
    b.reconnect_min_ms = 20;
    b.reconnect_max_ms = 200;
    b.response_timeout_ms = 1000;
    return b;
}

inline otagw::smpp::SmscConfig smsc_config() {
    otagw::smpp::SmscConfig c;
    c.accounts.push_back({"OTAGW", "otapass"});
    return c;
}

} // namespace test
