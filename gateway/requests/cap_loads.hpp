// SPDX-License-Identifier: GPL-2.0-or-later
// The CAP files applications install from (`application NAME / cap FILE`), read once at start
// and checked against their catalog entries (the package AID is the load file's, the module is
// one of its applets), and the packets each load takes over SMS-PP: INSTALL [for load]
// (GP 2.3 §11.5.2.3.1) then the LOAD blocks (§11.6), as many per secured packet as fit in
// `ota / max-segments` concatenated SMS. The plan is the same at every start with the same
// config, so a request resumed after a restart goes on where it was. Pure but for reading the
// files.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "otagw/ota/apdu.hpp"
#include "otagw/ota/cap_file.hpp"

namespace otagw::gateway {

struct LoadPacket {
    std::vector<ota::Apdu> script; // INSTALL [for load] first in packet 0, then LOAD blocks
    uint16_t blocks = 0;           // LOAD blocks in it
};

struct CapLoad {
    std::string path;
    ota::cap::CapFile cap;
    Bytes load_file_data_block;          // C4 <length> and the components (no Descriptor)
    std::vector<LoadPacket> packets;     // over SMS-PP
    std::vector<LoadPacket> bip_packets; // over BIP: a script per POST answer
    const std::vector<LoadPacket>& packets_for(bool bip) const {
        return bip ? bip_packets : packets;
    }
    std::vector<uint16_t> blocks_per_packet(bool bip = false) const;
};

// The C-APDU bytes of one script over BIP: kept modest, as card buffers are (njiwa, a public
// RAS, sends about 1 KB); TLS cuts records to the card's maximum fragment length on its own.
constexpr size_t kBipScriptCapacity = 1024;

// The bytes of compact script one secured packet carries in `segments` concatenated SMS: the
// SMS user data (TS 31.115 §4.2: UDH with IE '70', and the concatenation IE beyond one SMS)
// less the command packet's header, counter, checksum and padding at their largest
// (TS 102 225 §5.1: 16 bytes, a 16-byte checksum, up to 15 bytes of padding).
size_t script_capacity(uint32_t segments);

// Reads and checks `path` for `app`, and plans its load.
Result<CapLoad> read_cap_load(const db::Application& app, const std::string& path,
                              const OtaConfig& ota);

// The packets of a load of `block` (a load file data block) for package `package`, each of at
// most `capacity` bytes of C-APDUs (0: what `ota / max-segments` SMS carry).
Result<std::vector<LoadPacket>> plan_load(const ota::Aid& package, ByteView block,
                                          const OtaConfig& ota, size_t capacity = 0);

class CapLoads {
public:
    // Every application's CAP file in `config`; the first error names the application.
    Status read(const GatewayConfig& config);
    const CapLoad* of(const std::string& app_name) const {
        auto it = loads_.find(app_name);
        return it == loads_.end() ? nullptr : &it->second;
    }

private:
    std::map<std::string, CapLoad> loads_;
};

} // namespace otagw::gateway
