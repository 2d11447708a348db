// SPDX-License-Identifier: GPL-2.0-or-later
// A cardlet: a simulated applet with behaviour. Adding one is one class (derive, implement,
// register its module AID with a factory, see cardlets.cpp).
#pragma once

#include <array>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "otagw/sim/card_apdu.hpp"

namespace otagw::sim {

// What the card manager tells a cardlet about the instance it runs as.
struct AppContext {
    bool locked = false;
    uint8_t life_cycle = 0x07;
};

class Cardlet {
public:
    virtual ~Cardlet() = default;
    virtual const char* kind() const = 0;
    // An APDU addressed to the application (its toolkit TAR, or after SELECT). A locked
    // application never gets here for payments (the card manager refuses first), but cardlets
    // check the context themselves too.
    virtual RApdu process(const CApdu& apdu, const AppContext& ctx) = 0;
    // STORE DATA routed by the card manager (after INSTALL [for personalization] or SELECT).
    virtual RApdu store_data(const CApdu& apdu, const AppContext& ctx) = 0;
    // What the cardlet holds, for the simulator's control interface (never keys or PINs).
    using Fact = std::pair<std::string, std::variant<std::string, int64_t, bool>>;
    virtual std::vector<Fact> describe() const = 0;
    // State for persistence, and back.
    virtual Bytes save() const = 0;
    virtual bool restore(ByteView state) = 0;
};

using CardletFactory = std::function<std::unique_ptr<Cardlet>()>;

// The executable modules the simulated cards know, by module AID (what a CAP file would bring).
struct CardletModule {
    Bytes load_file;  // executable load file AID
    Bytes module;     // executable module AID
    std::string name; // "canteen-wallet", ...
    CardletFactory create;
    Bytes instance;               // the instance AID a preinstalled card carries
    std::array<uint8_t, 3> tar{}; // its toolkit TAR on preinstalled cards
    uint8_t msl = 0;              // and that TAR's minimum security level (SPI1-coded)
};
const std::vector<CardletModule>& known_modules();
const CardletModule* find_module(ByteView module_aid);
const CardletModule* find_module_by_name(const std::string& name);

} // namespace otagw::sim
