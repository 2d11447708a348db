// SPDX-License-Identifier: GPL-2.0-or-later
// bench_sim: the card simulator's figures.
//   1. memory: RSS of a generated population (default 100 000 cards, profile standard);
//   2. card: secured commands per second through the card side on one core (03.48 checks,
//      deciphering, CC, counter, RAM script on the card manager, PoR built, CC'd and ciphered),
//      for the AES keyset (SPI 1639, KIc/KID 12) and the 3DES keyset (KIc/KID 25);
//   3. smpp: the whole simulator in its own process pinned to one core (SMSC, handsets, cards,
//      PoRs as deliver_sm), driven over loopback by an ESME on the other core: commands whose
//      PoR came back, per second.
// Commands are prebuilt with the gateway's codec (ota/), one counter step per card.
//
//   build/bench/bench_sim [cards] [commands]
#include <csignal>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "otagw/common/log.hpp"
#include "otagw/ota/globalplatform.hpp"
#include "otagw/ota/ts_102_225.hpp"
#include "otagw/ota/ts_102_226.hpp"
#include "otagw/ota/ts_31_115.hpp"
#include "otagw/sim/network.hpp"
#include "otagw/smpp/esme.hpp"

using namespace otagw;
using Clock = std::chrono::steady_clock;

namespace {

void pin(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu % static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN)), &set);
    sched_setaffinity(0, sizeof set, &set);
}

double rss_mib() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line))
        if (line.rfind("VmRSS:", 0) == 0)
            return std::stod(line.substr(6)) / 1024.0;
    return 0;
}

double seconds_since(Clock::time_point t) {
    return std::chrono::duration<double>(Clock::now() - t).count();
}

// One secured lock or unlock of the transit card per command, for cards in turn; the packets
// (CPL..end) in the order they must run.
std::vector<Bytes> build_commands(sim::Population& pop, size_t commands, uint8_t kvn,
                                  uint8_t algo_nibble) {
    std::vector<ota::OtaKeys> keys;
    keys.reserve(pop.size());
    const uint8_t kic = static_cast<uint8_t>(kvn << 4 | algo_nibble);
    for (size_t i = 0; i < pop.size(); i++) {
        const sim::Keyset& k = *pop.at(i).keyset(kvn);
        keys.push_back(ota::OtaKeys::create(kic, k.kic, kic, k.kid));
    }
    const auto aid = *ota::Aid::parse("f04f5441470102010001");
    const Bytes lock = ota::ram::compact_script({ota::gp::set_application_lock(aid, true)});
    const Bytes unlock = ota::ram::compact_script({ota::gp::set_application_lock(aid, false)});
    std::vector<ota::CommandHeader> headers(commands);
    std::vector<Bytes> packets(commands);
    std::vector<ota::CommandJob> jobs(commands);
    for (size_t n = 0; n < commands; n++) {
        const size_t card = n % pop.size();
        ota::CommandHeader& h = headers[n];
        h.spi = *ota::Spi::parse("1639");
        h.kic = h.kid = kic;
        h.counter = pop.at(card).keyset(kvn)->counter + 1 + n / pop.size();
        jobs[n] = {&h, &keys[card], (n / pop.size()) % 2 ? unlock : lock, &packets[n], {}};
    }
    ota::build_command_packets(jobs);
    return packets;
}

void bench_card(sim::Population& pop, size_t commands, uint8_t kvn, uint8_t nibble,
                const char* name) {
    auto packets = build_commands(pop, commands, kvn, nibble);
    size_t ok = 0;
    const auto start = Clock::now();
    for (size_t n = 0; n < packets.size(); n++) {
        const sim::PorOutcome out = sim::process_command_packet(pop.at(n % pop.size()), packets[n]);
        ok += out.status == 0 && !out.por.empty();
    }
    const double secs = seconds_since(start);
    std::printf(
        "bench_sim card: %zu %s secured commands (lock/unlock, PoR with CC, ciphered) in %.2f s "
        "on one core: %.0f commands/s (%zu answered 00)\n",
        packets.size(), name, secs, static_cast<double>(packets.size()) / secs, ok);
    if (ok != packets.size())
        std::exit(1);
}

// The simulator in a child process on core 1; an ESME on core 0 submits `commands` prebuilt
// packets and counts PoRs.
void bench_smpp(size_t cards, size_t commands) {
    int ports[2];
    if (pipe(ports) != 0)
        std::exit(1);
    sim::PopulationSpec spec;
    spec.seed = 1;
    spec.cards = cards;
    pid_t child = fork();
    if (child == 0) {
        pin(1);
        auto pop = sim::Population::generate(spec);
        uv_loop_t loop;
        uv_loop_init(&loop);
        sim::NetworkConfig config;
        config.smsc.accounts.push_back({"BENCH", "bench"});
        config.smsc.handler_sends_receipts = true;
        sim::Network net(&loop, *pop, config);
        if (net.start() != 0)
            _exit(1);
        const uint16_t port = net.port();
        if (write(ports[1], &port, sizeof port) != sizeof port)
            _exit(1);
        uv_run(&loop, UV_RUN_DEFAULT);
        _exit(0);
    }
    pin(0);
    uint16_t port = 0;
    if (read(ports[0], &port, sizeof port) != sizeof port)
        std::exit(1);
    auto pop = sim::Population::generate(spec); // the gateway's copy of the keys
    auto packets = build_commands(*pop, commands, 1, 0x02);
    uv_loop_t loop;
    uv_loop_init(&loop);
    smpp::EsmeConfig cfg;
    smpp::BindConfig b;
    b.port = port;
    b.system_id = "BENCH";
    b.password = "bench";
    b.window = 256;
    cfg.binds.push_back(b);
    size_t pors = 0, failed = 0;
    Clock::time_point start;
    bool started = false;
    smpp::Esme* esme_ptr = nullptr;
    smpp::Esme::Handlers h;
    h.on_mo = [&](const smpp::Mo& m) {
        if (m.udhi && ++pors == commands)
            esme_ptr->stop([&] { uv_stop(&loop); });
        return smpp::MoVerdict::Taken;
    };
    h.on_bind_state = [&](const std::string&, bool up) {
        if (!up || started)
            return;
        started = true;
        start = Clock::now();
        for (size_t n = 0; n < commands; n++) {
            smpp::SmsPp m;
            m.source = {1, 1, "8888"};
            m.dest = {1, 1, pop->at(n % cards).msisdn};
            m.user_data = ota::sms::command_user_data(packets[n]);
            m.registered_delivery = false;
            m.ordered = true; // per card, in counter order
            esme_ptr->submit(std::move(m), [&](const smpp::SubmitResult& r) { failed += !r.ok; });
        }
    };
    smpp::Esme esme(&loop, cfg, h);
    esme_ptr = &esme;
    esme.start();
    uv::Timer limit(&loop);
    limit.start(120000, [&] { esme.stop([&] { uv_stop(&loop); }); });
    uv_run(&loop, UV_RUN_DEFAULT);
    const double secs = seconds_since(start);
    kill(child, SIGTERM);
    waitpid(child, nullptr, 0);
    std::printf(
        "bench_sim smpp: %zu secured commands submitted over loopback to %zu cards, %zu PoRs "
        "back (%zu submits failed) in %.2f s, simulator on one core: %.0f commands/s\n",
        commands, cards, pors, failed, secs, static_cast<double>(pors) / secs);
    if (pors != commands)
        std::exit(1);
}

} // namespace

int main(int argc, char** argv) {
    // A peer that goes away mid-write must be an error on that connection (EPIPE), not the
    // end of the process.
    std::signal(SIGPIPE, SIG_IGN);
    const size_t cards = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 100000;
    const size_t commands = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 200000;
    log::set_sink({});
    pin(0);
    {
        const double before = rss_mib();
        const auto start = Clock::now();
        sim::PopulationSpec spec;
        spec.cards = cards;
        auto pop = sim::Population::generate(spec);
        const double secs = seconds_since(start);
        const double after = rss_mib();
        std::printf(
            "bench_sim memory: %zu cards (profile standard: 2 keysets, 5 TARs, 3 load files, "
            "2 applications each) generated in %.2f s; RSS %.1f MiB -> %.1f MiB: %.0f bytes "
            "per card\n",
            cards, secs, before, after, (after - before) * 1048576.0 / static_cast<double>(cards));
        bench_card(*pop, commands, 1, 0x02, "AES-128");
        bench_card(*pop, commands, 2, 0x05, "3DES 2-key");
    }
    bench_smpp(std::min<size_t>(cards, 10000), std::min<size_t>(commands, 100000));
    return 0;
}
