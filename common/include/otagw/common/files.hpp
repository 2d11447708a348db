// SPDX-License-Identifier: GPL-2.0-or-later
// Files that hold secrets (the master key, a provider's shared secret) are refused when anyone
// but their owner may read them: a secret the whole machine can read is no secret.
#pragma once

#include <string>

#include "otagw/common/result.hpp"

namespace otagw {

// An error naming `what` and the mode when group or others have any permission on `path`, or
// when it cannot be examined.
Status only_owner_may_read(const std::string& path, const std::string& what);

} // namespace otagw
