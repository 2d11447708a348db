// SPDX-License-Identifier: GPL-2.0-or-later
// Card state as BER-TLV (context-specific tags of our own, version 1):
//   E1 { 80 iccid  81 imsi  82 msisdn  83 card life cycle
//        A4 { 80 kvn 81 algo 82 kic 83 kid 84 kik 85 counter(5) }*          keysets
//        A9 { 80 kvn 81 kid 82 identity 83 psk 84 dek algo 85 dek }*          SCP81 keysets
//        A5 { 80 tar 81 kind 82 msl [4F aid] }*                              TARs
//        A6 { 4F aid [80 module]* }*                                         load files
//        A7 { 4F aid 80 load file 81 module 82 life cycle 83 privileges
//             84 install parameters [85 cardlet state] }*                    applications }
#include "otagw/sim/card_state.hpp"

#include <algorithm>
#include <cstdint>

#include "otagw/common/tlv.hpp"

namespace otagw::sim {

namespace {

constexpr uint32_t kCard = 0xe1;
constexpr uint32_t kKeyset = 0xa4, kTar = 0xa5, kLoadFile = 0xa6, kApp = 0xa7, kLoading = 0xa8,
                   kPskKeyset = 0xa9;

void put(Bytes& out, uint32_t tag, std::string_view s) {
    tlv::append_ber_tlv(out, tag, ByteView(reinterpret_cast<const uint8_t*>(s.data()), s.size()));
}
void put(Bytes& out, uint32_t tag, uint8_t b) {
    tlv::append_ber_tlv(out, tag, ByteView(&b, 1));
}

Error bad(const std::string& what) {
    return make_error("card state: " + what);
}

// The value of `tag` in `items`, required to be there with a size in [min, max].
Result<ByteView> need(const std::vector<tlv::BerTlv>& items, uint32_t tag, size_t min, size_t max,
                      const char* what) {
    const tlv::BerTlv* t = tlv::find_tag(items, tag);
    if (!t)
        return bad(std::string(what) + " missing");
    if (t->value.size() < min || t->value.size() > max)
        return bad(std::string(what) + " has a wrong length");
    return t->value;
}

std::string text(ByteView v) {
    return std::string(v.begin(), v.end());
}

Status restore_keyset(ByteView v, Uicc& c) {
    auto items = tlv::parse_ber_tlvs(v);
    if (!items)
        return bad("keyset: " + items.error().message);
    auto kvn = need(*items, 0x80, 1, 1, "keyset kvn");
    auto algo = need(*items, 0x81, 1, 1, "keyset algorithm");
    auto kic = need(*items, 0x82, 8, 32, "keyset kic");
    auto kid = need(*items, 0x83, 8, 32, "keyset kid");
    auto kik = need(*items, 0x84, 8, 32, "keyset kik");
    auto counter = need(*items, 0x85, 5, 5, "keyset counter");
    for (const auto* r : {&kvn, &algo, &kic, &kid, &kik, &counter})
        if (!*r)
            return r->error();
    if ((*algo)[0] > static_cast<uint8_t>(crypto::BlockAlgo::Aes))
        return bad("keyset algorithm unknown");
    Keyset k;
    k.kvn = (*kvn)[0];
    k.algo = static_cast<crypto::BlockAlgo>((*algo)[0]);
    k.kic.assign(kic->begin(), kic->end());
    k.kid.assign(kid->begin(), kid->end());
    k.kik.assign(kik->begin(), kik->end());
    for (uint8_t b : *counter)
        k.counter = k.counter << 8 | b;
    if (!crypto::key_size_valid(k.algo, k.kic.size()) ||
        !crypto::key_size_valid(k.algo, k.kid.size()) ||
        !crypto::key_size_valid(k.algo, k.kik.size()))
        return bad("keyset key sizes do not fit its algorithm");
    c.keysets.push_back(std::move(k));
    return Status::success();
}

Status restore_psk_keyset(ByteView v, Uicc& c) {
    auto items = tlv::parse_ber_tlvs(v);
    if (!items)
        return bad("SCP81 keyset: " + items.error().message);
    auto kvn = need(*items, 0x80, 1, 1, "SCP81 keyset kvn");
    auto kid = need(*items, 0x81, 1, 1, "SCP81 keyset kid");
    auto identity = need(*items, 0x82, 1, 128, "SCP81 keyset identity");
    auto psk = need(*items, 0x83, 16, 32, "SCP81 keyset psk");
    auto algo = need(*items, 0x84, 1, 1, "SCP81 keyset DEK algorithm");
    auto dek = need(*items, 0x85, 8, 32, "SCP81 keyset dek");
    for (const auto* r : {&kvn, &kid, &identity, &psk, &algo, &dek})
        if (!*r)
            return r->error();
    if ((*algo)[0] > static_cast<uint8_t>(crypto::BlockAlgo::Aes))
        return bad("SCP81 keyset DEK algorithm unknown");
    PskKeyset k{(*kvn)[0],
                (*kid)[0],
                Bytes(identity->begin(), identity->end()),
                Bytes(psk->begin(), psk->end()),
                static_cast<crypto::BlockAlgo>((*algo)[0]),
                Bytes(dek->begin(), dek->end())};
    if (!crypto::key_size_valid(k.dek_algo, k.dek.size()))
        return bad("SCP81 keyset DEK size does not fit its algorithm");
    c.psk_keysets.push_back(std::move(k));
    return Status::success();
}

Status restore_tar(ByteView v, Uicc& c) {
    auto items = tlv::parse_ber_tlvs(v);
    if (!items)
        return bad("TAR: " + items.error().message);
    auto tar = need(*items, 0x80, 3, 3, "TAR value");
    auto kind = need(*items, 0x81, 1, 1, "TAR kind");
    auto msl = need(*items, 0x82, 1, 1, "TAR msl");
    for (const auto* r : {&tar, &kind, &msl})
        if (!*r)
            return r->error();
    if ((*kind)[0] > static_cast<uint8_t>(TarKind::Cardlet))
        return bad("TAR kind unknown");
    TarEntry t;
    std::copy(tar->begin(), tar->end(), t.tar.begin());
    t.kind = static_cast<TarKind>((*kind)[0]);
    t.msl = (*msl)[0];
    if (const tlv::BerTlv* aid = tlv::find_tag(*items, 0x4f))
        t.aid.assign(aid->value.begin(), aid->value.end());
    c.tars.push_back(std::move(t));
    return Status::success();
}

Status restore_load_file(ByteView v, Uicc& c) {
    auto items = tlv::parse_ber_tlvs(v);
    if (!items)
        return bad("load file: " + items.error().message);
    auto aid = need(*items, 0x4f, 5, 16, "load file aid");
    if (!aid)
        return aid.error();
    LoadFile lf;
    lf.aid.assign(aid->begin(), aid->end());
    for (const auto& t : *items)
        if (t.tag == 0x80)
            lf.modules.emplace_back(t.value.begin(), t.value.end());
    if (const tlv::BerTlv* size = tlv::find_tag(*items, 0x81)) {
        if (size->value.size() != 4)
            return bad("load file size has a wrong length");
        lf.size = load_be32(size->value.data());
    }
    c.load_files.push_back(std::move(lf));
    return Status::success();
}

Status restore_loading(ByteView v, Uicc& c) {
    auto items = tlv::parse_ber_tlvs(v);
    if (!items)
        return bad("load under way: " + items.error().message);
    auto aid = need(*items, 0x4f, 5, 16, "load under way: aid");
    auto next = need(*items, 0x80, 2, 2, "load under way: next block");
    auto hash = need(*items, 0x81, 0, 32, "load under way: hash");
    auto data = need(*items, 0x82, 0, SIZE_MAX, "load under way: blocks");
    for (const auto* r : {&aid, &next, &hash, &data})
        if (!*r)
            return r->error();
    c.loading =
        LoadInProgress{Bytes(aid->begin(), aid->end()), load_be16(next->data()),
                       Bytes(hash->begin(), hash->end()), Bytes(data->begin(), data->end())};
    return Status::success();
}

void put_be32(Bytes& out, uint32_t tag, uint32_t v) {
    const uint8_t b[4] = {static_cast<uint8_t>(v >> 24), static_cast<uint8_t>(v >> 16),
                          static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v)};
    tlv::append_ber_tlv(out, tag, ByteView(b, 4));
}

Status restore_app(ByteView v, Uicc& c) {
    auto items = tlv::parse_ber_tlvs(v);
    if (!items)
        return bad("application: " + items.error().message);
    auto aid = need(*items, 0x4f, 5, 16, "application aid");
    auto elf = need(*items, 0x80, 5, 16, "application load file");
    auto module = need(*items, 0x81, 5, 16, "application module");
    auto lc = need(*items, 0x82, 1, 1, "application life cycle");
    auto priv = need(*items, 0x83, 1, 3, "application privileges");
    auto params = need(*items, 0x84, 0, 255, "application install parameters");
    for (const auto* r : {&aid, &elf, &module, &lc, &priv, &params})
        if (!*r)
            return r->error();
    Application app;
    app.aid.assign(aid->begin(), aid->end());
    app.load_file.assign(elf->begin(), elf->end());
    app.module.assign(module->begin(), module->end());
    app.life_cycle = (*lc)[0];
    app.privileges.assign(priv->begin(), priv->end());
    app.install_params.assign(params->begin(), params->end());
    if (const CardletModule* m = find_module(app.module)) {
        app.cardlet = m->create();
        if (const tlv::BerTlv* st = tlv::find_tag(*items, 0x85);
            st && !app.cardlet->restore(st->value))
            return bad("application " + to_hex(app.aid) + ": cardlet state unreadable");
    }
    c.apps.push_back(std::move(app));
    return Status::success();
}

} // namespace

Bytes save_card(const Uicc& c) {
    Bytes body;
    put(body, 0x80, c.iccid);
    put(body, 0x81, c.imsi);
    put(body, 0x82, c.msisdn);
    put(body, 0x83, c.card_life_cycle);
    put_be32(body, 0x84, c.memory);
    for (const Keyset& k : c.keysets) {
        Bytes b;
        put(b, 0x80, k.kvn);
        put(b, 0x81, static_cast<uint8_t>(k.algo));
        tlv::append_ber_tlv(b, 0x82, k.kic);
        tlv::append_ber_tlv(b, 0x83, k.kid);
        tlv::append_ber_tlv(b, 0x84, k.kik);
        uint8_t cntr[5];
        for (int i = 0; i < 5; i++)
            cntr[i] = static_cast<uint8_t>(k.counter >> (32 - 8 * i));
        tlv::append_ber_tlv(b, 0x85, ByteView(cntr, 5));
        tlv::append_ber_tlv(body, kKeyset, b);
    }
    for (const PskKeyset& k : c.psk_keysets) {
        Bytes b;
        put(b, 0x80, k.kvn);
        put(b, 0x81, k.kid);
        tlv::append_ber_tlv(b, 0x82, k.identity);
        tlv::append_ber_tlv(b, 0x83, k.psk);
        put(b, 0x84, static_cast<uint8_t>(k.dek_algo));
        tlv::append_ber_tlv(b, 0x85, k.dek);
        tlv::append_ber_tlv(body, kPskKeyset, b);
    }
    for (const TarEntry& t : c.tars) {
        Bytes b;
        tlv::append_ber_tlv(b, 0x80, t.tar);
        put(b, 0x81, static_cast<uint8_t>(t.kind));
        put(b, 0x82, t.msl);
        if (!t.aid.empty())
            tlv::append_ber_tlv(b, 0x4f, t.aid);
        tlv::append_ber_tlv(body, kTar, b);
    }
    for (const LoadFile& lf : c.load_files) {
        Bytes b;
        tlv::append_ber_tlv(b, 0x4f, lf.aid);
        for (const Bytes& m : lf.modules)
            tlv::append_ber_tlv(b, 0x80, m);
        put_be32(b, 0x81, lf.size);
        tlv::append_ber_tlv(body, kLoadFile, b);
    }
    for (const Application& a : c.apps) {
        Bytes b;
        tlv::append_ber_tlv(b, 0x4f, a.aid);
        tlv::append_ber_tlv(b, 0x80, a.load_file);
        tlv::append_ber_tlv(b, 0x81, a.module);
        put(b, 0x82, a.life_cycle);
        tlv::append_ber_tlv(b, 0x83, a.privileges);
        tlv::append_ber_tlv(b, 0x84, a.install_params);
        if (a.cardlet)
            tlv::append_ber_tlv(b, 0x85, a.cardlet->save());
        tlv::append_ber_tlv(body, kApp, b);
    }
    if (c.loading) {
        Bytes b;
        tlv::append_ber_tlv(b, 0x4f, c.loading->aid);
        Bytes next;
        append_be16(next, c.loading->next_block);
        tlv::append_ber_tlv(b, 0x80, next);
        tlv::append_ber_tlv(b, 0x81, c.loading->hash);
        tlv::append_ber_tlv(b, 0x82, c.loading->data);
        tlv::append_ber_tlv(body, kLoading, b);
    }
    return tlv::ber_tlv(kCard, body);
}

Result<Uicc> restore_card(ByteView state) {
    size_t pos = 0;
    auto top = tlv::parse_ber_tlv(state, pos);
    if (!top || top->tag != kCard || pos != state.size())
        return bad("not one 'E1' card template");
    auto items = tlv::parse_ber_tlvs(top->value);
    if (!items)
        return bad(items.error().message);
    Uicc c;
    auto iccid = need(*items, 0x80, 1, 20, "iccid");
    auto imsi = need(*items, 0x81, 1, 15, "imsi");
    auto msisdn = need(*items, 0x82, 1, 15, "msisdn");
    auto lc = need(*items, 0x83, 1, 1, "card life cycle");
    for (const auto* r : {&iccid, &imsi, &msisdn, &lc})
        if (!*r)
            return r->error();
    c.iccid = text(*iccid);
    c.imsi = text(*imsi);
    c.msisdn = text(*msisdn);
    c.card_life_cycle = (*lc)[0];
    for (const auto& t : *items) {
        Status st;
        switch (t.tag) {
        case 0x80:
        case 0x81:
        case 0x82:
        case 0x83:
            continue;
        case 0x84:
            if (t.value.size() != 4)
                return bad("memory has a wrong length");
            c.memory = load_be32(t.value.data());
            continue;
        case kLoading:
            st = restore_loading(t.value, c);
            break;
        case kKeyset:
            st = restore_keyset(t.value, c);
            break;
        case kPskKeyset:
            st = restore_psk_keyset(t.value, c);
            break;
        case kTar:
            st = restore_tar(t.value, c);
            break;
        case kLoadFile:
            st = restore_load_file(t.value, c);
            break;
        case kApp:
            st = restore_app(t.value, c);
            break;
        default:
            return bad("unknown element");
        }
        if (!st)
            return st.take_error();
    }
    return c;
}

} // namespace otagw::sim
