// SPDX-License-Identifier: GPL-2.0-or-later
// otactl packet encode | decode-por: offline 03.48 (TS 102 225 / TS 31.115) packet tools.
#include <memory>

#include "cli.hpp"
#include "otagw/ota/ts_102_225.hpp"
#include "otagw/ota/ts_102_226.hpp"
#include "otagw/ota/ts_31_115.hpp"

namespace otactl {

using namespace otagw;
using namespace otagw::ota;

namespace {

struct KeyOptions {
    std::string spi, kic, kid, kic_key, kid_key;

    void add(CLI::App* cmd) {
        cmd->add_option("--spi", spi, "security parameter indicator, 2 bytes hex")->required();
        cmd->add_option("--kic", kic, "KIc byte (algorithm and key version), hex")->required();
        cmd->add_option("--kid", kid, "KID byte (algorithm and key version), hex")->required();
        cmd->add_option("--kic-key", kic_key, "ciphering key, hex");
        cmd->add_option("--kid-key", kid_key, "checksum key, hex");
    }
};

struct Parsed {
    Spi spi;
    uint8_t kic = 0, kid = 0;
    Bytes kic_key, kid_key;
};

std::string spi_hex(Spi s) {
    const uint8_t b[2] = {s.first, s.second};
    return to_hex(ByteView(b, 2));
}

// Checks that the keys fit the algorithms their KIc/KID name, and, for a command packet, that
// the keys its SPI needs are there (a PoR's needs are known once it is read: a card may answer
// a security error in clear). Messages name the option.
Parsed parse_keys(const KeyOptions& o, bool command) {
    Parsed p;
    p.spi = take(Spi::parse(o.spi), "--spi");
    p.kic = byte_option("--kic", o.kic);
    p.kid = byte_option("--kid", o.kid);
    if (!o.kic_key.empty())
        p.kic_key = hex_option("--kic-key", o.kic_key);
    if (!o.kid_key.empty())
        p.kid_key = hex_option("--kid-key", o.kid_key);

    auto check_key = [](const char* option, const Bytes& key, crypto::BlockAlgo algo,
                        const char* byte_name, uint8_t byte) {
        if (!crypto::key_size_valid(algo, key.size()))
            usage_error(option, std::string(byte_name) + " " + to_hex(ByteView(&byte, 1)) +
                                    " names " + crypto::block_algo_name(algo) + ", which needs " +
                                    crypto::key_sizes_text(algo) + ", got " +
                                    std::to_string(key.size()));
    };
    const std::string why = "SPI " + spi_hex(p.spi) + " asks for";
    const Integrity integrity = command ? p.spi.integrity() : p.spi.por_integrity();
    auto kic_algo = kic_cipher(p.kic);
    auto kid_algo = kid_cc(p.kid);
    if (!p.kic_key.empty() && kic_algo)
        check_key("--kic-key", p.kic_key, *kic_algo, "KIc", p.kic);
    // With an RC the KID names a CRC, not a cipher, and no KID key is used (TS 102 225 §5.1.3).
    if (integrity == Integrity::Rc)
        p.kid_key.clear();
    else if (!p.kid_key.empty() && kid_algo)
        check_key("--kid-key", p.kid_key, kid_algo->block, "KID", p.kid);
    if (command && p.spi.ciphered()) {
        if (!kic_algo)
            usage_error("--kic", kic_algo.error().message);
        if (p.kic_key.empty())
            usage_error("--kic-key", "required: " + why + " ciphering");
    }
    if (command && integrity == Integrity::Cc) {
        if (!kid_algo)
            usage_error("--kid", kid_algo.error().message);
        if (p.kid_key.empty())
            usage_error("--kid-key", "required: " + why + " a cryptographic checksum");
    } else if (integrity == Integrity::Rc) {
        take(kid_rc(p.kid), "--kid");
    } else if (integrity == Integrity::Ds) {
        usage_error("--spi", "digital signature (DS) is not supported");
    }
    return p;
}

Json response_json(ByteView data) {
    if (data.empty())
        return nullptr;
    if (ram::is_expanded_response(data)) {
        auto r = ram::parse_expanded_response(data);
        if (!r)
            return Json{{"format", "expanded"}, {"error", r.error().message}};
        Json rapdus = Json::array();
        for (const auto& ra : r->r_apdus) {
            const uint8_t sw[2] = {static_cast<uint8_t>(ra.sw >> 8), static_cast<uint8_t>(ra.sw)};
            rapdus.push_back({{"data", to_hex(ra.data)}, {"sw", to_hex(ByteView(sw, 2))}});
        }
        Json j{{"format", "expanded"}};
        j["number_of_commands"] = r->executed ? Json(*r->executed) : Json(nullptr);
        j["r_apdus"] = rapdus;
        j["bad_format"] = r->bad_format ? Json(to_hex(*r->bad_format)) : Json(nullptr);
        return j;
    }
    auto r = ram::parse_compact_response(data);
    if (!r)
        return Json{{"format", "compact"}, {"error", r.error().message}};
    const uint8_t sw[2] = {static_cast<uint8_t>(r->last_sw >> 8), static_cast<uint8_t>(r->last_sw)};
    return Json{{"format", "compact"},
                {"number_of_commands", r->executed},
                {"last_status_word", to_hex(ByteView(sw, 2))},
                {"last_response_data", to_hex(r->last_data)}};
}

std::string counter_hex(uint64_t c) {
    uint8_t b[5];
    for (int i = 4; i >= 0; i--, c >>= 8)
        b[i] = static_cast<uint8_t>(c);
    return to_hex(ByteView(b, 5));
}

} // namespace

void add_packet_commands(CLI::App& app) {
    CLI::App* packet = app.add_subcommand("packet", "offline secured packet tools");
    packet->require_subcommand(1);

    // ---- encode ---------------------------------------------------------------------------------
    auto enc = std::make_shared<KeyOptions>();
    auto tar = std::make_shared<std::string>();
    auto cntr = std::make_shared<std::string>();
    auto data = std::make_shared<std::string>();
    auto ref = std::make_shared<unsigned>(0);
    CLI::App* encode = packet->add_subcommand("encode", "build a command packet (SMS-PP)");
    enc->add(encode);
    encode->add_option("--tar", *tar, "toolkit application reference, 3 bytes hex")->required();
    encode->add_option("--cntr", *cntr, "counter, 5 bytes hex")->required();
    encode->add_option("--data", *data, "secured data (C-APDUs), hex")->required();
    encode->add_option("--concat-ref", *ref, "concatenation reference for segments (0-255)")
        ->check(CLI::Range(0, 255));
    encode->callback([=] {
        Parsed p = parse_keys(*enc, true);
        CommandHeader h;
        h.spi = p.spi;
        h.kic = p.kic;
        h.kid = p.kid;
        h.tar = take(parse_tar(*tar), "--tar");
        h.counter = take(parse_counter(*cntr), "--cntr");
        Bytes secured = hex_option("--data", *data);
        OtaKeys keys = OtaKeys::create(p.kic, p.kic_key, p.kid, p.kid_key);
        Bytes packet_bytes;
        if (auto st = build_command_packet(h, keys, secured, packet_bytes); !st)
            usage_error("", st.error().message);
        auto segments =
            take(sms::segment_command_packet(packet_bytes, static_cast<uint8_t>(*ref)), "--data");
        Json segs = Json::array();
        for (const auto& s : segments)
            segs.push_back(to_hex(s));
        print_json(Json{{"command_packet", to_hex(packet_bytes)},
                        {"user_data", to_hex(sms::command_user_data(packet_bytes))},
                        {"segments", segs}});
    });

    // ---- decode-por -----------------------------------------------------------------------------
    auto dec = std::make_shared<KeyOptions>();
    auto por = std::make_shared<std::string>();
    CLI::App* decode = packet->add_subcommand("decode-por", "decode and verify a PoR");
    dec->add(decode);
    decode->add_option("--data", *por, "PoR user data, with or without its UDH, hex")->required();
    decode->callback([=] {
        Parsed p = parse_keys(*dec, false);
        Bytes user_data = hex_option("--data", *por);
        OtaKeys keys = OtaKeys::create(p.kic, p.kic_key, p.kid, p.kid_key);
        auto r = decode_response_packet(user_data, p.spi, keys);
        if (!r) {
            std::string msg = r.error().message;
            if (msg.rfind("ciphering: ", 0) == 0)
                usage_error("--kic-key", msg);
            if (msg.rfind("cryptographic checksum: ", 0) == 0)
                usage_error("--kid-key", msg);
            usage_error("--data", msg);
        }
        const uint8_t status = r->status;
        Json j{{"tar", to_hex(r->tar)},
               {"cntr", counter_hex(r->counter)},
               {"pcntr", r->pcntr},
               {"status", to_hex(ByteView(&status, 1))},
               {"status_name", por_status_name(status)},
               {"integrity", integrity_check_name(r->integrity)},
               {"data", to_hex(r->data)},
               {"response", response_json(r->data)},
               {"ciphered", r->ciphered}};
        print_json(j);
        if (r->integrity == IntegrityCheck::Failed)
            std::cerr << "otactl: warning: PoR integrity check failed; do not trust its content\n";
    });
}

} // namespace otactl
