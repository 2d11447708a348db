#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The main job: builds everything and runs the demo: cardlets-sim (simulated cards behind an
# SMPP SMSC) driven by the gateway's libraries: a lock/unlock campaign on 200 cards, an audit,
# an install and a refused replay, each state read from a verified PoR and checked against the
# card. Arguments go to ota-demo (--cards N, --keep).
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
