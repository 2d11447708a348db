// SPDX-License-Identifier: GPL-2.0-or-later
// The storage contract: what every Store backend must do, written against the abstract
// interface only. A backend's test file sets `contract::g_open` and runs `contract::kTests`
// (tests/test_db_sqlite.cpp for SQLite; a second backend adds its own file).
#pragma once

#include <functional>
#include <memory>

#include "otagw/db/store.hpp"
#include "test_support.hpp"

namespace contract {

using namespace otagw;

// Opens the store under test: `fresh` empties it first, else it reopens what is there (a
// restart of the process).
inline std::function<std::unique_ptr<db::Store>(bool fresh)> g_open;

inline db::CardImage sample_card(int n) {
    db::CardImage c;
    const std::string num = std::to_string(1000 + n);
    c.card.iccid = "898829900000000" + num;
    c.card.imsi = "00101000000" + num;
    c.card.msisdn = "4479000" + num;
    db::Keyset k1;
    k1.kvn = 1;
    k1.algorithm = "aes128";
    k1.kic = test::hex("000102030405060708090a0b0c0d0e0f");
    k1.kid = test::hex("101112131415161718191a1b1c1d1e1f");
    k1.kik = test::hex("202122232425262728292a2b2c2d2e2f");
    k1.counter = 7;
    db::Keyset k2;
    k2.kvn = 2;
    k2.algorithm = "3des2";
    k2.kic = test::hex("303132333435363738393a3b3c3d3e3f");
    k2.kid = test::hex("404142434445464748494a4b4c4d4e4f");
    k2.kik = test::hex("505152535455565758595a5b5c5d5e5f");
    c.keysets = {k1, k2};
    db::PskKeyset p;
    p.kvn = 0x40;
    p.kid = 0x01;
    p.identity = Bytes(num.begin(), num.end());
    p.identity.insert(p.identity.begin(), {'c', 'a', 'r', 'd', '-'});
    p.psk = test::hex("606162636465666768696a6b6c6d6e6f");
    p.dek_algorithm = "aes128";
    p.dek = test::hex("707172737475767778797a7b7c7d7e7f");
    c.psk_keysets = {p};
    c.tars = {{"000000", "isd", 0x12, ""}, {"c00001", "app", 0x12, "f04f5441470101010001"}};
    c.load_files = {{"f04f5441470101", {"f04f544147010101"}}};
    c.apps = {{"f04f5441470101010001", 0x07, "active", "f04f5441470101", "f04f544147010101", 0}};
    return c;
}

template <typename T>
T ok(otagw::Result<T> r) {
    assert_ok(r);
    return std::move(r).value();
}

inline void test_card_round_trip(void**) {
    auto s = g_open(true);
    assert_int_equal(ok(s->put_card(sample_card(1))), static_cast<int>(db::PutOutcome::Inserted));
    s = g_open(false);
    for (auto found :
         {ok(s->card_by_iccid("8988299000000001001")), ok(s->card_by_imsi("001010000001001")),
          ok(s->card_by_msisdn("44790001001"))}) {
        assert_true(found.has_value());
        assert_string_equal(found->iccid.c_str(), "8988299000000001001");
        assert_string_equal(found->status.c_str(), "active");
    }
    const int64_t id = ok(s->card_by_iccid("8988299000000001001"))->id;
    auto keysets = ok(s->keysets(id));
    assert_int_equal(keysets.size(), 2);
    assert_int_equal(keysets[0].kvn, 1);
    assert_string_equal(keysets[0].algorithm.c_str(), "aes128");
    assert_hex_equal(keysets[0].kid, "101112131415161718191a1b1c1d1e1f");
    assert_hex_equal(keysets[1].kik, "505152535455565758595a5b5c5d5e5f");
    assert_int_equal(keysets[0].counter, 7);
    auto ota = ok(s->ota_keyset(id, 1)); // KIc and KID opened, the KIK left sealed
    assert_true(ota.has_value());
    assert_hex_equal(ota->kic, to_hex(keysets[0].kic));
    assert_hex_equal(ota->kid, "101112131415161718191a1b1c1d1e1f");
    assert_true(ota->kik.empty());
    assert_int_equal(ota->counter, 7);
    assert_false(ok(s->ota_keyset(id, 9)).has_value());
    auto tars = ok(s->card_tars(id));
    assert_int_equal(tars.size(), 2);
    assert_string_equal(tars[1].aid.c_str(), "f04f5441470101010001");
    auto files = ok(s->card_load_files(id));
    assert_int_equal(files.size(), 1);
    assert_int_equal(files[0].modules.size(), 1);
    // A load, then a DELETE with related objects, as the card told them.
    files.push_back({"0102030405", {"0102030405060708", "0102030405060709"}});
    assert_ok(s->set_card_load_files(id, files));
    auto loaded = ok(s->card_load_files(id));
    assert_int_equal(loaded.size(), 2);
    assert_string_equal(loaded[1].aid.c_str(), "0102030405");
    assert_int_equal(loaded[1].modules.size(), 2);
    files.erase(files.begin());
    assert_ok(s->set_card_load_files(id, files));
    assert_int_equal(ok(s->card_load_files(id)).size(), 1);
    assert_int_equal(ok(s->card_tars(id)).size(), 2); // the card's other contents stay
    assert_error_contains(s->set_card_load_files(id + 1000, files), "no card");
    auto apps = ok(s->card_apps(id));
    assert_int_equal(apps.size(), 1);
    assert_int_equal(*apps[0].life_cycle, 0x07);
    assert_string_equal(apps[0].state.c_str(), "active");
    assert_false(ok(s->card_by_iccid("8988299000000009999")).has_value());
    assert_int_equal(ok(s->cards_matching("8988299000000009999", "001010000001001", "1")).size(),
                     1);
    assert_int_equal(ok(s->cards_matching("8988299000000009999", "2", "3")).size(), 0);
    assert_int_equal(ok(s->count_cards()), 1);
}

inline void test_reimport_and_conflicts(void**) {
    auto s = g_open(true);
    assert_int_equal(ok(s->put_card(sample_card(1))), static_cast<int>(db::PutOutcome::Inserted));
    assert_int_equal(ok(s->put_card(sample_card(1))), static_cast<int>(db::PutOutcome::Unchanged));
    // A card imported without SCP81 keysets gets them from a later file: Updated, once; a
    // keyset already there is not replaced.
    auto plain = sample_card(9);
    plain.psk_keysets.clear();
    assert_int_equal(ok(s->put_card(plain)), static_cast<int>(db::PutOutcome::Inserted));
    auto later = sample_card(9);
    assert_int_equal(ok(s->put_card(later)), static_cast<int>(db::PutOutcome::Updated));
    later.psk_keysets[0].psk = test::hex("ffffffffffffffffffffffffffffffff");
    assert_int_equal(ok(s->put_card(later)), static_cast<int>(db::PutOutcome::Unchanged));
    const int64_t id9 = ok(s->card_by_iccid(plain.card.iccid))->id;
    assert_hex_equal(ok(s->psk_keysets(id9)).at(0).psk, to_hex(sample_card(9).psk_keysets[0].psk));
    assert_int_equal(ok(s->put_card(plain)), static_cast<int>(db::PutOutcome::Unchanged));
    auto other_imsi = sample_card(1);
    other_imsi.card.imsi = "001010000009999";
    assert_error_contains(s->put_card(other_imsi), "already in the inventory with another IMSI");
    auto stolen_imsi = sample_card(2);
    stolen_imsi.card.imsi = sample_card(1).card.imsi;
    assert_error_contains(s->put_card(stolen_imsi), "IMSI 001010000001001 already belongs to");
    auto stolen_msisdn = sample_card(3);
    stolen_msisdn.card.msisdn = sample_card(1).card.msisdn;
    assert_error_contains(s->put_card(stolen_msisdn), "MSISDN 44790001001 already belongs to");
    assert_int_equal(ok(s->count_cards()), 2);
    // A card that fails half-way leaves nothing behind, and the transaction goes on.
    auto broken = sample_card(5);
    broken.keysets[1].algorithm = "rot13";
    assert_ok(s->begin());
    assert_false(s->put_card(broken).ok());
    assert_ok(s->put_card(sample_card(6)));
    assert_ok(s->commit());
    assert_false(ok(s->card_by_iccid(broken.card.iccid)).has_value());
    assert_true(ok(s->card_by_iccid(sample_card(6).card.iccid)).has_value());
    assert_int_equal(ok(s->count_cards()), 3);
}

// SCP81 keysets: kept with the card, found by PSK identity (the PSK opened, the DEK not), an
// identity held by another card refused with its name and nothing of that card kept.
inline void test_scp81_keysets(void**) {
    auto s = g_open(true);
    auto card = sample_card(1);
    db::PskKeyset second = card.psk_keysets[0];
    second.kvn = 0x41;
    second.kid = 0x11;
    second.identity = test::hex("00ff0180");
    second.psk = test::hex("8081828384858687888990919293949596979899a0a1a2a3a4a5a6a7a8a9aaab");
    second.dek_algorithm = "3des2";
    second.dek = test::hex("b0b1b2b3b4b5b6b7b8b9babbbcbdbebf");
    card.psk_keysets.push_back(second);
    assert_ok(s->put_card(card));
    assert_ok(s->put_card(sample_card(2)));
    s = g_open(false);
    const int64_t id = ok(s->card_by_iccid(card.card.iccid))->id;
    auto keysets = ok(s->psk_keysets(id));
    assert_int_equal(keysets.size(), 2);
    assert_int_equal(keysets[0].kvn, 0x40);
    assert_int_equal(keysets[0].kid, 0x01);
    assert_hex_equal(keysets[0].identity, to_hex(card.psk_keysets[0].identity));
    assert_hex_equal(keysets[0].psk, "606162636465666768696a6b6c6d6e6f");
    assert_hex_equal(keysets[0].dek, "707172737475767778797a7b7c7d7e7f");
    assert_int_equal(keysets[1].kvn, 0x41);
    assert_string_equal(keysets[1].dek_algorithm.c_str(), "3des2");
    assert_int_equal(keysets[1].psk.size(), 32);
    auto owner = ok(s->psk_owner(test::hex("00ff0180")));
    assert_true(owner.has_value());
    assert_int_equal(owner->card_id, id);
    assert_string_equal(owner->iccid.c_str(), card.card.iccid.c_str());
    assert_int_equal(owner->keyset.kvn, 0x41);
    assert_int_equal(owner->keyset.kid, 0x11);
    assert_hex_equal(owner->keyset.psk, to_hex(second.psk));
    assert_true(owner->keyset.dek.empty());
    auto two = ok(s->psk_owner(sample_card(2).psk_keysets[0].identity));
    assert_true(two.has_value());
    assert_string_equal(two->iccid.c_str(), sample_card(2).card.iccid.c_str());
    assert_false(ok(s->psk_owner(test::hex("00ff01"))).has_value()); // a prefix is no match
    assert_false(ok(s->psk_owner(ByteView())).has_value());
    // A card without SCP81 keysets has none.
    auto plain = sample_card(3);
    plain.psk_keysets.clear();
    assert_ok(s->put_card(plain));
    assert_int_equal(ok(s->psk_keysets(ok(s->card_by_iccid(plain.card.iccid))->id)).size(), 0);
    // Another card claiming card 1's identity: refused, named, and nothing of it kept.
    auto thief = sample_card(4);
    thief.psk_keysets[0].identity = card.psk_keysets[0].identity;
    const std::string named = "its PSK identity already belongs to card " + card.card.iccid;
    assert_error_contains(s->put_card(thief), named.c_str());
    assert_false(ok(s->card_by_iccid(thief.card.iccid)).has_value());
}

inline void test_transactions(void**) {
    auto s = g_open(true);
    assert_ok(s->begin());
    assert_ok(s->put_card(sample_card(1)));
    assert_ok(s->rollback());
    assert_int_equal(ok(s->count_cards()), 0);
    assert_ok(s->begin());
    assert_ok(s->put_card(sample_card(1)));
    assert_ok(s->put_card(sample_card(2)));
    assert_ok(s->commit());
    s = g_open(false);
    assert_int_equal(ok(s->count_cards()), 2);
}

inline void test_counters(void**) {
    auto s = g_open(true);
    assert_ok(s->put_card(sample_card(1)));
    const int64_t id = ok(s->card_by_iccid(sample_card(1).card.iccid))->id;
    assert_int_equal(ok(s->next_counter(id, 1)), 8);
    assert_int_equal(ok(s->next_counter(id, 1)), 9);
    assert_int_equal(ok(s->next_counter(id, 2)), 1);
    s = g_open(false); // a restart never hands out a counter twice
    assert_int_equal(ok(s->next_counter(id, 1)), 10);
    assert_ok(s->raise_counter(id, 1, 100));
    assert_ok(s->raise_counter(id, 1, 50)); // never lowers
    assert_int_equal(ok(s->next_counter(id, 1)), 101);
    // The same step with what the packet needs: the keys opened (no KIK), the card's TARs.
    auto packet = ok(s->next_counter_with_keys(id, 1));
    assert_true(packet.has_value());
    assert_int_equal(packet->keyset.counter, 102);
    assert_string_equal(packet->keyset.algorithm.c_str(), "aes128");
    assert_true(packet->keyset.kic == sample_card(1).keysets[0].kic);
    assert_true(packet->keyset.kid == sample_card(1).keysets[0].kid);
    assert_true(packet->keyset.kik.empty());
    assert_int_equal(packet->tars.size(), 2);
    assert_string_equal(packet->tars[0].tar.c_str(), "000000");
    assert_string_equal(packet->tars[0].kind.c_str(), "isd");
    assert_int_equal(ok(s->next_counter(id, 1)), 103);
    assert_false(ok(s->next_counter_with_keys(id, 9)).has_value());
    assert_error_contains(s->next_counter(id, 9), "no such keyset");
    assert_error_contains(s->raise_counter(id, 1, db::kCounterMax + 1), "5 bytes");
    assert_ok(s->raise_counter(id, 2, db::kCounterMax));
    assert_error_contains(s->next_counter(id, 2), "exhausted");
    assert_error_contains(s->next_counter_with_keys(id, 2), "exhausted");
    assert_int_equal(ok(s->keysets(id))[1].counter, db::kCounterMax);
}

inline void test_listing_and_filters(void**) {
    auto s = g_open(true);
    assert_ok(s->begin());
    for (int i = 0; i < 25; i++) {
        auto c = sample_card(i);
        if (i % 5 == 0)
            c.apps[0].state = "suspended";
        if (i >= 20)
            c.card.msisdn = "3361000" + std::to_string(1000 + i);
        assert_ok(s->put_card(c));
    }
    assert_ok(s->commit());
    std::vector<db::Card> all;
    int64_t after = 0;
    for (int page = 0; page < 10; page++) {
        auto got = ok(s->list_cards(after, 10, {}));
        if (got.empty())
            break;
        after = got.back().id;
        all.insert(all.end(), got.begin(), got.end());
    }
    assert_int_equal(all.size(), 25);
    for (size_t i = 1; i < all.size(); i++)
        assert_true(all[i].id > all[i - 1].id);
    db::CardFilter french{"3361", "", ""};
    assert_int_equal(ok(s->list_cards(0, 100, french)).size(), 5);
    db::CardFilter suspended{"", "f04f5441470101010001", "suspended"};
    assert_int_equal(ok(s->list_cards(0, 100, suspended)).size(), 5);
    db::CardFilter holding{"", "f04f5441470101010001", ""};
    assert_int_equal(ok(s->list_cards(0, 100, holding)).size(), 25);
    db::CardFilter both{"4479", "f04f5441470101010001", "suspended"};
    assert_int_equal(ok(s->list_cards(0, 100, both)).size(), 4);
}

inline void test_card_status_and_apps(void**) {
    auto s = g_open(true);
    assert_ok(s->put_card(sample_card(1)));
    const int64_t id = ok(s->card_by_iccid(sample_card(1).card.iccid))->id;
    assert_ok(s->set_card_status(id, "barred"));
    assert_error_contains(s->set_card_status(id, "lost"), "active or barred");
    assert_error_contains(s->set_card_status(id + 100, "barred"), "no card");
    db::CardApp bank{"f04f5441470103010001", std::nullopt, "installed", "f04f5441470103", "", 0};
    assert_ok(s->put_card_app(id, bank));
    bank.life_cycle = 0x87;
    bank.state = "suspended";
    assert_ok(s->put_card_app(id, bank)); // replaces
    s = g_open(false);
    assert_string_equal(ok(s->card_by_iccid(sample_card(1).card.iccid))->status.c_str(), "barred");
    auto apps = ok(s->card_apps(id));
    assert_int_equal(apps.size(), 2);
    assert_int_equal(*apps[1].life_cycle, 0x87);
    assert_string_equal(apps[1].state.c_str(), "suspended");
}

inline void test_catalog(void**) {
    auto s = g_open(true);
    db::Application canteen;
    canteen.name = "canteen";
    canteen.aid = "f04f5441470101010001";
    canteen.code = "01";
    canteen.type = "campus-wallet";
    canteen.tar = "c00001";
    canteen.provider = "campus";
    const int64_t id = ok(s->put_application(canteen));
    canteen.provider = "campus2";
    assert_int_equal(ok(s->put_application(canteen)), id); // replaced by name
    db::Application bank = canteen;
    bank.name = "bank";
    bank.aid = "f04f5441470103010001";
    bank.code = "03";
    bank.type = "bank";
    assert_ok(s->put_application(bank));
    db::Application clash = bank;
    clash.name = "bank2";
    assert_false(s->put_application(clash).ok()); // AID and code are unique
    auto all = ok(s->applications());
    assert_int_equal(all.size(), 2);
    assert_string_equal(all[0].name.c_str(), "canteen"); // by code
    assert_string_equal(all[0].provider.c_str(), "campus2");
    assert_string_equal(ok(s->application_by_code("03"))->name.c_str(), "bank");
    assert_string_equal(ok(s->application_by_aid("f04f5441470101010001"))->code.c_str(), "01");
    assert_false(ok(s->application_by_code("99")).has_value());
}

inline void test_audit_log(void**) {
    auto s = g_open(true);
    for (int i = 0; i < 5; i++)
        ok(s->append_audit({0, 1000 + i, "otactl", "card.bar", "card" + std::to_string(i), ""}));
    auto last = ok(s->audit_tail(3));
    assert_int_equal(last.size(), 3);
    assert_string_equal(last[0].subject.c_str(), "card2");
    assert_string_equal(last[2].subject.c_str(), "card4");
    auto after = ok(s->audit_tail(10, last[0].id));
    assert_int_equal(after.size(), 2);
    assert_string_equal(after[0].subject.c_str(), "card3");
    assert_int_equal(after[1].at, 1004);
}

inline void test_card_counters(void**) {
    auto s = g_open(true);
    assert_ok(s->put_card(sample_card(1)));
    const int64_t card = ok(s->card_by_iccid(sample_card(1).card.iccid))->id;
    assert_ok(s->accept_card_counter(card, 1, 5));
    assert_error_contains(s->accept_card_counter(card, 1, 5), "a replay");
    assert_error_contains(s->accept_card_counter(card, 1, 4), "a replay");
    assert_ok(s->accept_card_counter(card, 2, 1)); // per keyset
    s = g_open(false);
    assert_error_contains(s->accept_card_counter(card, 1, 5), "a replay");
    assert_ok(s->accept_card_counter(card, 1, 6));
    // Separate from the counter we send with.
    assert_int_equal(ok(s->next_counter(card, 1)), 8);
}

inline void test_requests(void**) {
    auto s = g_open(true);
    assert_ok(s->put_card(sample_card(1)));
    const int64_t card = ok(s->card_by_iccid(sample_card(1).card.iccid))->id;
    db::Request r;
    r.idempotency_key = "k-1";
    r.source = "api";
    r.actor = "api:ops";
    r.card_id = card;
    r.msisdn = "44790001001";
    r.app_aid = "f04f5441470101010001";
    r.operation = "suspend";
    r.state = "accepted";
    r.detail = "{\"ref\":\"x\"}";
    auto first = ok(s->put_request(r));
    assert_true(first.second);
    assert_true(first.first.id > 0);
    // The same idempotency key: nothing new, the earlier request back.
    db::Request again = r;
    again.operation = "resume";
    auto second = ok(s->put_request(again));
    assert_false(second.second);
    assert_int_equal(second.first.id, first.first.id);
    assert_string_equal(second.first.operation.c_str(), "suspend");
    // Without a key, every request is new; one is in flight per card application.
    db::Request other = r;
    other.idempotency_key.clear();
    other.app_aid = "f04f5441470102010001";
    const int64_t other_id = ok(s->put_request(other)).first.id;
    assert_int_equal(ok(s->request_in_flight(card, r.app_aid))->id, first.first.id);
    assert_ok(s->set_request_state(first.first.id, "done", "PoR 00, 9000"));
    assert_false(ok(s->request_in_flight(card, r.app_aid)).has_value());
    assert_error_contains(s->set_request_state(9999, "done", ""), "no request with id 9999");
    s = g_open(false); // what a restart resumes
    auto unfinished = ok(s->unfinished_requests(0, 10));
    assert_int_equal(unfinished.size(), 1);
    assert_int_equal(unfinished[0].id, other_id);
    auto done = ok(s->request(first.first.id));
    assert_string_equal(done->state.c_str(), "done");
    assert_string_equal(done->reason.c_str(), "PoR 00, 9000");
    assert_string_equal(done->detail.c_str(), "{\"ref\":\"x\"}");
    assert_true(db::request_finished("refused") && !db::request_finished("sent"));
    assert_ok(s->set_request_detail(other_id, "{\"attempt\":2}"));
    assert_string_equal(ok(s->request(other_id))->detail.c_str(), "{\"attempt\":2}");
    assert_error_contains(s->set_request_detail(9999, "{}"), "no request with id 9999");
}

inline void test_provider_callbacks(void**) {
    auto s = g_open(true);
    db::Request r;
    r.source = "api";
    r.operation = "activate";
    r.state = "done";
    const int64_t a = ok(s->put_request(r)).first.id;
    const int64_t b = ok(s->put_request(r)).first.id;
    assert_ok(s->put_callback({b, "campus", "{\"n\":2}", 0}));
    assert_ok(s->put_callback({a, "campus", "{\"n\":1}", 0}));
    assert_ok(s->put_callback({a, "campus", "{\"n\":1,\"again\":true}", 0})); // one per request
    s = g_open(false); // owed callbacks survive a restart, oldest request first
    auto owed = ok(s->pending_callbacks(10));
    assert_int_equal(owed.size(), 2);
    assert_int_equal(owed[0].request_id, a);
    assert_string_equal(owed[0].body.c_str(), "{\"n\":1,\"again\":true}");
    assert_true(owed[0].created_at > 0);
    assert_ok(s->delete_callback(a));
    owed = ok(s->pending_callbacks(10));
    assert_int_equal(owed.size(), 1);
    assert_string_equal(owed[0].provider.c_str(), "campus");
}

inline void test_campaigns(void**) {
    auto s = g_open(true);
    for (int i = 1; i <= 3; i++)
        assert_ok(s->put_card(sample_card(i)));
    std::vector<int64_t> cards;
    for (int i = 1; i <= 3; i++)
        cards.push_back(ok(s->card_by_iccid(sample_card(i).card.iccid))->id);
    db::Campaign c;
    c.name = "lock-transit";
    c.operation = "lock";
    c.app_aid = "A0000000871002FF";
    c.selection = "file batch.txt";
    c.rate = 200;
    c.window = 50;
    c.retries = 2;
    c.state = "created";
    c.actor = "api:ops";
    const int64_t id = ok(s->add_campaign(c));
    auto taken = s->add_campaign(c);
    assert_true(!taken);
    assert_non_null(strstr(taken.error().message.c_str(), "'lock-transit' exists already"));
    assert_ok(s->add_campaign_targets(id, 1, {cards[2], cards[0], cards[1]}));
    assert_true(!s->add_campaign_targets(id, 4, {cards[0]})); // a card is a target once
    assert_ok(s->set_campaign_state(id, "running"));

    // A target's progress survives a restart; open_only skips the finished ones.
    auto t = ok(s->campaign_target(id, 1));
    assert_true(t.has_value());
    assert_int_equal(t->card_id, cards[2]);
    assert_string_equal(t->iccid.c_str(), sample_card(3).card.iccid.c_str());
    assert_string_equal(t->state.c_str(), "pending");
    t->state = "succeeded";
    t->request_id = 7;
    t->attempts = 1;
    t->card_state = "suspended";
    t->por_status = "ok";
    t->started_at = 1000;
    t->finished_at = 2000;
    assert_ok(s->update_campaign_target(*t));
    t = ok(s->campaign_target(id, 2));
    t->state = "failed";
    t->reason = "por_lost";
    assert_ok(s->update_campaign_target(*t));
    s = g_open(false);
    auto got = ok(s->campaign_by_name("lock-transit"));
    assert_true(got.has_value());
    assert_int_equal(got->id, id);
    assert_string_equal(got->state.c_str(), "running");
    assert_true(got->started_at > 0);
    assert_int_equal(got->finished_at, 0);
    assert_true(got->rate == 200);
    assert_int_equal(got->window, 50);
    assert_int_equal(got->retries, 2);
    auto all = ok(s->campaign_targets(id, 0, 10, false));
    assert_int_equal(all.size(), 3);
    assert_string_equal(all[0].card_state.c_str(), "suspended");
    assert_int_equal(all[0].request_id, 7);
    assert_int_equal(all[0].finished_at, 2000);
    auto open = ok(s->campaign_targets(id, 0, 10, true));
    assert_int_equal(open.size(), 1);
    assert_int_equal(open[0].seq, 3);
    assert_int_equal(ok(s->campaign_targets(id, 1, 1, false))[0].seq, 2); // paged by seq
    auto tally = ok(s->campaign_tally(id));
    assert_int_equal(tally.size(), 3);
    assert_string_equal(tally[0].state.c_str(), "failed");
    assert_string_equal(tally[0].reason.c_str(), "por_lost");
    assert_int_equal(tally[0].count, 1);
    assert_ok(s->set_campaign_state(id, "finished"));
    assert_true(ok(s->campaign(id))->finished_at > 0);
    assert_int_equal(ok(s->campaigns()).size(), 1);
    assert_false(ok(s->campaign(id + 1)).has_value());
    // One left `creating` by a crash is removed with its targets; its name is free again.
    c.name = "half-made";
    c.state = "creating";
    const int64_t half = ok(s->add_campaign(c));
    assert_ok(s->add_campaign_targets(half, 1, {cards[0], cards[1]}));
    assert_ok(s->delete_campaign(half));
    assert_false(ok(s->campaign(half)).has_value());
    assert_int_equal(ok(s->campaign_targets(half, 0, 10, false)).size(), 0);
    assert_error_contains(s->delete_campaign(half), "no campaign with id");
    assert_int_equal(ok(s->campaign_targets(id, 0, 10, false)).size(), 3); // the other one kept
    assert_true(ok(s->add_campaign(c)) > 0);
}

inline void test_ota_messages_and_pors(void**) {
    auto s = g_open(true);
    assert_ok(s->put_card(sample_card(1)));
    const int64_t card = ok(s->card_by_iccid(sample_card(1).card.iccid))->id;
    db::Request r;
    r.source = "api";
    r.operation = "suspend";
    r.state = "sent";
    r.card_id = card;
    const int64_t req = ok(s->put_request(r)).first.id;
    db::OtaMessage m;
    m.request_id = req;
    m.card_id = card;
    m.kvn = 1;
    m.counter = ok(s->next_counter(card, 1));
    m.tar = "000000";
    m.user_data = test::hex("027000001516");
    m.state = "queued";
    const int64_t reserved = ok(s->next_ota_message_id());
    const int64_t id = ok(s->add_ota_message(m));
    assert_int_equal(id, reserved);
    assert_error_contains(s->add_ota_message(m), "was used before"); // never the same counter
    assert_ok(s->set_ota_message_state(id, "submitted", "msg-7"));
    auto found = ok(s->ota_message_for(card, 1, m.counter));
    assert_true(found.has_value());
    assert_string_equal(found->smpp_message_id.c_str(), "msg-7");
    assert_string_equal(found->state.c_str(), "submitted");
    assert_true(found->sent_at > 0);
    assert_hex_equal(found->user_data, "027000001516");
    assert_false(ok(s->ota_message_for(card, 1, m.counter + 1)).has_value());
    // A reserved id: the message gets it; a taken one is refused, naming it.
    db::OtaMessage named = m;
    named.counter = ok(s->next_counter(card, 1));
    named.id = ok(s->next_ota_message_id());
    assert_int_equal(named.id, id + 1);
    assert_int_equal(ok(s->add_ota_message(named)), id + 1);
    named.counter = ok(s->next_counter(card, 1));
    const std::string taken = "OTA message id " + std::to_string(id + 1) + " is taken";
    assert_error_contains(s->add_ota_message(named), taken.c_str());
    db::Por p;
    p.ota_message_id = id;
    p.card_id = card;
    p.status = 0x00;
    p.counter = m.counter;
    p.data = test::hex("01009000");
    ok(s->add_por(p));
    db::Por stray; // a PoR nothing was waiting for is kept too
    stray.card_id = card;
    stray.status = 0x02;
    ok(s->add_por(stray));
    s = g_open(false);
    auto pors = ok(s->pors_of(id));
    assert_int_equal(pors.size(), 1);
    assert_int_equal(*pors[0].counter, m.counter);
    assert_hex_equal(pors[0].data, "01009000");
    assert_int_equal(ok(s->ota_messages_of(req)).size(), 2); // m and named
}

inline const CMUnitTest kTests[] = {
    cmocka_unit_test(test_card_round_trip),
    cmocka_unit_test(test_reimport_and_conflicts),
    cmocka_unit_test(test_scp81_keysets),
    cmocka_unit_test(test_transactions),
    cmocka_unit_test(test_counters),
    cmocka_unit_test(test_listing_and_filters),
    cmocka_unit_test(test_card_status_and_apps),
    cmocka_unit_test(test_catalog),
    cmocka_unit_test(test_audit_log),
    cmocka_unit_test(test_card_counters),
    cmocka_unit_test(test_requests),
    cmocka_unit_test(test_ota_messages_and_pors),
    cmocka_unit_test(test_provider_callbacks),
    cmocka_unit_test(test_campaigns),
};

} // namespace contract
