#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Builds everything and runs every test (ctest), the interop tests against osmo-msc and the npm
# smpp peer included. BUILD_DIR, SANITIZE=1 as for build.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh --test
if [[ ! -d tests/interop/node-peer/node_modules/smpp ]]; then
    (cd tests/interop/node-peer && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi
scripts/build.sh
ctest --test-dir "${BUILD_DIR:-build}" --output-on-failure -j"$(nproc)"
