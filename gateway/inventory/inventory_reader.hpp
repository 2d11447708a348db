// SPDX-License-Identifier: GPL-2.0-or-later
// Reads the card inventory file (doc/card-inventory.md, formats 1 and 2) as a stream: bytes go in
// in chunks of any size, cards come out one by one, and every bad line is reported as "line N,
// field F: reason" without quoting a key. Memory stays bounded by the longest line (at most
// kMaxLine), whatever the size of the file. Written for the gateway on its own: the simulator's
// writer is the other side of the format.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "otagw/db/store.hpp"

namespace otagw::gateway {

struct InventoryIssue {
    uint64_t line = 0;
    std::string field; // empty for the whole line
    std::string reason;
    std::string message() const; // "line 12, field keysets: entry 2: ..."
};

class InventoryReader {
public:
    static constexpr size_t kMaxLine = 64 * 1024;
    using CardFn = std::function<void(db::CardImage&& card, uint64_t line)>;
    using IssueFn = std::function<void(InventoryIssue&& issue)>;

    InventoryReader(CardFn on_card, IssueFn on_issue);

    void feed(std::string_view chunk);
    void finish(); // the end of the file: a last line without LF, a file without a header

    // A bad format line or column header stops the reading: nothing after it is a card.
    bool stopped() const { return stopped_; }
    uint64_t lines() const { return line_; }

private:
    void take_line(std::string_view line);

    CardFn on_card_;
    IssueFn on_issue_;
    std::string partial_;
    bool overlong_ = false;
    uint64_t line_ = 0;
    int format_ = 0; // from line 1
    bool seen_header_ = false;
    bool stopped_ = false;
};

// Parses one data line of a file of `format` (1 or 2); the error is an issue without its line
// number.
bool parse_inventory_card(std::string_view line, int format, db::CardImage& out,
                          InventoryIssue& issue);

// The gateway's application state for a GlobalPlatform life cycle byte (GP 2.3 §5.3.1):
// LOCKED (b8) suspended, INSTALLED installed, SELECTABLE or application-specific active.
std::string app_state_for_life_cycle(uint8_t life_cycle);

// Finds repeated values (ICCID, IMSI, MSISDN) across a file in 16 bytes per value: a 64-bit
// hash and the line. The chance of two different values sharing a hash in a million-card
// file is about 3e-8.
class DuplicateFinder {
public:
    void add(std::string_view value, uint64_t line);
    // Pairs (first line, repeated line) of equal hashes, by repeated line.
    std::vector<std::pair<uint64_t, uint64_t>> repeats();
    size_t size() const { return seen_.size(); }

private:
    std::vector<std::pair<uint64_t, uint64_t>> seen_;
};

} // namespace otagw::gateway
