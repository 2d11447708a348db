// SPDX-License-Identifier: GPL-2.0-or-later
// VTY passwords kept as crypt(3) hashes (`password 8 HASH`, `enable password 8 HASH`: SHA-512
// "$6$" from `openssl passwd -6`, yescrypt "$y$" from `mkpasswd`). libosmovty 1.7 as Debian
// builds it compares passwords in clear only, so the password a telnet client types at a
// "Password:" prompt is read here instead and checked against the hash; everything else is
// libosmovty's. A password is required by default: the daemon refuses to start without one,
// unless the config says `no login` and the VTY listens on a loopback address. Passwords in clear
// are refused; the hashes are written back by `write file`/`write terminal` as they were given.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "otagw/common/result.hpp"

namespace otagw::gateway::vty_auth {

// Checks the VTY's security settings once the config file (its text in `config_text`) was read,
// then turns password checking on. Call before telnet_init.
Status arm(std::string_view config_text);

// Adds the config writer of the hashes (with the other nodes, after vty_init).
void install_writer();

// True when `typed` hashes to `hash` (crypt(3)); false for a malformed hash.
bool verify(const std::string& typed, const char* hash);

// The line a client types at a "Password:" prompt, from the raw telnet bytes: option
// negotiation (RFC 854/855) and escape sequences skipped, backspace and ^U applied, printable
// ASCII kept (what libosmovty would have kept); complete at CR or LF.
class LineCollector {
public:
    // True when `byte` ended the line: take() it then.
    bool feed(unsigned char byte);
    std::string take();
    ~LineCollector();

private:
    enum class State { Text, Iac, Option, Sub, SubIac, Escape, EscapeBracket };
    State state_ = State::Text;
    std::string line_;
};

} // namespace otagw::gateway::vty_auth
