# SPDX-License-Identifier: GPL-2.0-or-later
# Project-wide warning flags; every target gets them through otagw_warnings.
add_library(otagw_warnings INTERFACE)
target_compile_options(otagw_warnings INTERFACE -Wall -Wextra -Wshadow -Wformat=2 -Wundef
                                                -Wimplicit-fallthrough)
if(OTAGW_WERROR)
  target_compile_options(otagw_warnings INTERFACE -Werror)
endif()
