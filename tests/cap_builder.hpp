// SPDX-License-Identifier: GPL-2.0-or-later
// Small Java Card packages built in tests (JC VM spec 2.2 §6): components with just enough
// inside for a card and a CAP reader (Header, Applet, Import, Export, a Method of any size),
// their load file data block, and CAP archives (ZIP, written with libzip).
#pragma once

#include <zip.h>

#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "otagw/common/bytes.hpp"
#include "otagw/common/tlv.hpp"

namespace test::cap {

using namespace otagw;

// tag u1, size u2, info
inline Bytes component(uint8_t tag, const Bytes& info) {
    Bytes c{tag};
    append_be16(c, static_cast<uint16_t>(info.size()));
    append(c, info);
    return c;
}

// Header (§6.3): magic, CAP format 2.1, flags (ACC_APPLET when it has applets, ACC_EXPORT when
// it exports), package_info (minor, major, AID).
inline Bytes header(const Bytes& package_aid, uint8_t major, uint8_t minor, bool applets,
                    bool exports) {
    Bytes info{0xde, 0xca, 0xff, 0xed, 0x01, 0x02};
    info.push_back(static_cast<uint8_t>((applets ? 0x04 : 0) | (exports ? 0x02 : 0)));
    info.push_back(minor);
    info.push_back(major);
    info.push_back(static_cast<uint8_t>(package_aid.size()));
    append(info, package_aid);
    return component(1, info);
}

// Applet (§6.5): count, then per applet AID length, AID, install method offset.
inline Bytes applet(const std::vector<Bytes>& aids) {
    Bytes info{static_cast<uint8_t>(aids.size())};
    for (const Bytes& a : aids) {
        info.push_back(static_cast<uint8_t>(a.size()));
        append(info, a);
        append_be16(info, 0x0001);
    }
    return component(3, info);
}

// Import (§6.6): javacard.framework 1.2.
inline Bytes import_framework() {
    return component(4, {0x01, 0x02, 0x01, 0x07, 0xa0, 0x00, 0x00, 0x00, 0x62, 0x01, 0x01});
}

// Export (§6.12): one class, no static fields or methods.
inline Bytes export_component() {
    return component(10, {0x01, 0x00, 0x00, 0x00, 0x00});
}

// A Method component (§6.9) of `size` bytes of info (handlers count 0, then filler bytecode).
inline Bytes method(size_t size) {
    Bytes info(size, 0x7a); // 'return'
    info[0] = 0x00;
    return component(7, info);
}

struct Package {
    Bytes aid;
    std::vector<Bytes> applets;
    bool exports = false;
    size_t method_size = 16;

    // The components in the Java Card install order; those whose content no test reads
    // (Directory, Class, StaticField, ConstantPool, RefLocation) hold a few zero bytes.
    std::vector<std::pair<std::string, Bytes>> components() const {
        std::vector<std::pair<std::string, Bytes>> c;
        c.emplace_back("Header", header(aid, 1, 0, !applets.empty(), exports));
        c.emplace_back("Directory", component(2, Bytes(8, 0)));
        c.emplace_back("Import", import_framework());
        if (!applets.empty())
            c.emplace_back("Applet", applet(applets));
        c.emplace_back("Class", component(6, Bytes(4, 0)));
        c.emplace_back("Method", method(method_size));
        c.emplace_back("StaticField", component(8, Bytes(10, 0)));
        if (exports)
            c.emplace_back("Export", export_component());
        c.emplace_back("ConstantPool", component(5, Bytes(2, 0)));
        c.emplace_back("RefLocation", component(9, Bytes(4, 0)));
        return c;
    }
    // C4 <BER length> and the components.
    Bytes load_file_data_block() const {
        Bytes all;
        for (const auto& [name, bytes] : components())
            append(all, bytes);
        return tlv::ber_tlv(0xc4, all);
    }
};

// A ZIP archive in memory holding `entries` (name, content).
inline Bytes zip_of(const std::vector<std::pair<std::string, Bytes>>& entries) {
    zip_error_t err;
    zip_error_init(&err);
    zip_source_t* buffer = zip_source_buffer_create(nullptr, 0, 0, &err);
    zip_source_keep(buffer);
    // Test set-up: a failure here is a broken test machine, not a finding.
    auto need = [](bool ok) {
        if (!ok)
            std::abort();
    };
    zip_t* z = zip_open_from_source(buffer, ZIP_TRUNCATE, &err);
    need(z != nullptr);
    for (const auto& [name, content] : entries) {
        zip_source_t* s = zip_source_buffer_create(content.data(), content.size(), 0, &err);
        need(zip_file_add(z, name.c_str(), s, ZIP_FL_OVERWRITE) >= 0);
    }
    need(zip_close(z) == 0);
    need(zip_source_open(buffer) == 0);
    Bytes out;
    uint8_t chunk[4096];
    zip_int64_t n;
    while ((n = zip_source_read(buffer, chunk, sizeof chunk)) > 0)
        out.insert(out.end(), chunk, chunk + n);
    zip_source_close(buffer);
    zip_source_free(buffer);
    zip_error_fini(&err);
    return out;
}

// The package as a CAP archive: javacard/<Component>.cap entries under `dir`.
inline Bytes archive(const Package& p, const std::string& dir = "com/example/pkg") {
    std::vector<std::pair<std::string, Bytes>> entries;
    for (const auto& [name, bytes] : p.components())
        entries.emplace_back(dir + "/javacard/" + name + ".cap", bytes);
    return zip_of(entries);
}

} // namespace test::cap
