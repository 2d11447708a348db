#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The main job: builds everything and runs the demo: cardlets-sim (simulated cards behind an
# SMPP SMSC), ota-provider-sim and ota-gatewayd on its SQLite default; a subscriber runs the
# canteen wallet's four flows by SMS (and one in Chinese, one through the API, one refused);
# after each step the gateway's state is checked against the card's own registry. Arguments
# go to ota-demo (--cards N, --keep).
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
"${BUILD_DIR:-build}/demo/ota-demo" "$@"
