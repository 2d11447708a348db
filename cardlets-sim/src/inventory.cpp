// SPDX-License-Identifier: GPL-2.0-or-later
// The card inventory file (doc/card-inventory.md): writer and strict reader.
#include "otagw/sim/inventory.hpp"
#include "otagw/sim/population.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <fstream>
#include <set>

namespace otagw::sim {

namespace {

std::vector<std::string_view> split(std::string_view s, char sep) {
    std::vector<std::string_view> out;
    size_t start = 0;
    while (true) {
        const size_t end = s.find(sep, start);
        out.push_back(s.substr(start, end == std::string_view::npos ? end : end - start));
        if (end == std::string_view::npos)
            return out;
        start = end + 1;
    }
}

bool digits_only(std::string_view s) {
    return !s.empty() &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

template <typename T>
bool decimal(std::string_view s, T& out) {
    if (!digits_only(s) || (s.size() > 1 && s[0] == '0'))
        return false;
    auto r = std::from_chars(s.data(), s.data() + s.size(), out);
    return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

std::string hex_of(ByteView b) {
    return to_hex(b);
}

const char* kind_name(TarKind k) {
    switch (k) {
    case TarKind::Isd:
        return "isd";
    case TarKind::Rfm:
        return "rfm";
    case TarKind::Cardlet:
        return "app";
    }
    return "?";
}

// A field error: "field: reason", or "field: entry n: reason" inside a list.
Error field_error(std::string_view field, size_t entry, const std::string& why) {
    std::string m(field);
    m += ": ";
    if (entry)
        m += "entry " + std::to_string(entry) + ": ";
    return make_error(m + why);
}

Result<Bytes> hex_field(std::string_view text, std::string_view what, size_t min, size_t max) {
    auto b = parse_hex(text, what);
    if (!b)
        return b;
    if (b->size() < min || b->size() > max)
        return make_error(
            std::string(what) + ": " + std::to_string(b->size()) + " bytes, expected " +
            (min == max ? std::to_string(min) : std::to_string(min) + ".." + std::to_string(max)));
    return b;
}

struct AlgoName {
    const char* name;
    crypto::BlockAlgo algo;
    size_t key_size;
};
constexpr AlgoName kAlgos[] = {
    {"des", crypto::BlockAlgo::Des, 8},
    {"3des2", crypto::BlockAlgo::TripleDes2Key, 16},
    {"3des3", crypto::BlockAlgo::TripleDes3Key, 24},
    {"aes128", crypto::BlockAlgo::Aes, 16},
    {"aes192", crypto::BlockAlgo::Aes, 24},
    {"aes256", crypto::BlockAlgo::Aes, 32},
};

const AlgoName* algo_named(std::string_view name) {
    for (const auto& a : kAlgos)
        if (name == a.name)
            return &a;
    return nullptr;
}

constexpr uint64_t kCounterMax = 0xffffffffffULL; // 5-byte CNTR (TS 102 225 §5.1.1)

Status parse_keysets(std::string_view field, Uicc& c) {
    if (field.empty())
        return field_error("keysets", 0, "at least one keyset is needed");
    size_t n = 0;
    for (std::string_view entry : split(field, ';')) {
        n++;
        auto parts = split(entry, ':');
        if (parts.size() != 6)
            return field_error("keysets", n, "expected kvn:algo:kic:kid:kik:counter");
        Keyset k;
        unsigned kvn = 0;
        if (!decimal(parts[0], kvn) || kvn < 1 || kvn > 15)
            return field_error("keysets", n, "kvn must be 1..15");
        k.kvn = static_cast<uint8_t>(kvn);
        const AlgoName* a = algo_named(parts[1]);
        if (!a)
            return field_error("keysets", n,
                               "unknown algorithm (des, 3des2, 3des3, aes128, aes192, aes256)");
        k.algo = a->algo;
        const char* names[] = {"kic", "kid", "kik"};
        Bytes* keys[] = {&k.kic, &k.kid, &k.kik};
        for (int i = 0; i < 3; i++) {
            auto key = hex_field(parts[2 + i], names[i], a->key_size, a->key_size);
            if (!key)
                return field_error("keysets", n, key.error().message + " for " + a->name);
            *keys[i] = std::move(*key);
        }
        if (!decimal(parts[5], k.counter) || k.counter > kCounterMax)
            return field_error("keysets", n, "counter must be a decimal 0..1099511627775");
        if (c.keyset(k.kvn))
            return field_error("keysets", n, "kvn " + std::to_string(kvn) + " appears twice");
        c.keysets.push_back(std::move(k));
    }
    return Status::success();
}

// kvn:kid:identity:psk:dek_algo:dek (GP Card Spec 2.3 Amendment B §3.3.2).
Status parse_scp81_keysets(std::string_view field, Uicc& c) {
    if (field.empty())
        return Status::success();
    size_t n = 0;
    for (std::string_view entry : split(field, ';')) {
        n++;
        auto parts = split(entry, ':');
        if (parts.size() != 6)
            return field_error("scp81_keysets", n, "expected kvn:kid:identity:psk:dek_algo:dek");
        auto kvn = hex_field(parts[0], "kvn", 1, 1);
        auto kid = hex_field(parts[1], "kid", 1, 1);
        auto identity = hex_field(parts[2], "identity", 1, 128);
        auto psk = hex_field(parts[3], "psk", 16, 32);
        for (const auto* r : {&kvn, &kid, &identity, &psk})
            if (!*r)
                return field_error("scp81_keysets", n, r->error().message);
        PskKeyset k;
        k.kvn = (*kvn)[0];
        k.kid = (*kid)[0];
        k.identity = std::move(*identity);
        k.psk = std::move(*psk);
        if (k.kvn < 0x40 || k.kvn > 0x4f)
            return field_error("scp81_keysets", n, "kvn must be 40..4f");
        if (k.kid < 0x01 || k.kid > 0x7e)
            return field_error("scp81_keysets", n, "kid must be 01..7e (the DEK takes kid + 1)");
        const AlgoName* a = algo_named(parts[4]);
        if (!a)
            return field_error("scp81_keysets", n,
                               "unknown DEK algorithm (des, 3des2, 3des3, aes128, aes192, aes256)");
        k.dek_algo = a->algo;
        auto dek = hex_field(parts[5], "dek", a->key_size, a->key_size);
        if (!dek)
            return field_error("scp81_keysets", n, dek.error().message + " for " + a->name);
        k.dek = std::move(*dek);
        if (c.psk_keyset(k.kvn))
            return field_error("scp81_keysets", n, "kvn " + hex_of(*kvn) + " appears twice");
        c.psk_keysets.push_back(std::move(k));
    }
    return Status::success();
}

Status parse_tars(std::string_view field, Uicc& c) {
    if (field.empty())
        return Status::success();
    size_t n = 0;
    for (std::string_view entry : split(field, ';')) {
        n++;
        auto parts = split(entry, ':');
        if (parts.size() != 3 && parts.size() != 4)
            return field_error("tars", n, "expected tar:kind:msl or tar:app:msl:aid");
        TarEntry t;
        auto tar = hex_field(parts[0], "tar", 3, 3);
        if (!tar)
            return field_error("tars", n, tar.error().message);
        std::copy(tar->begin(), tar->end(), t.tar.begin());
        if (parts[1] == "isd")
            t.kind = TarKind::Isd;
        else if (parts[1] == "rfm")
            t.kind = TarKind::Rfm;
        else if (parts[1] == "app")
            t.kind = TarKind::Cardlet;
        else
            return field_error("tars", n, "kind must be isd, rfm or app");
        auto msl = hex_field(parts[2], "msl", 1, 1);
        if (!msl)
            return field_error("tars", n, msl.error().message);
        t.msl = (*msl)[0];
        if ((t.kind == TarKind::Cardlet) != (parts.size() == 4))
            return field_error("tars", n, "an app TAR names its application AID, others do not");
        if (parts.size() == 4) {
            auto aid = hex_field(parts[3], "aid", 5, 16);
            if (!aid)
                return field_error("tars", n, aid.error().message);
            t.aid = std::move(*aid);
        }
        if (c.find_tar(t.tar))
            return field_error("tars", n, "TAR " + hex_of(t.tar) + " appears twice");
        c.tars.push_back(std::move(t));
    }
    return Status::success();
}

Status parse_load_files(std::string_view field, Uicc& c) {
    if (field.empty())
        return Status::success();
    size_t n = 0;
    for (std::string_view entry : split(field, ';')) {
        n++;
        LoadFile lf;
        bool first = true;
        for (std::string_view aid_text : split(entry, '/')) {
            auto aid = hex_field(aid_text, first ? "load file aid" : "module aid", 5, 16);
            if (!aid)
                return field_error("load_files", n, aid.error().message);
            if (first)
                lf.aid = std::move(*aid);
            else
                lf.modules.push_back(std::move(*aid));
            first = false;
        }
        if (c.find_load_file(lf.aid))
            return field_error("load_files", n, "load file " + hex_of(lf.aid) + " appears twice");
        c.load_files.push_back(std::move(lf));
    }
    return Status::success();
}

Status parse_apps(std::string_view field, Uicc& c) {
    if (field.empty())
        return Status::success();
    size_t n = 0;
    for (std::string_view entry : split(field, ';')) {
        n++;
        auto parts = split(entry, ':');
        if (parts.size() != 4)
            return field_error("apps", n, "expected aid:life_cycle:load_file:module");
        auto aid = hex_field(parts[0], "aid", 5, 16);
        auto lc = hex_field(parts[1], "life_cycle", 1, 1);
        auto elf = hex_field(parts[2], "load file aid", 5, 16);
        auto module = hex_field(parts[3], "module aid", 5, 16);
        for (const auto* r : {&aid, &lc, &elf, &module})
            if (!*r)
                return field_error("apps", n, r->error().message);
        LoadFile* lf = c.find_load_file(*elf);
        if (!lf || std::find(lf->modules.begin(), lf->modules.end(), *module) == lf->modules.end())
            return field_error("apps", n, "its load file and module are not in load_files");
        if (c.find_app(*aid))
            return field_error("apps", n, "application " + hex_of(*aid) + " appears twice");
        Application app;
        app.aid = std::move(*aid);
        app.life_cycle = (*lc)[0];
        app.load_file = std::move(*elf);
        app.module = std::move(*module);
        app.install_params = {0xc9, 0x00};
        if (const CardletModule* m = find_module(app.module))
            app.cardlet = m->create();
        c.apps.push_back(std::move(app));
    }
    return Status::success();
}

} // namespace

std::string algo_name(crypto::BlockAlgo algo, size_t key_size) {
    for (const auto& a : kAlgos)
        if (a.algo == algo && a.key_size == key_size)
            return a.name;
    return "?";
}

std::string keyset_algo_name(const Keyset& k) {
    return algo_name(k.algo, k.kic.size());
}

std::string inventory_line(const Uicc& c) {
    // Appended piece by piece: GCC 12 misreads some operator+ chains on strings at -O3.
    std::string s;
    auto add = [&s](std::initializer_list<std::string_view> parts) {
        for (std::string_view p : parts)
            s.append(p);
    };
    add({c.iccid, ",", c.imsi, ",", c.msisdn, ","});
    for (size_t i = 0; i < c.keysets.size(); i++) {
        const Keyset& k = c.keysets[i];
        add({i ? ";" : "", std::to_string(k.kvn), ":", keyset_algo_name(k), ":", hex_of(k.kic), ":",
             hex_of(k.kid), ":", hex_of(k.kik), ":", std::to_string(k.counter)});
    }
    s += ',';
    for (size_t i = 0; i < c.tars.size(); i++) {
        const TarEntry& t = c.tars[i];
        add({i ? ";" : "", hex_of(t.tar), ":", kind_name(t.kind), ":",
             hex_of(ByteView(&t.msl, 1))});
        if (t.kind == TarKind::Cardlet)
            add({":", hex_of(t.aid)});
    }
    s += ',';
    for (size_t i = 0; i < c.load_files.size(); i++) {
        add({i ? ";" : "", hex_of(c.load_files[i].aid)});
        for (const Bytes& m : c.load_files[i].modules)
            add({"/", hex_of(m)});
    }
    s += ',';
    for (size_t i = 0; i < c.apps.size(); i++) {
        const Application& a = c.apps[i];
        add({i ? ";" : "", hex_of(a.aid), ":", hex_of(ByteView(&a.life_cycle, 1)), ":",
             hex_of(a.load_file), ":", hex_of(a.module)});
    }
    s += ',';
    for (size_t i = 0; i < c.psk_keysets.size(); i++) {
        const PskKeyset& k = c.psk_keysets[i];
        add({i ? ";" : "", hex_of(ByteView(&k.kvn, 1)), ":", hex_of(ByteView(&k.kid, 1)), ":",
             hex_of(k.identity), ":", hex_of(k.psk), ":", algo_name(k.dek_algo, k.dek.size()), ":",
             hex_of(k.dek)});
    }
    return s;
}

Result<Uicc> parse_inventory_line(std::string_view line, int format) {
    auto cols = split(line, ',');
    const size_t fields = format == 1 ? 7 : 8;
    if (cols.size() != fields)
        return make_error("expected " + std::to_string(fields) + " comma-separated fields (" +
                          std::string(format == 1 ? kInventoryColumnsV1 : kInventoryColumns) +
                          "), got " + std::to_string(cols.size()));
    Uicc c;
    if (!digits_only(cols[0]) || cols[0].size() < 18 || cols[0].size() > 20)
        return field_error("iccid", 0, "18 to 20 digits");
    if (luhn_digit(cols[0].substr(0, cols[0].size() - 1)) != cols[0].back())
        return field_error("iccid", 0, "the last digit is not the Luhn check digit");
    if (!digits_only(cols[1]) || cols[1].size() < 6 || cols[1].size() > 15)
        return field_error("imsi", 0, "6 to 15 digits");
    if (!digits_only(cols[2]) || cols[2].size() < 3 || cols[2].size() > 15)
        return field_error("msisdn", 0, "3 to 15 digits, international format without '+'");
    c.iccid = cols[0];
    c.imsi = cols[1];
    c.msisdn = cols[2];
    OTAGW_TRY_STATUS(parse_keysets(cols[3], c));
    OTAGW_TRY_STATUS(parse_tars(cols[4], c));
    OTAGW_TRY_STATUS(parse_load_files(cols[5], c));
    OTAGW_TRY_STATUS(parse_apps(cols[6], c));
    if (fields == 8)
        OTAGW_TRY_STATUS(parse_scp81_keysets(cols[7], c));
    for (const TarEntry& t : c.tars)
        if (t.kind == TarKind::Cardlet && !c.find_app(t.aid))
            return field_error("tars", 0,
                               "TAR " + hex_of(t.tar) + " names an application not in apps");
    return c;
}

void write_inventory(std::ostream& out, const std::vector<const Uicc*>& cards,
                     const std::vector<std::string>& comment) {
    out << kInventoryMagic << '\n';
    for (const auto& line : comment)
        out << "# " << line << '\n';
    out << kInventoryColumns << '\n';
    for (const Uicc* c : cards)
        out << inventory_line(*c) << '\n';
}

Status export_inventory(const std::string& path, const std::vector<const Uicc*>& cards,
                        const std::vector<std::string>& comment) {
    const std::string tmp = path + ".tmp";
    const mode_t old_mask = umask(077);
    {
        std::ofstream out(tmp, std::ios::trunc);
        umask(old_mask);
        if (!out)
            return make_error("--export: cannot write " + tmp);
        write_inventory(out, cards, comment);
        out.flush();
        if (!out)
            return make_error("--export: write to " + tmp + " failed");
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        std::remove(tmp.c_str());
        return make_error("--export: cannot rename " + tmp + " to " + path);
    }
    return Status::success();
}

Result<std::vector<Uicc>> read_inventory(std::istream& in) {
    std::vector<Uicc> cards;
    std::set<std::string> iccids, msisdns;
    std::set<std::string> identities; // hex (GCC 12 misreads std::set<Bytes> at -O3)
    std::string line;
    size_t number = 0;
    int format = 0; // from the first line
    bool header = false;
    auto at = [&](const std::string& why) {
        return make_error("line " + std::to_string(number) + ", " + why);
    };
    while (std::getline(in, line)) {
        number++;
        if (!line.empty() && line.back() == '\r')
            line.pop_back();
        if (!format) {
            format = line == kInventoryMagicV1 ? 1 : line == kInventoryMagic ? 2 : 0;
            if (!format)
                return at("not a card inventory of a known format: the first line must be '" +
                          std::string(kInventoryMagic) + "' or '" + std::string(kInventoryMagicV1) +
                          "'");
            continue;
        }
        const std::string_view columns = format == 1 ? kInventoryColumnsV1 : kInventoryColumns;
        if (line.empty() || line[0] == '#')
            continue;
        if (!header) {
            if (line != columns)
                return at("the column header must be '" + std::string(columns) + "'");
            header = true;
            continue;
        }
        auto card = parse_inventory_line(line, format);
        if (!card)
            return at("field " + card.error().message);
        if (!iccids.insert(card->iccid).second)
            return at("field iccid: " + card->iccid + " appears twice");
        if (!msisdns.insert(card->msisdn).second)
            return at("field msisdn: " + card->msisdn + " appears twice");
        for (const PskKeyset& k : card->psk_keysets)
            if (!identities.insert(hex_of(k.identity)).second)
                return at("field scp81_keysets: PSK identity " + hex_of(k.identity) +
                          " appears twice");
        cards.push_back(std::move(*card));
    }
    if (!format)
        return make_error("not a card inventory: the file is empty");
    if (!header)
        return make_error("no column header: the file ends before '" +
                          std::string(format == 1 ? kInventoryColumnsV1 : kInventoryColumns) + "'");
    return cards;
}

Result<std::vector<Uicc>> load_inventory(const std::string& path) {
    std::ifstream in(path);
    if (!in)
        return make_error("cannot open " + path);
    auto r = read_inventory(in);
    if (!r)
        return make_error(path + ": " + r.error().message);
    return r;
}

} // namespace otagw::sim
