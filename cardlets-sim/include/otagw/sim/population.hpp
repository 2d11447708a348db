// SPDX-License-Identifier: GPL-2.0-or-later
// A population of simulated cards: generated from a seed (deterministic identities, keys and
// applications per profile), loaded from a card inventory file, or restored from a state store;
// looked up by MSISDN and ICCID.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "otagw/common/result.hpp"
#include "otagw/sim/uicc.hpp"

namespace otagw::sim {

struct PopulationSpec {
    uint64_t seed = 1;
    size_t cards = 1;
    std::string profile = "standard";
    std::string iccid_prefix = "8988299"; // + 11-digit serial + Luhn digit = 19 digits
    std::string imsi_prefix = "00101";    // test PLMN 001-01 + 10-digit serial
    std::string msisdn_prefix = "999";    // E.164 country code 999 is reserved: never routable
    size_t msisdn_digits = 12;            // prefix + zero-padded serial
};

// What a profile preinstalls; "standard": the canteen wallet INSTALLED (to be activated:
// personalised and made selectable), the transit card SELECTABLE and personalised, the bank
// card's load file only (to be installed); "full": all three SELECTABLE and personalised;
// "empty": the issuer security domain alone.
const std::vector<std::string>& profile_names();

// Two OTA keysets per generated card: KVN 1 AES-128 and KVN 2 3DES 2-key, each with KIc, KID
// and KIK drawn from the seed and the card's serial; one SCP81 keyset, KVN 40 (PSK KID 01,
// AES-128 DEK KID 02), its PSK identity the ICCID in ASCII. TARs: 000000 ISD (RAM), B00000 and
// B00010 RFM, MSL 12 (CC, counter higher), plus one per cardlet instance.
class Population {
public:
    Population() = default;
    Population(Population&&) = default;
    Population& operator=(Population&&) = default;
    Population(const Population&) = delete;
    Population& operator=(const Population&) = delete;

    static Result<Population> generate(const PopulationSpec& spec);
    static Population of(std::vector<Uicc> cards);

    size_t size() const { return cards_.size(); }
    Uicc& at(size_t i) { return cards_[i]; }
    const Uicc& at(size_t i) const { return cards_[i]; }
    // The card behind an MSISDN ('+' and a leading international prefix tolerated), or null.
    Uicc* by_msisdn(std::string_view msisdn);
    Uicc* by_iccid(std::string_view iccid);
    size_t index_of(const Uicc& card) const { return static_cast<size_t>(&card - cards_.data()); }

private:
    void index();
    std::vector<Uicc> cards_;
    std::unordered_map<std::string_view, uint32_t> by_msisdn_, by_iccid_;
};

// The Luhn check digit of a digit string (ISO/IEC 7812-1, as ICCIDs carry it).
char luhn_digit(std::string_view digits);

} // namespace otagw::sim
