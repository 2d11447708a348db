// SPDX-License-Identifier: GPL-2.0-or-later
// bench_ota: secured command packets per second on one core, keys cached per keyset, one
// reused output buffer, a fresh counter per packet. Prints one line per case.
//
//   build/bench/bench_ota [seconds-per-case]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "otagw/ota/globalplatform.hpp"
#include "otagw/ota/ts_102_225.hpp"

using namespace otagw;
using namespace otagw::ota;
using Clock = std::chrono::steady_clock;

namespace {

struct Case {
    const char* name;
    uint8_t kic_kid;
    const char* key;
    const char* spi;
};

// The packet of the benchmark: SET STATUS lock of a 7-byte AID, 12 bytes.
Bytes set_status_apdu() {
    return gp::set_application_lock(*Aid::parse("a0000000871002"), true).encode();
}

volatile uint8_t sink;

double run_build(const Case& c, double seconds, size_t& packet_size) {
    Bytes kic_key = *parse_hex(c.key), kid_key = *parse_hex(c.key);
    kid_key[0] ^= 0x55;
    OtaKeys keys = OtaKeys::create(c.kic_kid, kic_key, c.kic_kid, kid_key);
    CommandHeader h;
    h.spi = *Spi::parse(c.spi);
    h.kic = c.kic_kid;
    h.kid = c.kic_kid;
    h.tar = {0x00, 0x00, 0x00};
    const Bytes apdu = set_status_apdu();
    Bytes out;
    out.reserve(256);
    uint64_t n = 0;
    const auto start = Clock::now();
    const auto end = start + std::chrono::duration<double>(seconds);
    auto now = start;
    while (now < end) {
        for (int i = 0; i < 4096; i++) {
            h.counter = ++n;
            if (!build_command_packet(h, keys, apdu, out).ok()) {
                std::fprintf(stderr, "build failed\n");
                std::exit(1);
            }
            sink = out[out.size() - 1];
        }
        now = Clock::now();
    }
    packet_size = out.size();
    return static_cast<double>(n) / std::chrono::duration<double>(now - start).count();
}

// The batch builder: `batch` packets per call, for `cards` keysets (different cards) in turn.
double run_build_batch(const Case& c, double seconds, size_t batch, size_t cards) {
    std::vector<OtaKeys> keys;
    for (size_t k = 0; k < cards; k++) {
        Bytes kic_key = *parse_hex(c.key), kid_key = *parse_hex(c.key);
        kic_key[1] = static_cast<uint8_t>(k);
        kid_key[0] ^= 0x55;
        keys.push_back(OtaKeys::create(c.kic_kid, kic_key, c.kic_kid, kid_key));
    }
    std::vector<CommandHeader> headers(batch);
    for (auto& h : headers) {
        h.spi = *Spi::parse(c.spi);
        h.kic = h.kid = c.kic_kid;
        h.tar = {0x00, 0x00, 0x00};
    }
    const Bytes apdu = set_status_apdu();
    std::vector<Bytes> outs(batch);
    for (auto& o : outs)
        o.reserve(256);
    std::vector<CommandJob> jobs(batch);
    uint64_t n = 0;
    const auto start = Clock::now();
    const auto end = start + std::chrono::duration<double>(seconds);
    auto now = start;
    while (now < end) {
        for (int i = 0; i < 64; i++) {
            for (size_t j = 0; j < batch; j++) {
                headers[j].counter = ++n;
                jobs[j] = {&headers[j], &keys[n % cards], apdu, &outs[j], {}};
            }
            build_command_packets(jobs);
            for (const auto& j : jobs)
                if (!j.status.ok()) {
                    std::fprintf(stderr, "batch build failed\n");
                    std::exit(1);
                }
            sink = outs[batch - 1].back();
        }
        now = Clock::now();
    }
    return static_cast<double>(n) / std::chrono::duration<double>(now - start).count();
}

double run_decode_por(const Case& c, double seconds) {
    Bytes kic_key = *parse_hex(c.key), kid_key = *parse_hex(c.key);
    kid_key[0] ^= 0x55;
    OtaKeys keys = OtaKeys::create(c.kic_kid, kic_key, c.kic_kid, kid_key);
    ResponseHeader h;
    h.spi = *Spi::parse(c.spi);
    h.kic = h.kid = c.kic_kid;
    h.counter = 1;
    Bytes por;
    const Bytes data = *parse_hex("019000");
    if (!build_response_packet(h, keys, data, true, por).ok())
        std::exit(1);
    uint64_t n = 0;
    const auto start = Clock::now();
    const auto end = start + std::chrono::duration<double>(seconds);
    auto now = start;
    while (now < end) {
        for (int i = 0; i < 4096; i++, n++) {
            auto r = decode_response_packet(por, h.spi, keys);
            if (!r.ok() || r->integrity != IntegrityCheck::Ok)
                std::exit(1);
            sink = r->status;
        }
        now = Clock::now();
    }
    return static_cast<double>(n) / std::chrono::duration<double>(now - start).count();
}

} // namespace

int main(int argc, char** argv) {
    const double seconds = argc > 1 ? std::atof(argv[1]) : 2.0;
    // SPI 1639: CC + ciphering + counter "higher"; PoR required, CC, ciphered, via SMS-SUBMIT.
    const Case cases[] = {
        {"AES-128 CBC + AES-CMAC", 0x12, "000102030405060708090a0b0c0d0e0f", "1639"},
        {"3DES-2key CBC + CBC-MAC", 0x15, "000102030405060708090a0b0c0d0e0f", "1639"},
        {"3DES-3key CBC + CBC-MAC", 0x19, "000102030405060708090a0b0c0d0e0f1011121314151617",
         "1639"},
    };
    std::printf("bench_ota: %.1f s per case, one thread, 12-byte SET STATUS APDU, SPI 1639\n",
                seconds);
    for (const Case& c : cases) {
        size_t size = 0;
        double rate = run_build(c, seconds, size);
        std::printf("build   %-26s %10.0f packets/s  (%zu-byte packet)\n", c.name, rate, size);
    }
    for (const Case& c : cases) {
        double rate = run_build_batch(c, seconds, 64, 16);
        std::printf("batch   %-26s %10.0f packets/s  (64 per call, 16 keysets)\n", c.name, rate);
    }
    for (const Case& c : cases) {
        double rate = run_decode_por(c, seconds);
        std::printf("decode  %-26s %10.0f PoRs/s\n", c.name, rate);
    }
    return 0;
}
