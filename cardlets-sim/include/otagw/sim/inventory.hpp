// SPDX-License-Identifier: GPL-2.0-or-later
// The card inventory file: what a card vendor delivers with a batch of cards (identities, OTA
// keysets with algorithms, KVN, keys and counters, TARs with their minimum security levels,
// load files and installed applications). One card per line, so a million-card file streams
// and every error names its line and field. The format is specified in doc/card-inventory.md.
#pragma once

#include <istream>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "otagw/common/result.hpp"
#include "otagw/sim/uicc.hpp"

namespace otagw::sim {

// Written in format 2 (format 1 and a column of SCP81 keysets); read in either.
constexpr std::string_view kInventoryMagic = "# ota-gateway card inventory v2";
constexpr std::string_view kInventoryColumns =
    "iccid,imsi,msisdn,keysets,tars,load_files,apps,scp81_keysets";
constexpr std::string_view kInventoryMagicV1 = "# ota-gateway card inventory v1";
constexpr std::string_view kInventoryColumnsV1 = "iccid,imsi,msisdn,keysets,tars,load_files,apps";

// One data line (without its line end) for `card`, format 2.
std::string inventory_line(const Uicc& card);
// One data line of a file of `format` (1 or 2) back into a card; the error names the field
// ("keysets: ...").
Result<Uicc> parse_inventory_line(std::string_view line, int format = 2);

// The whole file: magic line, `comment` lines, the column header, one line per card.
void write_inventory(std::ostream& out, const std::vector<const Uicc*>& cards,
                     const std::vector<std::string>& comment);
// Written to `path` with mode 0600 (it holds keys), through a temporary file and a rename.
Status export_inventory(const std::string& path, const std::vector<const Uicc*>& cards,
                        const std::vector<std::string>& comment);
// Reads a whole file; errors are "line N, field F: reason". Duplicate ICCIDs or MSISDNs are
// errors too.
Result<std::vector<Uicc>> read_inventory(std::istream& in);
Result<std::vector<Uicc>> load_inventory(const std::string& path);

// Algorithm names of the format: des, 3des2, 3des3, aes128, aes192, aes256.
std::string keyset_algo_name(const Keyset& k);

} // namespace otagw::sim
