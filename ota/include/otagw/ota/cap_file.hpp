// SPDX-License-Identifier: GPL-2.0-or-later
// Java Card CAP files (JC VM spec 2.2 §6): a ZIP archive whose `javacard/*.cap` entries are the
// package's components, each `tag u1, size u2, info[size]`. Read from the archive's bytes (no
// file I/O here; libzip inflates), with the facts a load needs: package AID and version, applet
// AIDs, imported packages; and the GlobalPlatform load file data block and LOAD commands made
// from it (GP 2.3 §11.6; the LOAD commands: gp::load_commands). A broken or non-CAP archive gives
// an error naming what is wrong.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "otagw/common/bytes.hpp"
#include "otagw/common/result.hpp"
#include "otagw/ota/aid.hpp"
#include "otagw/ota/apdu.hpp"

namespace otagw::ota::cap {

// Component tags (JC VM spec 2.2 §6.1, table 6-1).
enum class Component : uint8_t {
    Header = 1,
    Directory = 2,
    Applet = 3,
    Import = 4,
    ConstantPool = 5,
    Class = 6,
    Method = 7,
    StaticField = 8,
    RefLocation = 9,
    Export = 10,
    Descriptor = 11,
    Debug = 12,
};
const char* component_name(Component c);

struct PackageRef {
    Aid aid;
    uint8_t major = 0, minor = 0;
};

struct CapFile {
    PackageRef package;              // the package AID and version (Header's package_info)
    std::vector<Aid> applets;        // Applet component; empty for a library
    std::vector<PackageRef> imports; // Import component
    std::array<Bytes, 13>
        components; // by tag: the whole component (tag, size, info); empty if absent
    const Bytes& component(Component c) const { return components[static_cast<size_t>(c)]; }

    // C4 <BER length> then the components in the install order Header, Directory, Import,
    // Applet, Class, Method, StaticField, Export, ConstantPool, RefLocation (JC VM spec 2.2
    // §6.2), then Descriptor when asked for (GlobalPlatformPro and shadysim leave it out).
    Bytes load_file_data_block(bool with_descriptor) const;
};

// The archive's bytes; at most 8 MiB uncompressed in all (a CAP is kilobytes).
Result<CapFile> read(ByteView zip);

} // namespace otagw::ota::cap
