// SPDX-License-Identifier: GPL-2.0-or-later
// CAP files: a real one (GlobalPlatformPro's Empty applet, tests/data/cap) read, its load file
// data block in the Java Card install order, LOAD commands cut at several block sizes; broken
// archives built here refused with what is wrong.
#include <zip.h>

#include <fstream>
#include <iterator>

#include "cap_builder.hpp"
#include "otagw/ota/cap_file.hpp"
#include "otagw/ota/globalplatform.hpp"
#include "test_support.hpp"

using namespace otagw;
using namespace otagw::ota;

namespace {

Bytes empty_cap() {
    std::ifstream in(OTAGW_TEST_DATA_DIR "/cap/gppro_Empty_0102030405_8d5ac9e2_2.2.1.cap",
                     std::ios::binary);
    return Bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

namespace built = ::test::cap;
using built::zip_of;

void test_real_cap(void**) {
    auto cap = cap::read(empty_cap());
    assert_ok(cap);
    assert_string_equal(cap->package.aid.hex().c_str(), "0102030405");
    assert_int_equal(cap->package.major, 0);
    assert_int_equal(cap->package.minor, 0);
    assert_int_equal(cap->applets.size(), 1);
    assert_string_equal(cap->applets[0].hex().c_str(), "0102030405060708");
    assert_int_equal(cap->imports.size(), 3);
    assert_string_equal(cap->imports[0].aid.hex().c_str(), "a0000000620101"); // javacard.framework
    assert_int_equal(cap->imports[0].major, 1);
    assert_int_equal(cap->imports[0].minor, 2);
    assert_true(cap->component(cap::Component::Export).empty());
    // C4 81 D3, then Header, Directory, Import, Applet, Class, Method, StaticField, (no Export),
    // ConstantPool, RefLocation: 211 bytes.
    const Bytes block = cap->load_file_data_block(false);
    assert_int_equal(block.size(), 214);
    Bytes want = {0xc4, 0x81, 0xd3};
    for (auto c :
         {cap::Component::Header, cap::Component::Directory, cap::Component::Import,
          cap::Component::Applet, cap::Component::Class, cap::Component::Method,
          cap::Component::StaticField, cap::Component::ConstantPool, cap::Component::RefLocation})
        append(want, cap->component(c));
    assert_true(block == want);
    assert_string_equal(to_hex(ByteView(block).first(22)).c_str(),
                        "c481d301000fdecaffed010204000005010203040502");
    // With the Descriptor (72 bytes) last: 283 bytes, a two-byte BER length.
    const Bytes with = cap->load_file_data_block(true);
    assert_int_equal(with.size(), 287);
    assert_string_equal(to_hex(ByteView(with).first(5)).c_str(), "c482011b01");
    assert_true(std::equal(with.end() - 72, with.end(),
                           cap->component(cap::Component::Descriptor).begin()));
}

// Packages built here: several applets, an Export component (placed between StaticField and
// ConstantPool), a library without applets.
void test_built_packages(void**) {
    built::Package p;
    p.aid = *parse_hex("f0112233440a");
    p.applets = {*parse_hex("f0112233440a01"), *parse_hex("f0112233440a02"),
                 *parse_hex("f0112233440a03")};
    p.exports = true;
    auto cap = cap::read(built::archive(p));
    assert_ok(cap);
    assert_string_equal(cap->package.aid.hex().c_str(), "f0112233440a");
    assert_int_equal(cap->package.major, 1);
    assert_int_equal(cap->applets.size(), 3);
    assert_string_equal(cap->applets[2].hex().c_str(), "f0112233440a03");
    assert_false(cap->component(cap::Component::Export).empty());
    assert_true(cap->load_file_data_block(false) == p.load_file_data_block());
    p.applets.clear();
    p.exports = false;
    cap = cap::read(built::archive(p, "lib"));
    assert_ok(cap);
    assert_int_equal(cap->applets.size(), 0);
    assert_true(cap->load_file_data_block(false) == p.load_file_data_block());
}

void test_load_blocks(void**) {
    const Bytes block = cap::read(empty_cap())->load_file_data_block(false);
    for (size_t size : {1u, 16u, 100u, 107u, 213u, 214u, 255u}) {
        auto apdus = gp::load_commands(block, size);
        assert_ok(apdus);
        const size_t count = (214 + size - 1) / size;
        assert_int_equal(apdus->size(), count);
        Bytes joined;
        for (size_t i = 0; i < count; i++) {
            const Apdu& a = (*apdus)[i];
            assert_int_equal(a.cla, 0x80);
            assert_int_equal(a.ins, 0xe8);
            assert_int_equal(a.p1, i + 1 == count ? 0x80 : 0x00);
            assert_int_equal(a.p2, i);
            assert_int_equal(a.data.size(), i + 1 == count ? 214 - size * (count - 1) : size);
            assert_false(a.le.has_value());
            append(joined, a.data);
        }
        assert_true(joined == block);
    }
    auto three = gp::load_commands(block, 100);
    assert_string_equal((*three)[2].hex().substr(0, 12).c_str(), "80e880020e0c");
    assert_error_contains(gp::load_commands(block, 0), "block size 0 is not 1 to 255");
    assert_error_contains(gp::load_commands(block, 256), "block size 256");
    // 287 one-byte blocks: P2 cannot number them.
    assert_error_contains(gp::load_commands(cap::read(empty_cap())->load_file_data_block(true), 1),
                          "287 blocks");
}

void test_broken_archives(void**) {
    assert_error_contains(cap::read(Bytes{'n', 'o', 't'}), "not a ZIP archive");
    Bytes truncated = empty_cap();
    truncated.resize(truncated.size() / 2);
    assert_error_contains(cap::read(truncated), "CAP file:");
    // The real components, one left out or damaged at a time.
    const Bytes real = empty_cap();
    zip_error_t err;
    zip_error_init(&err);
    zip_source_t* src = zip_source_buffer_create(real.data(), real.size(), 0, &err);
    zip_t* z = zip_open_from_source(src, ZIP_RDONLY, &err);
    std::vector<std::pair<std::string, Bytes>> entries;
    for (zip_int64_t i = 0; i < zip_get_num_entries(z, 0); i++) {
        zip_stat_t st;
        zip_stat_index(z, i, 0, &st);
        Bytes c(st.size);
        zip_file_t* f = zip_fopen_index(z, i, 0);
        zip_fread(f, c.data(), c.size());
        zip_fclose(f);
        entries.emplace_back(st.name, std::move(c));
    }
    zip_discard(z);
    zip_error_fini(&err);
    auto without = [&](const std::string& suffix) {
        auto e = entries;
        std::erase_if(e, [&](const auto& x) { return x.first.ends_with(suffix); });
        return zip_of(e);
    };
    auto changed = [&](const std::string& suffix, auto change) {
        auto e = entries;
        for (auto& [name, content] : e)
            if (name.ends_with(suffix))
                change(content);
        return zip_of(e);
    };
    assert_ok(cap::read(zip_of(entries))); // rebuilt, still read
    assert_error_contains(cap::read(without("/Header.cap")),
                          "no Header component (javacard/Header.cap)");
    assert_error_contains(cap::read(without("/Method.cap")), "no Method component");
    assert_ok(cap::read(without("/Applet.cap"))); // a library has none
    assert_error_contains(cap::read(changed("/Class.cap", [](Bytes& c) { c[0] = 0x07; })),
                          "Class.cap: not a Class component");
    assert_error_contains(cap::read(changed("/Method.cap", [](Bytes& c) { c.pop_back(); })),
                          "Method.cap: not a Method component");
    assert_error_contains(cap::read(changed("/Header.cap", [](Bytes& c) { c[3] = 0xca; })),
                          "no magic DECAFFED");
    assert_error_contains(cap::read(changed("/Header.cap", [](Bytes& c) { c[12] = 0x20; })),
                          "Header component package AID: AID runs past the component");
    assert_error_contains(cap::read(changed("/Applet.cap", [](Bytes& c) { c[3] = 2; })),
                          "Applet component");
    auto twice = entries;
    twice.emplace_back("other/javacard/Header.cap", entries[1].second);
    assert_error_contains(cap::read(zip_of(twice)), "two Header components");
}

} // namespace

int main() {
    const CMUnitTest tests[] = {
        cmocka_unit_test(test_real_cap),
        cmocka_unit_test(test_built_packages),
        cmocka_unit_test(test_load_blocks),
        cmocka_unit_test(test_broken_archives),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
