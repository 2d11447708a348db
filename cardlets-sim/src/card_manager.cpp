// SPDX-License-Identifier: GPL-2.0-or-later
// The simulated card's GlobalPlatform card manager (GP Card Specification 2.3 §11), written for
// the card side: it parses what the gateway builds, and answers as a card does.
#include <algorithm>
#include <cstring>

#include "otagw/common/crypto.hpp"
#include "otagw/common/tlv.hpp"
#include "otagw/sim/uicc.hpp"

namespace otagw::sim {

namespace {

constexpr uint8_t kLcInstalled = 0x03;
constexpr uint8_t kLcSelectable = 0x07;
constexpr uint8_t kLoadFileLoaded = 0x01;
constexpr size_t kGetStatusPage = 200; // bytes of registry data per GET STATUS response

bool same(ByteView a, ByteView b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
}
bool starts_with(ByteView a, ByteView prefix) {
    return prefix.size() <= a.size() && std::equal(prefix.begin(), prefix.end(), a.begin());
}

// Length-value fields of INSTALL data: a 1-3 byte BER length (GP 2.2 §11.5.2.3), then value.
class LvReader {
public:
    explicit LvReader(ByteView in) : in_(in) {}
    bool next(ByteView& out) {
        size_t len;
        auto r = tlv::parse_ber_length(in_, pos_);
        if (!r)
            return false;
        len = *r;
        if (in_.size() - pos_ < len)
            return false;
        out = in_.subspan(pos_, len);
        pos_ += len;
        return true;
    }
    bool done() const { return pos_ == in_.size(); }

private:
    ByteView in_;
    size_t pos_ = 0;
};

Bytes to_bytes(ByteView v) {
    return Bytes(v.begin(), v.end());
}

// What a toolkit application's install parameters tell the card about OTA access to it.
struct ToolkitAccess {
    bool present = false;
    uint8_t msl = 0;
    std::vector<Tar> tars;
};

// TS 102 226 §8.2.1.3.2.1 ('CA', SIM file access and toolkit parameters: access domain first)
// and §8.2.1.3.2.2.1 ('EA', UICC toolkit parameters): priority, timers, menu text length, menu
// entries (2 bytes each), channels, then the minimum security level field (§8.2.1.3.2.4.1: MSL
// parameter, MSL data coded as SPI1) and the TAR value(s) field. Trailing fields may be absent.
bool read_toolkit_params(ByteView v, bool access_domain, ToolkitAccess& out) {
    size_t pos = 0;
    auto byte = [&](uint8_t& b) {
        if (pos >= v.size())
            return false;
        b = v[pos++];
        return true;
    };
    auto skip = [&](size_t n) {
        if (v.size() - pos < n)
            return false;
        pos += n;
        return true;
    };
    uint8_t n = 0, ignored = 0;
    if (access_domain && (!byte(n) || !skip(n)))
        return false;
    if (!byte(ignored) || !byte(ignored) || !byte(ignored) || !byte(n) || !skip(2 * size_t{n}))
        return false;
    out.present = true;
    if (pos == v.size() || !byte(ignored) || pos == v.size()) // channels
        return true;
    if (!byte(n) || v.size() - pos < n)
        return false;
    if (n >= 2)
        out.msl = v[pos + 1];
    else if (n == 1)
        out.msl = v[pos];
    pos += n;
    if (pos == v.size())
        return true;
    if (!byte(n) || n % 3 || v.size() - pos < n)
        return false;
    for (size_t i = 0; i < n; i += 3)
        out.tars.push_back({v[pos + i], v[pos + i + 1], v[pos + i + 2]});
    return true;
}

// The toolkit parameters in INSTALL's parameter field ('C9', then 'EF' system parameters).
bool read_install_params(ByteView params, ToolkitAccess& out) {
    auto top = tlv::parse_ber_tlvs(params);
    if (!top)
        return false;
    for (const auto& t : *top) {
        if (t.tag != 0xef)
            continue;
        auto sys = tlv::parse_ber_tlvs(t.value);
        if (!sys)
            return false;
        for (const auto& s : *sys)
            if ((s.tag == 0xca || s.tag == 0xea) &&
                !read_toolkit_params(s.value, s.tag == 0xca, out))
                return false;
    }
    return true;
}

// INSTALL [for load]'s load parameters (GP 2.3 §11.5.2.3.7): 'EF' system specific parameters,
// of which 'C6' (non-volatile code) and 'C8' (non-volatile data) tell the memory the load file
// will take. Absent: nothing is known before the blocks come.
bool read_memory_needed(ByteView params, std::optional<uint64_t>& needed) {
    if (params.empty())
        return true;
    auto top = tlv::parse_ber_tlvs(params);
    if (!top)
        return false;
    const tlv::BerTlv* ef = tlv::find_tag(*top, 0xef);
    if (!ef)
        return true;
    auto sys = tlv::parse_ber_tlvs(ef->value);
    if (!sys)
        return false;
    for (const auto& t : *sys) {
        if (t.tag != 0xc6 && t.tag != 0xc8)
            continue;
        if (t.value.empty() || t.value.size() > 4)
            return false;
        uint32_t v = 0;
        for (uint8_t b : t.value)
            v = v << 8 | b;
        needed = needed.value_or(0) + v; // a few u32 in one APDU: no overflow in 64 bits
    }
    return true;
}

struct Package {
    Bytes aid;
    std::vector<Bytes> applets;
};

// The CAP components of a load file data block, each `tag u1, size u2, info` (JC VM spec 2.2
// §6.1): the Header first (magic DECAFFED, versions, flags, then package_info: minor, major,
// AID length, AID; §6.3), the Applet component when there is one (count, then per applet AID
// length, AID, install method offset; §6.5). Any other component is taken as it is.
std::optional<Package> read_cap_components(ByteView v) {
    Package p;
    size_t pos = 0;
    bool header = false;
    while (pos < v.size()) {
        if (v.size() - pos < 3)
            return std::nullopt;
        const uint8_t tag = v[pos];
        const size_t size = size_t{v[pos + 1]} << 8 | v[pos + 2];
        if (tag == 0 || tag > 12 || v.size() - pos - 3 < size || header == (tag == 1))
            return std::nullopt; // an unknown component, cut short, or the Header not first
        const ByteView info = v.subspan(pos + 3, size);
        pos += 3 + size;
        if (tag == 1) {
            if (size < 10 || load_be32(info.data()) != 0xdecaffed || info[9] < 5 || info[9] > 16 ||
                size < 10u + info[9])
                return std::nullopt;
            p.aid = to_bytes(info.subspan(10, info[9]));
            header = true;
        } else if (tag == 3) {
            if (size < 1)
                return std::nullopt;
            size_t at = 1;
            for (unsigned i = 0; i < info[0]; i++) {
                if (at >= size || info[at] < 5 || info[at] > 16 || size - at < 3u + info[at])
                    return std::nullopt;
                p.applets.push_back(to_bytes(info.subspan(at + 1, info[at])));
                at += 3u + info[at];
            }
            if (at != size)
                return std::nullopt;
        }
    }
    if (!header)
        return std::nullopt;
    return p;
}
} // namespace

Keyset* Uicc::keyset(uint8_t kvn) {
    for (auto& k : keysets)
        if (k.kvn == kvn)
            return &k;
    return nullptr;
}

const PskKeyset* Uicc::psk_keyset(uint8_t kvn) const {
    for (const auto& k : psk_keysets)
        if (k.kvn == kvn)
            return &k;
    return nullptr;
}

const TarEntry* Uicc::find_tar(const Tar& tar) const {
    for (const auto& t : tars)
        if (t.tar == tar)
            return &t;
    return nullptr;
}

Application* Uicc::find_app(ByteView aid) {
    for (auto& a : apps)
        if (same(a.aid, aid))
            return &a;
    return nullptr;
}

LoadFile* Uicc::find_load_file(ByteView aid) {
    for (auto& l : load_files)
        if (same(l.aid, aid))
            return &l;
    return nullptr;
}

Application& Uicc::preinstall(const CardletModule& module, Bytes instance_aid, uint8_t life_cycle) {
    if (!find_load_file(module.load_file))
        load_files.push_back({module.load_file, {module.module}});
    else if (LoadFile* lf = find_load_file(module.load_file);
             std::none_of(lf->modules.begin(), lf->modules.end(),
                          [&](const Bytes& m) { return m == module.module; }))
        lf->modules.push_back(module.module);
    Application app;
    app.aid = std::move(instance_aid);
    app.load_file = module.load_file;
    app.module = module.module;
    app.life_cycle = life_cycle;
    app.install_params = {0xc9, 0x00};
    app.cardlet = module.create();
    if (!find_tar(module.tar))
        tars.push_back({module.tar, TarKind::Cardlet, app.aid, module.msl});
    apps.push_back(std::move(app));
    return apps.back();
}

RApdu Uicc::card_manager(const CApdu& apdu, ScriptContext& ctx) {
    commands++;
    if (card_life_cycle == 0xff)
        return RApdu::status(kSwConditions); // TERMINATED: nothing more
    if (apdu.cla == 0x00 && apdu.ins == 0xa4)
        return select(apdu, ctx);
    if ((apdu.cla & 0xf0) != 0x80 && (apdu.cla & 0xf0) != 0x00)
        return RApdu::status(kSwClaNotSupported);
    switch (apdu.ins) {
    case 0xe6:
        return install(apdu, ctx);
    case 0xe8:
        return load(apdu);
    case 0xe4:
        return delete_object(apdu);
    case 0xf0:
        return set_status(apdu);
    case 0xf2:
        return get_status(apdu);
    case 0xe2:
        return store_data(apdu, ctx);
    case 0xd8:
        return put_key(apdu, ctx);
    case 0xca:
        return get_data(apdu);
    default:
        return RApdu::status(kSwInsNotSupported);
    }
}

RApdu Uicc::select(const CApdu& apdu, ScriptContext& ctx) {
    if (apdu.p1 != 0x04)
        return RApdu::status(kSwIncorrectP1P2);
    if (apdu.data.empty() || same(apdu.data, isd_aid)) {
        ctx.target = nullptr;
        return RApdu::status(kSwOk);
    }
    Application* app = find_app(apdu.data);
    if (!app || !app->selectable())
        return RApdu::status(kSwNotFound); // a locked application cannot be selected (GP §6.4.2)
    ctx.target = app;
    Bytes fci{0x6f, static_cast<uint8_t>(app->aid.size() + 2), 0x84,
              static_cast<uint8_t>(app->aid.size())};
    append(fci, app->aid);
    return RApdu{fci, kSwOk};
}

RApdu Uicc::install(const CApdu& apdu, ScriptContext& ctx) {
    LvReader r(apdu.data);
    ByteView f1, f2, f3, f4, f5, f6;
    switch (apdu.p1) {
    case 0x02: { // [for load]: ELF, SD, hash, load parameters, token
        if (!r.next(f1) || !r.next(f2) || !r.next(f3) || !r.next(f4) || !r.next(f5) || !r.done())
            return RApdu::status(kSwIncorrectData);
        if (f1.size() < 5 || f1.size() > 16)
            return RApdu::status(kSwIncorrectData);
        if (!f2.empty() && !same(f2, isd_aid))
            return RApdu::status(kSwReferencedDataNotFound);
        // The hash of the load file data block: SHA-1 or SHA-256 (GP 2.3 §11.5.2.3.3).
        if (!f3.empty() && f3.size() != 20 && f3.size() != 32)
            return RApdu::status(kSwIncorrectData);
        // This card starts no load over an unfinished one: its manager deletes that first.
        if (find_load_file(f1) || find_app(f1) || loading)
            return RApdu::status(kSwConditions);
        std::optional<uint64_t> needed;
        if (!read_memory_needed(f4, needed))
            return RApdu::status(kSwIncorrectData);
        if (needed && *needed > memory - memory_used())
            return RApdu::status(kSwNotEnoughMemory);
        loading = LoadInProgress{to_bytes(f1), 0, to_bytes(f3), {}};
        return RApdu{{0x00}, kSwOk};
    }
    case 0x04:
    case 0x0c: { // [for install (and make selectable)]: ELF, module, instance, privileges, params,
                 // token
        if (!r.next(f1) || !r.next(f2) || !r.next(f3) || !r.next(f4) || !r.next(f5) ||
            !r.next(f6) || !r.done())
            return RApdu::status(kSwIncorrectData);
        if (f3.size() < 5 || f3.size() > 16 || (f4.size() != 1 && f4.size() != 3))
            return RApdu::status(kSwIncorrectData);
        auto params = tlv::parse_ber_tlvs(f5);
        if (!params || params->empty() || params->front().tag != 0xc9)
            return RApdu::status(kSwIncorrectData); // GP §11.5.2.3.7: C9 is mandatory
        LoadFile* lf = find_load_file(f1);
        if (!lf)
            return RApdu::status(kSwReferencedDataNotFound);
        if (std::none_of(lf->modules.begin(), lf->modules.end(),
                         [&](const Bytes& m) { return same(m, f2); }))
            return RApdu::status(kSwReferencedDataNotFound);
        if (find_app(f3) || find_load_file(f3) || same(f3, isd_aid))
            return RApdu::status(kSwConditions);
        if (apps.size() >= 32)
            return RApdu::status(kSwNotEnoughMemory);
        ToolkitAccess toolkit;
        if (!read_install_params(f5, toolkit))
            return RApdu::status(kSwIncorrectData);
        // TS 102 226 §8.2.1.3.2.2.1: no TAR listed, the TAR is the instance AID's bytes 13-15.
        if (toolkit.present && toolkit.tars.empty() && f3.size() == 16)
            toolkit.tars.push_back({f3[12], f3[13], f3[14]});
        for (const Tar& t : toolkit.tars)
            if (find_tar(t))
                return RApdu::status(kSwIncorrectData); // TAR already allocated
        for (const Tar& t : toolkit.tars)
            tars.push_back({t, TarKind::Cardlet, to_bytes(f3), toolkit.msl});
        Application app;
        app.aid = to_bytes(f3);
        app.load_file = to_bytes(f1);
        app.module = to_bytes(f2);
        app.privileges = to_bytes(f4);
        app.install_params = to_bytes(f5);
        app.life_cycle = apdu.p1 == 0x0c ? kLcSelectable : kLcInstalled;
        if (const CardletModule* m = find_module(f2))
            app.cardlet = m->create();
        apps.push_back(std::move(app));
        return RApdu{{0x00}, kSwOk};
    }
    case 0x08: { // [for make selectable]: -, -, instance, privileges, -, token
        if (!r.next(f1) || !r.next(f2) || !r.next(f3) || !r.next(f4) || !r.next(f5) || !r.next(f6))
            return RApdu::status(kSwIncorrectData);
        Application* app = find_app(f3);
        if (!app)
            return RApdu::status(kSwReferencedDataNotFound);
        if (app->life_cycle != kLcInstalled)
            return RApdu::status(kSwConditions);
        app->life_cycle = kLcSelectable;
        return RApdu{{0x00}, kSwOk};
    }
    case 0x20: { // [for personalization]: -, -, instance, ...
        if (!r.next(f1) || !r.next(f2) || !r.next(f3))
            return RApdu::status(kSwIncorrectData);
        Application* app = find_app(f3);
        if (!app)
            return RApdu::status(kSwReferencedDataNotFound);
        if (app->locked())
            return RApdu::status(kSwConditions);
        ctx.target = app;
        return RApdu{{0x00}, kSwOk};
    }
    default:
        return RApdu::status(kSwIncorrectP1P2);
    }
}

RApdu Uicc::load(const CApdu& apdu) {
    if (!loading)
        return RApdu::status(kSwConditions); // no INSTALL [for load] before
    if (apdu.p2 != loading->next_block % 256 || (apdu.p1 & 0x7f) != 0) {
        loading.reset(); // out of sequence: the load is abandoned
        return RApdu::status(kSwIncorrectP1P2);
    }
    if (apdu.data.size() > memory - memory_used()) {
        loading.reset(); // GP 2.3 §11.6.3: not enough memory; the blocks are dropped
        return RApdu::status(kSwNotEnoughMemory);
    }
    append(loading->data, apdu.data);
    loading->next_block++;
    if (!(apdu.p1 & 0x80))
        return RApdu{{0x00}, kSwOk};
    RApdu r = end_load();
    loading.reset();
    return r;
}

RApdu Uicc::end_load() {
    // Optional DAP blocks ('E2'), then the load file data block ('C4'): the package's CAP
    // components (JC VM spec 2.2 §6), read for its AID (Header) and applets (Applet).
    auto top = tlv::parse_ber_tlvs(loading->data);
    if (!top)
        return RApdu::status(kSwIncorrectData);
    const tlv::BerTlv* c4 = tlv::find_tag(*top, 0xc4);
    if (!c4)
        return RApdu::status(kSwIncorrectData);
    if (!loading->hash.empty()) {
        const Bytes got = loading->hash.size() == 20 ? crypto::sha1(c4->value)
                                                     : to_bytes(crypto::sha256(c4->value));
        if (!equal_ct(got, loading->hash))
            return RApdu::status(kSwIncorrectData);
    }
    auto package = read_cap_components(c4->value);
    if (!package || !same(package->aid, loading->aid))
        return RApdu::status(kSwIncorrectData); // not a package, or another one than announced
    load_files.push_back(
        {loading->aid, std::move(package->applets), static_cast<uint32_t>(loading->data.size())});
    return RApdu{{0x00}, kSwOk};
}

uint32_t Uicc::memory_used() const {
    uint64_t used = loading ? loading->data.size() : 0;
    for (const LoadFile& l : load_files)
        used += l.size;
    return static_cast<uint32_t>(std::min<uint64_t>(used, memory));
}

void Uicc::remove_apps(const std::function<bool(const Application&)>& which) {
    // Their TARs go with them (TS 102 226 §8.2.1.3.2.2.1).
    tars.erase(std::remove_if(tars.begin(), tars.end(),
                              [&](const TarEntry& t) {
                                  if (t.kind != TarKind::Cardlet)
                                      return false;
                                  const Application* a = find_app(t.aid);
                                  return a && which(*a);
                              }),
               tars.end());
    apps.erase(std::remove_if(apps.begin(), apps.end(), which), apps.end());
}

RApdu Uicc::delete_object(const CApdu& apdu) {
    auto items = tlv::parse_ber_tlvs(apdu.data);
    if (!items || items->empty() || items->front().tag != 0x4f)
        return RApdu::status(kSwIncorrectData);
    const ByteView aid = items->front().value;
    const bool related = apdu.p2 & 0x80;
    if (same(aid, isd_aid))
        return RApdu::status(kSwConditions);
    if (loading && same(loading->aid, aid)) {
        loading.reset(); // an unfinished load: its blocks are dropped
        return RApdu{{0x00}, kSwOk};
    }
    if (Application* app = find_app(aid)) {
        remove_apps([&](const Application& a) { return &a == app; });
        return RApdu{{0x00}, kSwOk};
    }
    if (LoadFile* lf = find_load_file(aid)) {
        const bool has_instances = std::any_of(
            apps.begin(), apps.end(), [&](const Application& a) { return same(a.load_file, aid); });
        if (has_instances && !related)
            return RApdu::status(kSwConditions); // GP §11.2.2: delete its applications first
        remove_apps([&](const Application& a) { return same(a.load_file, aid); });
        load_files.erase(load_files.begin() + (lf - load_files.data()));
        return RApdu{{0x00}, kSwOk};
    }
    return RApdu::status(kSwReferencedDataNotFound);
}

RApdu Uicc::set_status(const CApdu& apdu) {
    if (apdu.p1 == 0x80) { // the card (ISD), GP §11.10.2.1
        const uint8_t to = apdu.p2;
        if (to == 0xff) {
            card_life_cycle = 0xff;
            return RApdu::status(kSwOk);
        }
        if (to == 0x7f && card_life_cycle == 0x0f) {
            card_life_cycle = 0x7f;
            return RApdu::status(kSwOk);
        }
        if (to == 0x0f && card_life_cycle == 0x7f) {
            card_life_cycle = 0x0f;
            return RApdu::status(kSwOk);
        }
        return RApdu::status(kSwConditions);
    }
    if (apdu.p1 != 0x40)
        return RApdu::status(kSwIncorrectP1P2);
    if (apdu.data.size() < 5 || apdu.data.size() > 16)
        return RApdu::status(kSwIncorrectData);
    Application* app = find_app(apdu.data);
    if (!app)
        return RApdu::status(kSwReferencedDataNotFound);
    if (apdu.p2 & 0x80) { // lock: b8 set on top of the current state
        if (app->locked())
            return RApdu::status(kSwConditions);
        app->life_cycle |= 0x80;
        return RApdu::status(kSwOk);
    }
    if (app->locked()) { // unlock: b8 cleared, the previous state comes back
        app->life_cycle &= 0x7f;
        return RApdu::status(kSwOk);
    }
    // An application-specific state (b3..b1 = 111) is reachable from SELECTABLE or another
    // application-specific state only; INSTALLED -> SELECTABLE is INSTALL's job.
    if ((apdu.p2 & 0x07) == 0x07 && (app->life_cycle & 0x07) == 0x07 && apdu.p2 != kLcSelectable) {
        app->life_cycle = apdu.p2;
        return RApdu::status(kSwOk);
    }
    return RApdu::status(kSwConditions);
}

RApdu Uicc::get_status(const CApdu& apdu) {
    const uint8_t scope = apdu.p1;
    if (scope != 0x80 && scope != 0x40 && scope != 0x20 && scope != 0x10)
        return RApdu::status(kSwIncorrectP1P2);
    const bool tlv_format = apdu.p2 & 0x02;
    const bool next = apdu.p2 & 0x01;
    auto items = tlv::parse_ber_tlvs(apdu.data);
    if (!items || items->empty() || items->front().tag != 0x4f)
        return RApdu::status(kSwIncorrectData);
    const ByteView filter = items->front().value;
    std::vector<uint32_t> tags;
    if (const tlv::BerTlv* list = tlv::find_tag(*items, 0x5c)) {
        size_t pos = 0;
        while (pos < list->value.size()) {
            auto tag = tlv::parse_ber_tag(list->value, pos);
            if (!tag)
                return RApdu::status(kSwIncorrectData);
            tags.push_back(tag->value);
        }
    }
    auto wanted = [&](uint32_t tag) {
        return tags.empty() || std::find(tags.begin(), tags.end(), tag) != tags.end();
    };

    // The entries of this scope, in registry order.
    std::vector<Bytes> entries;
    auto add = [&](ByteView aid, uint8_t lc, ByteView privileges, ByteView elf,
                   const std::vector<Bytes>* modules) {
        if (!starts_with(aid, filter))
            return;
        Bytes e;
        if (tlv_format) {
            Bytes v;
            if (wanted(0x4f))
                tlv::append_ber_tlv(v, 0x4f, aid);
            if (wanted(0x9f70))
                tlv::append_ber_tlv(v, 0x9f70, ByteView(&lc, 1));
            if (!privileges.empty() && wanted(0xc5))
                tlv::append_ber_tlv(v, 0xc5, privileges);
            if (!elf.empty() && wanted(0xc4))
                tlv::append_ber_tlv(v, 0xc4, elf);
            if (scope != 0x80 && wanted(0xcc))
                tlv::append_ber_tlv(v, 0xcc, isd_aid);
            if (modules && wanted(0x84))
                for (const Bytes& m : *modules)
                    tlv::append_ber_tlv(v, 0x84, m);
            tlv::append_ber_tlv(e, 0xe3, v);
        } else { // the GP 2.1 layout: length, AID, life cycle, privileges [modules]
            e.push_back(static_cast<uint8_t>(aid.size()));
            append(e, aid);
            e.push_back(lc);
            e.push_back(privileges.empty() ? 0x00 : privileges[0]);
            if (modules) {
                e.push_back(static_cast<uint8_t>(modules->size()));
                for (const Bytes& m : *modules) {
                    e.push_back(static_cast<uint8_t>(m.size()));
                    append(e, m);
                }
            }
        }
        entries.push_back(std::move(e));
    };
    const uint8_t isd_privileges[] = {0x9e, 0xfe, 0x80};
    switch (scope) {
    case 0x80:
        add(isd_aid, card_life_cycle, isd_privileges, {}, nullptr);
        break;
    case 0x40:
        for (const Application& a : apps)
            add(a.aid, a.life_cycle, a.privileges, a.load_file, nullptr);
        break;
    case 0x20:
        for (const LoadFile& l : load_files)
            add(l.aid, kLoadFileLoaded, {}, {}, nullptr);
        break;
    case 0x10:
        for (const LoadFile& l : load_files)
            add(l.aid, kLoadFileLoaded, {}, {}, &l.modules);
        break;
    }
    size_t start = 0;
    if (next) {
        if (!paging_ || paging_->scope != scope || paging_->request != apdu.data)
            return RApdu::status(kSwConditions); // no listing to continue
        start = paging_->next;
    }
    if (entries.empty() && !next)
        return RApdu::status(kSwReferencedDataNotFound);
    // One page: whole entries up to kGetStatusPage bytes; 6310 says more follow (GP §11.4.3).
    RApdu r;
    size_t i = start;
    for (; i < entries.size(); i++) {
        if (!r.data.empty() && r.data.size() + entries[i].size() > kGetStatusPage)
            break;
        append(r.data, entries[i]);
    }
    if (i < entries.size()) {
        paging_ = Paging{scope, apdu.data, i};
        r.sw = kSwMoreData;
    } else {
        paging_.reset();
        r.sw = kSwOk;
    }
    return r;
}

RApdu Uicc::store_data(const CApdu& apdu, ScriptContext& ctx) {
    Application* app = ctx.target;
    if (!app || !app->cardlet)
        return RApdu::status(kSwConditions);
    if (app->locked())
        return RApdu::status(kSwConditions);
    return app->cardlet->store_data(apdu, AppContext{app->locked(), app->life_cycle});
}

RApdu Uicc::put_key(const CApdu& apdu, ScriptContext& ctx) {
    // GP §11.8: P1 = the key version replaced ('00': a new keyset), P2 = first key id (b8: more
    // than one key). Data: new KVN, then per key: type ('80' DES, '88' AES), length, the key
    // encrypted with the DEK (here the KIK of the keyset that secured the script), KCV.
    if (!ctx.keyset)
        return RApdu::status(kSwSecurityStatus);
    const Keyset& dek_keys = *ctx.keyset;
    if (apdu.data.empty())
        return RApdu::status(kSwWrongLength);
    const uint8_t new_kvn = apdu.data[0];
    if (new_kvn == 0 || new_kvn > 0x0f)
        return RApdu::status(kSwIncorrectData);
    auto dek = crypto::BlockCipher::create(dek_keys.algo, dek_keys.kik);
    if (!dek)
        return RApdu::status(kSwSecurityStatus);
    std::vector<Bytes> keys;
    crypto::BlockAlgo algo = crypto::BlockAlgo::Aes;
    size_t pos = 1;
    while (pos < apdu.data.size()) {
        if (apdu.data.size() - pos < 2)
            return RApdu::status(kSwIncorrectData);
        const uint8_t type = apdu.data[pos];
        size_t len = apdu.data[pos + 1];
        pos += 2;
        if (type != 0x80 && type != 0x88)
            return RApdu::status(0x9484); // algorithm not supported
        if (apdu.data.size() - pos < len + 1)
            return RApdu::status(kSwIncorrectData);
        ByteView block = ByteView(apdu.data).subspan(pos, len);
        pos += len;
        const size_t kcv_len = apdu.data[pos++];
        if (apdu.data.size() - pos < kcv_len)
            return RApdu::status(kSwIncorrectData);
        ByteView kcv = ByteView(apdu.data).subspan(pos, kcv_len);
        pos += kcv_len;
        // AES key data may carry the key length first (GP Amendment D); DES never does.
        if (type == 0x88 && block.size() % 16 == 1 && block[0] == block.size() - 1)
            block = block.subspan(1);
        Bytes key(block.begin(), block.end());
        if ((dek->algo() == crypto::BlockAlgo::Aes) != (type == 0x88) ||
            key.size() % dek->block_size())
            return RApdu::status(kSwIncorrectData);
        if (type == 0x88) {
            uint8_t iv[16] = {};
            dek->cbc_decrypt(iv, key.data(), key.data(), key.size());
            algo = crypto::BlockAlgo::Aes;
        } else {
            for (size_t off = 0; off < key.size(); off += 8)
                dek->decrypt_block(&key[off], &key[off]);
            algo = key.size() == 8    ? crypto::BlockAlgo::Des
                   : key.size() == 16 ? crypto::BlockAlgo::TripleDes2Key
                                      : crypto::BlockAlgo::TripleDes3Key;
        }
        auto check = crypto::key_check_value(algo, key);
        if (!check)
            return RApdu::status(kSwIncorrectData);
        if (kcv.size() > check->size()) // a KCV is at most the check block's length
            return RApdu::status(kSwIncorrectData);
        if (!kcv.empty() && !equal_ct(ByteView(*check).first(kcv.size()), kcv))
            return RApdu::status(kSwInvalidKcv);
        keys.push_back(std::move(key));
    }
    const uint8_t first_id = apdu.p2 & 0x7f;
    if (keys.empty() || first_id != 1 || keys.size() != 3)
        return RApdu::status(kSwIncorrectData); // an OTA keyset is KIc, KID, KIK (ids 1..3)
    Keyset* target = apdu.p1 ? keyset(apdu.p1) : nullptr;
    if (apdu.p1 && !target)
        return RApdu::status(kSwReferencedDataNotFound);
    if (!apdu.p1 && keyset(new_kvn))
        return RApdu::status(kSwConditions);
    if (apdu.p1 && apdu.p1 != new_kvn && keyset(new_kvn))
        return RApdu::status(kSwConditions);
    Keyset k;
    k.kvn = new_kvn;
    k.algo = algo;
    k.kic = keys[0];
    k.kid = keys[1];
    k.kik = keys[2];
    RApdu r{{new_kvn}, kSwOk};
    for (const Bytes& key : keys)
        append(r.data, *crypto::key_check_value(algo, key));
    if (target) {
        *target =
            std::move(k); // new keys start a new counter; this script's PoR keeps the old keys
    } else {
        keysets.push_back(std::move(k));
    }
    return r;
}

RApdu Uicc::get_data(const CApdu& apdu) {
    const uint16_t tag = static_cast<uint16_t>(apdu.p1 << 8 | apdu.p2);
    if (tag == 0x00e0) { // key information template: C0 id kvn type length, per key
        Bytes v;
        for (const Keyset& k : keysets)
            for (uint8_t id = 1; id <= 3; id++) {
                const Bytes& key = id == 1 ? k.kic : id == 2 ? k.kid : k.kik;
                const uint8_t item[] = {
                    id, k.kvn, static_cast<uint8_t>(k.algo == crypto::BlockAlgo::Aes ? 0x88 : 0x80),
                    static_cast<uint8_t>(key.size())};
                tlv::append_ber_tlv(v, 0xc0, ByteView(item, 4));
            }
        return RApdu{tlv::ber_tlv(0xe0, v), kSwOk};
    }
    if (tag == 0x0042) { // issuer identification number: the ICCID's first digits
        Bytes iin{0x89, 0x49};
        return RApdu{tlv::ber_tlv(0x42, iin), kSwOk};
    }
    return RApdu::status(kSwReferencedDataNotFound);
}

RApdu Uicc::rfm(const CApdu& apdu) {
    commands++;
    switch (apdu.ins) {
    case 0xa4: { // SELECT by file id
        if (apdu.data.size() != 2)
            return RApdu::status(kSwIncorrectData);
        const uint16_t fid = load_be16(apdu.data.data());
        if (fid != 0x3f00 && fid != 0x2fe2)
            return RApdu::status(kSwNotFound);
        rfm_selected_ = fid;
        return RApdu::status(kSwOk);
    }
    case 0xb0: { // READ BINARY of EF ICCID (swapped BCD, ETSI TS 102 221 §13.2)
        if (rfm_selected_ != 0x2fe2)
            return RApdu::status(kSwConditions);
        Bytes bcd;
        for (size_t i = 0; i < iccid.size(); i += 2) {
            const uint8_t lo = static_cast<uint8_t>(iccid[i] - '0');
            const uint8_t hi =
                i + 1 < iccid.size() ? static_cast<uint8_t>(iccid[i + 1] - '0') : 0x0f;
            bcd.push_back(static_cast<uint8_t>(hi << 4 | lo));
        }
        bcd.resize(10, 0xff);
        return RApdu{bcd, kSwOk};
    }
    case 0xd6:
        return RApdu::status(kSwSecurityStatus); // EF ICCID is not updatable
    default:
        return RApdu::status(kSwInsNotSupported);
    }
}

RApdu Uicc::to_cardlet(ByteView aid, const CApdu& apdu) {
    commands++;
    Application* app = find_app(aid);
    if (!app || !app->cardlet)
        return RApdu::status(kSwNotFound);
    if (apdu.ins == 0xe2) // STORE DATA through the cardlet's own TAR
        return app->locked()
                   ? RApdu::status(kSwConditions)
                   : app->cardlet->store_data(apdu, AppContext{app->locked(), app->life_cycle});
    return app->cardlet->process(apdu, AppContext{app->locked(), app->life_cycle});
}

RApdu Uicc::local(ByteView aid, const CApdu& apdu) {
    Application* app = find_app(aid);
    if (!app || !app->selectable() || card_life_cycle != 0x0f)
        return RApdu::status(kSwNotFound);
    if (apdu.cla == 0x00 && apdu.ins == 0xa4 && apdu.p1 == 0x04) { // SELECT by AID (7816-4)
        if (!same(apdu.data, aid))
            return RApdu::status(kSwNotFound);
        ScriptContext ignored;
        return select(apdu, ignored);
    }
    if (!app->cardlet) // loaded from a CAP file: no behaviour simulated beyond SELECT
        return RApdu::status(kSwInsNotSupported);
    return app->cardlet->process(apdu, AppContext{false, app->life_cycle});
}

} // namespace otagw::sim
