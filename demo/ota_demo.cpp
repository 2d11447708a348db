// SPDX-License-Identifier: GPL-2.0-or-later
// ota-demo: what the OTA library does for one request, end to end on one machine:
// lock an applet on a sample card. It builds the GlobalPlatform command, secures it as an
// SCP80 command packet, plays the card with the library's reverse direction (the real card
// simulator comes with cardlets-sim), and decodes and verifies the card's PoR.
#include <cstdio>
#include <cstdlib>

#include "otagw/ota/globalplatform.hpp"
#include "otagw/ota/status_words.hpp"
#include "otagw/ota/ts_102_225.hpp"
#include "otagw/ota/ts_102_226.hpp"
#include "otagw/ota/ts_31_115.hpp"

using namespace otagw;
using namespace otagw::ota;

namespace {

[[noreturn]] void die(const char* step, const Error& e) {
    std::fprintf(stderr, "ota-demo: %s: %s\n", step, e.message.c_str());
    std::exit(1);
}

template <typename T>
T check(Result<T> r, const char* step) {
    if (!r)
        die(step, r.error());
    return std::move(r).value();
}

void check(Status s, const char* step) {
    if (!s)
        die(step, s.error());
}

std::string hex8(uint64_t v, int bytes) {
    Bytes b(static_cast<size_t>(bytes));
    for (int i = bytes - 1; i >= 0; i--, v >>= 8)
        b[static_cast<size_t>(i)] = static_cast<uint8_t>(v);
    return to_hex(b);
}

} // namespace

int main() {
    // A sample card: keyset KVN 1, AES-128 for ciphering (KIc 12) and CC (KID 12).
    const char* iccid = "8949000000000000017";
    const Aid canteen = check(Aid::parse("a0000000871002ff49ff0589"), "AID");
    const Bytes kic_key = check(parse_hex("4b3a1e8f0c6d2a9b7e5f1c3d8a0b6e24"), "key");
    const Bytes kid_key = check(parse_hex("d17c04e2b9a35f681c2e7d9034af5b6c"), "key");
    const OtaKeys keys = OtaKeys::create(0x12, kic_key, 0x12, kid_key);

    std::printf("ota-gateway library demo: suspend the canteen wallet on card %s\n\n", iccid);
    std::printf("card     ICCID %s, keyset KVN 1: KIc 12 / KID 12 (AES-128, keys not shown)\n",
                iccid);
    std::printf("applet   %s (RID %s, PIX %s)\n\n", canteen.hex().c_str(),
                to_hex(canteen.rid()).c_str(), to_hex(canteen.pix()).c_str());

    // 1. The card command.
    const Apdu lock = gp::set_application_lock(canteen, true);
    std::printf("1. GlobalPlatform SET STATUS (lock):     %s\n", lock.hex().c_str());

    // 2. Secured for the card: ciphered, CC, counter must be higher; PoR with CC, ciphered,
    //    sent back by SMS-SUBMIT (osmo-msc drops user data in delivery reports).
    CommandHeader h;
    h.spi = check(Spi::parse("1639"), "SPI");
    h.kic = 0x12;
    h.kid = 0x12;
    h.tar = ram::kTarIsdRam;
    h.counter = 1;
    const Bytes script = ram::compact_script({lock});
    Bytes packet;
    check(build_command_packet(h, keys, script, packet), "build command packet");
    const auto segments = check(sms::segment_command_packet(packet, 1), "segment");
    std::printf("2. SCP80 command packet (SPI 1639, TAR 000000, CNTR %s):\n   %s\n",
                hex8(h.counter, 5).c_str(), to_hex(packet).c_str());
    std::printf("   SMS-PP user data (PID 7F, DCS F6), %zu SMS: %s\n\n", segments.size(),
                to_hex(segments[0]).c_str());

    // 3. The card's side, played by the library's reverse direction.
    sms::Reassembler reassembler;
    const Bytes user_data = *check(reassembler.add("+4917012345678", segments[0], 0), "reassemble");
    const Bytes received(user_data.begin() + 3, user_data.end());
    const auto cmd = check(decode_command_packet(received, keys), "card: decode");
    const auto apdus = check(ram::parse_compact_script(cmd.secured_data), "card: script");
    std::printf("3. card: CC %s, counter %s (card had 0), %zu command: %s -> 9000\n",
                integrity_check_name(cmd.integrity), hex8(cmd.header.counter, 5).c_str(),
                apdus.size(), apdus[0].hex().c_str());
    ResponseHeader rh;
    rh.spi = cmd.header.spi;
    rh.kic = cmd.header.kic;
    rh.kid = cmd.header.kid;
    rh.tar = cmd.header.tar;
    rh.counter = cmd.header.counter;
    rh.status = static_cast<uint8_t>(PorStatus::Ok);
    Bytes por;
    check(build_response_packet(rh, keys, ram::encode_compact_response({1, 0x9000, {}}), true, por),
          "card: build PoR");
    std::printf("   PoR by SMS-SUBMIT: %s\n\n", to_hex(por).c_str());

    // 4. The gateway verifies the PoR and reads the card's answer.
    const auto r = check(decode_response_packet(por, h.spi, keys), "decode PoR");
    const auto compact = check(ram::parse_compact_response(r.data), "PoR response data");
    std::printf(
        "4. PoR: TAR %s, CNTR %s, status %02x %s, integrity %s, %u command(s), last SW %s\n",
        to_hex(r.tar).c_str(), hex8(r.counter, 5).c_str(), r.status, por_status_name(r.status),
        integrity_check_name(r.integrity), compact.executed,
        describe_status_word(compact.last_sw).c_str());
    const bool suspended =
        r.integrity == IntegrityCheck::Ok && r.status == 0x00 && is_success(compact.last_sw);
    std::printf("   => canteen wallet state: %s (only a verified PoR moves a state)\n",
                suspended ? "suspended" : "unknown, audit needed");
    return suspended ? 0 : 1;
}
