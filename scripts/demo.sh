#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The main job: builds everything and runs the demo (secure a lock command for a sample card,
# play the card, verify its PoR), printing what happened.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! scripts/build.sh >"$log" 2>&1; then
    cat "$log" >&2
    echo "demo: the build failed" >&2
    exit 1
fi
"${BUILD_DIR:-build}/demo/ota-demo"
