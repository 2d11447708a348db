// SPDX-License-Identifier: GPL-2.0-or-later
// Where an MO SMS goes: a PoR (UDH IE '71', TS 31.115 §4.3) to the request pipeline; to the short
// code, a request the card's client secured (IE '70'), a binary request (8-bit data) or a text
// one ("ACT 01", doc/application-requests.md), each read into a NewRequest and submitted; any
// other MO is counted and left.
#pragma once

#include "config/config.hpp"
#include "otagw/common/counters.hpp"
#include "otagw/smpp/esme.hpp"
#include "requests/request_pipeline.hpp"

namespace otagw::gateway {

class MoRouter {
public:
    MoRouter(RequestPipeline& pipeline, db::Store& store, Catalog& catalog,
             const GatewayConfig& config)
        : pipeline_(pipeline), store_(store), catalog_(catalog), config_(config) {}
    // RetryLater when the request could not be stored for a reason that passes (the database
    // locked or failing): the SMSC then delivers it again.
    smpp::MoVerdict on_mo(const smpp::Mo& mo);

private:
    NewRequest read_request(const smpp::Mo& mo) const;

    RequestPipeline& pipeline_;
    db::Store& store_;
    Catalog& catalog_;
    const GatewayConfig& config_;
};

} // namespace otagw::gateway
