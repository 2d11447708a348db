// SPDX-License-Identifier: GPL-2.0-or-later
// The telnet VTY and the config file (Osmocom VTY syntax): nodes smpp / bind, db, api, ota,
// application, provider, ras, each writing itself back for `write terminal` so a config
// round-trips; and the operator's `show` commands, answered by the daemon through VtyBackend.
#pragma once

#include <string>
#include <vector>

#include "config/config.hpp"
#include "otagw/common/result.hpp"

namespace otagw::gateway {

class VtyBackend {
public:
    virtual ~VtyBackend() = default;
    virtual std::vector<std::string> show_smpp() = 0;
    // "status ok|degraded|stopping", and why when degraded
    virtual std::vector<std::string> show_health() = 0;
    // `by` is "iccid" or "msisdn"
    virtual Result<std::vector<std::string>> show_card(const std::string& by,
                                                       const std::string& value) = 0;
    virtual std::vector<std::string> show_applications() = 0;
    virtual std::vector<std::string> show_stats() = 0;
    virtual std::vector<std::string> show_requests() = 0;
    virtual std::vector<std::string> show_campaigns() = 0;
    virtual std::vector<std::string> show_ras() = 0;
};

// Installs the nodes and commands into libosmovty (after vty_init). `config` is filled by
// vty_read_config_file and must outlive the VTY; `backend` may be set later (null: the show
// commands say the daemon is starting).
void install_vty(GatewayConfig* config);
void set_vty_backend(VtyBackend* backend);

// Checks a config once read: names what is missing or contradictory.
Status validate_config(const GatewayConfig& config);

} // namespace otagw::gateway
