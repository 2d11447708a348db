// SPDX-License-Identifier: GPL-2.0-or-later
// Generated populations: every identity, key and personalisation value is a pure function of
// (seed, serial), so a population of any size is reproduced exactly from two numbers.
#include "otagw/sim/population.hpp"

#include <algorithm>

namespace otagw::sim {

namespace {

// SplitMix64 (Steele, Lea, Flood 2014): a tiny, well-mixed generator; enough for test keys.
uint64_t mix(uint64_t z) {
    z += 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

class Draw {
public:
    Draw(uint64_t seed, uint64_t serial) : state_(mix(seed) ^ mix(serial + 0x51a7)) {}
    uint64_t next() { return state_ = mix(state_); }
    Bytes bytes(size_t n) {
        Bytes out;
        out.reserve(n);
        while (out.size() < n) {
            uint64_t v = next();
            for (int i = 0; i < 8 && out.size() < n; i++, v >>= 8)
                out.push_back(static_cast<uint8_t>(v));
        }
        return out;
    }

private:
    uint64_t state_;
};

std::string padded(uint64_t n, size_t digits) {
    std::string s = std::to_string(n);
    if (s.size() < digits)
        s.insert(0, digits - s.size(), '0');
    return s;
}

void personalise(Application& app, uint16_t dgi, const Bytes& value) {
    CApdu a{0x80, 0xe2, 0x88, 0x00, {}, std::nullopt}; // last block, DGI format (GP §11.11.2.1)
    a.data.push_back(static_cast<uint8_t>(dgi >> 8));
    a.data.push_back(static_cast<uint8_t>(dgi));
    a.data.push_back(static_cast<uint8_t>(value.size()));
    append(a.data, value);
    app.cardlet->store_data(a, AppContext{app.locked(), app.life_cycle});
}

void personalise_wallet(Application& app, Draw& d, const std::string& iccid) {
    personalise(app, 0x0101, Bytes(iccid.end() - 8, iccid.end()));
    personalise(app, 0x0102, d.bytes(16));
    personalise(app, 0x0103, {0x00, 0x00, 0x03, 0xe8}); // 1000 units
}

void personalise_transit(Application& app, const std::string& iccid) {
    personalise(app, 0x0201, Bytes(iccid.end() - 10, iccid.end()));
}

void personalise_bank(Application& app, const std::string& iccid) {
    Bytes pan{'4', '9', '9', '9'};
    pan.insert(pan.end(), iccid.end() - 12, iccid.end());
    personalise(app, 0x0301, pan);
    personalise(app, 0x0302, {'1', '2', '3', '4'});
}

Status apply_profile(Uicc& card, const std::string& profile, Draw& d) {
    const CardletModule* wallet = find_module_by_name("canteen-wallet");
    const CardletModule* transit = find_module_by_name("transit");
    const CardletModule* bank = find_module_by_name("bank");
    if (profile == "empty")
        return Status::success();
    if (profile == "standard") {
        card.preinstall(*wallet, wallet->instance, 0x03);
        personalise_transit(card.preinstall(*transit, transit->instance, 0x07), card.iccid);
        card.load_files.push_back({bank->load_file, {bank->module}});
        return Status::success();
    }
    if (profile == "full") {
        personalise_wallet(card.preinstall(*wallet, wallet->instance, 0x07), d, card.iccid);
        personalise_transit(card.preinstall(*transit, transit->instance, 0x07), card.iccid);
        personalise_bank(card.preinstall(*bank, bank->instance, 0x07), card.iccid);
        return Status::success();
    }
    return make_error("unknown profile '" + profile + "' (standard, full, empty)");
}

bool all_digits(std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

} // namespace

char luhn_digit(std::string_view digits) {
    int sum = 0;
    bool twice = true; // the rightmost digit of the payload is doubled
    for (auto it = digits.rbegin(); it != digits.rend(); ++it, twice = !twice) {
        int v = *it - '0';
        if (twice && (v *= 2) > 9)
            v -= 9;
        sum += v;
    }
    return static_cast<char>('0' + (10 - sum % 10) % 10);
}

const std::vector<std::string>& profile_names() {
    static const std::vector<std::string> names = {"standard", "full", "empty"};
    return names;
}

Result<Population> Population::generate(const PopulationSpec& spec) {
    if (spec.cards == 0)
        return make_error("--cards: at least one card");
    if (!all_digits(spec.iccid_prefix) || spec.iccid_prefix.size() > 7 ||
        !all_digits(spec.imsi_prefix) || spec.imsi_prefix.size() > 5 ||
        !all_digits(spec.msisdn_prefix) || spec.msisdn_prefix.size() >= spec.msisdn_digits ||
        spec.msisdn_digits > 15)
        return make_error("number prefixes must be digits (ICCID up to 7, IMSI up to 5, MSISDN "
                          "shorter than its 15-digit maximum)");
    const size_t serial_digits = spec.msisdn_digits - spec.msisdn_prefix.size();
    if (serial_digits < 19 && spec.cards >= std::stoull("1" + std::string(serial_digits, '0')))
        return make_error("--cards: more cards than MSISDNs of " +
                          std::to_string(spec.msisdn_digits) + " digits under the prefix");
    if (std::find(profile_names().begin(), profile_names().end(), spec.profile) ==
        profile_names().end())
        return make_error("--profile: unknown profile '" + spec.profile +
                          "' (standard, full, empty)");
    std::vector<Uicc> cards(spec.cards);
    for (size_t i = 0; i < spec.cards; i++) {
        const uint64_t serial = i + 1;
        Uicc& c = cards[i];
        Draw d(spec.seed, serial);
        std::string iccid = spec.iccid_prefix + padded(serial, 18 - spec.iccid_prefix.size());
        iccid.push_back(luhn_digit(iccid));
        c.iccid = std::move(iccid);
        c.imsi = spec.imsi_prefix + padded(serial, 15 - spec.imsi_prefix.size());
        c.msisdn = spec.msisdn_prefix + padded(serial, serial_digits);
        c.keysets.reserve(2);
        c.keysets.push_back({1, crypto::BlockAlgo::Aes, d.bytes(16), d.bytes(16), d.bytes(16), 0});
        c.keysets.push_back(
            {2, crypto::BlockAlgo::TripleDes2Key, d.bytes(16), d.bytes(16), d.bytes(16), 0});
        c.tars.push_back({{0x00, 0x00, 0x00}, TarKind::Isd, {}, 0x12});
        c.tars.push_back({{0xb0, 0x00, 0x00}, TarKind::Rfm, {}, 0x12});
        c.tars.push_back({{0xb0, 0x00, 0x10}, TarKind::Rfm, {}, 0x12});
        if (Status st = apply_profile(c, spec.profile, d); !st)
            return st.take_error();
        // Drawn after the others, so the OTA keys and personalisation of a seed stay as they
        // were before cards had SCP81 keys. The identity is the ICCID in ASCII.
        c.psk_keysets.push_back({0x40, 0x01, Bytes(c.iccid.begin(), c.iccid.end()), d.bytes(16),
                                 crypto::BlockAlgo::Aes, d.bytes(16)});
    }
    return of(std::move(cards));
}

Population Population::of(std::vector<Uicc> cards) {
    Population p;
    p.cards_ = std::move(cards);
    p.index();
    return p;
}

void Population::index() {
    by_msisdn_.clear();
    by_iccid_.clear();
    by_msisdn_.reserve(cards_.size());
    by_iccid_.reserve(cards_.size());
    for (size_t i = 0; i < cards_.size(); i++) {
        by_msisdn_.emplace(cards_[i].msisdn, static_cast<uint32_t>(i));
        by_iccid_.emplace(cards_[i].iccid, static_cast<uint32_t>(i));
    }
}

Uicc* Population::by_msisdn(std::string_view msisdn) {
    if (!msisdn.empty() && msisdn.front() == '+')
        msisdn.remove_prefix(1);
    auto it = by_msisdn_.find(msisdn);
    if (it == by_msisdn_.end() && msisdn.size() > 2 && msisdn.substr(0, 2) == "00")
        it = by_msisdn_.find(msisdn.substr(2));
    return it == by_msisdn_.end() ? nullptr : &cards_[it->second];
}

Uicc* Population::by_iccid(std::string_view iccid) {
    auto it = by_iccid_.find(iccid);
    return it == by_iccid_.end() ? nullptr : &cards_[it->second];
}

} // namespace otagw::sim
