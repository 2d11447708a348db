// SPDX-License-Identifier: GPL-2.0-or-later
// GlobalPlatform Card Specification 2.3 card content management: command builders (§11) and
// response parsers, plus life cycle and privilege codings. Commands are plain APDUs; securing
// them (SCP80 secured packets, SCP02/03) is done elsewhere.
//
// Le: builders append Le='00' where GP defines a response (SELECT, INSTALL, LOAD, DELETE,
// GET STATUS, STORE DATA, PUT KEY, GET DATA), as pySim, GlobalPlatformPro and GlobalPlatform.NET
// all do; SET STATUS is case 3 and carries no Le.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <vector>

#include "otagw/common/crypto.hpp"
#include "otagw/ota/aid.hpp"
#include "otagw/ota/apdu.hpp"

namespace otagw::ota::gp {

constexpr uint8_t kClaGp = 0x80;
constexpr uint8_t kClaIso = 0x00;

enum Ins : uint8_t {
    kInsSelect = 0xa4,
    kInsInstall = 0xe6,
    kInsLoad = 0xe8,
    kInsDelete = 0xe4,
    kInsSetStatus = 0xf0,
    kInsGetStatus = 0xf2,
    kInsStoreData = 0xe2,
    kInsPutKey = 0xd8,
    kInsGetData = 0xca,
    kInsGetResponse = 0xc0,
};

// ---- Life cycle states (GP Card Spec §5.1, §11.1.1) ---------------------------------------------
constexpr uint8_t kAppInstalled = 0x03;
constexpr uint8_t kAppSelectable = 0x07;
constexpr uint8_t kAppLockedBit = 0x80; // b8 set on top of the previous state
constexpr uint8_t kLoadFileLoaded = 0x01;
constexpr uint8_t kSdPersonalized = 0x0f;

enum class CardLifeCycle : uint8_t {
    OpReady = 0x01,
    Initialized = 0x07,
    Secured = 0x0f,
    CardLocked = 0x7f,
    Terminated = 0xff,
};

enum class StatusScope : uint8_t { // GET STATUS P1 (§11.4.2.1)
    Isd = 0x80,
    Applications = 0x40, // applications and supplementary security domains
    LoadFiles = 0x20,
    LoadFilesAndModules = 0x10,
};
const char* status_scope_name(StatusScope scope);

// "SELECTABLE", "LOCKED (was SELECTABLE)", "OP_READY", "LOADED", ...
std::string life_cycle_name(StatusScope scope, uint8_t state);

// ---- Privileges (§6.6.1, table 11-7): 1 byte, or 3 bytes since GP 2.2 ---------------------------
struct Privileges {
    std::array<uint8_t, 3> bytes{};
    uint8_t size = 1;

    static Result<Privileges> from_bytes(ByteView bytes);
    ByteView view() const { return {bytes.data(), size}; }
    bool security_domain() const { return bytes[0] & 0x80; }
    std::vector<std::string> names() const; // "SecurityDomain", "TrustedPath", ...
};

// ---- SELECT (ISO/IEC 7816-4 §7.1.1, GP §11.9) ---------------------------------------------------
Apdu select_by_aid(const Aid& aid, bool next_occurrence = false);
Apdu select_default(); // SELECT with no AID: the ISD (or default application)

// ---- INSTALL (§11.5) ----------------------------------------------------------------------------
enum InstallP1 : uint8_t {
    kInstallForLoad = 0x02,
    kInstallForInstall = 0x04,
    kInstallForMakeSelectable = 0x08,
    kInstallForExtradition = 0x10,
    kInstallForPersonalization = 0x20,
    kInstallForRegistryUpdate = 0x40,
};

struct InstallForLoad {
    Aid load_file;
    std::optional<Aid> security_domain; // empty field when absent
    Bytes load_file_hash;
    Bytes load_parameters;
    Bytes token;
};
Result<Apdu> install_for_load(const InstallForLoad& p);

struct InstallForInstall {
    Aid load_file;
    Aid module;
    Aid instance;
    Privileges privileges;                   // default: 1 byte '00'
    Bytes install_parameters = {0xc9, 0x00}; // whole field: C9 [EF] ...; GP requires C9 at least
    Bytes token;
    bool make_selectable = false; // [for install and make selectable], P1 = '0C'
};
Result<Apdu> install_for_install(const InstallForInstall& p);
Result<Apdu> install_for_make_selectable(const Aid& instance, const Privileges& privileges,
                                         ByteView token = {});
Result<Apdu> install_for_personalization(const Aid& instance);

// The install parameters field (GP §11.5.2.3.7 + ETSI TS 102 226 §8.2.1.3.2):
//   C9 <application specific parameters>
//   EF { C8 <non-volatile quota> C7 <volatile quota> CA <SIM file access and toolkit
//        parameters> EA <UICC toolkit application specific parameters> }   (EF when any is set)
struct InstallParameters {
    Bytes c9;                                   // application specific parameters (may be empty)
    std::optional<uint16_t> non_volatile_quota; // C8
    std::optional<uint16_t> volatile_quota;     // C7
    std::optional<Bytes> sim_toolkit;           // CA, TS 102 226 §8.2.1.3.2.1
    std::optional<Bytes> uicc_toolkit;          // EA, TS 102 226 §8.2.1.3.2.2
    Result<Bytes> encode() const;
};

// ---- LOAD (§11.6) -------------------------------------------------------------------------------
// One block: `80 E8 P1 P2 Lc data`, P1 '80' on the last block and '00' before (§11.6.2.1), P2
// the block number (§11.6.2.2). No Le.
Apdu load_command(uint8_t number, bool last, ByteView block);
// A load file data block ('C4' TLV, after DAP blocks if any) cut into LOAD commands of exactly
// `block_size` bytes (1-255; the last one shorter), numbered from 0; at most 256 blocks.
Result<std::vector<Apdu>> load_commands(ByteView data, size_t block_size);
// The load file wrapped in 'C4' (after `dap_blocks`, E2 TLVs, when present) and cut as above,
// each command with Le '00'.
Result<std::vector<Apdu>> load_blocks(ByteView load_file, size_t max_block_size,
                                      ByteView dap_blocks = {});

// ---- DELETE (§11.2) -----------------------------------------------------------------------------
Apdu delete_object(const Aid& aid, bool related_objects, ByteView token = {});
// Delete a key by identifier and/or version ('D0' / 'D2'); at least one must be given.
Result<Apdu> delete_key(std::optional<uint8_t> key_id, std::optional<uint8_t> kvn);

// ---- SET STATUS (§11.10) ------------------------------------------------------------------------
// Application lock/unlock: P1 '40', P2 b8 = 1 locks, b8 = 0 unlocks, b7..b1 '0000000'. This is
// the coding of GP Card Spec 2.3 §11.10.2.2 (the card sets or clears b8 of the application's
// life cycle state and keeps b7..b1), and what GlobalPlatformPro sends ('80' / '00'). pySim
// sends '83' to lock and '07' (SELECTABLE) to unlock; '07' would also make an INSTALLED
// application selectable, which an unlock must not do, so we do not emit it.
Apdu set_application_lock(const Aid& aid, bool lock);
// Card life cycle (P1 '80', the ISD): lock ('7F'), back to SECURED ('0F'), terminate ('FF').
Apdu set_card_status(CardLifeCycle state);
// Generic form: any P1/P2, optional target AID.
Apdu set_status(uint8_t p1, uint8_t p2, const std::optional<Aid>& aid);

// ---- GET STATUS (§11.4) -------------------------------------------------------------------------
struct GetStatusRequest {
    StatusScope scope = StatusScope::Applications;
    Bytes aid_filter;       // search criteria '4F' value; empty matches every AID
    Bytes tag_list;         // optional '5C' tag list (GP 2.3); empty omits it
    bool tlv_format = true; // P2 b2: GP 2.2+ TLV response format; false asks the legacy format
    bool next_occurrence = false; // P2 b1: continue after 6310
};
Result<Apdu> get_status(const GetStatusRequest& req);
// The command to send after a response with SW 6310 (more data): same, P2 b1 set.
Apdu get_status_next(const Apdu& previous);

struct RegistryEntry {
    Aid aid;
    uint8_t life_cycle = 0;
    std::optional<Privileges> privileges;
    std::optional<Aid> load_file;       // C4: the executable load file of an application
    std::optional<Aid> security_domain; // CC: the associated security domain
    Bytes version;                      // CE: load file version
    std::vector<Aid> modules;           // 84: executable modules of a load file
};
// Parses the data of one GET STATUS response (without SW); `scope` and `tlv_format` as sent.
Result<std::vector<RegistryEntry>> parse_get_status_response(ByteView data, StatusScope scope,
                                                             bool tlv_format = true);

// Reads a whole registry listing across pages: the card answers 6310 while entries remain, and
// the next command asks for the next occurrence (§11.4.2.2). Over OTA each page is one more
// secured packet, so the caller sends next() in a new script.
class GetStatusReader {
public:
    explicit GetStatusReader(GetStatusRequest req) : req_(std::move(req)) {}
    Result<Apdu> first() const { return get_status(req_); }
    // Takes one response (data and SW). Returns the command for the next page, or nullopt when
    // the listing is complete (9000, or 6A88 when nothing matches). Other SWs are errors.
    Result<std::optional<Apdu>> on_response(const ResponseApdu& response);
    const std::vector<RegistryEntry>& entries() const { return entries_; }

private:
    GetStatusRequest req_;
    std::vector<RegistryEntry> entries_;
};

// ---- STORE DATA (§11.11) ------------------------------------------------------------------------
enum StoreDataP1 : uint8_t {
    kStoreDataLastBlock = 0x80,
    kStoreDataEncrypted = 0x60,       // b7b6 = 11
    kStoreDataAppDependentEnc = 0x20, // b7b6 = 01
    kStoreDataBerTlv = 0x10,          // b5b4 = 10
    kStoreDataDgi = 0x08,             // b5b4 = 01
    kStoreDataResponseExpected = 0x01,
};
// Cuts `data` into blocks of at most `max_block_size`; P1 = `p1_flags`, with b8 set on the last
// block; P2 = block number 0..255.
Result<std::vector<Apdu>> store_data(ByteView data, size_t max_block_size, uint8_t p1_flags);

// ---- PUT KEY (§11.8) ----------------------------------------------------------------------------
struct KeyComponent {
    crypto::BlockAlgo algo; // DES family -> key type '80', AES -> '88'
    Bytes key;
};
struct PutKeyRequest {
    uint8_t old_kvn = 0; // P1: '00' creates a new key set
    uint8_t new_kvn = 0;
    uint8_t first_key_id = 1; // P2 b7..b1; b8 set when several keys are sent
    std::vector<KeyComponent> keys;
    // AES key data prefixed by the key length byte (GP Amendment D §7.2, as GlobalPlatformPro
    // and OpenJavaCard send it); pySim omits it for block-aligned keys.
    bool aes_key_length_prefix = true;
};
// Key components are encrypted with `dek` (3DES-ECB for DES keys, AES-CBC with a zero IV for
// AES keys); `dek` null sends them in clear (test keys only). Each key carries its 3-byte KCV.
Result<Apdu> put_key(const PutKeyRequest& req, const crypto::BlockCipher* dek);

// ---- GET DATA (§11.3) ---------------------------------------------------------------------------
Apdu get_data(uint16_t tag, ByteView data = {});

// Key information template 'E0' (GET DATA '00E0'): 'C0' entries.
struct KeyInfo {
    uint8_t key_id = 0;
    uint8_t kvn = 0;
    struct Component {
        uint8_t type;
        uint16_t length;
    };
    std::vector<Component> components; // basic format; empty for the extended format
    bool extended = false;
};
Result<std::vector<KeyInfo>> parse_key_information(ByteView e0_template);

} // namespace otagw::ota::gp
