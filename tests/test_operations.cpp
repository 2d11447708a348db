// SPDX-License-Identifier: GPL-2.0-or-later
// The operations of the request pipeline: which states allow them, the GlobalPlatform scripts
// (one byte-exact against GP Card Spec 2.3 §11.10 / §11.4 codings), and each script run on a
// simulated card through real secured packets: the state read back from the card's own answer
// equals the card's registry, and a refused command leaves both where they were.
#include "otagw/ota/ts_102_225.hpp"
#include "otagw/ota/ts_102_226.hpp"
#include "otagw/sim/ota_card.hpp"
#include "requests/card_answer.hpp"
#include "requests/operations.hpp"
#include "test_support.hpp"

using namespace otagw;
using namespace otagw::gateway;
using test::hex;

namespace {

const Bytes kKic = hex("11223344556677889900aabbccddeeff");
const Bytes kKid = hex("0f1e2d3c4b5a69788796a5b4c3d2e1f0");

db::Application canteen() {
    db::Application a;
    a.name = "canteen";
    a.aid = "f04f5441470101010001";
    a.code = "01";
    a.load_file_aid = "f04f5441470101";
    a.module_aid = "f04f544147010101";
    a.tar = "c00001";
    a.msl = 0x12;
    return a;
}

// A card of the simulator's "standard" profile: the wallet installed, not yet personalised.
sim::Uicc make_card() {
    sim::Uicc c;
    c.iccid = "8949000000000000017";
    c.msisdn = "4917000000001";
    c.keysets.push_back({1, crypto::BlockAlgo::Aes, kKic, kKid, kKid, 0});
    c.tars.push_back({{0, 0, 0}, sim::TarKind::Isd, {}, 0x16});
    const auto* wallet = sim::find_module_by_name("canteen-wallet");
    c.preinstall(*wallet, wallet->instance, 0x03);
    return c;
}

struct Run {
    CardAnswer answer;
    std::string state;
};

// Secures the operation's script as the gateway does, runs it on the card, reads the PoR.
Run run(sim::Uicc& card, Operation op, uint64_t counter, const OperationInput& input = {}) {
    auto script = operation_script(op, canteen(), input);
    assert_ok(script);
    ota::CommandHeader h;
    h.spi = *ota::Spi::parse("1639");
    h.kic = h.kid = 0x12;
    h.counter = counter;
    const auto keys = ota::OtaKeys::create(0x12, kKic, 0x12, kKid);
    Bytes packet;
    assert_ok(ota::build_command_packet(h, keys, ota::ram::compact_script(*script), packet));
    sim::PorOutcome out = sim::process_command_packet(card, packet);
    assert_int_equal(out.status, 0);
    auto por = ota::decode_response_packet(out.por, h.spi, keys);
    assert_ok(por);
    assert_int_equal(por->integrity, ota::IntegrityCheck::Ok);
    auto answer = read_card_answer(por->data, script->size(), script->back(), canteen().aid);
    assert_ok(answer);
    return {*answer, state_from_registry(answer->life_cycle, op).name()};
}

std::optional<uint8_t> card_life_cycle(sim::Uicc& card) {
    const auto* app = card.find_app(hex(canteen().aid));
    return app ? std::optional<uint8_t>(app->life_cycle) : std::nullopt;
}

void test_transitions(void**) {
    using O = Operation;
    struct Row {
        O op;
        const char* state;
        bool allowed;
    } rows[] = {
        {O::Install, "absent", true},     {O::Install, "terminated", true},
        {O::Install, "installed", false}, {O::Activate, "installed", true},
        {O::Activate, "active", false},   {O::Activate, "suspended", false},
        {O::Suspend, "active", true},     {O::Suspend, "suspended", false},
        {O::Suspend, "installed", false}, {O::Resume, "suspended", true},
        {O::Resume, "active", false},     {O::Terminate, "installed", true},
        {O::Terminate, "active", true},   {O::Terminate, "suspended", true},
        {O::Terminate, "absent", false},  {O::Terminate, "terminated", false},
        {O::Query, "unknown", true},      {O::Query, "absent", true},
        {O::Suspend, "unknown", false},   {O::Activate, "pending:activate", false},
    };
    for (const auto& r : rows) {
        const auto refusal = transition_refusal(r.op, *CardAppState::parse(r.state));
        if (refusal.has_value() == r.allowed)
            fail_msg("%s from %s: expected %s", operation_name(r.op), r.state,
                     r.allowed ? "allowed" : "refused");
    }
    assert_string_equal(transition_refusal(O::Suspend, {AppState::Suspended})->c_str(),
                        "suspend is not allowed: the application is suspended");
}

void test_suspend_script_bytes(void**) {
    auto script = operation_script(Operation::Suspend, canteen(), {});
    assert_ok(script);
    assert_int_equal(script->size(), 2);
    // SET STATUS (GP §11.10): CLA 80 INS F0, P1 40 application, P2 80 lock, the AID.
    assert_string_equal((*script)[0].hex().c_str(), "80f040800af04f5441470101010001");
    // GET STATUS (GP §11.4): P1 40 applications, P2 02 TLV format, search '4F' AID, Le 00.
    assert_string_equal((*script)[1].hex().c_str(), "80f240020c4f0af04f544147010101000100");
}

void test_canteen_flows_on_a_card(void**) {
    sim::Uicc card = make_card();
    OperationInput perso;
    perso.personalisation = hex("0101083030303030303137"                 // DGI 0101: serial
                                "01021000112233445566778899aabbccddeeff" // DGI 0102: key
                                "01030400000064");                       // DGI 0103: balance
    Run r = run(card, Operation::Activate, 1, perso);
    assert_true(r.answer.completed);
    assert_string_equal(r.state.c_str(), "active");
    assert_int_equal(*card_life_cycle(card), 0x07);

    r = run(card, Operation::Suspend, 2);
    assert_string_equal(r.state.c_str(), "suspended");
    assert_int_equal(*card_life_cycle(card), 0x87);

    r = run(card, Operation::Resume, 3);
    assert_string_equal(r.state.c_str(), "active");
    assert_int_equal(*card_life_cycle(card), 0x07);

    r = run(card, Operation::Query, 4);
    assert_string_equal(r.state.c_str(), "active");

    r = run(card, Operation::Terminate, 5);
    assert_true(r.answer.completed);
    assert_false(r.answer.life_cycle.has_value());
    assert_string_equal(r.state.c_str(), "terminated");
    assert_false(card_life_cycle(card).has_value());

    r = run(card, Operation::Install, 6);
    assert_true(r.answer.completed);
    assert_string_equal(r.state.c_str(), "active");
    assert_int_equal(*card_life_cycle(card), 0x07);

    // Terminate with related objects: DELETE of the load file, P2 80 (GP 2.3 §11.2.2.1): the
    // package and every instance of it go.
    OperationInput related;
    related.related = true;
    auto script = operation_script(Operation::Terminate, canteen(), related);
    assert_ok(script);
    assert_string_equal((*script)[0].hex().c_str(), "80e40080094f07f04f544147010100");
    r = run(card, Operation::Terminate, 7, related);
    assert_true(r.answer.completed);
    assert_string_equal(r.state.c_str(), "terminated");
    assert_null(card.find_load_file(hex("f04f5441470101")));
    db::Application no_elf = canteen();
    no_elf.load_file_aid.clear();
    assert_error_contains(operation_script(Operation::Terminate, no_elf, related),
                          "names no load file");
}

void test_refused_command_is_reported(void**) {
    sim::Uicc card = make_card();
    // Resume of an application that is not locked: the card answers the SET STATUS itself
    // (GP §11.10.3), so the script stops at command 0 and GET STATUS does not run.
    run(card, Operation::Suspend, 1); // installed -> locked: the card allows it
    run(card, Operation::Terminate, 2);
    Run r = run(card, Operation::Suspend, 3); // nothing to lock any more
    assert_false(r.answer.completed);
    assert_int_equal(r.answer.failed_command, 0);
    assert_int_equal(r.answer.failed_sw, 0x6a88);
    assert_false(card_life_cycle(card).has_value());
}

void test_bad_answers_are_errors(void**) {
    auto script = operation_script(Operation::Query, canteen(), {});
    assert_ok(script);
    // Not a compact response; a count beyond the script; a registry without the application.
    assert_error_contains(read_card_answer(hex(""), 1, script->back(), canteen().aid),
                          "PoR response data");
    assert_error_contains(read_card_answer(hex("059000"), 1, script->back(), canteen().aid),
                          "ran 5 of 1");
    assert_error_contains(read_card_answer(hex("019000"
                                               "e3104f0af04f54414701020100019f700107"),
                                           1, script->back(), canteen().aid),
                          "GET STATUS answer");
    db::Application no_elf = canteen();
    no_elf.load_file_aid.clear();
    assert_error_contains(operation_script(Operation::Install, no_elf, {}), "no load file");
    db::Application bad_tar = canteen();
    bad_tar.tar = "c0";
    assert_error_contains(operation_script(Operation::Install, bad_tar, {}), "TAR is 3 bytes");
}

} // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_transitions),
        cmocka_unit_test(test_suspend_script_bytes),
        cmocka_unit_test(test_canteen_flows_on_a_card),
        cmocka_unit_test(test_refused_command_is_reported),
        cmocka_unit_test(test_bad_answers_are_errors),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
