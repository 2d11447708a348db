// SPDX-License-Identifier: GPL-2.0-or-later
// cardlets-sim (no subcommand): runs the simulated network until SIGINT/SIGTERM or --duration.
#include <uv.h>

#include <cstdio>
#include <fstream>
#include <iostream>

#include "cli.hpp"
#include "otagw/common/log.hpp"
#include "otagw/sim/control.hpp"
#include "otagw/sim/inventory.hpp"
#include "otagw/sim/network.hpp"
#include "otagw/sim/state_store.hpp"

namespace sim_cli {

using namespace otagw;

namespace {

struct RunOptions {
    std::string smpp_listen, system_id = "OTAGW", password, profile = "standard";
    size_t cards = 0;
    uint64_t seed = 1;
    std::string inventory, export_path, state, control;
    std::vector<std::string> faults;
    uint64_t fault_seed = 1;
    double duration = 0;
    std::string msisdn_prefix = "999";
    unsigned mo_ton = 1;
};

// "IP:PORT" with a numeric IPv4 address.
std::pair<std::string, uint16_t> endpoint(const std::string& option, const std::string& value) {
    const size_t colon = value.rfind(':');
    sockaddr_in sa;
    unsigned long port = 0;
    try {
        port = colon == std::string::npos ? 70000 : std::stoul(value.substr(colon + 1));
    } catch (const std::exception&) {
        port = 70000;
    }
    if (colon == std::string::npos || port > 65535 ||
        uv_ip4_addr(value.substr(0, colon).c_str(), static_cast<int>(port), &sa) != 0)
        usage_error(option, "expected IP:PORT with a numeric IPv4 address, e.g. 127.0.0.1:2775");
    return {value.substr(0, colon), static_cast<uint16_t>(port)};
}

size_t rss_kib() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line))
        if (line.rfind("VmRSS:", 0) == 0)
            return std::stoul(line.substr(6));
    return 0;
}

std::vector<const sim::Uicc*> all_cards(sim::Population& p) {
    std::vector<const sim::Uicc*> v;
    v.reserve(p.size());
    for (size_t i = 0; i < p.size(); i++)
        v.push_back(&p.at(i));
    return v;
}

std::string origin_of(const RunOptions& o) {
    if (!o.inventory.empty())
        return "inventory=" + o.inventory;
    return "seed=" + std::to_string(o.seed) + " cards=" + std::to_string(o.cards) +
           " profile=" + o.profile + " msisdn-prefix=" + o.msisdn_prefix;
}

int run(const RunOptions& o) {
    const auto [smpp_ip, smpp_port] = endpoint("--smpp-listen", o.smpp_listen);
    if (o.password.empty())
        usage_error("--password", "required: the ESME's password");
    if (o.inventory.empty() && o.cards == 0)
        usage_error("--cards",
                    "required (at least 1) unless --inventory names a card inventory file");
    if (o.mo_ton > 6)
        usage_error("--mo-source-ton", "a type of number is 0..6");

    sim::NetworkConfig config;
    config.smsc.ip = smpp_ip;
    config.smsc.port = smpp_port;
    config.smsc.accounts.push_back({o.system_id, o.password});
    config.smsc.handler_sends_receipts = true;
    config.fault_seed = o.fault_seed;
    config.mo_source_ton = static_cast<uint8_t>(o.mo_ton);
    for (const auto& f : o.faults)
        if (Status st = sim::apply_fault(f, config.faults, config.smsc.faults); !st)
            usage_error("--fault", st.error().message);

    // The population: from the state store if it holds one, else generated or loaded.
    const std::string origin = origin_of(o);
    std::unique_ptr<sim::StateStore> store;
    sim::Population population;
    bool stored = false;
    if (!o.state.empty()) {
        auto s = sim::StateStore::open(o.state);
        if (!s)
            usage_error("--state", s.error().message);
        store = std::move(*s);
        auto kept = store->load();
        if (!kept)
            usage_error("--state", kept.error().message);
        if (*kept) {
            if ((*kept)->origin != origin)
                usage_error("--state", o.state + " holds the population '" + (*kept)->origin +
                                           "', not '" + origin +
                                           "': use the same options or another file");
            population = sim::Population::of(std::move((*kept)->cards));
            stored = true;
        }
    }
    if (!stored) {
        if (!o.inventory.empty()) {
            auto cards = sim::load_inventory(o.inventory);
            if (!cards)
                usage_error("--inventory", cards.error().message);
            population = sim::Population::of(std::move(*cards));
        } else {
            sim::PopulationSpec spec;
            spec.seed = o.seed;
            spec.cards = o.cards;
            spec.profile = o.profile;
            spec.msisdn_prefix = o.msisdn_prefix;
            auto p = sim::Population::generate(spec);
            if (!p)
                usage_error("", p.error().message);
            population = std::move(*p);
        }
        if (store)
            if (Status st = store->save_all(population, origin); !st)
                usage_error("--state", st.error().message);
    }
    auto export_to = [&](const std::string& path) {
        return sim::export_inventory(path, all_cards(population),
                                     {"issuer: cardlets-sim", "population: " + origin,
                                      "cards: " + std::to_string(population.size())});
    };
    if (!o.export_path.empty())
        if (Status st = export_to(o.export_path); !st)
            usage_error("--export", st.error().message);

    uv_loop_t loop;
    uv_loop_init(&loop);
    int rc = 0;
    {
        sim::Network net(&loop, population, config, store.get());
        if (int e = net.start(); e < 0)
            usage_error("--smpp-listen", std::string("cannot listen: ") + uv_strerror(e));
        std::unique_ptr<sim::ControlServer> control;
        std::string control_at;
        if (!o.control.empty()) {
            const auto [ip, port] = endpoint("--control", o.control);
            control = std::make_unique<sim::ControlServer>(&loop, net, export_to);
            if (int e = control->listen(ip, port); e < 0)
                usage_error("--control", std::string("cannot listen: ") + uv_strerror(e));
            control_at = ip + ":" + std::to_string(control->port());
        }
        if (smpp_ip != "127.0.0.1")
            log::notice("sim", "the SMSC listens on " + smpp_ip + ", not only on loopback");

        bool stopping = false;
        uv::Timer deadline(&loop);
        uv_signal_t sigint, sigterm;
        auto stop = [&] {
            if (stopping)
                return;
            stopping = true;
            deadline.stop();
            uv_signal_stop(&sigint);
            uv_signal_stop(&sigterm);
            if (control)
                control->close();
            net.stop();
        };
        uv_signal_init(&loop, &sigint);
        uv_signal_init(&loop, &sigterm);
        sigint.data = sigterm.data = &stop;
        auto on_signal = [](uv_signal_t* h, int) {
            (*static_cast<decltype(stop)*>(h->data))();
        };
        uv_signal_start(&sigint, on_signal, SIGINT);
        uv_signal_start(&sigterm, on_signal, SIGTERM);
        if (o.duration > 0)
            deadline.start(static_cast<uint64_t>(o.duration * 1000), stop);

        Json ready{{"event", "ready"},
                   {"smpp", smpp_ip + ":" + std::to_string(net.port())},
                   {"cards", population.size()},
                   {"population", origin},
                   {"rss_kib", rss_kib()}};
        if (!control_at.empty())
            ready["control"] = control_at;
        if (!o.export_path.empty())
            ready["inventory"] = o.export_path;
        std::cout << ready.dump() << std::endl;

        uv_run(&loop, UV_RUN_DEFAULT);
        stop();
        uv_close(reinterpret_cast<uv_handle_t*>(&sigint), nullptr);
        uv_close(reinterpret_cast<uv_handle_t*>(&sigterm), nullptr);
        Json counters = Json::object();
        for (const auto& [name, value] : net.counters().all())
            counters[name] = value;
        std::cout << Json{{"event", "stopped"}, {"counters", counters}}.dump() << std::endl;
        if (net.counters().get("sim:state:save_failed"))
            rc = 1;
    }
    for (int i = 0; i < 10 && uv_run(&loop, UV_RUN_NOWAIT); i++) {
    }
    uv_loop_close(&loop);
    return rc;
}

} // namespace

void add_run(CLI::App& app, int& exit_code) {
    auto o = std::make_shared<RunOptions>();
    app.add_option("--smpp-listen", o->smpp_listen,
                   "SMSC address, IP:PORT (port 0: any free port)");
    app.add_option("--system-id", o->system_id, "system_id the ESME binds with")
        ->capture_default_str();
    app.add_option("--password", o->password, "password the ESME binds with");
    app.add_option("--cards", o->cards, "number of cards to generate");
    app.add_option("--seed", o->seed, "seed of the generated population")->capture_default_str();
    app.add_option("--profile", o->profile, "applications per card: standard, full, empty")
        ->capture_default_str();
    app.add_option("--msisdn-prefix", o->msisdn_prefix,
                   "MSISDNs are this prefix + a serial, 12 digits")
        ->capture_default_str();
    app.add_option("--inventory", o->inventory,
                   "load the cards from a card inventory file instead");
    app.add_option("--export", o->export_path, "write the card inventory file here (mode 0600)");
    app.add_option("--state", o->state, "SQLite file keeping the cards' state across restarts");
    app.add_option("--control", o->control, "control port, IP:PORT (see doc/cardlets-sim.md)");
    app.add_option("--fault", o->faults,
                   "NAME=VALUE: latency, jitter, mt-loss, mo-loss, mt-duplicate, "
                   "throttle-every, tps, ... (repeatable)");
    app.add_option("--fault-seed", o->fault_seed, "seed of the fault generator")
        ->capture_default_str();
    app.add_option("--mo-source-ton", o->mo_ton, "type of number of MO sources (osmo-msc: 3)")
        ->capture_default_str();
    app.add_option("--duration", o->duration,
                   "stop after this many seconds (default: until a signal)");
    app.callback([&app, o, &exit_code] {
        if (!app.get_subcommands().empty())
            return;
        if (o->smpp_listen.empty())
            usage_error("--smpp-listen", "required to run the network (or use: packet, ctl)");
        exit_code = run(*o);
    });
}

} // namespace sim_cli
