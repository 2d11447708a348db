// SPDX-License-Identifier: GPL-2.0-or-later
// The Remote Administration Server under many concurrent admin sessions (doc/bip.md): the RAS
// of ota-gatewayd (its TLS, HTTP and admin protocol code, a SQLite store of CARDS cards with
// sealed PSKs) on one libuv loop in its own thread, and CONCURRENCY card sessions at once from
// another thread (mbedTLS clients). Figures for each concurrency: handshakes/s (TLS up, then
// closed), sessions/s (handshake, first POST, one script, its results POSTed, 204), and the
// server thread's CPU per session.
//   bench_ras [CARDS] [SECONDS] [CONCURRENCY...]        (defaults: 10000 5 1 100 1000)
#include <sys/resource.h>
#include <time.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "bip/ras_server.hpp"
#include "otagw/common/tls_psk.hpp"
#include "otagw/db/sqlite_store.hpp"

using namespace otagw;
using namespace otagw::gateway;

namespace {

struct OneScript : bip::RasHandler {
    bool opened(bip::ConnectionId, const bip::RasCard&) override { return true; }
    void posted(bip::ConnectionId, const bip::RasCard&, bip::AdminPost&& post,
                std::function<void(bip::AdminReply)> answer) override {
        if (post.status == bip::ScriptStatus::None)
            answer({Bytes{0xaa, 0x07, 0x22, 0x05, 0x80, 0xca, 0x9f, 0x7f, 0x00}, "/ras/1"});
        else
            answer({std::nullopt, ""});
    }
    void closed(bip::ConnectionId, const bip::RasCard&, const std::string&) override {}
    void tls_failed(const std::optional<bip::RasCard>&, const std::string&) override {}
};

double thread_cpu_s() {
    timespec t{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

Bytes identity_of(size_t card) {
    const std::string s = "card-" + std::to_string(card);
    return Bytes(s.begin(), s.end());
}
Bytes psk_of(size_t card) {
    Bytes k(16);
    for (size_t i = 0; i < k.size(); i++)
        k[i] = static_cast<uint8_t>(card * 31 + i * 7);
    return k;
}

// The card side: CONCURRENCY sessions kept going until the time is up.
struct Clients {
    uv_loop_t* loop;
    uint16_t port;
    bool full; // the whole admin dialog, or the handshake alone
    size_t cards;
    std::vector<std::shared_ptr<tls::Config>> configs; // one per card (its identity and PSK)
    size_t next_card = 0;
    size_t done = 0, failed = 0;
    bool stopping = false;

    struct One {
        std::unique_ptr<uv::TcpStream> stream;
        std::unique_ptr<tls::Session> tls;
        std::string in;
        int stage = 0; // 0 handshake, 1 script awaited, 2 end awaited
    };
    std::vector<std::unique_ptr<One>> ones;

    void flush(One& o) {
        Bytes out = o.tls->take_output();
        if (!out.empty())
            o.stream->write(out);
    }
    void post(One& o, bool first) {
        std::string m = std::string("POST ") + (first ? "/ras" : "/ras/1") +
                        " HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Admin-Protocol: "
                        "globalplatform-remote-admin/1.0\r\n";
        const std::string results("\xab\x07\x80\x01\x01\x23\x02\x6a\x88", 9);
        if (!first)
            m += "X-Admin-Script-Status: ok\r\nContent-Length: 9\r\n\r\n" + results;
        else
            m += "\r\n";
        (void)o.tls->write(ByteView(reinterpret_cast<const uint8_t*>(m.data()), m.size()));
        flush(o);
    }
    // The session of `slot` is still `raw` (a closed one's late callbacks are dropped).
    bool mine(size_t slot, const One* raw) const {
        return slot < ones.size() && ones[slot].get() == raw && !stopping;
    }
    void finish(size_t slot, bool ok) {
        (ok ? done : failed)++;
        auto& o = ones[slot];
        if (o->stream)
            uv::defer(loop, [s = std::shared_ptr<uv::TcpStream>(std::move(o->stream)),
                             t = std::shared_ptr<tls::Session>(std::move(o->tls))] {});
        if (!stopping)
            start(slot);
    }
    void start(size_t slot) {
        auto& o = ones[slot];
        o = std::make_unique<One>();
        const size_t card = next_card++ % cards;
        o->tls = std::make_unique<tls::Session>(configs[card % configs.size()]);
        o->stream = std::make_unique<uv::TcpStream>(loop);
        One* raw = o.get();
        o->stream->connect("127.0.0.1", port, [this, slot, raw](int status) {
            if (!mine(slot, raw))
                return;
            if (status != 0)
                return finish(slot, false);
            raw->stream->start(
                [this, slot, raw](ByteView bytes) {
                    if (!mine(slot, raw))
                        return;
                    const bool was_open = raw->tls->state() == tls::Session::State::Open;
                    if (!raw->tls->feed(bytes).ok())
                        return finish(slot, false);
                    flush(*raw);
                    if (!was_open && raw->tls->state() == tls::Session::State::Open) {
                        if (!full) {
                            raw->tls->close();
                            flush(*raw);
                            raw->stream->close_when_written();
                            return finish(slot, true);
                        }
                        raw->stage = 1;
                        post(*raw, true);
                    }
                    Bytes plain = raw->tls->take_plain();
                    raw->in.append(plain.begin(), plain.end());
                    if (raw->stage == 1 && raw->in.find("\r\n\r\n") != std::string::npos &&
                        raw->in.size() >= raw->in.find("\r\n\r\n") + 4 + 9) {
                        raw->in.clear();
                        raw->stage = 2;
                        post(*raw, false);
                    } else if (raw->stage == 2 &&
                               raw->in.find("204 No Content") != std::string::npos) {
                        raw->tls->close();
                        flush(*raw);
                        raw->stream->close_when_written();
                        return finish(slot, true);
                    }
                },
                [this, slot, raw](int) {
                    if (mine(slot, raw))
                        finish(slot, false);
                });
            (void)raw->tls->start();
            flush(*raw);
        });
    }
};

} // namespace

int main(int argc, char** argv) {
    const size_t cards = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 10000;
    const double seconds = argc > 2 ? std::strtod(argv[2], nullptr) : 5;
    std::vector<size_t> levels;
    for (int i = 3; i < argc; i++)
        levels.push_back(std::strtoul(argv[i], nullptr, 10));
    if (levels.empty())
        levels = {1, 100, 1000};

    // The store: CARDS cards with an SCP81 keyset each, in a temporary file.
    char dir[] = "/tmp/otagw-bench-ras-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    auto vault = db::KeyVault::from_hex(std::string(64, '7'), "bench");
    auto store = db::SqliteStore::open({std::string(dir) + "/ras.db"}, *vault);
    if (!store) {
        std::fprintf(stderr, "%s\n", store.error().message.c_str());
        return 1;
    }
    (void)(*store)->begin();
    for (size_t c = 0; c < cards; c++) {
        db::CardImage img;
        img.card.iccid = "89882990" + std::to_string(10000000000ULL + c);
        img.card.imsi = std::to_string(100000000000000ULL + c);
        img.card.msisdn = std::to_string(999000000000ULL + c);
        img.keysets.push_back({1, "aes128", Bytes(16, 1), Bytes(16, 2), Bytes(16, 3), 0});
        db::PskKeyset k;
        k.identity = identity_of(c);
        k.psk = psk_of(c);
        k.dek_algorithm = "aes128";
        k.dek = Bytes(16, 4);
        img.psk_keysets.push_back(k);
        if (auto r = (*store)->put_card(img); !r) {
            std::fprintf(stderr, "%s\n", r.error().message.c_str());
            return 1;
        }
    }
    (void)(*store)->commit();

    // The server, on its own loop and thread.
    uv_loop_t server_loop;
    uv_loop_init(&server_loop);
    RasConfig config;
    config.ip = "127.0.0.1";
    config.max_sessions = 100000;
    OneScript handler;
    bip::RasServer ras(&server_loop, **store, config, handler);
    if (Status st = ras.listen(); !st) {
        std::fprintf(stderr, "%s\n", st.error().message.c_str());
        return 1;
    }
    const uint16_t port = ras.port();
    std::atomic<bool> stop{false};
    std::atomic<double> server_cpu{0};
    std::thread server([&] {
        uv::Timer keep(&server_loop);
        keep.start(
            50,
            [&] {
                server_cpu = thread_cpu_s();
                if (stop)
                    uv_stop(&server_loop);
            },
            50);
        uv_run(&server_loop, UV_RUN_DEFAULT);
    });

    std::printf("RAS: %zu cards (PSK looked up in SQLite by identity), TLS 1.2 "
                "PSK-AES128-CBC-SHA256, client and server on separate threads of one machine\n",
                cards);
    for (const bool full : {false, true}) {
        for (size_t level : levels) {
            uv_loop_t loop;
            uv_loop_init(&loop);
            {
                Clients c{&loop, port, full, cards, {}, 0, 0, 0, false, {}};
                for (size_t i = 0; i < std::min<size_t>(cards, 2000); i++) {
                    tls::PskOptions o;
                    o.identity = identity_of(i);
                    o.psk = psk_of(i);
                    c.configs.push_back(*tls::Config::client(o));
                }
                c.ones.resize(level);
                const double cpu0 = server_cpu;
                const auto t0 = std::chrono::steady_clock::now();
                for (size_t i = 0; i < level; i++)
                    c.start(i);
                uv::Timer end(&loop);
                uv_update_time(&loop);
                end.start(static_cast<uint64_t>(seconds * 1000), [&] {
                    c.stopping = true;
                    uv_stop(&loop);
                });
                uv_run(&loop, UV_RUN_DEFAULT);
                const double secs =
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
                const double cpu = server_cpu - cpu0;
                std::printf("%-10s concurrency %5zu: %7zu in %.1f s = %7.0f/s, %zu failed; "
                            "server thread CPU %.0f us each (%.0f %% of a core)\n",
                            full ? "sessions" : "handshakes", level, c.done, secs,
                            static_cast<double>(c.done) / secs, c.failed,
                            c.done ? cpu * 1e6 / static_cast<double>(c.done) : 0.0,
                            100 * cpu / secs);
                std::fflush(stdout);
                c.stopping = true;
                c.ones.clear();
            }
            uv_run(&loop, UV_RUN_DEFAULT); // the closes, and what was deferred
            uv_loop_close(&loop);
            // Let the server see the last closes before the next level.
            std::this_thread::sleep_for(std::chrono::milliseconds(500));
        }
    }
    stop = true;
    server.join();
    std::system((std::string("rm -rf ") + dir).c_str());
    return 0;
}
