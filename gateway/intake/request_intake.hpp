// SPDX-License-Identifier: GPL-2.0-or-later
// A request as it comes in (an MO SMS, the API, otactl, a campaign) and the checks it passes
// before anything is asked or sent (DESIGN.md §1.3): the MSISDN (E.164, the operator's ranges,
// on the card's MSISDN for a request by ICCID too), the card in the inventory and not barred,
// the application in the catalog, the operation allowed from the application's state, nothing
// else in flight on it (a second request is refused, not queued). Each refusal has its reason.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "config/config.hpp"
#include "otagw/db/store.hpp"
#include "requests/catalog.hpp"
#include "requests/request_fsm.hpp"

namespace otagw::gateway {

struct NewRequest {
    std::string source; // sms, api, otactl, provider, campaign
    std::string actor;  // who: "api:ops", "sms:4479...", ...
    std::string idempotency_key;
    std::string msisdn; // as given; the card is found by it
    uint8_t msisdn_ton = 1;
    std::string iccid;    // optional: the card the caller means (checked against the MSISDN)
    std::string app_code; // the catalog's code, or
    std::string app_aid;  // the instance AID
    std::string operation;
    std::string language = "en"; // of the reply SMS
    bool related = false;        // terminate: DELETE of the load file with its related objects
    std::string bearer;          // sms-pp, bip or auto; empty: the config's (ota / bearer)
    Reason refusal;              // already refused at intake (an SMS that is no request)
    std::string refusal_message;
    int64_t campaign_id = 0; // a campaign's target (source "campaign"): no reply SMS, bulk lane
    int64_t campaign_seq = 0;
};

// A request checked: the row to record and the state machine's context, in state accepted or
// refused (with its reason and message).
struct CheckedRequest {
    db::Request row;
    RequestContext ctx;
    std::optional<db::Application> app;
    std::optional<db::Card> card;
    bool refused() const { return ctx.state == RequestState::Refused; }
};

// An error is for a malformed call (the API answers 400): no operation, no card, no application
// named. A refusal is a checked request in state refused.
Result<CheckedRequest> check_request(const NewRequest& request, db::Store& store, Catalog& catalog,
                                     const RequestsConfig& config, uint8_t kvn);

} // namespace otagw::gateway
