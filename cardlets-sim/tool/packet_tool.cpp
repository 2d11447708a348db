// SPDX-License-Identifier: GPL-2.0-or-later
// cardlets-sim packet decode-command | encode-por: the card's side of 03.48 offline, with the
// simulator's own card code (not the gateway's codec), so the two can be checked against each
// other and against the vectors.
#include <iostream>

#include "cli.hpp"
#include "otagw/sim/ota_card.hpp"

namespace sim_cli {

using namespace otagw;

namespace {

// A keyset holding one key for the algorithm `byte` names; the message names the option.
sim::Keyset keyset_for(const char* option, const char* byte_name, uint8_t byte, const Bytes& key) {
    sim::Keyset k;
    auto algo = sim::algo_named_by(byte);
    if (!algo)
        usage_error(option, std::string(byte_name) + " " + to_hex(ByteView(&byte, 1)) +
                                " names no supported block cipher (DES, 3DES, AES)");
    if (!crypto::key_size_valid(*algo, key.size()))
        usage_error(option, std::string(byte_name) + " " + to_hex(ByteView(&byte, 1)) + " names " +
                                crypto::block_algo_name(*algo) + ", which needs " +
                                crypto::key_sizes_text(*algo) + ", got " +
                                std::to_string(key.size()));
    k.algo = *algo;
    k.kic = k.kid = k.kik = key;
    return k;
}

// --data: the SMS user data ('027000' || packet, or any UDH holding IE '70') or the packet.
ByteView command_packet_of(const Bytes& data) {
    if (data.size() >= 2 && static_cast<size_t>(data[0] << 8 | data[1]) + 2 == data.size())
        return data; // CPL matches: the packet alone
    if (!data.empty() && static_cast<size_t>(data[0]) + 1 < data.size()) {
        const size_t udhl = data[0];
        for (size_t i = 1; i + 1 < 1 + udhl; i += 2 + data[i + 1])
            if (data[i] == 0x70)
                return ByteView(data).subspan(1 + udhl);
    }
    usage_error("--data", "neither a command packet (CPL matching its length) nor user data "
                          "with the command packet IE '70'");
}

} // namespace

void add_packet_commands(CLI::App& app) {
    CLI::App* packet = app.add_subcommand("packet", "offline card-side secured packet tools");
    packet->require_subcommand(1);

    // ---- decode-command -------------------------------------------------------------------------
    struct DecodeOptions {
        std::string kic_key, kid_key, data;
    };
    auto d = std::make_shared<DecodeOptions>();
    CLI::App* dec = packet->add_subcommand("decode-command",
                                           "read and verify a command packet as the card does");
    dec->add_option("--kic-key", d->kic_key, "ciphering key, hex (needed when the SPI ciphers)");
    dec->add_option("--kid-key", d->kid_key, "checksum key, hex (needed for a CC)");
    dec->add_option("--data", d->data, "user data with its UDH, or the command packet alone, hex")
        ->required();
    dec->callback([d] {
        const Bytes data = hex_option("--data", d->data);
        const ByteView p = command_packet_of(data);
        if (p.size() < 16)
            usage_error("--data", "a command packet has at least 16 bytes");
        const uint8_t spi1 = p[3], kic = p[5], kid = p[6];
        sim::Keyset cipher, check;
        if (spi1 & 0x04) {
            if (d->kic_key.empty())
                usage_error("--kic-key", "required: the SPI asks for ciphering");
            cipher = keyset_for("--kic-key", "KIc", kic, hex_option("--kic-key", d->kic_key));
        }
        if ((spi1 & 0x03) == 0x02) {
            if (d->kid_key.empty())
                usage_error("--kid-key", "required: the SPI asks for a cryptographic checksum");
            check = keyset_for("--kid-key", "KID", kid, hex_option("--kid-key", d->kid_key));
        }
        auto v = sim::read_command_packet(p, cipher, check);
        if (!v)
            usage_error("--data", v.error().message);
        uint8_t cntr[5];
        for (int i = 0; i < 5; i++)
            cntr[i] = static_cast<uint8_t>(v->counter >> (32 - 8 * i));
        const uint8_t spi[2] = {v->spi1, v->spi2};
        Json j{{"spi", to_hex(ByteView(spi, 2))},     {"kic", to_hex(ByteView(&v->kic, 1))},
               {"kid", to_hex(ByteView(&v->kid, 1))}, {"tar", to_hex(v->tar)},
               {"cntr", to_hex(ByteView(cntr, 5))},   {"pcntr", v->pcntr},
               {"integrity", v->integrity},           {"secured_data", to_hex(v->secured_data)}};
        std::cout << j.dump() << '\n';
        if (v->integrity == "failed")
            std::cerr << "cardlets-sim: warning: integrity check failed; a card would answer PoR "
                         "status 01\n";
    });

    // ---- encode-por -----------------------------------------------------------------------------
    struct EncodeOptions {
        std::string spi, kic, kid, kic_key, kid_key, tar, cntr, status, data;
    };
    auto e = std::make_shared<EncodeOptions>();
    CLI::App* enc = packet->add_subcommand("encode-por", "build a PoR as the card sends it");
    enc->add_option("--spi", e->spi, "the command's SPI, 2 bytes hex (SPI2 secures the PoR)")
        ->required();
    enc->add_option("--kic", e->kic, "the command's KIc byte, hex")->required();
    enc->add_option("--kid", e->kid, "the command's KID byte, hex")->required();
    enc->add_option("--kic-key", e->kic_key,
                    "ciphering key, hex (needed when SPI2 ciphers the PoR)");
    enc->add_option("--kid-key", e->kid_key, "checksum key, hex (needed for a PoR CC)");
    enc->add_option("--tar", e->tar, "TAR, 3 bytes hex")->required();
    enc->add_option("--cntr", e->cntr, "counter, 5 bytes hex")->required();
    enc->add_option("--status", e->status, "response status code, 1 byte hex")->required();
    enc->add_option("--data", e->data, "additional response data, hex (may be empty)")->required();
    enc->callback([e] {
        const Bytes spi = hex_option("--spi", e->spi, 2);
        sim::PorFields f;
        f.spi2 = spi[1];
        f.kic = hex_option("--kic", e->kic, 1)[0];
        f.kid = hex_option("--kid", e->kid, 1)[0];
        const Bytes tar = hex_option("--tar", e->tar, 3);
        std::copy(tar.begin(), tar.end(), f.tar.begin());
        for (uint8_t b : hex_option("--cntr", e->cntr, 5))
            f.counter = f.counter << 8 | b;
        f.status = hex_option("--status", e->status, 1)[0];
        const Bytes data = e->data.empty() ? Bytes{} : hex_option("--data", e->data);
        sim::Keyset cipher, check;
        if (f.spi2 & 0x10) {
            if (e->kic_key.empty())
                usage_error("--kic-key", "required: SPI2 asks for a ciphered PoR");
            cipher = keyset_for("--kic-key", "KIc", f.kic, hex_option("--kic-key", e->kic_key));
            f.cipher_keys = &cipher;
        }
        if (((f.spi2 >> 2) & 0x03) == 0x02) {
            if (e->kid_key.empty())
                usage_error("--kid-key", "required: SPI2 asks for a PoR cryptographic checksum");
            check = keyset_for("--kid-key", "KID", f.kid, hex_option("--kid-key", e->kid_key));
            f.check_keys = &check;
        } else if (((f.spi2 >> 2) & 0x03) == 0x03) {
            usage_error("--spi", "a digital signature (DS) on the PoR is not supported");
        }
        auto por = sim::build_por(f, data);
        if (!por)
            usage_error("--kid", por.error().message);
        if (por->size() - 3 > 137)
            std::cerr << "cardlets-sim: note: the PoR needs concatenated SMS\n";
        Json j{{"user_data", to_hex(*por)}, {"response_packet", to_hex(ByteView(*por).subspan(3))}};
        std::cout << j.dump() << '\n';
    });
}

} // namespace sim_cli
