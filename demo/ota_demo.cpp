// SPDX-License-Identifier: GPL-2.0-or-later
// ota-demo: the README's main job until the daemon exists. It starts cardlets-sim (a network of
// simulated cards behind an SMPP SMSC), takes the card keys from the inventory file the
// simulator exports, binds to its SMSC with the gateway's ESME, and does what the gateway will
// do, with the gateway's libraries: a small campaign (lock the transit applet on every card,
// then unlock it), an audit (GET STATUS), an install, and a replayed command the card refuses.
// Every state it prints comes from a verified PoR, and is checked against the card's own
// registry on the simulator's control port.
//
//   ota-demo [--sim PATH] [--cards N] [--keep]   (--keep: leave the inventory and state files)
#include <csignal>
#include <uv.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "otagw/common/log.hpp"
#include "otagw/ota/globalplatform.hpp"
#include "otagw/ota/status_words.hpp"
#include "otagw/ota/ts_102_225.hpp"
#include "otagw/ota/ts_102_226.hpp"
#include "otagw/ota/ts_31_115.hpp"
#include "otagw/sim/inventory.hpp"
#include "otagw/smpp/esme.hpp"

using namespace otagw;
using namespace otagw::ota;
using namespace otagw::ota::gp;
using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

const char* kTransit = "f04f5441470102010001";
const char* kBankElf = "f04f5441470103";
const char* kBankModule = "f04f544147010301";
const char* kBank = "f04f5441470103010001";

[[noreturn]] void die(const std::string& why) {
    std::fprintf(stderr, "ota-demo: %s\n", why.c_str());
    std::exit(1);
}

template <typename T>
T check(Result<T> r, const char* step) {
    if (!r)
        die(std::string(step) + ": " + r.error().message);
    return std::move(r).value();
}

// Runs the loop until `done()` or `timeout_ms`.
bool run_until(uv_loop_t* loop, const std::function<bool()>& done, uint64_t timeout_ms) {
    const uint64_t deadline = uv_now(loop) + timeout_ms;
    uv::Timer tick(loop);
    tick.start(
        5, [] {}, 5); // wakes the loop to look at `done`
    while (!done() && uv_now(loop) < deadline)
        uv_run(loop, UV_RUN_ONCE);
    tick.stop();
    return done();
}

// cardlets-sim as a child process; its first stdout line says where it listens.
struct Simulator {
    uv_loop_t* loop;
    uv_process_t process{};
    uv_pipe_t out{};
    std::string output;
    bool exited = false;
    Json ready;

    Simulator(uv_loop_t* l, const std::string& path, const std::vector<std::string>& args)
        : loop(l) {
        uv_pipe_init(loop, &out, 0);
        std::vector<char*> argv{const_cast<char*>(path.c_str())};
        for (const auto& a : args)
            argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        uv_stdio_container_t stdio[3];
        stdio[0].flags = UV_IGNORE;
        stdio[1].flags = static_cast<uv_stdio_flags>(UV_CREATE_PIPE | UV_WRITABLE_PIPE);
        stdio[1].data.stream = reinterpret_cast<uv_stream_t*>(&out);
        stdio[2].flags = UV_INHERIT_FD;
        stdio[2].data.fd = 2;
        uv_process_options_t o{};
        o.file = path.c_str();
        o.args = argv.data();
        o.stdio = stdio;
        o.stdio_count = 3;
        o.exit_cb = [](uv_process_t* p, int64_t, int) {
            static_cast<Simulator*>(p->data)->exited = true;
        };
        process.data = this;
        out.data = this;
        if (int e = uv_spawn(loop, &process, &o); e < 0)
            die("cannot start " + path + ": " + uv_strerror(e));
        uv_read_start(
            reinterpret_cast<uv_stream_t*>(&out),
            [](uv_handle_t*, size_t n, uv_buf_t* b) {
                b->base = static_cast<char*>(std::malloc(n));
                b->len = n;
            },
            [](uv_stream_t* s, ssize_t n, const uv_buf_t* b) {
                if (n > 0)
                    static_cast<Simulator*>(s->data)->output.append(b->base,
                                                                    static_cast<size_t>(n));
                std::free(b->base);
            });
        if (!run_until(
                loop, [&] { return exited || output.find('\n') != std::string::npos; }, 30000) ||
            exited)
            die("cardlets-sim did not start");
        ready = Json::parse(output.substr(0, output.find('\n')));
    }
    uint16_t port(const char* what) const {
        const std::string at = ready[what];
        return static_cast<uint16_t>(std::stoi(at.substr(at.rfind(':') + 1)));
    }
    // SIGTERM, then the simulator's closing line (its counters).
    Json stop() {
        uv_process_kill(&process, SIGTERM);
        run_until(
            loop, [&] { return exited; }, 10000);
        uv_close(reinterpret_cast<uv_handle_t*>(&out), nullptr);
        uv_close(reinterpret_cast<uv_handle_t*>(&process), nullptr);
        const size_t last = output.find("{\"event\":\"stopped\"");
        return last == std::string::npos
                   ? Json()
                   : Json::parse(output.substr(last, output.find('\n', last) - last));
    }
};

// One request on the simulator's control port: what the card itself says.
Json control(uv_loop_t* loop, uint16_t port, const std::string& request) {
    uv::TcpStream s(loop);
    std::string answer;
    bool done = false;
    s.connect("127.0.0.1", port, [&](int st) {
        if (st < 0) {
            done = true;
            return;
        }
        s.start(
            [&](ByteView d) { answer.append(reinterpret_cast<const char*>(d.data()), d.size()); },
            [&](int) { done = true; });
        const std::string line = request + "\n";
        s.write(ByteView(reinterpret_cast<const uint8_t*>(line.data()), line.size()));
    });
    run_until(
        loop, [&] { return done || answer.find('\n') != std::string::npos; }, 5000);
    s.close();
    if (answer.find('\n') == std::string::npos)
        die("no answer from the simulator's control port");
    return Json::parse(answer.substr(0, answer.find('\n')));
}

std::string app_state(const Json& card, const char* aid) {
    for (const auto& a : card["apps"])
        if (a["aid"] == aid)
            return a["state"];
    return "absent";
}

// The gateway's side: per card its keyset 1 (from the inventory) and the counter it used last.
struct Card {
    std::string iccid, msisdn;
    OtaKeys keys;
    uint64_t counter;
};

struct Gateway {
    uv_loop_t* loop;
    smpp::Esme* esme;
    std::map<std::string, Bytes> pors; // by MSISDN, the last PoR user data
    size_t por_count = 0;

    void on_mo(const smpp::Mo& m) {
        if (!m.udhi || m.user_data.size() < 3 || m.user_data[1] != 0x71)
            return;
        pors[m.source.addr] = m.user_data;
        por_count++;
    }

    // Secures `apdus` for the card's ISD (SPI 1639: CC, ciphered, counter higher; PoR CC,
    // ciphered, by SMS-SUBMIT) and submits them; `counter` overrides the next counter.
    void send(Card& c, const std::vector<Apdu>& apdus, std::optional<uint64_t> counter = {}) {
        CommandHeader h;
        h.spi = *Spi::parse("1639");
        h.kic = h.kid = 0x12;
        h.tar = ram::kTarIsdRam;
        h.counter = counter ? *counter : ++c.counter;
        Bytes packet;
        if (Status st = build_command_packet(h, c.keys, ram::compact_script(apdus), packet); !st)
            die("build command packet: " + st.error().message);
        smpp::SmsPp sms;
        sms.source = {1, 1, "8888"};
        sms.dest = {1, 1, c.msisdn};
        sms.user_data = sms::command_user_data(packet);
        sms.registered_delivery = false;
        esme->submit(std::move(sms), [](const smpp::SubmitResult& r) {
            if (!r.ok)
                die("submit_sm failed: " + r.error);
        });
    }
    DecodedResponse por_of(const Card& c) {
        auto it = pors.find(c.msisdn);
        if (it == pors.end())
            die("no PoR from " + c.msisdn);
        return check(decode_response_packet(it->second, *Spi::parse("1639"), c.keys), "PoR");
    }
    DecodedResponse one(Card& c, const std::vector<Apdu>& apdus,
                        std::optional<uint64_t> counter = {}) {
        pors.erase(c.msisdn);
        send(c, apdus, counter);
        if (!run_until(
                loop, [&] { return pors.count(c.msisdn) > 0; }, 10000))
            die("no PoR from " + c.msisdn + " within 10 s");
        return por_of(c);
    }
};

std::string describe(const DecodedResponse& r) {
    char line[200];
    std::string sw = "-";
    if (r.status == 0)
        if (auto c = ram::parse_compact_response(r.data))
            sw = describe_status_word(c->last_sw);
    std::snprintf(line, sizeof line, "PoR %02x %s, CC %s, CNTR %llu, card answered %s", r.status,
                  por_status_name(r.status), integrity_check_name(r.integrity),
                  static_cast<unsigned long long>(r.counter), sw.c_str());
    return line;
}

bool ok_9000(const DecodedResponse& r) {
    if (r.status != 0 || r.integrity != IntegrityCheck::Ok)
        return false;
    auto c = ram::parse_compact_response(r.data);
    return c && c->last_sw == 0x9000;
}

// The demo's steps; every libuv handle it makes is closed when it returns.
void demo(uv_loop_t* loop, const std::string& sim_path, size_t cards, bool keep,
          const std::string& dir) {
    std::printf("ota-gateway demo: a campaign on simulated SIM cards over SMPP\n\n");
    Simulator sim(loop, sim_path,
                  {"--smpp-listen", "127.0.0.1:0", "--control", "127.0.0.1:0", "--system-id",
                   "OTAGW", "--password", "otapass", "--cards", std::to_string(cards), "--seed",
                   "2026", "--duration", "600",
                   /* stops by itself even if this demo dies */ "--export", dir + "/inventory.csv",
                   "--state", dir + "/cards.db"});
    std::printf("1. cardlets-sim: %zu cards (profile standard) behind an SMSC on %s\n",
                sim.ready["cards"].get<size_t>(), sim.ready["smpp"].get<std::string>().c_str());

    // The card inventory file, as a card vendor delivers it: keys of keyset 1 (AES-128).
    auto inventory = check(sim::load_inventory(dir + "/inventory.csv"), "inventory");
    std::vector<Card> fleet;
    for (const auto& c : inventory)
        fleet.push_back({c.iccid, c.msisdn,
                         OtaKeys::create(0x12, c.keysets[0].kic, 0x12, c.keysets[0].kid),
                         c.keysets[0].counter});
    std::printf("   inventory: %zu cards imported from the exported file (keysets KVN 1 AES-128, "
                "keys not shown)\n",
                fleet.size());

    smpp::EsmeConfig ec;
    smpp::BindConfig b;
    b.port = sim.port("smpp");
    b.system_id = "OTAGW";
    b.password = "otapass";
    b.window = 64;
    ec.binds.push_back(b);
    Gateway gw{loop, nullptr, {}, 0};
    smpp::Esme::Handlers h;
    h.on_mo = [&](const smpp::Mo& m) {
        gw.on_mo(m);
    };
    smpp::Esme esme(loop, ec, h);
    gw.esme = &esme;
    esme.start();
    if (!run_until(
            loop, [&] { return esme.bound_sessions() == 1; }, 5000))
        die("cannot bind to the simulator's SMSC");
    std::printf("   gateway ESME bound (transceiver, window 64)\n\n");

    const uint16_t ctl = sim.port("control");
    Card& subscriber = fleet[0];
    Json card = control(loop, ctl, "card " + subscriber.msisdn);
    std::printf("2. subscriber %s, ICCID %s: transit applet %s, canteen wallet %s\n\n",
                subscriber.msisdn.c_str(), subscriber.iccid.c_str(),
                app_state(card, kTransit).c_str(), app_state(card, "f04f5441470101010001").c_str());

    // A campaign: lock the transit applet on every card, as fast as the link takes it.
    const Aid transit = *Aid::parse(kTransit);
    for (bool lock : {true, false}) {
        gw.pors.clear();
        const size_t before = gw.por_count;
        const auto start = Clock::now();
        for (Card& c : fleet)
            gw.send(c, {gp::set_application_lock(transit, lock)});
        if (!run_until(
                loop, [&] { return gw.por_count - before >= fleet.size(); }, 60000))
            die("the campaign did not finish within 60 s");
        const double secs = std::chrono::duration<double>(Clock::now() - start).count();
        size_t good = 0;
        for (const Card& c : fleet)
            good += ok_9000(gw.por_of(c));
        std::printf("%s. campaign: %s the transit applet on %zu cards: %zu verified PoRs 00 / 9000 "
                    "in %.2f s (%.0f cards/s)\n",
                    lock ? "3" : "6", lock ? "lock" : "unlock", fleet.size(), good, secs,
                    static_cast<double>(fleet.size()) / secs);
        card = control(loop, ctl, "card " + subscriber.msisdn);
        std::printf("   the card itself says: transit applet %s\n\n",
                    app_state(card, kTransit).c_str());
        if (good != fleet.size() || app_state(card, kTransit) != (lock ? "locked" : "selectable"))
            die("the campaign's result does not match the cards");
        if (!lock)
            break;

        // An audit: what the card reports.
        GetStatusRequest gs;
        gs.scope = StatusScope::Applications;
        auto r = gw.one(subscriber, {*gp::get_status(gs)});
        auto c = check(ram::parse_compact_response(r.data), "GET STATUS response");
        auto entries =
            check(gp::parse_get_status_response(c.last_data, gs.scope), "GET STATUS entries");
        std::printf("4. audit (GET STATUS) of %s: %s\n", subscriber.msisdn.c_str(),
                    describe(r).c_str());
        for (const auto& e : entries)
            std::printf("   %s  life cycle %02x%s\n", e.aid.hex().c_str(), e.life_cycle,
                        e.life_cycle & 0x80    ? " (locked)"
                        : e.life_cycle == 0x07 ? " (selectable)"
                                               : " (installed)");

        // An install: the bank applet, with its toolkit TAR and minimum security level.
        InstallForInstall ins;
        ins.load_file = *Aid::parse(kBankElf);
        ins.module = *Aid::parse(kBankModule);
        ins.instance = *Aid::parse(kBank);
        ins.make_selectable = true;
        InstallParameters params;
        params.uicc_toolkit = check(parse_hex("01000000"
                                              "00"
                                              "020116"
                                              "03c00003"),
                                    "toolkit");
        ins.install_parameters = check(params.encode(), "install parameters");
        r = gw.one(subscriber, {check(gp::install_for_install(ins), "INSTALL")});
        card = control(loop, ctl, "card " + subscriber.msisdn);
        std::printf(
            "\n5. install the bank applet on %s: %s\n   the card itself says: bank applet %s\n",
            subscriber.msisdn.c_str(), describe(r).c_str(), app_state(card, kBank).c_str());
        // A replay: the same counter again is refused, and nothing changes.
        r = gw.one(subscriber, {gp::delete_object(*Aid::parse(kBank), false)}, subscriber.counter);
        card = control(loop, ctl, "card " + subscriber.msisdn);
        std::printf("   a DELETE replayed with the last counter: %s\n   the card itself says: bank "
                    "applet %s (a replay changes nothing)\n\n",
                    describe(r).c_str(), app_state(card, kBank).c_str());
        if (r.status != 0x02 || app_state(card, kBank) != "selectable")
            die("the card accepted a replayed counter");
    }

    bool stopped = false;
    esme.stop([&] { stopped = true; });
    run_until(
        loop, [&] { return stopped; }, 5000);
    Json closing = sim.stop();
    const auto& counters = closing["counters"];
    std::printf(
        "7. cardlets-sim stopped: %llu commands processed, %llu PoRs sent, %llu with status 00, "
        "%llu with 02 (replay)\n",
        counters.value("sim:command:processed", 0ULL), counters.value("sim:por:sent", 0ULL),
        counters.value("sim:por:status:00", 0ULL), counters.value("sim:por:status:02", 0ULL));
    if (keep)
        std::printf("   inventory and card state kept in %s\n", dir.c_str());
    else
        std::filesystem::remove_all(dir);
}

} // namespace

int main(int argc, char** argv) {
    // A peer that goes away mid-write must be an error on that connection (EPIPE), not the
    // end of the process.
    std::signal(SIGPIPE, SIG_IGN);
    std::string sim_path = CARDLETS_SIM_PATH;
    size_t cards = 200;
    bool keep = false;
    for (int i = 1; i < argc; i++) {
        if (!std::strcmp(argv[i], "--keep"))
            keep = true;
        else if (!std::strcmp(argv[i], "--sim") && i + 1 < argc)
            sim_path = argv[++i];
        else if (!std::strcmp(argv[i], "--cards") && i + 1 < argc)
            cards = std::strtoul(argv[++i], nullptr, 10);
        else
            die(std::string("unknown argument ") + argv[i] + " (--sim PATH, --cards N, --keep)");
    }
    if (cards < 1 || cards > 100000)
        die("--cards: 1..100000");
    log::set_sink({});
    char dir_template[] = "/tmp/ota-demo-XXXXXX";
    if (!mkdtemp(dir_template))
        die("cannot make a temporary folder");
    const std::string dir = dir_template;
    uv_loop_t loop;
    uv_loop_init(&loop);

    demo(&loop, sim_path, cards, keep, dir);
    for (int i = 0; i < 10 && uv_run(&loop, UV_RUN_NOWAIT); i++) {
    }
    uv_loop_close(&loop);
    return 0;
}
