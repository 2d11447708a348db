// SPDX-License-Identifier: GPL-2.0-or-later
#include "otagw/ota/cap_file.hpp"

#include <zip.h>

#include <memory>
#include <string_view>

#include "otagw/common/tlv.hpp"

namespace otagw::ota::cap {

namespace {

constexpr size_t kMaxTotal = 8u << 20;
constexpr const char* kNames[] = {
    "",       "Header",      "Directory",   "Applet", "Import",     "ConstantPool", "Class",
    "Method", "StaticField", "RefLocation", "Export", "Descriptor", "Debug"};

// JC VM spec 2.2 §6.2: the order a card receives them in.
constexpr Component kInstallOrder[] = {
    Component::Header,       Component::Directory,  Component::Import,      Component::Applet,
    Component::Class,        Component::Method,     Component::StaticField, Component::Export,
    Component::ConstantPool, Component::RefLocation};

struct ZipCloser {
    void operator()(zip_t* z) const { zip_discard(z); }
};
struct FileCloser {
    void operator()(zip_file_t* f) const { zip_fclose(f); }
};

// The component an entry holds, by its file name (".../javacard/Header.cap"); 0 for others.
uint8_t component_of(std::string_view name) {
    const size_t slash = name.rfind('/');
    const std::string_view dir = slash == std::string_view::npos ? "" : name.substr(0, slash);
    const std::string_view base = slash == std::string_view::npos ? name : name.substr(slash + 1);
    if (!(dir == "javacard" || dir.ends_with("/javacard")) || !base.ends_with(".cap"))
        return 0;
    const std::string_view stem = base.substr(0, base.size() - 4);
    for (uint8_t t = 1; t < std::size(kNames); t++)
        if (stem == kNames[t])
            return t;
    return 0;
}

// A u1-length-prefixed AID at `pos` in a component's info.
Result<Aid> aid_at(const Bytes& c, size_t& pos, const char* what) {
    if (pos >= c.size() || pos + 1 + c[pos] > c.size())
        return make_error(std::string("CAP file: ") + what + ": AID runs past the component");
    auto aid = Aid::from_bytes(ByteView(c).subspan(pos + 1, c[pos]));
    if (!aid)
        return make_error(std::string("CAP file: ") + what + ": " + aid.error().message);
    pos += 1 + c[pos];
    return aid;
}

Status parse_header(CapFile& cap) {
    const Bytes& h = cap.component(Component::Header);
    // tag, size u2, magic u4 DECAFFED, CAP minor, major, flags, package minor, major, AID
    if (h.size() < 13 || load_be16(h.data() + 3) != 0xdeca || load_be16(h.data() + 5) != 0xffed)
        return make_error("CAP file: Header component: no magic DECAFFED (JC VM spec §6.3)");
    cap.package.minor = h[10];
    cap.package.major = h[11];
    size_t pos = 12;
    auto aid = aid_at(h, pos, "Header component package AID");
    if (!aid)
        return aid.take_error();
    cap.package.aid = *aid;
    return {};
}

Status parse_applets(CapFile& cap) {
    const Bytes& a = cap.component(Component::Applet);
    if (a.empty())
        return {};
    if (a.size() < 4)
        return make_error("CAP file: Applet component: no count");
    size_t pos = 4;
    for (unsigned i = 0; i < a[3]; i++) {
        auto aid = aid_at(a, pos, "Applet component applet AID");
        if (!aid)
            return aid.take_error();
        if (pos + 2 > a.size())
            return make_error("CAP file: Applet component: install method offset missing");
        pos += 2;
        cap.applets.push_back(*aid);
    }
    return {};
}

Status parse_imports(CapFile& cap) {
    const Bytes& im = cap.component(Component::Import);
    if (im.size() < 4)
        return make_error("CAP file: Import component: no count");
    size_t pos = 4;
    for (unsigned i = 0; i < im[3]; i++) {
        if (pos + 2 > im.size())
            return make_error("CAP file: Import component: package version missing");
        PackageRef p;
        p.minor = im[pos];
        p.major = im[pos + 1];
        pos += 2;
        auto aid = aid_at(im, pos, "Import component package AID");
        if (!aid)
            return aid.take_error();
        p.aid = *aid;
        cap.imports.push_back(p);
    }
    return {};
}

} // namespace

const char* component_name(Component c) {
    const auto t = static_cast<size_t>(c);
    return t > 0 && t < std::size(kNames) ? kNames[t] : "?";
}

Result<CapFile> read(ByteView zip_bytes) {
    zip_error_t err;
    zip_error_init(&err);
    zip_source_t* src = zip_source_buffer_create(zip_bytes.data(), zip_bytes.size(), 0, &err);
    if (!src) {
        zip_error_fini(&err);
        return make_error("CAP file: cannot read the archive");
    }
    std::unique_ptr<zip_t, ZipCloser> z(zip_open_from_source(src, ZIP_RDONLY, &err));
    if (!z) {
        const std::string why = zip_error_strerror(&err);
        zip_source_free(src);
        zip_error_fini(&err);
        return make_error("CAP file: not a ZIP archive (" + why + ")");
    }
    zip_error_fini(&err);
    CapFile cap;
    size_t total = 0;
    const zip_int64_t n = zip_get_num_entries(z.get(), 0);
    for (zip_int64_t i = 0; i < n; i++) {
        zip_stat_t st;
        if (zip_stat_index(z.get(), i, 0, &st) != 0 || !(st.valid & ZIP_STAT_NAME) ||
            !(st.valid & ZIP_STAT_SIZE))
            return make_error("CAP file: archive entry " + std::to_string(i) + " unreadable");
        const uint8_t tag = component_of(st.name);
        if (tag == 0)
            continue; // the manifest, other files
        const std::string name = st.name;
        if (!cap.components[tag].empty())
            return make_error("CAP file: two " + std::string(kNames[tag]) + " components");
        if (st.size > kMaxTotal || (total += st.size) > kMaxTotal)
            return make_error("CAP file: components larger than 8 MiB in all");
        std::unique_ptr<zip_file_t, FileCloser> f(zip_fopen_index(z.get(), i, 0));
        Bytes c(static_cast<size_t>(st.size));
        if (!f || zip_fread(f.get(), c.data(), c.size()) != static_cast<zip_int64_t>(c.size()))
            return make_error("CAP file: " + name + ": cannot inflate (" + zip_strerror(z.get()) +
                              ")");
        if (c.size() < 3 || c[0] != tag || load_be16(c.data() + 1) != c.size() - 3)
            return make_error("CAP file: " + name + ": not a " + kNames[tag] + " component (tag " +
                              std::to_string(tag) +
                              " and its size u2 must lead it, JC VM spec §6.1)");
        cap.components[tag] = std::move(c);
    }
    for (Component required : {Component::Header, Component::Directory, Component::Import,
                               Component::Class, Component::Method, Component::StaticField,
                               Component::ConstantPool, Component::RefLocation})
        if (cap.component(required).empty())
            return make_error(std::string("CAP file: no ") + component_name(required) +
                              " component (javacard/" + component_name(required) + ".cap)");
    OTAGW_TRY_STATUS(parse_header(cap));
    OTAGW_TRY_STATUS(parse_applets(cap));
    OTAGW_TRY_STATUS(parse_imports(cap));
    return cap;
}

Bytes CapFile::load_file_data_block(bool with_descriptor) const {
    Bytes body;
    for (Component c : kInstallOrder)
        append(body, component(c));
    if (with_descriptor)
        append(body, component(Component::Descriptor));
    return tlv::ber_tlv(0xc4, body);
}

} // namespace otagw::ota::cap
