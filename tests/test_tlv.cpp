// SPDX-License-Identifier: GPL-2.0-or-later
// BER-TLV, COMPREHENSION-TLV, SIMPLE/DGI and COMPACT-TLV against ber_tlv.json, plus the
// strictness rules (malformed input is an error, never a guess).
#include "otagw/common/tlv.hpp"
#include "test_support.hpp"

using namespace otagw;
using namespace otagw::tlv;
using test::hex;

namespace {

// Counts (recursively) the TLV nodes the GPPro visualiser prints: constructed values are
// parsed as nested lists.
size_t count_nodes(ByteView in) {
    auto list = parse_ber_tlvs(in);
    assert_true(list.ok());
    size_t n = 0;
    for (const auto& t : *list) {
        n++;
        if (t.constructed)
            n += count_nodes(t.value);
    }
    return n;
}

void run_vector(const test::Json& v) {
    const std::string id = v["id"];
    print_message("vector %s\n", id.c_str());
    if (id == "pysim-bertlv-parse-tag") {
        for (const auto& c : v["cases"]) {
            Bytes in = hex(c["encoded"]);
            size_t pos = 0;
            auto tag = parse_ber_tag(in, pos);
            assert_ok(tag);
            assert_int_equal(tag->number(), c["tag_number"].get<int>());
            assert_int_equal(tag->constructed(), c["constructed"].get<bool>());
            assert_int_equal(static_cast<int>(tag->tag_class()), c["class"].get<int>());
            assert_hex_equal(ByteView(in).subspan(pos), c["remainder"].get<std::string>());
        }
    } else if (id == "pysim-bertlv-encode-len") {
        for (const auto& c : v["cases"]) {
            Bytes out;
            append_ber_length(out, c["length"].get<size_t>());
            assert_hex_equal(out, c["encoded"].get<std::string>());
        }
    } else if (id == "pysim-bertlv-parse-len") {
        for (const auto& c : v["cases"]) {
            Bytes in = hex(c["encoded"]);
            size_t pos = 0;
            auto len = parse_ber_length(in, pos);
            assert_ok(len);
            assert_int_equal(*len, c["length"].get<size_t>());
            assert_hex_equal(ByteView(in).subspan(pos), c["remainder"].get<std::string>());
        }
    } else if (id == "pysim-bertlv-parse-one") {
        Bytes in = hex(v["inputs"]["encoded"]);
        size_t pos = 0;
        auto t = parse_ber_tlv(in, pos);
        assert_ok(t);
        BerTag tag{t->tag, static_cast<uint8_t>(ber_tag_size(t->tag))};
        assert_int_equal(tag.number(), v["expected"]["tag_number"].get<int>());
        assert_int_equal(static_cast<int>(tag.tag_class()), v["expected"]["class"].get<int>());
        assert_int_equal(t->constructed, v["expected"]["constructed"].get<bool>());
        assert_int_equal(t->value.size(), v["expected"]["length"].get<size_t>());
        assert_hex_equal(t->value, v["expected"]["value"].get<std::string>());
        assert_hex_equal(ByteView(in).subspan(pos), v["expected"]["remainder"].get<std::string>());
    } else if (id == "pysim-comprehension-tlv-tags") {
        for (const auto& c : v["cases"]) {
            if (c.contains("encoded")) {
                Bytes in = hex(c["encoded"]);
                size_t pos = 0;
                auto tag = parse_comprehension_tag(in, pos);
                assert_ok(tag);
                assert_int_equal(tag->value, c["tag"].get<int>());
                assert_int_equal(tag->comprehension_required,
                                 c["comprehension_required"].get<bool>());
                assert_hex_equal(ByteView(in).subspan(pos), c["remainder"].get<std::string>());
            } else {
                Bytes out;
                assert_ok(append_comprehension_tag(
                    out, {c["tag"].get<uint16_t>(), c["comprehension_required"].get<bool>()}));
                assert_hex_equal(out, c["encode_to"].get<std::string>());
            }
        }
    } else if (id == "pysim-dgi-length" || id == "gppro-ext-length") {
        for (const auto& c : v["cases"]) {
            if (c.contains("error")) {
                Bytes out;
                assert_false(append_simple_length(out, c["length"].get<size_t>()).ok());
            } else if (c.contains("remainder")) {
                Bytes in = hex(c["encoded"]);
                size_t pos = 0;
                auto len = parse_simple_length(in, pos);
                assert_ok(len);
                assert_int_equal(*len, c["length"].get<size_t>());
                assert_hex_equal(ByteView(in).subspan(pos), c["remainder"].get<std::string>());
            } else {
                Bytes out;
                assert_ok(append_simple_length(out, c["length"].get<size_t>()));
                assert_hex_equal(out, c["encoded"].get<std::string>());
                size_t pos = 0;
                auto back = parse_simple_length(out, pos);
                assert_ok(back);
                assert_int_equal(*back, c["length"].get<size_t>());
            }
        }
    } else if (id == "pysim-compact-tlv-atr") {
        Bytes in = hex(v["inputs"]["encoded"]);
        auto items = parse_compact_tlvs(in);
        assert_ok(items);
        const auto& want = v["expected"]["items"];
        assert_int_equal(items->size(), want.size());
        Bytes again;
        for (size_t i = 0; i < want.size(); i++) {
            assert_int_equal((*items)[i].tag, want[i]["tag"].get<int>());
            assert_hex_equal((*items)[i].value, want[i]["value"].get<std::string>());
            assert_ok(append_compact_tlv(again, (*items)[i].tag, (*items)[i].value));
        }
        assert_hex_equal(again, v["expected"]["re_encoded"].get<std::string>());
    } else if (id == "gppro-tlv-construct") {
        for (const auto& c : v["cases"]) {
            uint32_t tag =
                static_cast<uint32_t>(std::stoul(c["tag"].get<std::string>(), nullptr, 16));
            Bytes value;
            if (c.contains("children")) {
                for (const auto& ch : c["children"])
                    append_ber_tlv(value,
                                   static_cast<uint32_t>(
                                       std::stoul(ch["tag"].get<std::string>(), nullptr, 16)),
                                   hex(ch["value"]));
            } else {
                value = hex(c["value"]);
            }
            assert_hex_equal(ber_tlv(tag, value), c["encoded"].get<std::string>());
        }
    } else if (id == "gppro-tlv-parse-list") {
        Bytes in = hex(v["inputs"]["encoded"]);
        auto list = parse_ber_tlvs(in);
        assert_ok(list);
        assert_int_equal(list->size(), v["expected"]["count"].get<size_t>());
        assert_int_equal(list->front().tag,
                         std::stoul(v["expected"]["first_tag"].get<std::string>(), nullptr, 16));
        assert_int_equal(list->back().tag,
                         std::stoul(v["expected"]["last_tag"].get<std::string>(), nullptr, 16));
    } else if (id == "gppro-ber-length") {
        for (const auto& c : v["cases"]) {
            if (c.contains("decode")) {
                Bytes in = hex(c["decode"]);
                size_t pos = 0;
                assert_false(parse_ber_length(in, pos).ok());
            } else if (c.contains("error")) {
                // -1 and 2^24 cannot be encoded in at most 3 length bytes.
                long long n = c["length"].get<long long>();
                assert_true(n < 0 || static_cast<size_t>(n) > kMaxBerLength);
            } else {
                Bytes out;
                append_ber_length(out, c["length"].get<size_t>());
                assert_hex_equal(out, c["encoded"].get<std::string>());
                size_t pos = 0;
                auto back = parse_ber_length(out, pos);
                assert_ok(back);
                assert_int_equal(*back, c["length"].get<size_t>());
            }
        }
    } else if (id == "gppro-ber-tag-validation") {
        for (const auto& c : v["cases"]) {
            if (c.contains("parse")) {
                Bytes in = hex(c["parse"]);
                size_t pos = 0;
                assert_false(parse_ber_tlv(in, pos).ok());
            } else if (c.contains("valid")) {
                auto tag = ber_tag_from_bytes(hex(c["tag"]));
                assert_ok(tag);
                assert_true(is_valid_ber_tag(*tag));
            } else {
                assert_false(ber_tag_from_bytes(hex(c["tag"])).ok());
            }
        }
    } else if (id == "gppro-simple-dgi-tlv") {
        for (const auto& c : v["cases"]) {
            if (c.contains("simple_tag")) {
                Bytes out{hex(c["simple_tag"])[0]};
                Bytes value = hex(c["value"]);
                assert_ok(append_simple_length(out, value.size()));
                append(out, value);
                assert_hex_equal(out, c["encoded"].get<std::string>());
            } else if (c.contains("simple_tag_invalid")) {
                for (const auto& t : c["simple_tag_invalid"]) {
                    Bytes in = hex(t.get<std::string>() + "0101");
                    size_t pos = 0;
                    assert_false(parse_simple_tlv(in, pos).ok());
                }
            } else if (c.contains("parse_simple")) {
                Bytes in = hex(c["parse_simple"]);
                size_t pos = 0;
                auto t = parse_simple_tlv(in, pos);
                assert_ok(t);
                assert_int_equal(t->tag, hex(c["tag"])[0]);
            } else {
                Bytes in = hex(c["parse_dgi"]);
                size_t pos = 0;
                auto t = parse_dgi_tlv(in, pos);
                assert_ok(t);
                assert_int_equal(t->dgi, std::stoul(c["dgi"].get<std::string>(), nullptr, 16));
                assert_hex_equal(t->value, c["value"].get<std::string>());
                Bytes again;
                assert_ok(append_dgi_tlv(again, t->dgi, t->value));
                assert_hex_equal(again, c["parse_dgi"].get<std::string>());
            }
        }
    } else if (id == "gppro-tlv-nested-parse") {
        for (const auto& c : v["cases"]) {
            if (c.contains("error")) {
                assert_false(parse_ber_tlvs(hex(c["encoded"])).ok());
            } else {
                assert_int_equal(count_nodes(hex(c["encoded"])),
                                 c["visualized_lines"].get<size_t>());
            }
        }
    } else {
        print_error("unhandled vector %s\n", id.c_str());
        fail();
    }
}

void test_ber_tlv_vectors(void**) {
    auto file = test::load_vectors("ber_tlv.json");
    size_t n = 0;
    for (const auto& v : file["vectors"]) {
        run_vector(v);
        n++;
    }
    assert_int_equal(n, file["vectors"].size());
    assert_true(n >= 14);
}

void test_ber_strict_rejections(void**) {
    const char* bad[] = {
        "",               // nothing
        "80",             // length missing
        "8080",           // indefinite length outside a template
        "80840000000001", // 5-byte length field
        "8003aabb",       // value shorter than its length
        "1f",             // truncated high tag
        "1f8001",         // leading zero group in the tag number
        "9f818181010100", // tag longer than 3 bytes
        "000100",         // tag '00'
        "81",             // truncated after the tag
    };
    for (const char* h : bad) {
        Bytes in = hex(h);
        size_t pos = 0;
        auto r = parse_ber_tlv(in, pos);
        if (r.ok()) {
            print_error("accepted malformed BER-TLV '%s'\n", h);
            fail();
        }
    }
    // A list must fill its input exactly: a trailing partial TLV is an error.
    assert_false(parse_ber_tlvs(hex("800101"
                                    "81"))
                     .ok());
    // Non-minimal lengths are tolerated on input (cards send '81 05'), encoded minimally.
    Bytes in = hex("8181050102030405");
    size_t pos = 0;
    auto t = parse_ber_tlv(in, pos);
    assert_ok(t);
    assert_int_equal(t->value.size(), 5);
    // Three-byte tags and lengths round trip.
    Bytes value(300, 0xab);
    Bytes enc = ber_tlv(0xdf8123, value);
    pos = 0;
    auto back = parse_ber_tlv(enc, pos);
    assert_ok(back);
    assert_int_equal(back->tag, 0xdf8123);
    assert_int_equal(back->value.size(), 300);
    assert_hex_equal(ByteView(enc).first(6), "df812382012c");
}

void test_comprehension_rejections(void**) {
    for (const char* h : {"00", "80", "ff", "7f", "7f12", "7f0000", "0281"}) {
        Bytes in = hex(h);
        size_t pos = 0;
        if (parse_comprehension_tlv(in, pos).ok()) {
            print_error("accepted malformed COMPREHENSION-TLV '%s'\n", h);
            fail();
        }
    }
    Bytes out;
    assert_false(append_comprehension_tag(out, {0, false}).ok());
    assert_false(append_comprehension_tag(out, {0x8000, false}).ok());
}

} // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ber_tlv_vectors),
        cmocka_unit_test(test_ber_strict_rejections),
        cmocka_unit_test(test_comprehension_rejections),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
