// SPDX-License-Identifier: GPL-2.0-or-later
#include "inventory/inventory_reader.hpp"
#include "intake/msisdn.hpp"

#include <algorithm>
#include <charconv>

#include "otagw/common/crypto.hpp"
#include "otagw/ota/ts_102_225.hpp"

namespace otagw::gateway {

namespace {

// Format 1 and format 2 (format 1 and a column of SCP81 keysets); a reader takes both.
constexpr std::string_view kMagic[] = {"# ota-gateway card inventory v1",
                                       "# ota-gateway card inventory v2"};
constexpr std::string_view kColumns[] = {
    "iccid,imsi,msisdn,keysets,tars,load_files,apps",
    "iccid,imsi,msisdn,keysets,tars,load_files,apps,scp81_keysets"};
constexpr const char* kFieldNames[] = {"iccid", "imsi",       "msisdn", "keysets",
                                       "tars",  "load_files", "apps",   "scp81_keysets"};

std::vector<std::string_view> split(std::string_view s, char sep) {
    std::vector<std::string_view> out;
    size_t start = 0;
    while (true) {
        const size_t end = s.find(sep, start);
        if (end == std::string_view::npos) {
            out.push_back(s.substr(start));
            return out;
        }
        out.push_back(s.substr(start, end - start));
        start = end + 1;
    }
}

// A list field: empty means no entries.
std::vector<std::string_view> entries(std::string_view field) {
    if (field.empty())
        return {};
    return split(field, ';');
}

bool is_hex(std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    });
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        if (c >= 'A' && c <= 'F')
            c = static_cast<char>(c - 'A' + 'a');
    return out;
}

// ISO/IEC 7812-1 Luhn: the last digit checks the others.
bool luhn_ok(std::string_view digits) {
    int sum = 0;
    bool twice = false;
    for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
        int d = *it - '0';
        if (twice) {
            d *= 2;
            if (d > 9)
                d -= 9;
        }
        sum += d;
        twice = !twice;
    }
    return sum % 10 == 0;
}

struct Fail {
    InventoryIssue& issue;
    bool operator()(const char* field, std::string reason) const {
        issue.field = field;
        issue.reason = std::move(reason);
        return false;
    }
};

std::string entry_prefix(size_t i) {
    return "entry " + std::to_string(i + 1) + ": ";
}

// AIDs: ISO/IEC 7816-5, 5 to 16 bytes.
bool aid_ok(std::string_view s) {
    return s.size() >= 10 && s.size() <= 32 && s.size() % 2 == 0 && is_hex(s);
}

bool hex_byte(std::string_view s, uint8_t& out) {
    if (s.size() != 2 || !is_hex(s))
        return false;
    out = static_cast<uint8_t>(std::stoi(std::string(s), nullptr, 16));
    return true;
}

bool parse_keysets(std::string_view field, std::vector<db::Keyset>& out, const Fail& fail) {
    const auto list = entries(field);
    if (list.empty())
        return fail("keysets", "a card needs at least one keyset");
    for (size_t i = 0; i < list.size(); i++) {
        const auto p = split(list[i], ':');
        const std::string at = entry_prefix(i);
        if (p.size() != 6)
            return fail("keysets", at + "expected kvn:algo:kic:kid:kik:counter (6 parts), got " +
                                       std::to_string(p.size()));
        db::Keyset k;
        unsigned kvn = 0;
        if (!all_digits(p[0]) || p[0].size() > 2 ||
            std::from_chars(p[0].data(), p[0].data() + p[0].size(), kvn).ec != std::errc() ||
            kvn < 1 || kvn > 15)
            return fail("keysets", at + "kvn must be 1 to 15");
        k.kvn = static_cast<uint8_t>(kvn);
        const ota::KeysetAlgorithm* algo = ota::keyset_algorithm(p[1]);
        if (!algo)
            return fail("keysets", at + "unknown algorithm (" + ota::kKeysetAlgorithmNames + ")");
        k.algorithm = algo->name;
        const char* roles[3] = {"kic", "kid", "kik"};
        Bytes* keys[3] = {&k.kic, &k.kid, &k.kik};
        for (int r = 0; r < 3; r++) {
            const std::string_view h = p[2 + r];
            if (h.size() != algo->key_size * 2 || !is_hex(h))
                return fail("keysets", at + roles[r] + " must be " +
                                           std::to_string(algo->key_size) + " bytes of hex for " +
                                           algo->name);
            *keys[r] = std::move(parse_hex(h).value());
        }
        uint64_t counter = 0;
        if (!all_digits(p[5]) ||
            std::from_chars(p[5].data(), p[5].data() + p[5].size(), counter).ec != std::errc() ||
            counter > db::kCounterMax)
            return fail("keysets", at + "counter must be a decimal 0 to 1099511627775");
        k.counter = counter;
        for (const auto& other : out)
            if (other.kvn == k.kvn)
                return fail("keysets", at + "KVN " + std::to_string(kvn) + " appears twice");
        out.push_back(std::move(k));
    }
    return true;
}

bool hex_bytes(std::string_view s, size_t min, size_t max, Bytes& out) {
    if (s.size() % 2 || s.size() < 2 * min || s.size() > 2 * max || !is_hex(s))
        return false;
    out = std::move(parse_hex(s).value());
    return true;
}

// kvn:kid:identity:psk:dek_algo:dek (GP Card Spec 2.3 Amendment B §3.3.2).
bool parse_scp81_keysets(std::string_view field, std::vector<db::PskKeyset>& out,
                         const Fail& fail) {
    constexpr const char* kField = "scp81_keysets";
    const auto list = entries(field);
    for (size_t i = 0; i < list.size(); i++) {
        const auto p = split(list[i], ':');
        const std::string at = entry_prefix(i);
        if (p.size() != 6)
            return fail(kField, at + "expected kvn:kid:identity:psk:dek_algo:dek (6 parts), got " +
                                    std::to_string(p.size()));
        db::PskKeyset k;
        if (!hex_byte(p[0], k.kvn) || k.kvn < 0x40 || k.kvn > 0x4f)
            return fail(kField, at + "kvn must be 1 byte of hex, 40 to 4f");
        if (!hex_byte(p[1], k.kid) || k.kid < 0x01 || k.kid > 0x7e)
            return fail(kField, at + "kid must be 1 byte of hex, 01 to 7e (the DEK takes kid + 1)");
        if (!hex_bytes(p[2], 1, 128, k.identity))
            return fail(kField, at + "identity must be 1 to 128 bytes of hex");
        if (!hex_bytes(p[3], 16, 32, k.psk))
            return fail(kField, at + "psk must be 16 to 32 bytes of hex");
        const ota::KeysetAlgorithm* algo = ota::keyset_algorithm(p[4]);
        if (!algo)
            return fail(kField, at + "unknown DEK algorithm (" + ota::kKeysetAlgorithmNames + ")");
        k.dek_algorithm = algo->name;
        if (!hex_bytes(p[5], algo->key_size, algo->key_size, k.dek))
            return fail(kField, at + "dek must be " + std::to_string(algo->key_size) +
                                    " bytes of hex for " + algo->name);
        for (const auto& other : out) {
            if (other.kvn == k.kvn)
                return fail(kField, at + "KVN " + lower(p[0]) + " appears twice");
            if (other.identity == k.identity)
                return fail(kField, at + "the PSK identity appears twice");
        }
        out.push_back(std::move(k));
    }
    return true;
}

bool parse_tars(std::string_view field, std::vector<db::CardTar>& out, const Fail& fail) {
    const auto list = entries(field);
    for (size_t i = 0; i < list.size(); i++) {
        const auto p = split(list[i], ':');
        const std::string at = entry_prefix(i);
        if (p.size() < 3 || p.size() > 4)
            return fail("tars", at + "expected tar:kind:msl or tar:app:msl:aid");
        db::CardTar t;
        if (p[0].size() != 6 || !is_hex(p[0]))
            return fail("tars", at + "a TAR is 3 bytes of hex");
        t.tar = lower(p[0]);
        if (p[1] != "isd" && p[1] != "rfm" && p[1] != "app")
            return fail("tars", at + "kind must be isd, rfm or app");
        t.kind = std::string(p[1]);
        if (!hex_byte(p[2], t.msl))
            return fail("tars", at + "msl must be 1 byte of hex");
        if (t.kind == "app") {
            if (p.size() != 4 || !aid_ok(p[3]))
                return fail("tars", at + "an app TAR names its application AID (5 to 16 bytes)");
            t.aid = lower(p[3]);
        } else if (p.size() == 4) {
            return fail("tars", at + "only an app TAR names an AID");
        }
        for (const auto& other : out)
            if (other.tar == t.tar)
                return fail("tars", at + "TAR " + t.tar + " appears twice");
        out.push_back(std::move(t));
    }
    return true;
}

bool parse_load_files(std::string_view field, std::vector<db::LoadFile>& out, const Fail& fail) {
    const auto list = entries(field);
    for (size_t i = 0; i < list.size(); i++) {
        const auto p = split(list[i], '/');
        db::LoadFile f;
        for (size_t j = 0; j < p.size(); j++) {
            if (!aid_ok(p[j]))
                return fail("load_files", entry_prefix(i) + "AIDs are 5 to 16 bytes of hex (part " +
                                              std::to_string(j + 1) + ")");
            if (j == 0)
                f.aid = lower(p[j]);
            else
                f.modules.push_back(lower(p[j]));
        }
        for (const auto& other : out)
            if (other.aid == f.aid)
                return fail("load_files",
                            entry_prefix(i) + "load file " + f.aid + " appears twice");
        out.push_back(std::move(f));
    }
    return true;
}

bool parse_apps(std::string_view field, const std::vector<db::LoadFile>& files,
                std::vector<db::CardApp>& out, const Fail& fail) {
    const auto list = entries(field);
    for (size_t i = 0; i < list.size(); i++) {
        const auto p = split(list[i], ':');
        const std::string at = entry_prefix(i);
        if (p.size() != 4)
            return fail("apps", at + "expected aid:life_cycle:elf:module");
        db::CardApp a;
        if (!aid_ok(p[0]))
            return fail("apps", at + "the AID must be 5 to 16 bytes of hex");
        a.aid = lower(p[0]);
        uint8_t lc = 0;
        if (!hex_byte(p[1], lc))
            return fail("apps", at + "life_cycle must be 1 byte of hex");
        if ((lc & 0x7f) != 0x03 && (lc & 0x7f) != 0x07 && (lc & 0x07) != 0x07)
            return fail("apps", at + "life_cycle " + lower(p[1]) +
                                    " is not an application state (GP 2.3 §5.3.1)");
        a.life_cycle = lc;
        a.state = app_state_for_life_cycle(lc);
        a.load_file_aid = lower(p[2]);
        a.module_aid = lower(p[3]);
        const auto file = std::find_if(files.begin(), files.end(), [&](const db::LoadFile& f) {
            return f.aid == a.load_file_aid;
        });
        if (file == files.end())
            return fail("apps", at + "load file " + a.load_file_aid + " is not in load_files");
        if (std::find(file->modules.begin(), file->modules.end(), a.module_aid) ==
            file->modules.end())
            return fail("apps",
                        at + "module " + a.module_aid + " is not in load file " + a.load_file_aid);
        for (const auto& other : out)
            if (other.aid == a.aid)
                return fail("apps", at + "application " + a.aid + " appears twice");
        out.push_back(std::move(a));
    }
    return true;
}

} // namespace

std::string InventoryIssue::message() const {
    std::string m = "line " + std::to_string(line);
    if (!field.empty())
        m.append(", field ").append(field);
    return m.append(": ").append(reason);
}

std::string app_state_for_life_cycle(uint8_t lc) {
    if (lc & 0x80)
        return "suspended";
    if (lc == 0x03)
        return "installed";
    return "active";
}

bool parse_inventory_card(std::string_view line, int format, db::CardImage& out,
                          InventoryIssue& issue) {
    const Fail fail{issue};
    const auto f = split(line, ',');
    const size_t fields = format == 1 ? 7 : 8;
    if (f.size() != fields)
        return fail("", "expected " + std::to_string(fields) + " fields (" +
                            std::string(kColumns[format == 1 ? 0 : 1]) + "), got " +
                            std::to_string(f.size()));
    db::Card& c = out.card;
    if (f[0].size() < 18 || f[0].size() > 20 || !all_digits(f[0]))
        return fail(kFieldNames[0], "an ICCID is 18 to 20 digits");
    if (!luhn_ok(f[0]))
        return fail(kFieldNames[0], "the Luhn check digit is wrong");
    c.iccid = std::string(f[0]);
    if (f[1].size() < 6 || f[1].size() > 15 || !all_digits(f[1]))
        return fail(kFieldNames[1], "an IMSI is 6 to 15 digits");
    c.imsi = std::string(f[1]);
    if (f[2].size() < 3 || f[2].size() > 15 || !all_digits(f[2]))
        return fail(kFieldNames[2], "an MSISDN is 3 to 15 digits (E.164 without '+')");
    c.msisdn = std::string(f[2]);
    if (!parse_keysets(f[3], out.keysets, fail) || !parse_tars(f[4], out.tars, fail) ||
        !parse_load_files(f[5], out.load_files, fail) ||
        !parse_apps(f[6], out.load_files, out.apps, fail) ||
        (fields == 8 && !parse_scp81_keysets(f[7], out.psk_keysets, fail)))
        return false;
    for (size_t i = 0; i < out.tars.size(); i++) {
        const db::CardTar& t = out.tars[i];
        if (t.kind == "app" && std::none_of(out.apps.begin(), out.apps.end(),
                                            [&](const db::CardApp& a) { return a.aid == t.aid; }))
            return fail("tars", entry_prefix(i) + "application " + t.aid + " is not in apps");
    }
    return true;
}

InventoryReader::InventoryReader(CardFn on_card, IssueFn on_issue)
    : on_card_(std::move(on_card)), on_issue_(std::move(on_issue)) {}

void InventoryReader::feed(std::string_view chunk) {
    while (!chunk.empty() && !stopped_) {
        const size_t lf = chunk.find('\n');
        const std::string_view part = chunk.substr(0, lf);
        if (!overlong_) {
            if (partial_.size() + part.size() > kMaxLine) {
                overlong_ = true;
                partial_.clear();
            } else {
                partial_.append(part);
            }
        }
        if (lf == std::string_view::npos)
            return;
        chunk.remove_prefix(lf + 1);
        line_++;
        if (overlong_) {
            on_issue_({line_, "", "line longer than " + std::to_string(kMaxLine) + " bytes"});
            overlong_ = false;
        } else {
            take_line(partial_);
        }
        partial_.clear();
    }
}

void InventoryReader::finish() {
    if (!stopped_ && (!partial_.empty() || overlong_)) {
        line_++;
        if (overlong_)
            on_issue_({line_, "", "line longer than " + std::to_string(kMaxLine) + " bytes"});
        else
            take_line(partial_);
        partial_.clear();
    }
    if (!stopped_ && !seen_header_) {
        on_issue_({line_, "", line_ == 0 ? "the file is empty" : "no column header line"});
        stopped_ = true;
    }
}

void InventoryReader::take_line(std::string_view line) {
    if (!line.empty() && line.back() == '\r')
        line.remove_suffix(1);
    if (line_ == 1) {
        format_ = line == kMagic[0] ? 1 : line == kMagic[1] ? 2 : 0;
        if (!format_) {
            on_issue_({1, "",
                       "not a card inventory file of a known format: line 1 must be \"" +
                           std::string(kMagic[0]) + "\" or \"" + std::string(kMagic[1]) + "\""});
            stopped_ = true;
        }
        return;
    }
    if (line.empty() || line.front() == '#')
        return;
    if (!seen_header_) {
        const std::string_view columns = kColumns[format_ - 1];
        if (line != columns) {
            on_issue_({line_, "",
                       "the column header of format " + std::to_string(format_) + " must be \"" +
                           std::string(columns) + "\""});
            stopped_ = true;
            return;
        }
        seen_header_ = true;
        return;
    }
    db::CardImage card;
    InventoryIssue issue;
    if (!parse_inventory_card(line, format_, card, issue)) {
        issue.line = line_;
        on_issue_(std::move(issue));
        return;
    }
    on_card_(std::move(card), line_);
}

void DuplicateFinder::add(std::string_view value, uint64_t line) {
    // FNV-1a, 64 bits.
    uint64_t h = 0xcbf29ce484222325ULL;
    for (unsigned char c : value) {
        h ^= c;
        h *= 0x100000001b3ULL;
    }
    seen_.emplace_back(h, line);
}

std::vector<std::pair<uint64_t, uint64_t>> DuplicateFinder::repeats() {
    std::sort(seen_.begin(), seen_.end());
    std::vector<std::pair<uint64_t, uint64_t>> out;
    for (size_t i = 0; i < seen_.size();) {
        size_t j = i + 1;
        for (; j < seen_.size() && seen_[j].first == seen_[i].first; j++)
            out.emplace_back(seen_[i].second, seen_[j].second); // sorted: i has the first line
        i = j;
    }
    std::sort(out.begin(), out.end(),
              [](const auto& a, const auto& b) { return a.second < b.second; });
    return out;
}

} // namespace otagw::gateway
