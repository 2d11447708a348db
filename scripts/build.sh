#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Configures and builds one tree.   BUILD_DIR (default build), BUILD_TYPE (default Release),
# SANITIZE=1 for ASan+UBSan.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${BUILD_DIR:-build}
args=(-G Ninja -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-Release}")
if [[ "${SANITIZE:-0}" == 1 ]]; then
    args+=(-DOTAGW_SANITIZE=ON)
fi
cmake -S . -B "$build_dir" "${args[@]}" >/dev/null
cmake --build "$build_dir" -- -j"$(nproc)"
