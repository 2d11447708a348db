#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The main job: builds everything and runs the demo (secure a lock command for a sample card,
# play the card, verify its PoR), printing what happened.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/build.sh >/dev/null
exec "${BUILD_DIR:-build}/demo/ota-demo"
