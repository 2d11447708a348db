// SPDX-License-Identifier: GPL-2.0-or-later
// The ESME against the in-repo SMSC over loopback: binds, SMS-PP submission byte for byte,
// segments and message_payload, receipts, MO and PoR reassembly, window and TPS, and faults
// (throttling, disconnects, dropped responses, a dead enquire_link, failover): every message
// ends acknowledged or failed with a reason, and no acknowledged segment is sent again.
#include <algorithm>
#include <map>
#include <set>

#include "otagw/ota/ts_31_115.hpp"
#include "otagw/smpp/status.hpp"
#include "smpp_harness.hpp"
#include "test_support.hpp"

using namespace otagw;
using namespace otagw::smpp;
using test::hex;

namespace {

SmsPp sms_to(const std::string& dest, Bytes ud) {
    SmsPp m;
    m.source = {1, 1, "8888"};
    m.dest = {1, 1, dest};
    m.user_data = std::move(ud);
    return m;
}

Bytes command_ud(size_t packet_size, uint8_t seed) {
    Bytes packet(packet_size);
    for (size_t i = 0; i < packet.size(); i++)
        packet[i] = static_cast<uint8_t>(seed + i * 13);
    return ota::sms::command_user_data(packet);
}

struct Scenario {
    test::Loop l;
    Counters counters;
    std::unique_ptr<Smsc> smsc;
    std::unique_ptr<Esme> esme;
    std::vector<MtMessage> mt;
    std::vector<Receipt> receipts;
    std::vector<Mo> mos;
    std::map<uint64_t, SubmitResult> results;

    explicit Scenario(SmscConfig sc = test::smsc_config()) {
        smsc = std::make_unique<Smsc>(&l.loop, std::move(sc));
        assert_int_equal(smsc->start(), 0);
        smsc->route("", [this](const MtMessage& m) { mt.push_back(m); });
    }
    // With `hold`: the ESME's answers to deliver_sm wait here until released.
    std::vector<std::function<void(bool)>> held;
    bool hold = false;
    MoVerdict verdict = MoVerdict::Taken; // what on_mo answers
    void start_esme(EsmeConfig ec) {
        Esme::Handlers h;
        if (hold)
            h.durable = [this](std::function<void(bool)> answer) {
                held.push_back(std::move(answer));
            };
        h.on_receipt = [this](const Receipt& r) {
            receipts.push_back(r);
        };
        h.on_mo = [this](const Mo& m) {
            mos.push_back(m);
            return verdict;
        };
        esme = std::make_unique<Esme>(&l.loop, std::move(ec), std::move(h), &counters);
        esme->start();
    }
    void start_esme(BindConfig b) {
        EsmeConfig ec;
        ec.binds.push_back(b);
        ec.retry_delay_ms = 20;
        ec.throttle_backoff_min_ms = 5;
        ec.throttle_backoff_max_ms = 50;
        start_esme(ec);
    }
    bool wait_bound(size_t n = 1) {
        return test::run_until(
            &l.loop, [&] { return esme->bound_sessions() >= n; }, 5000);
    }
    uint64_t submit(SmsPp m) {
        return esme->submit(std::move(m), [this](const SubmitResult& r) {
            assert_true(results.find(r.id) == results.end()); // exactly once
            results[r.id] = r;
        });
    }
    bool wait_results(size_t n, uint64_t ms = 10000) {
        return test::run_until(
            &l.loop, [&] { return results.size() >= n; }, ms);
    }
    void shutdown() {
        bool stopped = false;
        esme->stop([&] { stopped = true; });
        test::run_until(
            &l.loop, [&] { return stopped; }, 5000);
        assert_true(stopped);
        esme.reset();
        smsc.reset();
    }
};

void test_bind_credentials(void**) {
    Scenario bad;
    BindConfig b = test::bind_to(bad.smsc->port());
    b.password = "wrong";
    bad.start_esme(b);
    test::run_until(
        &bad.l.loop, [&] { return bad.counters.get("smpp:bind:refused") >= 2; }, 5000);
    assert_true(bad.counters.get("smpp:bind:refused") >= 2); // refused, and tried again later
    assert_int_equal(bad.esme->bound_sessions(), 0);
    bad.shutdown();

    Scenario good;
    good.start_esme(test::bind_to(good.smsc->port()));
    assert_true(good.wait_bound());
    assert_int_equal(good.smsc->bound("OTAGW"), 1);
    good.shutdown();
}

void test_sms_pp_bytes_and_receipt(void**) {
    Scenario s;
    s.start_esme(test::bind_to(s.smsc->port()));
    assert_true(s.wait_bound());
    Bytes ud = hex("02700000201506193535b00011ae733256918d050b87c94fbfe12e4dc402f262c41cf67f2f");
    uint64_t id = s.submit(sms_to("1001", ud));
    assert_true(s.wait_results(1));
    assert_true(test::run_until(
        &s.l.loop, [&] { return s.receipts.size() == 1; }, 3000));
    const SubmitResult& r = s.results[id];
    assert_true(r.ok);
    assert_int_equal(r.segments.size(), 1);
    assert_int_equal(r.segments[0].command_status, ESME_ROK);
    assert_false(r.segments[0].message_id.empty());
    assert_int_equal(s.mt.size(), 1);
    const SubmitSm& sm = s.mt[0].sm;
    assert_int_equal(sm.esm_class, 0x40);
    assert_int_equal(sm.protocol_id, 0x7f);
    assert_int_equal(sm.data_coding, 0xf6);
    assert_int_equal(sm.registered_delivery, 1);
    assert_string_equal(sm.dest.addr.c_str(), "1001");
    assert_true(sm.short_message == ud);
    assert_int_equal(*sm.user_message_reference(), r.segments[0].user_message_reference);
    // The receipt comes back correlated to the submission.
    assert_int_equal(*s.receipts[0].submission_id, id);
    assert_string_equal(s.receipts[0].stat.c_str(), "DELIVRD");
    assert_int_equal(*s.receipts[0].message_state, 2);
    s.shutdown();
}

void test_receipts_correlate_by_reference_with_constant_ids(void**) {
    // osmo-msc answers every submit_sm with message_id "msg_id_not_implemented".
    SmscConfig sc = test::smsc_config();
    sc.faults.constant_message_id = true;
    Scenario s(sc);
    s.start_esme(test::bind_to(s.smsc->port()));
    assert_true(s.wait_bound());
    std::vector<uint64_t> ids;
    for (int i = 0; i < 5; i++)
        ids.push_back(
            s.submit(sms_to("100" + std::to_string(i), command_ud(20, static_cast<uint8_t>(i)))));
    assert_true(s.wait_results(5));
    assert_true(test::run_until(
        &s.l.loop, [&] { return s.receipts.size() == 5; }, 3000));
    std::set<uint64_t> correlated;
    for (const Receipt& r : s.receipts) {
        assert_string_equal(r.message_id.c_str(), "msg_id_not_implemented");
        assert_true(r.submission_id.has_value());
        correlated.insert(*r.submission_id);
    }
    assert_true(correlated == std::set<uint64_t>(ids.begin(), ids.end()));
    s.shutdown();
}

void test_segments_and_message_payload(void**) {
    Scenario s;
    s.start_esme(test::bind_to(s.smsc->port()));
    assert_true(s.wait_bound());
    Bytes ud = command_ud(400, 7); // 3 SMS
    uint64_t id = s.submit(sms_to("1002", ud));
    assert_true(s.wait_results(1));
    assert_true(s.results[id].ok);
    assert_int_equal(s.results[id].segments.size(), 3);
    assert_int_equal(s.mt.size(), 3);
    ota::sms::Reassembler r;
    std::optional<Bytes> whole;
    for (const MtMessage& m : s.mt) {
        assert_true(m.sm.short_message.size() <= 140);
        auto out = r.add("x", m.sm.short_message, 0);
        assert_ok(out);
        if (*out)
            whole = **out;
    }
    assert_true(whole.has_value() && *whole == ud);
    s.shutdown();

    // The same with message_payload: one submit_sm, sm_length 0.
    Scenario p;
    BindConfig b = test::bind_to(p.smsc->port());
    b.message_payload = true;
    p.start_esme(b);
    assert_true(p.wait_bound());
    uint64_t pid = p.submit(sms_to("1002", ud));
    assert_true(p.wait_results(1));
    assert_true(p.results[pid].ok);
    assert_int_equal(p.mt.size(), 1);
    assert_true(p.mt[0].sm.short_message.empty());
    assert_true(Bytes(p.mt[0].sm.user_data().begin(), p.mt[0].sm.user_data().end()) == ud);
    p.shutdown();
}

void test_mo_and_concatenated_por(void**) {
    Scenario s;
    s.start_esme(test::bind_to(s.smsc->port()));
    assert_true(s.wait_bound());
    // A PoR in two SMS, the second first, from a network-specific number (osmo-msc's TON 3).
    Bytes por(250);
    for (size_t i = 0; i < por.size(); i++)
        por[i] = static_cast<uint8_t>(i);
    auto segs = ota::sms::segment_packet(por, ota::sms::kIeiResponsePacket, 9);
    assert_ok(segs);
    for (size_t i : {size_t{1}, size_t{0}}) {
        DeliverSm d;
        d.source = {3, 1, "1001"};
        d.dest = {1, 1, "8888"};
        d.esm_class = 0x40;
        d.protocol_id = 0x7f;
        d.data_coding = 0xf6;
        d.short_message = segs->at(i);
        s.smsc->deliver(d);
    }
    DeliverSm text;
    text.source = {3, 1, "1002"};
    text.dest = {1, 1, "8888"};
    text.short_message = Bytes{'S', 'U', 'S', ' ', '0', '1'};
    s.smsc->deliver(text);
    assert_true(test::run_until(
        &s.l.loop, [&] { return s.mos.size() == 2; }, 3000));
    const Mo& p = s.mos[0].udhi ? s.mos[0] : s.mos[1];
    const Mo& t = s.mos[0].udhi ? s.mos[1] : s.mos[0];
    Bytes want{0x02, 0x71, 0x00};
    append(want, por);
    assert_true(p.user_data == want);
    assert_int_equal(p.source.ton, 3);
    assert_string_equal(std::string(t.user_data.begin(), t.user_data.end()).c_str(), "SUS 01");
    s.shutdown();
}

// With `durable` set, the SMSC gets its deliver_sm_resp only once the handler's writes are
// released (the daemon releases it after its group commit): nothing is answered unrecorded.
void test_mo_answered_once_durable(void**) {
    Scenario s;
    s.hold = true;
    s.start_esme(test::bind_to(s.smsc->port()));
    assert_true(s.wait_bound());
    DeliverSm text;
    text.source = {1, 1, "4479000001"};
    text.dest = {1, 1, "4321"};
    text.short_message = Bytes{'Q', 'R', 'Y', ' ', '0', '1'};
    std::optional<uint32_t> answered;
    s.smsc->deliver(text, [&](uint32_t status) { answered = status; });
    assert_true(test::run_until(
        &s.l.loop, [&] { return s.mos.size() == 1; }, 3000));
    test::run_until(
        &s.l.loop, [] { return false; }, 100);
    assert_false(answered.has_value()); // recorded, not yet durable: no answer
    assert_int_equal(s.held.size(), 1);
    s.held[0](true);
    assert_true(test::run_until(
        &s.l.loop, [&] { return answered.has_value(); }, 3000));
    assert_int_equal(*answered, 0);
    // Its writes could not be committed: a temporary error, so that the SMSC delivers again.
    answered.reset();
    s.smsc->deliver(text, [&](uint32_t status) { answered = status; });
    assert_true(test::run_until(
        &s.l.loop, [&] { return s.held.size() == 2; }, 3000));
    s.held[1](false);
    assert_true(test::run_until(
        &s.l.loop, [&] { return answered.has_value(); }, 3000));
    assert_int_equal(*answered, ESME_RX_T_APPN);
    s.shutdown();
}

// A handler that cannot keep an MO now (its database locked) gets it answered ESME_RX_T_APPN at
// once (9274d6b answered ESME_ROK and lost it); a message in two parts whose last part is
// refused so is whole again when the SMSC delivers that part again, its first part having been
// answered already.
void test_mo_retry_later(void**) {
    Scenario s;
    s.hold = true;
    s.start_esme(test::bind_to(s.smsc->port()));
    assert_true(s.wait_bound());
    auto part = [](uint8_t seq, const char* text) {
        DeliverSm d;
        d.source = {1, 1, "4479000002"};
        d.dest = {1, 1, "4321"};
        d.esm_class = 0x40;
        d.short_message = Bytes{0x05, 0x00, 0x03, 0x2a, 0x02, seq};
        d.short_message.insert(d.short_message.end(), text, text + strlen(text));
        return d;
    };
    std::vector<uint32_t> answers;
    auto deliver = [&](const DeliverSm& d) {
        const size_t before = answers.size();
        s.smsc->deliver(d, [&](uint32_t status) { answers.push_back(status); });
        return test::run_until(
            &s.l.loop,
            [&] {
                for (auto& h : s.held)
                    h(true);
                s.held.clear();
                return answers.size() > before;
            },
            3000);
    };
    assert_true(deliver(part(1, "QRY ")));
    s.verdict = MoVerdict::RetryLater;
    assert_true(deliver(part(2, "01")));
    assert_int_equal(answers[0], ESME_ROK);
    assert_int_equal(answers[1], ESME_RX_T_APPN);
    assert_int_equal(s.mos.size(), 1);
    s.verdict = MoVerdict::Taken;
    assert_true(deliver(part(2, "01")));
    assert_int_equal(answers[2], ESME_ROK);
    assert_int_equal(s.mos.size(), 2);
    const Bytes& whole = s.mos[1].user_data;
    assert_string_equal(std::string(whole.begin() + 1, whole.end()).c_str(), "QRY 01");
    s.shutdown();
}

void test_window_and_tps(void**) {
    SmscConfig sc = test::smsc_config();
    sc.faults.delay_response_ms = 30;
    Scenario s(sc);
    BindConfig b = test::bind_to(s.smsc->port());
    b.window = 4;
    s.start_esme(b);
    assert_true(s.wait_bound());
    size_t max_in_flight = 0;
    uv::Timer sample(&s.l.loop);
    sample.start(
        0, [&] { max_in_flight = std::max(max_in_flight, s.esme->in_flight()); }, 1);
    for (int i = 0; i < 40; i++)
        s.submit(sms_to("1003", command_ud(10, static_cast<uint8_t>(i))));
    assert_true(s.wait_results(40));
    sample.stop();
    assert_true(max_in_flight <= 4);
    assert_true(max_in_flight >= 2);
    s.shutdown();

    // 20 submit_sm per second: 30 messages cannot take less than about a second.
    Scenario t;
    BindConfig tb = test::bind_to(t.smsc->port());
    tb.tps = 20;
    t.start_esme(tb);
    assert_true(t.wait_bound());
    const uint64_t start = uv_now(&t.l.loop);
    for (int i = 0; i < 30; i++)
        t.submit(sms_to("1004", command_ud(10, static_cast<uint8_t>(i))));
    assert_true(t.wait_results(30));
    uv_update_time(&t.l.loop);
    assert_true(uv_now(&t.l.loop) - start >= 900);
    t.shutdown();
}

// Campaign traffic behind a subscriber's message: with one submit_sm at a time, 20 bulk messages
// queued first, a message queued after them still goes next (after the one in flight).
void test_bulk_waits_for_other_traffic(void**) {
    SmscConfig sc = test::smsc_config();
    sc.faults.delay_response_ms = 10;
    Scenario s(sc);
    BindConfig b = test::bind_to(s.smsc->port());
    b.window = 1;
    s.start_esme(b);
    assert_true(s.wait_bound());
    for (int i = 0; i < 20; i++) {
        SmsPp m = sms_to("2000", command_ud(10, static_cast<uint8_t>(i)));
        m.bulk = true;
        s.submit(std::move(m));
    }
    assert_int_equal(s.esme->bulk_queued(), 19); // one went out at once
    s.submit(sms_to("2001", command_ud(10, 99)));
    assert_int_equal(s.esme->queued(), 20);
    assert_true(s.wait_results(21));
    assert_int_equal(s.mt.size(), 21);
    assert_string_equal(s.mt[0].sm.dest.addr.c_str(), "2000");
    assert_string_equal(s.mt[1].sm.dest.addr.c_str(), "2001");
    for (size_t i = 2; i < s.mt.size(); i++)
        assert_string_equal(s.mt[i].sm.dest.addr.c_str(), "2000");
    s.shutdown();
}

// Faults: whatever the SMSC does, each message ends once, acknowledged; every segment reached
// the SMSC at least once, and never more often than the ESME sent it (an SMSC that cut the line
// after accepting a segment but before its answer got out sees it again: at least once). The
// ESME sends no segment after its acknowledgement: the submit_sm it sent add up to the attempts
// its results report.
void check_outcomes(Scenario& s, size_t n) {
    assert_int_equal(s.results.size(), n);
    std::map<uint16_t, uint32_t> seen;
    for (const MtMessage& m : s.mt)
        seen[*m.sm.user_message_reference()]++;
    uint64_t attempts = 0;
    for (const auto& [id, r] : s.results) {
        if (!r.ok) {
            print_error("message %llu failed: %s\n", static_cast<unsigned long long>(id),
                        r.error.c_str());
            fail();
        }
        for (const SegmentResult& seg : r.segments) {
            assert_true(seen[seg.user_message_reference] >= 1);
            assert_true(seen[seg.user_message_reference] <= seg.attempts);
            attempts += seg.attempts;
        }
    }
    assert_int_equal(attempts, s.counters.get("smpp:submit_sm:sent"));
}

void test_throttling_and_queue_full(void**) {
    SmscConfig sc = test::smsc_config();
    sc.faults.throttle_every = 3;
    sc.faults.queue_full_every = 7;
    Scenario s(sc);
    s.start_esme(test::bind_to(s.smsc->port()));
    assert_true(s.wait_bound());
    for (int i = 0; i < 60; i++)
        s.submit(sms_to("2000", command_ud(10, static_cast<uint8_t>(i))));
    assert_true(s.wait_results(60, 20000));
    check_outcomes(s, 60);
    assert_true(s.counters.get("smpp:submit_sm:throttled") >= 20);
    s.shutdown();
}

void test_disconnects_and_dropped_responses(void**) {
    SmscConfig sc = test::smsc_config();
    sc.faults.disconnect_after = 10;
    sc.faults.drop_response_every = 9;
    Scenario s(sc);
    BindConfig b = test::bind_to(s.smsc->port());
    b.response_timeout_ms = 200;
    s.start_esme(b);
    assert_true(s.wait_bound());
    for (int i = 0; i < 50; i++)
        s.submit(sms_to("3000", command_ud(150, static_cast<uint8_t>(i)))); // 2 segments each
    assert_true(s.wait_results(50, 20000));
    check_outcomes(s, 50);
    assert_true(s.counters.get("smpp:bind:lost") >= 1);
    assert_true(s.counters.get("smpp:submit_sm:timeout") >= 1);
    s.shutdown();
}

void test_permanent_error_and_ordering(void**) {
    SmscConfig sc = test::smsc_config();
    sc.faults.fail_destinations["9999"] = ESME_RINVDSTADR;
    sc.faults.throttle_every = 2; // would reorder unordered messages
    Scenario s(sc);
    s.start_esme(test::bind_to(s.smsc->port()));
    assert_true(s.wait_bound());
    uint64_t bad = s.submit(sms_to("9999", command_ud(10, 1)));
    std::vector<uint64_t> ordered;
    for (int i = 0; i < 8; i++) {
        SmsPp m = sms_to("4000", command_ud(10, static_cast<uint8_t>(i)));
        m.ordered = true;
        ordered.push_back(s.submit(m));
    }
    assert_true(s.wait_results(9));
    const SubmitResult& r = s.results[bad];
    assert_false(r.ok);
    assert_int_equal(r.segments[0].command_status, ESME_RINVDSTADR);
    assert_int_equal(r.segments[0].attempts, 1); // not worth another try
    assert_string_equal(r.error.c_str(), "ESME_RINVDSTADR");
    // Ordered messages reached the SMSC in submission order despite throttling.
    std::vector<uint16_t> refs_sent, refs_got;
    for (uint64_t id : ordered)
        refs_sent.push_back(s.results[id].segments[0].user_message_reference);
    for (const MtMessage& m : s.mt)
        if (m.sm.dest.addr == "4000")
            refs_got.push_back(*m.sm.user_message_reference());
    assert_true(refs_sent == refs_got);
    s.shutdown();
}

void test_dead_enquire_link_and_failover(void**) {
    SmscConfig dead = test::smsc_config();
    dead.faults.ignore_enquire_link = true;
    Scenario s(dead);
    Smsc second(&s.l.loop, test::smsc_config());
    assert_int_equal(second.start(), 0);
    std::vector<MtMessage> via_second;
    second.route("", [&](const MtMessage& m) { via_second.push_back(m); });
    EsmeConfig ec;
    BindConfig a = test::bind_to(s.smsc->port(), "a");
    a.enquire_link_ms = 50;
    a.response_timeout_ms = 100;
    BindConfig b = test::bind_to(second.port(), "b");
    ec.binds = {a, b};
    ec.retry_delay_ms = 20;
    s.start_esme(ec);
    assert_true(s.wait_bound(2));
    // The first SMSC stops answering enquire_link: its bind is dropped and rebuilt.
    assert_true(test::run_until(
        &s.l.loop, [&] { return s.counters.get("smpp:enquire_link:timeout") >= 1; }, 3000));
    // The first SMSC goes away entirely: traffic continues over the second.
    s.smsc->stop();
    for (int i = 0; i < 20; i++)
        s.submit(sms_to("5000", command_ud(10, static_cast<uint8_t>(i))));
    assert_true(s.wait_results(20));
    for (const auto& [id, r] : s.results)
        assert_true(r.ok);
    assert_true(via_second.size() >= 20);
    bool stopped = false;
    s.esme->stop([&] { stopped = true; });
    test::run_until(
        &s.l.loop, [&] { return stopped; }, 3000);
    s.esme.reset();
    second.stop();
    s.smsc.reset();
}

void test_smsc_restart_and_duplicate_deliveries(void**) {
    Scenario s;
    const uint16_t port = s.smsc->port();
    s.start_esme(test::bind_to(port));
    assert_true(s.wait_bound());
    for (int i = 0; i < 10; i++)
        s.submit(sms_to("8000", command_ud(10, static_cast<uint8_t>(i))));
    // The SMSC restarts mid-stream: same port, a fresh process state.
    s.smsc.reset();
    SmscConfig sc = test::smsc_config();
    sc.port = port;
    sc.faults.duplicate_deliver_every = 1; // and now delivers everything twice
    s.smsc = std::make_unique<Smsc>(&s.l.loop, sc);
    assert_int_equal(s.smsc->start(), 0);
    s.smsc->route("", [&](const MtMessage& m) { s.mt.push_back(m); });
    for (int i = 10; i < 20; i++)
        s.submit(sms_to("8000", command_ud(10, static_cast<uint8_t>(i))));
    assert_true(s.wait_results(20, 15000));
    for (const auto& [id, r] : s.results)
        assert_true(r.ok);
    assert_true(s.counters.get("smpp:bind:lost") >= 1);
    // A concatenated PoR delivered twice over: one MO, the duplicates dropped by reassembly.
    auto segs = ota::sms::segment_packet(Bytes(200, 0x42), ota::sms::kIeiResponsePacket, 3);
    assert_ok(segs);
    for (const Bytes& seg : *segs) {
        DeliverSm d;
        d.source = {1, 1, "8000"};
        d.esm_class = 0x40;
        d.short_message = seg;
        s.smsc->deliver(d);
    }
    auto pors = [&] {
        size_t n = 0;
        for (const Mo& m : s.mos)
            n += m.udhi;
        return n;
    };
    assert_true(test::run_until(
        &s.l.loop, [&] { return pors() >= 1; }, 3000));
    test::run_until(
        &s.l.loop, [] { return false; }, 300); // the duplicates arrive too
    assert_int_equal(pors(), 1);
    s.shutdown();
}

void test_transmitter_receiver_pair(void**) {
    Scenario s;
    BindConfig b = test::bind_to(s.smsc->port());
    b.mode = BindMode::TransmitterReceiver;
    s.start_esme(b);
    assert_true(s.wait_bound(2)); // a transmitter and a receiver session
    assert_int_equal(s.smsc->bound("OTAGW"), 2);
    uint64_t id = s.submit(sms_to("7000", command_ud(20, 1)));
    assert_true(s.wait_results(1));
    assert_true(s.results[id].ok);
    assert_string_equal(s.results[id].segments[0].bind.c_str(), "smsc/tx");
    // The receipt and an MO arrive over the receiver.
    assert_true(test::run_until(
        &s.l.loop, [&] { return s.receipts.size() == 1; }, 3000));
    assert_string_equal(s.receipts[0].bind.c_str(), "smsc/rx");
    DeliverSm mo;
    mo.source = {1, 1, "7000"};
    mo.short_message = Bytes{'Q', 'R', 'Y'};
    s.smsc->deliver(mo);
    assert_true(test::run_until(
        &s.l.loop, [&] { return s.mos.size() == 1; }, 3000));
    assert_string_equal(s.mos[0].bind.c_str(), "smsc/rx");
    s.shutdown();
}

void test_stop_fails_what_is_left(void**) {
    Scenario s;
    BindConfig b = test::bind_to(s.smsc->port());
    b.tps = 1; // most messages are still queued when we stop
    s.start_esme(b);
    assert_true(s.wait_bound());
    for (int i = 0; i < 10; i++)
        s.submit(sms_to("6000", command_ud(10, static_cast<uint8_t>(i))));
    test::run_until(
        &s.l.loop, [&] { return !s.results.empty(); }, 3000);
    s.shutdown();
    assert_int_equal(s.results.size(), 10);
    size_t stopped = 0;
    for (const auto& [id, r] : s.results)
        stopped += !r.ok && r.error.find("stopped") != std::string::npos;
    assert_true(stopped >= 5);
    // A message longer than one SMS without a splittable UDH is refused at once.
    Scenario t;
    t.start_esme(test::bind_to(t.smsc->port()));
    uint64_t id = t.submit(sms_to("1", Bytes(200, 0x11)));
    assert_false(t.results[id].ok);
    if (t.results[id].error.find("UDH") == std::string::npos) {
        print_error("error: %s\n", t.results[id].error.c_str());
        fail();
    }
    t.shutdown();
}

} // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bind_credentials),
        cmocka_unit_test(test_sms_pp_bytes_and_receipt),
        cmocka_unit_test(test_receipts_correlate_by_reference_with_constant_ids),
        cmocka_unit_test(test_segments_and_message_payload),
        cmocka_unit_test(test_mo_and_concatenated_por),
        cmocka_unit_test(test_mo_answered_once_durable),
        cmocka_unit_test(test_mo_retry_later),
        cmocka_unit_test(test_window_and_tps),
        cmocka_unit_test(test_bulk_waits_for_other_traffic),
        cmocka_unit_test(test_throttling_and_queue_full),
        cmocka_unit_test(test_disconnects_and_dropped_responses),
        cmocka_unit_test(test_permanent_error_and_ordering),
        cmocka_unit_test(test_dead_enquire_link_and_failover),
        cmocka_unit_test(test_smsc_restart_and_duplicate_deliveries),
        cmocka_unit_test(test_transmitter_receiver_pair),
        cmocka_unit_test(test_stop_fails_what_is_left),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
