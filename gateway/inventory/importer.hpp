// SPDX-License-Identifier: GPL-2.0-or-later
// Inventory import, streamed: the card inventory file arrives in chunks (an HTTP body) and is
// read line by line, never held whole.
//
//  - validate: reads everything, writes nothing; reports every bad line (format, in-file
//    duplicates, ICCID/IMSI/MSISDN held by another card in the store).
//  - apply: writes the cards in batched transactions (kBatch cards per commit). Cards already
//    there unchanged count as such (a rerun after a crash completes an import). With
//    stop_at_first_error the first bad line ends it; otherwise bad lines are skipped and
//    reported.
// otactl's default, all-or-nothing, is validate then apply: nothing is written unless every
// line is good.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "inventory/inventory_reader.hpp"
#include "otagw/db/store.hpp"

namespace otagw::gateway {

struct ImportReport {
    std::string mode; // validate | apply
    uint64_t lines = 0;
    uint64_t cards = 0; // good card lines
    uint64_t inserted = 0;
    uint64_t unchanged = 0;
    uint64_t updated = 0;               // there already; SCP81 keysets added
    bool stopped = false;               // ended early (stop at first error, or a bad header)
    std::vector<InventoryIssue> issues; // the first kMaxIssues
    uint64_t issues_total = 0;
    std::string error; // a store failure: the import could not go on

    bool ok() const { return issues_total == 0 && error.empty(); }
    nlohmann::ordered_json to_json() const;
};

class Importer {
public:
    static constexpr size_t kBatch = 2000;
    static constexpr size_t kMaxIssues = 1000;

    Importer(db::Store& store, bool apply, bool stop_at_first_error);

    // Feeds bytes; false once the import cannot go on (stopped, or a store error).
    bool feed(std::string_view chunk);
    // The end of the file: flushes the last batch and finishes the checks.
    const ImportReport& finish();
    const ImportReport& report() const { return report_; }

private:
    void on_card(db::CardImage&& card, uint64_t line);
    void on_issue(InventoryIssue&& issue);
    void validate(const db::CardImage& card, uint64_t line);
    void flush_batch();

    db::Store& store_;
    bool apply_;
    bool stop_first_;
    ImportReport report_;
    InventoryReader reader_;
    std::vector<std::pair<db::CardImage, uint64_t>> batch_;
    DuplicateFinder iccids_, imsis_, msisdns_, identities_; // identities: SCP81 PSK
};

} // namespace otagw::gateway
