// SPDX-License-Identifier: GPL-2.0-or-later
// otactl smpp submit: test an SMSC link from the field. Binds (transceiver), submits the user
// data as SMS-PP (segmented when longer than one SMS), waits for every submit_sm_resp and, when
// asked, a PoR (a deliver_sm from the destination), unbinds, prints one JSON object.
// Exit codes: 0 done, 1 the SMSC link or the submission failed (or no PoR came), 2 bad input.
#include <iostream>
#include <memory>

#include "cli.hpp"
#include "otagw/common/log.hpp"
#include "otagw/smpp/esme.hpp"
#include "otagw/smpp/status.hpp"

namespace otactl {

using namespace otagw;
using namespace otagw::smpp;

namespace {

struct SubmitOptions {
    std::string host = "127.0.0.1";
    uint16_t port = 2775;
    std::string system_id, password, system_type, dest, source, user_data;
    double wait_por = 0;
    double timeout = 30;
    bool no_receipt = false;
    bool message_payload = false;
};

std::string hex32(uint32_t v) {
    char b[16];
    std::snprintf(b, sizeof b, "0x%08x", v);
    return b;
}

int run_submit(const SubmitOptions& o) {
    Bytes ud = hex_option("--user-data", o.user_data);
    if (ud.empty())
        usage_error("--user-data", "empty");
    if (o.dest.empty() || o.dest.size() > 20)
        usage_error("--dest", "1 to 20 digits");
    if (o.source.size() > 20)
        usage_error("--source", "at most 20 digits");
    if (o.system_id.size() > 15)
        usage_error("--system-id", "at most 15 characters");
    if (o.password.size() > 8)
        usage_error("--password", "at most 8 characters");

    // Operational detail goes to stderr only when asked (OTAGW_LOG); the result is the JSON.
    if (!std::getenv("OTAGW_LOG"))
        log::set_sink({});
    uv_loop_t loop;
    uv_loop_init(&loop);
    EsmeConfig cfg;
    BindConfig b;
    b.name = o.host + ":" + std::to_string(o.port);
    b.host = o.host;
    b.port = o.port;
    b.system_id = o.system_id;
    b.password = o.password;
    b.system_type = o.system_type;
    b.message_payload = o.message_payload;
    b.enquire_link_ms = 0;
    b.response_timeout_ms = 10000;
    cfg.binds.push_back(b);
    cfg.max_attempts = 1;

    std::string failure;
    std::optional<SubmitResult> result;
    std::optional<Mo> por;
    {
        bool stopped = false;
        uv::Timer deadline(&loop), por_wait(&loop);
        std::unique_ptr<Esme> esme;
        auto finish = [&](const std::string& why) {
            if (!why.empty() && failure.empty())
                failure = why;
            deadline.stop();
            por_wait.stop();
            if (esme && !stopped) {
                stopped = true;
                esme->stop([&] { uv_stop(&loop); });
            }
        };
        Esme::Handlers h;
        h.on_bind_error = [&](const std::string&, const std::string& why) {
            finish(why);
        };
        h.on_mo = [&](const Mo& mo) {
            if (!result || por || mo.source.addr != o.dest)
                return MoVerdict::Taken;
            por = mo;
            finish("");
            return MoVerdict::Taken;
        };
        esme = std::make_unique<Esme>(&loop, cfg, h);
        esme->start();
        SmsPp sms;
        const uint8_t source_ton_npi = o.source.empty() ? 0 : 1;
        sms.source = {source_ton_npi, source_ton_npi, o.source};
        sms.dest = {1, 1, o.dest};
        sms.user_data = ud;
        sms.registered_delivery = !o.no_receipt;
        esme->submit(sms, [&](const SubmitResult& r) {
            result = r;
            if (!r.ok)
                return finish("submit_sm failed: " + r.error);
            if (o.wait_por <= 0)
                return finish("");
            por_wait.start(static_cast<uint64_t>(o.wait_por * 1000), [&] {
                finish("no PoR from " + o.dest + " within " + std::to_string(o.wait_por) + " s");
            });
        });
        deadline.start(static_cast<uint64_t>(o.timeout * 1000), [&] {
            finish("no answer from the SMSC within " + std::to_string(o.timeout) + " s");
        });
        uv_run(&loop, UV_RUN_DEFAULT);
    }
    uv_run(&loop, UV_RUN_DEFAULT); // close callbacks of what the block owned
    uv_loop_close(&loop);

    Json segments = Json::array();
    if (result)
        for (const SegmentResult& s : result->segments)
            segments.push_back({{"command_status", hex32(s.command_status)},
                                {"status_name", status_name(s.command_status)},
                                {"message_id", s.message_id},
                                {"user_message_reference", s.user_message_reference},
                                {"attempts", s.attempts}});
    Json out{{"ok", failure.empty()},
             {"dest", o.dest},
             {"segments", segments},
             {"por", por ? Json(to_hex(por->user_data)) : Json(nullptr)}};
    if (!failure.empty())
        out["error"] = failure;
    print_json(out);
    if (!failure.empty()) {
        std::cerr << "otactl: smpp submit: " << failure << '\n';
        return 1;
    }
    return 0;
}

} // namespace

void add_smpp_commands(CLI::App& app, int& exit_code) {
    CLI::App* smpp = app.add_subcommand("smpp", "SMPP link tools");
    smpp->require_subcommand(1);
    auto o = std::make_shared<SubmitOptions>();
    CLI::App* submit =
        smpp->add_subcommand("submit", "bind, submit SMS-PP user data, wait, unbind");
    submit->add_option("--host", o->host, "SMSC address (default 127.0.0.1)");
    submit->add_option("--port", o->port, "SMSC port (default 2775)");
    submit->add_option("--system-id", o->system_id, "ESME system_id")->required();
    submit->add_option("--password", o->password, "ESME password")->required();
    submit->add_option("--system-type", o->system_type, "ESME system_type");
    submit->add_option("--dest", o->dest, "destination MSISDN")->required();
    submit->add_option("--source", o->source, "source address (where PoRs come back)");
    submit->add_option("--user-data", o->user_data, "TP-UD with its UDH, hex (e.g. 027000...)")
        ->required();
    submit->add_option("--wait-por", o->wait_por, "seconds to wait for a PoR after the submit");
    submit->add_option("--timeout", o->timeout, "seconds to wait for the SMSC (default 30)");
    submit->add_flag("--no-receipt", o->no_receipt, "do not ask for a delivery receipt");
    submit->add_flag("--message-payload", o->message_payload, "long user data in message_payload");
    submit->callback([o, &exit_code] { exit_code = run_submit(*o); });
}

} // namespace otactl
