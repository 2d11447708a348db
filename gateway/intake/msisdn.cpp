// SPDX-License-Identifier: GPL-2.0-or-later
#include "intake/msisdn.hpp"

#include <phonenumbers/phonenumberutil.h>

#include <algorithm>

namespace otagw::gateway {

namespace {

using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberUtil;

Result<std::string> in_ranges(std::string e164, const MsisdnPolicy& policy) {
    if (policy.ranges.empty())
        return e164;
    for (const auto& r : policy.ranges)
        if (e164.rfind(r, 0) == 0)
            return e164;
    return make_error("MSISDN " + e164 + " is outside the operator's number ranges",
                      Errc::OutOfRange);
}

} // namespace

bool all_digits(std::string_view s) {
    return !s.empty() &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

Result<std::string> normalize_msisdn(std::string_view address, uint8_t ton,
                                     const MsisdnPolicy& policy) {
    // Separators people and SMSCs put in numbers.
    std::string s;
    for (char c : address)
        if (c != ' ' && c != '-' && c != '.' && c != '(' && c != ')')
            s.push_back(c);
    if (s.empty())
        return make_error("the MSISDN is empty");
    bool international = ton == 1;
    if (s[0] == '+') {
        international = true;
        s.erase(0, 1);
    }
    if (!all_digits(s))
        return make_error("MSISDN " + std::string(address) + ": digits only (and a leading '+')");
    auto* util = PhoneNumberUtil::GetInstance();
    if (international) {
        if (s.size() < 3 || s.size() > 15)
            return make_error("MSISDN " + s + ": E.164 numbers have 3 to 15 digits");
        // A country code libphonenumber knows must give a possible number; codes it does not
        // know (999, test networks) fail to parse and pass on their length alone.
        PhoneNumber n;
        if (util->Parse("+" + s, "ZZ", &n) == PhoneNumberUtil::NO_PARSING_ERROR &&
            !util->IsPossibleNumber(n))
            return make_error("MSISDN +" + s + " is not a possible number of its country");
        return in_ranges(s, policy);
    }
    if (policy.region.empty())
        return make_error("MSISDN " + s + " is not international and no region is configured");
    PhoneNumber n;
    if (util->Parse(s, policy.region, &n) != PhoneNumberUtil::NO_PARSING_ERROR ||
        !util->IsPossibleNumber(n))
        return make_error("MSISDN " + s + " is not a possible number in region " + policy.region);
    std::string e164;
    util->Format(n, PhoneNumberUtil::E164, &e164);
    return in_ranges(e164.substr(1), policy);
}

} // namespace otagw::gateway
