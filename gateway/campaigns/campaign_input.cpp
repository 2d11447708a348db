// SPDX-License-Identifier: GPL-2.0-or-later
#include "campaigns/campaign_input.hpp"
#include "intake/msisdn.hpp"

#include <algorithm>
#include <cctype>

#include "requests/operations.hpp"

namespace otagw::gateway {

namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())))
        s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
        s.remove_suffix(1);
    return s;
}

// What a line shows of itself in an error: printable, at most 40 characters.
std::string shown(std::string_view s) {
    std::string out;
    for (char c : s.substr(0, 40))
        out += std::isprint(static_cast<unsigned char>(c)) ? c : '?';
    return s.size() > 40 ? out + "..." : out;
}

// Joins pieces by appending (GCC 12 misreads "literal" + std::string chains at -O3).
template <typename... Pieces>
std::string cat(const Pieces&... pieces) {
    std::string out;
    (out.append(std::string_view(pieces)), ...);
    return out;
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

} // namespace

std::optional<Operation> campaign_operation(std::string_view name) {
    if (name == "install")
        return Operation::Install;
    if (name == "lock")
        return Operation::Suspend;
    if (name == "unlock")
        return Operation::Resume;
    if (name == "delete" || name == kDeletePackage)
        return Operation::Terminate;
    if (name == "audit")
        return Operation::Query;
    if (name == "activate")
        return Operation::Activate;
    return std::nullopt;
}

Result<std::optional<TargetRef>> parse_target_line(std::string_view line, bool first_line) {
    line = trim(line);
    if (line.empty() || line.front() == '#')
        return std::optional<TargetRef>();
    const size_t end = line.find_first_of(",; \t");
    std::string_view field = trim(line.substr(0, end));
    if (first_line && (lower(field) == "iccid" || lower(field) == "msisdn"))
        return std::optional<TargetRef>(); // a CSV header
    TargetRef t;
    if (field.size() >= 18 && field.size() <= 20 && (field.back() == 'F' || field.back() == 'f') &&
        all_digits(field.substr(0, field.size() - 1)))
        field.remove_suffix(1); // E.118 padding
    if (all_digits(field) && field.size() >= 18 && field.size() <= 20) {
        if (!field.starts_with("89"))
            return make_error(
                cat("'", shown(field),
                    "' has an ICCID's length but does not start with 89 (ITU-T E.118)"));
        t.kind = TargetRef::Kind::Iccid;
        t.value = std::string(field);
        return std::optional<TargetRef>(std::move(t));
    }
    std::string_view number = field;
    if (number.starts_with('+'))
        number.remove_prefix(1);
    if (all_digits(number) && number.size() <= 15) {
        if (number.front() == '0')
            return make_error(cat("'", shown(field),
                                  "' is no E.164 number (a national number starting with 0?)"));
        t.kind = TargetRef::Kind::Msisdn;
        t.value = std::string(number);
        return std::optional<TargetRef>(std::move(t));
    }
    return make_error(cat("'", shown(field),
                          "' is neither an ICCID (18 to 20 digits) nor an MSISDN (E.164, up to 15 "
                          "digits)"));
}

Result<CampaignFilter> parse_campaign_filter(std::string_view text) {
    CampaignFilter f;
    bool any = false;
    std::string_view rest = trim(text);
    if (rest.empty())
        return make_error("filter: empty; give app=..., state=... and/or msisdn-prefix=...");
    while (!rest.empty()) {
        const size_t comma = rest.find(',');
        std::string_view part = trim(rest.substr(0, comma));
        rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
        const size_t eq = part.find('=');
        if (eq == std::string_view::npos)
            return make_error(cat("filter: '", shown(part), "' is not key=value"));
        const std::string key(trim(part.substr(0, eq)));
        const std::string value(trim(part.substr(eq + 1)));
        if (value.empty())
            return make_error(cat("filter: ", shown(key), " has no value"));
        std::string* slot = nullptr;
        if (key == "app")
            slot = &f.app;
        else if (key == "state")
            slot = &f.state;
        else if (key == "msisdn-prefix")
            slot = &f.msisdn_prefix;
        else
            return make_error(
                cat("filter: unknown key '", shown(key), "' (app, state, msisdn-prefix)"));
        if (!slot->empty())
            return make_error(cat("filter: ", key, " given twice"));
        *slot = value;
        any = true;
    }
    if (!any)
        return make_error("filter: empty");
    if (!f.state.empty()) {
        if (!CardAppState::parse(f.state))
            return make_error(cat("filter: state '", shown(f.state),
                                  "' is not one of absent, installed, active, suspended, "
                                  "terminated, unknown, pending:<operation>"));
        if (f.app.empty())
            return make_error("filter: state needs app (the application whose state it is)");
    }
    if (!f.msisdn_prefix.empty()) {
        if (f.msisdn_prefix.starts_with('+'))
            f.msisdn_prefix.erase(0, 1);
        if (!all_digits(f.msisdn_prefix) || f.msisdn_prefix.size() > 15)
            return make_error(
                cat("filter: msisdn-prefix '", shown(f.msisdn_prefix), "' is not up to 15 digits"));
    }
    return f;
}

} // namespace otagw::gateway
