// SPDX-License-Identifier: GPL-2.0-or-later
// Fuzz target: the daemon as a whole. ota-gatewayd's modules, wired by Daemon::open() from the
// example config (without its sockets) on a database in a temporary folder holding four cards,
// are fed one outside input at a time: an authenticated HTTP call (any method, target, body,
// through the API handler the server calls), an MO SMS (any coding and user data, from a card's
// number to the short code) or a PoR. Nothing may crash; every answer is JSON in UTF-8; every
// request and audit row written reads back as JSON in UTF-8 (a strict dump).
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

extern "C" {
#include <osmocom/vty/command.h>
#include <osmocom/vty/vty.h>
}

#include "config/vty.hpp"
#include "daemon/daemon.hpp"
#include "otagw/common/log.hpp"
#include "otagw/sim/inventory.hpp"
#include "otagw/sim/population.hpp"

using namespace otagw;
using namespace otagw::gateway;

namespace {

constexpr const char* kToken = "example-ops-token"; // its SHA-256 is in the example config

vty_app_info g_app = [] {
    vty_app_info i{};
    i.name = "fuzz_daemon_input";
    i.version = "0";
    return i;
}();

// One authenticated call, dispatched as http::Server does; the answer must be UTF-8 JSON.
void call(Daemon& d, std::string_view method, std::string_view target, std::string_view body,
          std::string_view idempotency_key) {
    std::string raw = std::string(method) + " " + std::string(target) +
                      " HTTP/1.1\r\nAuthorization: Bearer " + kToken + "\r\n";
    if (!idempotency_key.empty())
        raw += "Idempotency-Key: " + std::string(idempotency_key) + "\r\n";
    raw += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + std::string(body);
    std::optional<http::Request> request;
    bool complete = false;
    http::RequestParser::Events ev;
    ev.headers = [&](http::Request& r) {
        request = std::move(r);
        return true;
    };
    ev.body = [&](std::string_view chunk) {
        request->body.append(chunk);
        return true;
    };
    ev.complete = [&] {
        complete = true;
    };
    http::RequestParser parser(std::move(ev));
    parser.feed(raw.data(), raw.size());
    if (parser.failed() || !complete || !request)
        return; // not HTTP: the parser's own fuzz target covers that
    request->peer = "127.0.0.1:1";
    auto check = [](http::Response r) {
        if (r.status < 100 || r.status > 599)
            std::abort();
        if (r.content_type == "application/json" && !r.body.empty() &&
            Json::parse(r.body, nullptr, false).is_discarded())
            std::abort(); // not JSON, or not UTF-8
    };
    http::Handler& api = d.api_handler();
    std::optional<http::Response> reject;
    if (auto sink = api.stream(*request, reject)) {
        if (!sink->data(request->body))
            return;
        sink->end(check);
    } else if (reject) {
        check(std::move(*reject));
    } else {
        api.handle(std::move(*request), check);
    }
}

struct World {
    uv_loop_t loop;
    GatewayConfig config;
    std::unique_ptr<Daemon> daemon;
    std::vector<std::string> msisdns;
    int64_t last_request = 0, last_audit = 0;

    World() {
        char tmpl[] = "/tmp/otagw-fuzz-daemon-XXXXXX";
        const std::string dir = mkdtemp(tmpl);
        static std::string removed;
        removed = dir;
        std::atexit([] { std::filesystem::remove_all(removed); });
        log::set_filter([](log::Level, std::string_view) { return false; });
        // The example config, without its log target (libosmocore's logging is not set up
        // here) and its provider (no network from a fuzzer).
        vty_init(&g_app);
        install_vty(&config);
        std::ifstream in(OTAGW_SOURCE_DIR "/doc/examples/ota-gateway.cfg");
        std::stringstream text;
        std::string line;
        bool skipping = false;
        while (std::getline(in, line)) {
            if (!line.empty() && line[0] != ' ')
                skipping = line == "log stderr" || line.starts_with("provider ");
            if (!skipping && line != " provider campus")
                text << line << "\n";
        }
        const std::string cfg = text.str();
        FILE* f = fmemopen(const_cast<char*>(cfg.data()), cfg.size(), "r");
        if (!f || vty_read_config_filep(f, nullptr) < 0)
            std::abort();
        std::fclose(f);
        config.db.path = dir + "/fuzz.db";
        config.db.synchronous = "NORMAL";
        setenv(config.db.master_key_env.c_str(),
               "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", 1);
        uv_loop_init(&loop);
        daemon = std::make_unique<Daemon>(&loop, config);
        if (!daemon->open())
            std::abort();
        // Four cards, imported as an operator would.
        sim::PopulationSpec spec;
        spec.cards = 4;
        spec.seed = 7;
        auto population = sim::Population::generate(spec);
        if (!population)
            std::abort();
        std::vector<const sim::Uicc*> cards;
        for (size_t i = 0; i < population->size(); i++) {
            cards.push_back(&population->at(i));
            msisdns.push_back(population->at(i).msisdn);
        }
        std::ostringstream inventory;
        sim::write_inventory(inventory, cards, {});
        call(*daemon, "POST", "/v1/inventory/import?mode=apply&name=fuzz.csv", inventory.str(), "");
        settle();
    }

    void settle() {
        for (int i = 0; i < 3; i++)
            uv_run(&loop, UV_RUN_NOWAIT);
    }

    // What was written since the last input reads back as UTF-8 JSON.
    void check_store() {
        db::Store& store = daemon->store();
        int64_t found = last_request;
        for (int64_t id = last_request + 1; id <= last_request + 16; id++) {
            auto r = store.request(id);
            if (!r)
                std::abort();
            if (!*r)
                continue;
            found = id;
            try {
                (void)request_json(**r).dump();
            } catch (const Json::exception&) {
                std::abort();
            }
        }
        last_request = found;
        auto audit = store.audit_tail(64, last_audit);
        if (!audit)
            std::abort();
        for (const auto& e : *audit) {
            try {
                (void)Json{{"actor", e.actor},
                           {"action", e.action},
                           {"subject", e.subject},
                           {"detail", e.detail}}
                    .dump();
            } catch (const Json::exception&) {
                std::abort();
            }
            last_audit = std::max(last_audit, e.id);
        }
    }
};

World& world() {
    static World w;
    return w;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    World& w = world();
    if (size < 3)
        return 0;
    const std::string_view rest(reinterpret_cast<const char*>(data) + 3, size - 3);
    switch (data[0] % 3) {
    case 0: { // an API call: method, target up to the first newline, body
        static const char* const kMethods[] = {"GET", "POST", "PUT", "DELETE", "PATCH"};
        const size_t nl = rest.find('\n');
        const std::string_view target = rest.substr(0, nl);
        const std::string_view body = nl == std::string_view::npos ? "" : rest.substr(nl + 1);
        const std::string key =
            data[2] & 1 ? std::string(rest.substr(0, std::min<size_t>(8, rest.size()))) : "";
        call(*w.daemon, kMethods[data[1] % 5], target, body, key);
        break;
    }
    case 1:   // an MO SMS to the short code
    case 2: { // a PoR: UDH '027100' leads the user data
        smpp::Mo mo;
        mo.bind = "smsc";
        mo.source = {1, 1, w.msisdns[data[1] % w.msisdns.size()]};
        mo.dest = {1, 1, w.config.requests.short_code};
        static const uint8_t kCodings[] = {0x00, 0x04, 0x08, 0xf6, 0x01, 0xf0, 0x16};
        mo.data_coding = kCodings[data[2] % sizeof kCodings];
        mo.udhi = data[0] % 3 == 2 || (data[2] & 0x80);
        if (data[0] % 3 == 2)
            mo.user_data = {0x02, 0x71, 0x00};
        mo.user_data.insert(mo.user_data.end(), rest.begin(),
                            rest.begin() + std::min<size_t>(rest.size(), 160));
        (void)w.daemon->on_mo(mo);
        break;
    }
    }
    w.settle();
    w.check_store();
    return 0;
}
