// SPDX-License-Identifier: GPL-2.0-or-later
// A simulated UICC: identity, OTA keysets with their counters, the TAR table with minimum
// security levels, and the GlobalPlatform card manager (registry of load files, modules and
// applications with life cycles and privileges, and the card content management commands a
// RAM script carries). Status words as a real card gives them (ISO/IEC 7816-4, GP Card Spec 2.3).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "otagw/common/crypto.hpp"
#include "otagw/sim/card_apdu.hpp"
#include "otagw/sim/cardlet.hpp"

namespace otagw::sim {

using Tar = std::array<uint8_t, 3>;

// One OTA keyset (ETSI TS 102 225 §5.1.2): the key version number KIc/KID carry in b8..b5,
// one algorithm for KIc, KID and KIK (the key encryption key of PUT KEY), one counter.
struct Keyset {
    uint8_t kvn = 1;
    crypto::BlockAlgo algo = crypto::BlockAlgo::Aes;
    Bytes kic, kid, kik;
    uint64_t counter = 0; // the last counter the card accepted
};

// An SCP81 keyset (GP Card Spec 2.3 Amendment B §3.3.2): the TLS pre-shared key (key type
// '85', KID `kid`) and the DEK (KID kid + 1) under one KVN in '40'..'4F'; the card presents
// `identity` in its TLS handshake.
struct PskKeyset {
    uint8_t kvn = 0x40;
    uint8_t kid = 0x01;
    Bytes identity;
    Bytes psk;
    crypto::BlockAlgo dek_algo = crypto::BlockAlgo::Aes;
    Bytes dek;
};

enum class TarKind : uint8_t { Isd, Rfm, Cardlet };

struct TarEntry {
    Tar tar{};
    TarKind kind = TarKind::Isd;
    Bytes aid;       // the cardlet instance, for TarKind::Cardlet
    uint8_t msl = 0; // minimum security level, coded as the first SPI byte (TS 102 226 §6.1)
};

struct LoadFile {
    Bytes aid;
    std::vector<Bytes> modules;
    uint32_t size = 0; // bytes of its load file data block held in non-volatile memory
};

// A load under way (GP Card Spec 2.3 §11.6): INSTALL [for load] taken, LOAD blocks arriving.
// Kept in non-volatile memory across scripts, as an OTA load spans many secured packets; it
// ends with the last block, an error (the blocks are dropped), or a DELETE of its AID.
struct LoadInProgress {
    Bytes aid;
    uint16_t next_block = 0; // P2 of the block expected next
    Bytes hash;              // of the load file data block, when INSTALL [for load] gave one
    Bytes data;              // the blocks so far
};

struct Application {
    Bytes aid;
    Bytes load_file;
    Bytes module;
    uint8_t life_cycle = 0x03; // INSTALLED
    Bytes privileges{0x00};
    Bytes install_params;
    std::unique_ptr<Cardlet> cardlet; // null for a module without simulated behaviour
    bool locked() const { return life_cycle & 0x80; }
    bool selectable() const { return !locked() && (life_cycle & 0x07) == 0x07; }
};

// What lasts across the commands of one script (and, for GET STATUS paging, across scripts).
struct ScriptContext {
    Application* target = nullptr; // STORE DATA goes here (INSTALL [for personalization], SELECT)
    std::optional<Keyset>
        keyset; // a copy of the keyset that secured the script (its KIK decrypts PUT KEY)
};

class Uicc {
public:
    std::string iccid, imsi, msisdn;
    std::vector<Keyset> keysets;
    std::vector<PskKeyset> psk_keysets;
    std::vector<TarEntry> tars;
    Bytes isd_aid{0xa0, 0x00, 0x00, 0x01, 0x51, 0x00, 0x00, 0x00};
    uint8_t card_life_cycle = 0x0f; // SECURED
    std::vector<LoadFile> load_files;
    std::vector<Application> apps;
    std::optional<LoadInProgress> loading;
    // Non-volatile memory for load files; a LOAD beyond it answers 6A84 (not enough memory).
    uint32_t memory = 64 * 1024;
    uint32_t memory_used() const;

    Keyset* keyset(uint8_t kvn);
    const PskKeyset* psk_keyset(uint8_t kvn) const;
    const TarEntry* find_tar(const Tar& tar) const;
    Application* find_app(ByteView aid);
    LoadFile* find_load_file(ByteView aid);

    // One command of a RAM script for the ISD (TAR 000000), GP Card Spec 2.3 §11.
    RApdu card_manager(const CApdu& apdu, ScriptContext& ctx);
    // One command of an RFM script (a tiny file system: MF, EF ICCID).
    RApdu rfm(const CApdu& apdu);
    // One command to a cardlet through its own TAR.
    RApdu to_cardlet(ByteView aid, const CApdu& apdu);
    // A command from the handset side (a payment at a terminal): SELECT rules apply, so a
    // locked or not selectable application does not answer.
    RApdu local(ByteView aid, const CApdu& apdu);

    // Registers a load file and installs an instance directly (population set-up).
    Application& preinstall(const CardletModule& module, Bytes instance_aid, uint8_t life_cycle);

    // Cards count accepted commands and PoR statuses for the simulator's statistics.
    uint64_t commands = 0;

private:
    void remove_apps(const std::function<bool(const Application&)>& which);
    RApdu install(const CApdu& apdu, ScriptContext& ctx);
    RApdu load(const CApdu& apdu);
    RApdu delete_object(const CApdu& apdu);
    RApdu set_status(const CApdu& apdu);
    RApdu get_status(const CApdu& apdu);
    RApdu store_data(const CApdu& apdu, ScriptContext& ctx);
    RApdu put_key(const CApdu& apdu, ScriptContext& ctx);
    RApdu get_data(const CApdu& apdu);
    RApdu select(const CApdu& apdu, ScriptContext& ctx);

    RApdu end_load(); // the last LOAD block came: the load file registered, or an error
    struct Paging {
        uint8_t scope = 0;
        Bytes request; // the data field of the GET STATUS that started it
        size_t next = 0;
    };
    std::optional<Paging> paging_;
    uint16_t rfm_selected_ = 0x3f00;
};

} // namespace otagw::sim
