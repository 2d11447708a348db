// SPDX-License-Identifier: GPL-2.0-or-later
// cardlets-sim ctl --control HOST:PORT REQUEST...: sends one control request, prints the JSON
// answer; exits 0 when it says ok, 1 when not, 2 for bad usage.
#include <iostream>

#include "cli.hpp"
#include "otagw/common/uv.hpp"

namespace sim_cli {

using namespace otagw;

void add_ctl(CLI::App& app, int& exit_code) {
    struct CtlOptions {
        std::string control;
        std::vector<std::string> words;
        double timeout = 60;
    };
    auto o = std::make_shared<CtlOptions>();
    CLI::App* ctl =
        app.add_subcommand("ctl", "send one request to a running simulator's control port");
    ctl->add_option("--control", o->control, "the simulator's control port, HOST:PORT")->required();
    ctl->add_option("--timeout", o->timeout, "seconds to wait for the answer")
        ->capture_default_str();
    ctl->add_option("request", o->words, "the request: card MSISDN, mo-text MSISDN TO TEXT, ...")
        ->required();
    ctl->callback([o, &exit_code] {
        const size_t colon = o->control.rfind(':');
        int port = -1;
        try {
            port = colon == std::string::npos ? -1 : std::stoi(o->control.substr(colon + 1));
        } catch (const std::exception&) {
        }
        if (port < 1 || port > 65535)
            usage_error("--control", "expected HOST:PORT");
        std::string line;
        for (const auto& w : o->words)
            line += (line.empty() ? "" : " ") + w;
        line += '\n';

        uv_loop_t loop;
        uv_loop_init(&loop);
        std::string answer, error;
        {
            uv::TcpStream stream(&loop);
            auto fail = [&](const std::string& why) {
                error = why;
                uv_stop(&loop);
            };
            int rc = stream.connect(
                o->control.substr(0, colon), static_cast<uint16_t>(port), [&](int status) {
                    if (status < 0)
                        return fail(std::string("cannot connect: ") + uv_strerror(status));
                    stream.start(
                        [&](ByteView data) {
                            answer.append(reinterpret_cast<const char*>(data.data()), data.size());
                            if (answer.find('\n') != std::string::npos)
                                uv_stop(&loop);
                        },
                        [&](int) { fail("the simulator closed the connection"); });
                    stream.write(
                        ByteView(reinterpret_cast<const uint8_t*>(line.data()), line.size()));
                });
            if (rc < 0)
                error = std::string("cannot connect: ") + uv_strerror(rc);
            else if (!uv::run_for(&loop, static_cast<uint64_t>(o->timeout * 1000)) &&
                     error.empty() && answer.find('\n') == std::string::npos)
                error = "no answer within the timeout";
            stream.close();
        }
        for (int i = 0; i < 10 && uv_run(&loop, UV_RUN_NOWAIT); i++) {
        }
        uv_loop_close(&loop);
        const size_t nl = answer.find('\n');
        if (nl == std::string::npos) {
            std::cerr << "cardlets-sim ctl: " << (error.empty() ? "no answer" : error) << '\n';
            exit_code = 1;
            return;
        }
        answer.resize(nl);
        std::cout << answer << '\n';
        exit_code = answer.rfind("{\"ok\":true", 0) == 0 ? 0 : 1;
    });
}

} // namespace sim_cli
