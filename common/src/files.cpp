// SPDX-License-Identifier: GPL-2.0-or-later
#include "otagw/common/files.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace otagw {

Status only_owner_may_read(const std::string& path, const std::string& what) {
    struct stat st {};
    if (stat(path.c_str(), &st) != 0)
        return make_error(what + " " + path + ": " + std::strerror(errno), Errc::Io);
    if (st.st_mode & (S_IRWXG | S_IRWXO)) {
        char mode[8];
        std::snprintf(mode, sizeof mode, "%03o", static_cast<unsigned>(st.st_mode & 0777));
        return make_error(what + " " + path + " may be read by group or others (mode " + mode +
                              "): chmod 600 it",
                          Errc::Invalid);
    }
    return {};
}

} // namespace otagw
