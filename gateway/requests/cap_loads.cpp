// SPDX-License-Identifier: GPL-2.0-or-later
#include "requests/cap_loads.hpp"

#include <algorithm>
#include <fstream>
#include <iterator>

#include "otagw/common/crypto.hpp"
#include "otagw/common/tlv.hpp"
#include "otagw/ota/globalplatform.hpp"

namespace otagw::gateway {

namespace {

constexpr size_t kMaxCapFile = 8u << 20;
constexpr size_t kSmsUserData = 140;
constexpr size_t kPacketOverhead = 16 + 16 + 15;

Result<Bytes> read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in)
        return make_error("cannot read " + path);
    Bytes data;
    char chunk[65536];
    while (in.read(chunk, sizeof chunk) || in.gcount() > 0) {
        data.insert(data.end(), chunk, chunk + in.gcount());
        if (data.size() > kMaxCapFile)
            return make_error(path + " is larger than 8 MiB: no CAP file");
    }
    if (in.bad())
        return make_error("cannot read " + path);
    return data;
}

// INSTALL [for load]'s load parameters (GP 2.3 §11.5.2.3.7): 'EF' { 'C6' the non-volatile code
// the load file needs }, so a card short of memory refuses before any block is sent.
Bytes load_parameters(size_t size) {
    Bytes c6;
    for (int shift = 24; shift >= 0; shift -= 8)
        if (size >> shift || shift == 0 || !c6.empty())
            c6.push_back(static_cast<uint8_t>(size >> shift));
    Bytes sys;
    tlv::append_ber_tlv(sys, 0xc6, c6);
    return tlv::ber_tlv(0xef, sys);
}

} // namespace

std::vector<uint16_t> CapLoad::blocks_per_packet(bool bip) const {
    std::vector<uint16_t> out;
    for (const auto& p : packets_for(bip))
        out.push_back(p.blocks);
    return out;
}

size_t script_capacity(uint32_t segments) {
    const size_t user_data =
        segments <= 1 ? kSmsUserData - 3                                          // UDH 02 70 00
                      : (kSmsUserData - 8) + (kSmsUserData - 6) * (segments - 1); // + 00 03..
    return user_data - kPacketOverhead;
}

Result<std::vector<LoadPacket>> plan_load(const ota::Aid& package, ByteView block,
                                          const OtaConfig& ota, size_t capacity_bytes) {
    ota::gp::InstallForLoad ifl;
    ifl.load_file = package;
    ifl.load_parameters = load_parameters(block.size());
    size_t value_at = 1; // the hash covers the C4 value: the components
    if (block.empty() || block[0] != 0xc4 || !tlv::parse_ber_length(block, value_at))
        return make_error("not a load file data block ('C4')");
    const ByteView code = block.subspan(value_at);
    if (ota.load_hash == OtaConfig::LoadHash::Sha1)
        ifl.load_file_hash = crypto::sha1(code);
    else if (ota.load_hash == OtaConfig::LoadHash::Sha256) {
        auto h = crypto::sha256(code);
        ifl.load_file_hash.assign(h.begin(), h.end());
    }
    ota::Apdu install;
    OTAGW_TRY_ASSIGN(install, ota::gp::install_for_load(ifl));
    const size_t capacity = capacity_bytes ? capacity_bytes : script_capacity(ota.max_segments);
    const size_t install_size = install.encode().size();
    if (install_size + 6 > capacity)
        return make_error("ota max-segments " + std::to_string(ota.max_segments) +
                          " leaves no room for a LOAD block beside INSTALL [for load]");
    std::vector<LoadPacket> packets(1);
    packets[0].script.push_back(std::move(install));
    size_t used = install_size, offset = 0;
    unsigned number = 0;
    while (offset < block.size()) {
        if (capacity - used < 6) { // not even a one-byte block: the next packet
            packets.emplace_back();
            used = 0;
            continue;
        }
        const size_t n = std::min({capacity - used - 5, size_t{255}, block.size() - offset});
        if (number > 255)
            return make_error("the load file data block of " + std::to_string(block.size()) +
                              " bytes needs more than 256 LOAD blocks");
        packets.back().script.push_back(ota::gp::load_command(
            static_cast<uint8_t>(number), offset + n == block.size(), block.subspan(offset, n)));
        used += 5 + n;
        offset += n;
        number++;
        packets.back().blocks++;
    }
    return packets;
}

Result<CapLoad> read_cap_load(const db::Application& app, const std::string& path,
                              const OtaConfig& ota) {
    const std::string who = "application " + app.name + ": cap " + path + ": ";
    auto bytes = read_file(path);
    if (!bytes)
        return make_error("application " + app.name + ": cap: " + bytes.error().message);
    CapLoad c;
    c.path = path;
    auto cap = ota::cap::read(*bytes);
    if (!cap)
        return make_error(who + cap.error().message);
    c.cap = std::move(*cap);
    const std::string package = c.cap.package.aid.hex();
    if (app.load_file_aid.empty() || app.module_aid.empty())
        return make_error(who + "load-file and module must name the package (" + package +
                          ") and the applet it installs from");
    if (app.load_file_aid != package)
        return make_error(who + "the package is " + package + ", not load-file " +
                          app.load_file_aid);
    if (std::none_of(c.cap.applets.begin(), c.cap.applets.end(),
                     [&](const ota::Aid& a) { return a.hex() == app.module_aid; })) {
        std::string applets;
        for (const auto& a : c.cap.applets)
            applets += (applets.empty() ? "" : ", ") + a.hex();
        return make_error(who + "module " + app.module_aid + " is none of its applets (" +
                          (applets.empty() ? "none" : applets) + ")");
    }
    c.load_file_data_block = c.cap.load_file_data_block(false);
    auto packets = plan_load(c.cap.package.aid, c.load_file_data_block, ota);
    if (!packets)
        return make_error(who + packets.error().message);
    c.packets = std::move(*packets);
    auto bip = plan_load(c.cap.package.aid, c.load_file_data_block, ota, kBipScriptCapacity);
    if (!bip)
        return make_error(who + "over BIP: " + bip.error().message);
    c.bip_packets = std::move(*bip);
    return c;
}

Status CapLoads::read(const GatewayConfig& config) {
    loads_.clear();
    for (const auto& cap : config.cap_files) {
        auto app = std::find_if(config.applications.begin(), config.applications.end(),
                                [&](const db::Application& a) { return a.name == cap.first; });
        if (app == config.applications.end())
            continue; // removed with its application
        auto load = read_cap_load(*app, cap.second, config.ota);
        if (!load)
            return load.take_error();
        loads_.emplace(cap.first, std::move(*load));
    }
    return {};
}

} // namespace otagw::gateway
