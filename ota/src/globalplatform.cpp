// SPDX-License-Identifier: GPL-2.0-or-later
// GlobalPlatform Card Specification 2.3 command builders and response parsers.
#include "otagw/ota/globalplatform.hpp"

#include <algorithm>

#include <cstdio>

#include "otagw/common/tlv.hpp"
#include "otagw/ota/status_words.hpp"

namespace otagw::ota::gp {

namespace {

constexpr size_t kMaxShortData = 255;

// GP 2.2+ length fields inside INSTALL/LOAD data are 1 to 3 bytes, BER-style ('00'-'7F',
// '81 xx', '82 xxxx'); for values below 128 this is the single byte every version uses.
void append_gp_length(Bytes& out, size_t n) {
    tlv::append_ber_length(out, n);
}

void append_lv(Bytes& out, ByteView v) {
    append_gp_length(out, v.size());
    append(out, v);
}

Result<Apdu> make_apdu(uint8_t cla, uint8_t ins, uint8_t p1, uint8_t p2, Bytes data,
                       std::optional<uint8_t> le, const char* what) {
    if (data.size() > kMaxShortData)
        return make_error(std::string(what) + ": command data of " + std::to_string(data.size()) +
                          " bytes exceeds 255");
    return Apdu{cla, ins, p1, p2, std::move(data), le};
}

Status check_aid(const Aid& aid, const char* what) {
    if (aid.size() < Aid::kMinSize)
        return make_error(std::string(what) + ": AID missing");
    return {};
}

std::string hex2(uint8_t v) {
    char b[3];
    std::snprintf(b, sizeof b, "%02x", v);
    return b;
}

} // namespace

const char* status_scope_name(StatusScope scope) {
    switch (scope) {
    case StatusScope::Isd:
        return "isd";
    case StatusScope::Applications:
        return "apps";
    case StatusScope::LoadFiles:
        return "loadfiles";
    case StatusScope::LoadFilesAndModules:
        return "modules";
    }
    return "?";
}

std::string life_cycle_name(StatusScope scope, uint8_t state) {
    switch (scope) {
    case StatusScope::Isd:
        switch (state) {
        case 0x01:
            return "OP_READY";
        case 0x07:
            return "INITIALIZED";
        case 0x0f:
            return "SECURED";
        case 0x7f:
            return "CARD_LOCKED";
        case 0xff:
            return "TERMINATED";
        }
        break;
    case StatusScope::LoadFiles:
    case StatusScope::LoadFilesAndModules:
        if (state == kLoadFileLoaded)
            return "LOADED";
        break;
    case StatusScope::Applications: {
        std::string base;
        uint8_t s = state & 0x7f;
        if (s == kAppInstalled)
            base = "INSTALLED";
        else if (s == kAppSelectable)
            base = "SELECTABLE";
        else if (s == kSdPersonalized)
            base = "PERSONALIZED";
        else if ((s & 0x07) == 0x07)
            base = "APPLICATION_SPECIFIC(" + hex2(s) + ")";
        else
            break;
        if (state & kAppLockedBit)
            return "LOCKED (was " + base + ")";
        return base;
    }
    }
    return "UNKNOWN(" + hex2(state) + ")";
}

// ---- Privileges ---------------------------------------------------------------------------------

Result<Privileges> Privileges::from_bytes(ByteView b) {
    if (b.size() != 1 && b.size() != 3)
        return make_error("privileges must be 1 or 3 bytes, got " + std::to_string(b.size()));
    Privileges p;
    for (size_t i = 0; i < b.size(); i++)
        p.bytes[i] = b[i];
    p.size = static_cast<uint8_t>(b.size());
    return p;
}

std::vector<std::string> Privileges::names() const {
    // GP Card Spec 2.3 table 6-1, bytes 1..3, b8 first.
    static const char* const kNames[3][8] = {
        {"SecurityDomain", "DAPVerification", "DelegatedManagement", "CardLock", "CardTerminate",
         "CardReset", "CVMManagement", "MandatedDAPVerification"},
        {"TrustedPath", "AuthorizedManagement", "TokenVerification", "GlobalDelete", "GlobalLock",
         "GlobalRegistry", "FinalApplication", "GlobalService"},
        {"ReceiptGeneration", "CipheredLoadFileDataBlock", "ContactlessActivation",
         "ContactlessSelfActivation", nullptr, nullptr, nullptr, nullptr},
    };
    std::vector<std::string> out;
    for (size_t i = 0; i < size; i++)
        for (int bit = 0; bit < 8; bit++)
            if (bytes[i] & (0x80 >> bit))
                out.emplace_back(kNames[i][bit] ? kNames[i][bit] : "RFU");
    return out;
}

// ---- SELECT -------------------------------------------------------------------------------------

Apdu select_by_aid(const Aid& aid, bool next_occurrence) {
    Bytes data(aid.bytes().begin(), aid.bytes().end());
    return Apdu{
        kClaIso,         kInsSelect, 0x04, static_cast<uint8_t>(next_occurrence ? 0x02 : 0x00),
        std::move(data), 0x00};
}

Apdu select_default() {
    return Apdu{kClaIso, kInsSelect, 0x04, 0x00, {}, 0x00};
}

// ---- INSTALL ------------------------------------------------------------------------------------

Result<Apdu> install_for_load(const InstallForLoad& p) {
    OTAGW_TRY_STATUS(check_aid(p.load_file, "INSTALL [for load]"));
    Bytes d;
    append_lv(d, p.load_file.bytes());
    append_lv(d, p.security_domain ? p.security_domain->bytes() : ByteView{});
    append_lv(d, p.load_file_hash);
    append_lv(d, p.load_parameters);
    append_lv(d, p.token);
    return make_apdu(kClaGp, kInsInstall, kInstallForLoad, 0x00, std::move(d), 0x00,
                     "INSTALL [for load]");
}

Result<Apdu> install_for_install(const InstallForInstall& p) {
    const char* what =
        p.make_selectable ? "INSTALL [for install and make selectable]" : "INSTALL [for install]";
    OTAGW_TRY_STATUS(check_aid(p.load_file, what));
    OTAGW_TRY_STATUS(check_aid(p.module, what));
    OTAGW_TRY_STATUS(check_aid(p.instance, what));
    // Well-formed BER-TLV holding a 'C9' (GP §11.5.2.3.7), in any order: tools emit EF, C9, EA.
    auto params = tlv::parse_ber_tlvs(p.install_parameters);
    if (!params)
        return make_error(std::string(what) + ": install parameters: " + params.error().message);
    if (std::none_of(params->begin(), params->end(), [](const auto& t) { return t.tag == 0xc9; }))
        return make_error(std::string(what) +
                          ": install parameters must hold the 'C9' TLV (GP §11.5.2.3.7)");
    Bytes d;
    append_lv(d, p.load_file.bytes());
    append_lv(d, p.module.bytes());
    append_lv(d, p.instance.bytes());
    append_lv(d, p.privileges.view());
    append_lv(d, p.install_parameters);
    append_lv(d, p.token);
    uint8_t p1 = kInstallForInstall | (p.make_selectable ? kInstallForMakeSelectable : 0);
    return make_apdu(kClaGp, kInsInstall, p1, 0x00, std::move(d), 0x00, what);
}

Result<Apdu> install_for_make_selectable(const Aid& instance, const Privileges& privileges,
                                         ByteView token) {
    OTAGW_TRY_STATUS(check_aid(instance, "INSTALL [for make selectable]"));
    Bytes d{0x00, 0x00};
    append_lv(d, instance.bytes());
    append_lv(d, privileges.view());
    d.push_back(0x00); // no install parameters
    append_lv(d, token);
    return make_apdu(kClaGp, kInsInstall, kInstallForMakeSelectable, 0x00, std::move(d), 0x00,
                     "INSTALL [for make selectable]");
}

Result<Apdu> install_for_personalization(const Aid& instance) {
    OTAGW_TRY_STATUS(check_aid(instance, "INSTALL [for personalization]"));
    Bytes d{0x00, 0x00};
    append_lv(d, instance.bytes());
    append_bytes(d, {0x00, 0x00, 0x00}); // privileges, parameters, token: empty
    return make_apdu(kClaGp, kInsInstall, kInstallForPersonalization, 0x00, std::move(d), 0x00,
                     "INSTALL [for personalization]");
}

Result<Bytes> InstallParameters::encode() const {
    Bytes out = tlv::ber_tlv(0xc9, c9);
    Bytes sys;
    auto quota = [&](uint32_t tag, uint16_t v) {
        uint8_t b[2] = {static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v)};
        tlv::append_ber_tlv(sys, tag, ByteView(b, 2));
    };
    if (non_volatile_quota)
        quota(0xc8, *non_volatile_quota);
    if (volatile_quota)
        quota(0xc7, *volatile_quota);
    if (sim_toolkit)
        tlv::append_ber_tlv(sys, 0xca, *sim_toolkit);
    if (uicc_toolkit)
        tlv::append_ber_tlv(sys, 0xea, *uicc_toolkit);
    if (!sys.empty())
        tlv::append_ber_tlv(out, 0xef, sys);
    if (out.size() > kMaxShortData)
        return make_error("install parameters of " + std::to_string(out.size()) +
                          " bytes do not fit an INSTALL command");
    return out;
}

// ---- LOAD ---------------------------------------------------------------------------------------

Result<std::vector<Apdu>> load_blocks(ByteView load_file, size_t max_block_size,
                                      ByteView dap_blocks) {
    if (load_file.empty())
        return make_error("LOAD: empty load file");
    if (max_block_size == 0 || max_block_size > kMaxShortData)
        return make_error("LOAD: block size must be 1..255");
    if (load_file.size() > tlv::kMaxBerLength)
        return make_error("LOAD: load file too large");
    Bytes stream(dap_blocks.begin(), dap_blocks.end());
    tlv::append_ber_tlv(stream, 0xc4, load_file);
    std::vector<Apdu> out;
    OTAGW_TRY_ASSIGN(out, load_commands(stream, max_block_size));
    for (Apdu& a : out)
        a.le = 0x00;
    return out;
}

Apdu load_command(uint8_t number, bool last, ByteView block) {
    return Apdu{kClaGp,
                kInsLoad,
                static_cast<uint8_t>(last ? 0x80 : 0x00),
                number,
                Bytes(block.begin(), block.end()),
                std::nullopt};
}

Result<std::vector<Apdu>> load_commands(ByteView data, size_t block_size) {
    if (block_size < 1 || block_size > kMaxShortData)
        return make_error("LOAD: block size " + std::to_string(block_size) + " is not 1 to 255");
    const size_t count = (data.size() + block_size - 1) / block_size;
    if (count == 0 || count > 256)
        return make_error("LOAD: " + std::to_string(count) +
                          " blocks; P2 numbers at most 256 (GP 2.3 §11.6.2.2): a larger block "
                          "size is needed");
    std::vector<Apdu> out;
    out.reserve(count);
    for (size_t i = 0; i < count; i++) {
        const size_t off = i * block_size;
        out.push_back(load_command(static_cast<uint8_t>(i), i + 1 == count,
                                   data.subspan(off, std::min(block_size, data.size() - off))));
    }
    return out;
}

// ---- DELETE -------------------------------------------------------------------------------------

Apdu delete_object(const Aid& aid, bool related_objects, ByteView token) {
    Bytes d = tlv::ber_tlv(0x4f, aid.bytes());
    if (!token.empty())
        tlv::append_ber_tlv(d, 0x9e, token);
    return Apdu{kClaGp,       kInsDelete, 0x00, static_cast<uint8_t>(related_objects ? 0x80 : 0x00),
                std::move(d), 0x00};
}

Result<Apdu> delete_key(std::optional<uint8_t> key_id, std::optional<uint8_t> kvn) {
    if (!key_id && !kvn)
        return make_error("DELETE key: give a key identifier, a key version or both");
    Bytes d;
    if (key_id)
        append_bytes(d, {0xd0, 0x01, *key_id});
    if (kvn)
        append_bytes(d, {0xd2, 0x01, *kvn});
    return Apdu{kClaGp, kInsDelete, 0x00, 0x00, std::move(d), 0x00};
}

// ---- SET STATUS ---------------------------------------------------------------------------------

Apdu set_status(uint8_t p1, uint8_t p2, const std::optional<Aid>& aid) {
    Bytes d;
    if (aid)
        d.assign(aid->bytes().begin(), aid->bytes().end());
    return Apdu{kClaGp, kInsSetStatus, p1, p2, std::move(d), std::nullopt};
}

Apdu set_application_lock(const Aid& aid, bool lock) {
    return set_status(0x40, lock ? kAppLockedBit : 0x00, aid);
}

Apdu set_card_status(CardLifeCycle state) {
    return set_status(0x80, static_cast<uint8_t>(state), std::nullopt);
}

// ---- GET STATUS ---------------------------------------------------------------------------------

Result<Apdu> get_status(const GetStatusRequest& req) {
    if (req.aid_filter.size() > 16)
        return make_error("GET STATUS: AID filter longer than 16 bytes");
    Bytes d = tlv::ber_tlv(0x4f, req.aid_filter);
    if (!req.tag_list.empty())
        tlv::append_ber_tlv(d, 0x5c, req.tag_list);
    uint8_t p2 =
        static_cast<uint8_t>((req.tlv_format ? 0x02 : 0x00) | (req.next_occurrence ? 0x01 : 0x00));
    return make_apdu(kClaGp, kInsGetStatus, static_cast<uint8_t>(req.scope), p2, std::move(d), 0x00,
                     "GET STATUS");
}

Apdu get_status_next(const Apdu& previous) {
    Apdu next = previous;
    next.p2 |= 0x01;
    return next;
}

namespace {

Result<Aid> aid_field(ByteView v, const char* where) {
    auto aid = Aid::from_bytes(v);
    if (!aid)
        return make_error(std::string("GET STATUS response: ") + where + ": " +
                          aid.error().message);
    return aid;
}

Result<RegistryEntry> parse_e3(ByteView value) {
    auto items = tlv::parse_ber_tlvs(value);
    if (!items)
        return make_error("GET STATUS response: entry: " + items.error().message);
    RegistryEntry e;
    bool have_aid = false, have_lc = false;
    for (const auto& t : *items) {
        switch (t.tag) {
        case 0x4f: {
            auto aid = aid_field(t.value, "tag 4F");
            if (!aid)
                return aid.take_error();
            e.aid = *aid;
            have_aid = true;
            break;
        }
        case 0x9f70:
            if (t.value.size() != 1 && t.value.size() != 2) // some cards add a second byte
                return make_error("GET STATUS response: life cycle (9F70) must be 1 byte");
            e.life_cycle = t.value[0];
            have_lc = true;
            break;
        case 0xc5: {
            auto p = Privileges::from_bytes(t.value);
            if (!p)
                return make_error("GET STATUS response: tag C5: " + p.error().message);
            e.privileges = *p;
            break;
        }
        case 0xc4: {
            auto aid = aid_field(t.value, "tag C4");
            if (!aid)
                return aid.take_error();
            e.load_file = *aid;
            break;
        }
        case 0xcc: {
            auto aid = aid_field(t.value, "tag CC");
            if (!aid)
                return aid.take_error();
            e.security_domain = *aid;
            break;
        }
        case 0xce:
            e.version.assign(t.value.begin(), t.value.end());
            break;
        case 0x84: {
            auto aid = aid_field(t.value, "tag 84");
            if (!aid)
                return aid.take_error();
            e.modules.push_back(*aid);
            break;
        }
        default: // other tags (implicit selection, 'EA', ...) are not needed here
            break;
        }
    }
    if (!have_aid)
        return make_error("GET STATUS response: entry without AID (4F)");
    if (!have_lc)
        return make_error("GET STATUS response: entry " + e.aid.hex() +
                          " without life cycle state (9F70)");
    return e;
}

Result<std::vector<RegistryEntry>> parse_legacy(ByteView data, StatusScope scope) {
    std::vector<RegistryEntry> out;
    size_t pos = 0;
    auto need = [&](size_t n, const char* what) -> Status {
        if (data.size() - pos < n)
            return make_error(std::string("GET STATUS response (legacy format): truncated ") +
                              what + " at offset " + std::to_string(pos));
        return {};
    };
    while (pos < data.size()) {
        RegistryEntry e;
        OTAGW_TRY_STATUS(need(1, "AID length"));
        size_t len = data[pos++];
        OTAGW_TRY_STATUS(need(len, "AID"));
        auto aid = aid_field(data.subspan(pos, len), "AID");
        if (!aid)
            return aid.take_error();
        e.aid = *aid;
        pos += len;
        OTAGW_TRY_STATUS(need(2, "life cycle and privileges"));
        e.life_cycle = data[pos++];
        e.privileges = *Privileges::from_bytes(data.subspan(pos++, 1));
        if (scope == StatusScope::LoadFilesAndModules) {
            OTAGW_TRY_STATUS(need(1, "number of modules"));
            size_t count = data[pos++];
            for (size_t i = 0; i < count; i++) {
                OTAGW_TRY_STATUS(need(1, "module AID length"));
                size_t mlen = data[pos++];
                OTAGW_TRY_STATUS(need(mlen, "module AID"));
                auto m = aid_field(data.subspan(pos, mlen), "module AID");
                if (!m)
                    return m.take_error();
                e.modules.push_back(*m);
                pos += mlen;
            }
        }
        out.push_back(std::move(e));
    }
    return out;
}

} // namespace

Result<std::vector<RegistryEntry>> parse_get_status_response(ByteView data, StatusScope scope,
                                                             bool tlv_format) {
    if (!tlv_format)
        return parse_legacy(data, scope);
    auto top = tlv::parse_ber_tlvs(data);
    if (!top)
        return make_error("GET STATUS response: " + top.error().message);
    std::vector<RegistryEntry> out;
    out.reserve(top->size());
    for (const auto& t : *top) {
        if (t.tag != 0xe3)
            return make_error("GET STATUS response: expected tag E3, found " +
                              to_hex(t.encoded.first(tlv::ber_tag_size(t.tag))));
        auto e = parse_e3(t.value);
        if (!e)
            return e.take_error();
        out.push_back(std::move(*e));
    }
    return out;
}

Result<std::optional<Apdu>> GetStatusReader::on_response(const ResponseApdu& response) {
    if (response.sw == 0x6a88 && entries_.empty() && response.data.empty())
        return std::optional<Apdu>(); // no entry matches the search criteria
    if (response.sw != 0x9000 && response.sw != 0x6310)
        return make_error("GET STATUS failed: " + describe_status_word(response.sw));
    auto page = parse_get_status_response(response.data, req_.scope, req_.tlv_format);
    if (!page)
        return page.take_error();
    entries_.insert(entries_.end(), page->begin(), page->end());
    if (response.sw == 0x9000)
        return std::optional<Apdu>();
    if (page->empty())
        return make_error("GET STATUS: 6310 (more data) with an empty page");
    GetStatusRequest next = req_;
    next.next_occurrence = true;
    auto apdu = get_status(next);
    if (!apdu)
        return apdu.take_error();
    return std::optional<Apdu>(std::move(*apdu));
}

// ---- STORE DATA ---------------------------------------------------------------------------------

Result<std::vector<Apdu>> store_data(ByteView data, size_t max_block_size, uint8_t p1_flags) {
    if (data.empty())
        return make_error("STORE DATA: no data");
    if (max_block_size == 0 || max_block_size > kMaxShortData)
        return make_error("STORE DATA: block size must be 1..255");
    size_t count = (data.size() + max_block_size - 1) / max_block_size;
    if (count > 256)
        return make_error("STORE DATA: " + std::to_string(count) +
                          " blocks needed, P2 numbers at most 256");
    std::vector<Apdu> out;
    out.reserve(count);
    uint8_t base = p1_flags & static_cast<uint8_t>(~kStoreDataLastBlock);
    for (size_t i = 0; i < count; i++) {
        size_t off = i * max_block_size;
        size_t n = std::min(max_block_size, data.size() - off);
        uint8_t p1 = static_cast<uint8_t>(base | (i + 1 == count ? kStoreDataLastBlock : 0));
        out.push_back(Apdu{kClaGp, kInsStoreData, p1, static_cast<uint8_t>(i),
                           Bytes(data.begin() + off, data.begin() + off + n), 0x00});
    }
    return out;
}

// ---- PUT KEY ------------------------------------------------------------------------------------

Result<Apdu> put_key(const PutKeyRequest& req, const crypto::BlockCipher* dek) {
    if (req.keys.empty())
        return make_error("PUT KEY: no key given");
    if (req.first_key_id > 0x7f)
        return make_error("PUT KEY: key identifier must be 0..127");
    Bytes d{req.new_kvn};
    for (size_t i = 0; i < req.keys.size(); i++) {
        const KeyComponent& k = req.keys[i];
        std::string what = "PUT KEY: key " + std::to_string(i + 1);
        if (!crypto::key_size_valid(k.algo, k.key.size()))
            return make_error(what + ": " + crypto::block_algo_name(k.algo) + " key must be " +
                              crypto::key_sizes_text(k.algo));
        const bool aes = k.algo == crypto::BlockAlgo::Aes;
        Bytes block = k.key;
        if (dek) {
            if ((dek->algo() == crypto::BlockAlgo::Aes) != aes)
                return make_error(what + ": an " + (aes ? "AES" : "DES") + " key needs an " +
                                  (aes ? "AES" : "DES") + " key encryption key");
            if (block.size() % dek->block_size() != 0)
                return make_error(what + ": key length is not a multiple of the DEK block size");
            if (aes) {
                uint8_t iv[crypto::kMaxBlockSize] = {};
                dek->cbc_encrypt(iv, block.data(), block.data(), block.size());
            } else {
                for (size_t off = 0; off < block.size(); off += 8)
                    dek->encrypt_block(&block[off], &block[off]);
            }
        }
        auto kcv = crypto::key_check_value(k.algo, k.key);
        if (!kcv)
            return make_error(what + ": " + kcv.error().message);
        d.push_back(aes ? 0x88 : 0x80);
        if (aes && req.aes_key_length_prefix) {
            d.push_back(static_cast<uint8_t>(block.size() + 1));
            d.push_back(static_cast<uint8_t>(k.key.size()));
        } else {
            d.push_back(static_cast<uint8_t>(block.size()));
        }
        append(d, block);
        d.push_back(static_cast<uint8_t>(kcv->size()));
        append(d, *kcv);
    }
    uint8_t p2 = static_cast<uint8_t>(req.first_key_id | (req.keys.size() > 1 ? 0x80 : 0x00));
    return make_apdu(kClaGp, kInsPutKey, req.old_kvn, p2, std::move(d), 0x00, "PUT KEY");
}

// ---- GET DATA -----------------------------------------------------------------------------------

Apdu get_data(uint16_t tag, ByteView data) {
    return Apdu{kClaGp,
                kInsGetData,
                static_cast<uint8_t>(tag >> 8),
                static_cast<uint8_t>(tag),
                Bytes(data.begin(), data.end()),
                0x00};
}

Result<std::vector<KeyInfo>> parse_key_information(ByteView e0_template) {
    size_t pos = 0;
    auto top = tlv::parse_ber_tlv(e0_template, pos);
    if (!top)
        return make_error("key information: " + top.error().message);
    if (top->tag != 0xe0 || pos != e0_template.size())
        return make_error("key information: expected one 'E0' template");
    auto items = tlv::parse_ber_tlvs(top->value);
    if (!items)
        return make_error("key information: " + items.error().message);
    std::vector<KeyInfo> out;
    for (const auto& t : *items) {
        if (t.tag != 0xc0)
            return make_error("key information: expected 'C0' entries");
        if (t.value.size() < 2)
            return make_error("key information: 'C0' entry shorter than 2 bytes");
        KeyInfo k;
        k.key_id = t.value[0];
        k.kvn = t.value[1];
        ByteView rest = t.value.subspan(2);
        bool basic = rest.size() % 2 == 0;
        for (size_t i = 0; basic && i < rest.size(); i += 2)
            basic = rest[i] != 0xff;
        if (basic) {
            for (size_t i = 0; i < rest.size(); i += 2)
                k.components.push_back({rest[i], rest[i + 1]});
        } else {
            k.extended = true; // GP 2.2 extended key information: kept opaque here
        }
        out.push_back(std::move(k));
    }
    return out;
}

} // namespace otagw::ota::gp
