// SPDX-License-Identifier: GPL-2.0-or-later
#include "inventory/importer.hpp"

#include <algorithm>
#include <tuple>

namespace otagw::gateway {

nlohmann::ordered_json ImportReport::to_json() const {
    nlohmann::ordered_json issues_json = nlohmann::ordered_json::array();
    for (const auto& i : issues)
        issues_json.push_back(
            {{"line", i.line}, {"field", i.field}, {"reason", i.reason}, {"message", i.message()}});
    nlohmann::ordered_json j{
        {"ok", ok()},           {"mode", mode},         {"lines", lines},
        {"cards", cards},       {"inserted", inserted}, {"unchanged", unchanged},
        {"updated", updated},   {"stopped", stopped},   {"issues_total", issues_total},
        {"issues", issues_json}};
    if (!error.empty())
        j["error"] = error;
    return j;
}

Importer::Importer(db::Store& store, bool apply, bool stop_at_first_error)
    : store_(store), apply_(apply), stop_first_(stop_at_first_error),
      reader_([this](db::CardImage&& c, uint64_t line) { on_card(std::move(c), line); },
              [this](InventoryIssue&& i) { on_issue(std::move(i)); }) {
    report_.mode = apply ? "apply" : "validate";
}

void Importer::on_issue(InventoryIssue&& issue) {
    report_.issues_total++;
    if (report_.issues.size() < kMaxIssues)
        report_.issues.push_back(std::move(issue));
    if (stop_first_ && apply_)
        report_.stopped = true;
}

void Importer::validate(const db::CardImage& c, uint64_t line) {
    // Against the store: the same card again is fine (a rerun); another card's number is not.
    auto found = store_.cards_matching(c.card.iccid, c.card.imsi, c.card.msisdn);
    if (!found) {
        report_.error = found.error().message;
        return;
    }
    bool same_card = false;
    for (const db::Card& e : *found) {
        if (e.iccid == c.card.iccid) {
            if (e.imsi != c.card.imsi || e.msisdn != c.card.msisdn) {
                on_issue({line, "iccid",
                          "ICCID already in the inventory with another " +
                              std::string(e.imsi != c.card.imsi ? "IMSI" : "MSISDN")});
                return;
            }
            same_card = true;
        } else if (e.imsi == c.card.imsi) {
            on_issue({line, "imsi", "IMSI already belongs to card " + e.iccid});
            return;
        } else {
            on_issue({line, "msisdn", "MSISDN already belongs to card " + e.iccid});
            return;
        }
    }
    for (const db::PskKeyset& k : c.psk_keysets) {
        auto owner = store_.psk_owner(k.identity);
        if (!owner) {
            report_.error = owner.error().message;
            return;
        }
        if (*owner && (*owner)->iccid != c.card.iccid) {
            on_issue({line, "scp81_keysets",
                      "the PSK identity of KVN " + to_hex(ByteView(&k.kvn, 1)) +
                          " already belongs to card " + (*owner)->iccid});
            return;
        }
        identities_.add(
            std::string_view(reinterpret_cast<const char*>(k.identity.data()), k.identity.size()),
            line);
    }
    if (same_card)
        report_.unchanged++;
    iccids_.add(c.card.iccid, line);
    imsis_.add(c.card.imsi, line);
    msisdns_.add(c.card.msisdn, line);
}

void Importer::on_card(db::CardImage&& card, uint64_t line) {
    if (report_.stopped)
        return; // stopped at an earlier bad line: nothing after it goes in
    report_.cards++;
    if (!apply_) {
        validate(card, line);
        return;
    }
    batch_.emplace_back(std::move(card), line);
    if (batch_.size() >= kBatch)
        flush_batch();
}

void Importer::flush_batch() {
    if (batch_.empty() || !report_.error.empty())
        return;
    if (Status st = store_.begin(); !st) {
        report_.error = st.error().message;
        return;
    }
    for (auto& [card, line] : batch_) {
        auto r = store_.put_card(card);
        if (!r) {
            on_issue({line, "", r.error().message});
            report_.cards--;
            if (report_.stopped)
                break;
            continue;
        }
        (*r == db::PutOutcome::Inserted  ? report_.inserted
         : *r == db::PutOutcome::Updated ? report_.updated
                                         : report_.unchanged)++;
    }
    if (Status st = store_.commit(); !st) {
        report_.error = st.error().message;
        (void)store_.rollback();
    }
    batch_.clear();
}

bool Importer::feed(std::string_view chunk) {
    if (report_.stopped || !report_.error.empty())
        return false;
    reader_.feed(chunk);
    if (reader_.stopped())
        report_.stopped = true;
    report_.lines = reader_.lines();
    return !report_.stopped && report_.error.empty();
}

const ImportReport& Importer::finish() {
    if (!report_.stopped && report_.error.empty())
        reader_.finish();
    if (reader_.stopped())
        report_.stopped = true;
    report_.lines = reader_.lines();
    if (apply_) {
        flush_batch(); // the good cards read before a stop go in too
        return report_;
    }
    // In-file duplicates, reported on the repeated line.
    std::vector<InventoryIssue> dups;
    const std::tuple<DuplicateFinder*, const char*, const char*> finders[] = {
        {&iccids_, "iccid", "iccid"},
        {&imsis_, "imsi", "imsi"},
        {&msisdns_, "msisdn", "msisdn"},
        {&identities_, "scp81_keysets", "PSK identity"}};
    for (const auto& [finder, field, what] : finders)
        for (const auto& [first, again] : finder->repeats())
            dups.push_back(
                {again, field, std::string("same ") + what + " as line " + std::to_string(first)});
    std::sort(dups.begin(), dups.end(),
              [](const auto& a, const auto& b) { return a.line < b.line; });
    for (auto& d : dups)
        on_issue(std::move(d));
    return report_;
}

} // namespace otagw::gateway
