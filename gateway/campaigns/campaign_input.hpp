// SPDX-License-Identifier: GPL-2.0-or-later
// What an operator gives to create a campaign (doc/campaigns.md), parsed and checked: the
// operation's name, the target file's lines and the inventory filter. Pure functions, no I/O;
// every error names what was wrong.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "intake/application_request.hpp"
#include "otagw/common/result.hpp"

namespace otagw::gateway {

// install, lock (suspend), unlock (resume), delete (terminate), audit (query), activate.
std::optional<Operation> campaign_operation(std::string_view name);
constexpr const char* kCampaignOperations =
    "install, lock, unlock, delete, delete-package, audit or activate";
// delete-package: DELETE of the application's load file with its related objects (a terminate
// with related, GP 2.3 §11.2.2.1).
constexpr const char* kDeletePackage = "delete-package";

// One card named by a target file line.
struct TargetRef {
    enum class Kind { Iccid, Msisdn };
    Kind kind = Kind::Iccid;
    std::string value; // digits
};

// A line of a target file: an ICCID (ITU-T E.118: 18 to 20 digits, the last may be 'F'
// padding) or an MSISDN (E.164: up to 15 digits, '+' allowed), as the first field of the line
// (a comma, semicolon, tab or space ends it). Blank lines, '#' comments and a first-line header
// ("iccid" or "msisdn") name no target: nullopt.
Result<std::optional<TargetRef>> parse_target_line(std::string_view line, bool first_line);

// "app=<code|name|AID>,state=<state>,msisdn-prefix=<digits>": each part optional (at least one),
// each at most once; state needs app.
struct CampaignFilter {
    std::string app;
    std::string state;
    std::string msisdn_prefix;
};
Result<CampaignFilter> parse_campaign_filter(std::string_view text);

} // namespace otagw::gateway
