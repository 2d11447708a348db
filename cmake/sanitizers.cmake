# SPDX-License-Identifier: GPL-2.0-or-later
# ASan + UBSan for the sanitizer CI job, and the libFuzzer instrumentation.
if(OTAGW_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=all
                      -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()
if(OTAGW_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "OTAGW_FUZZ needs clang (CXX=clang++)")
  endif()
  # Libraries get coverage instrumentation; fuzz/ links the libFuzzer driver.
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
                      -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()
