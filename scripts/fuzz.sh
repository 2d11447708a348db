#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Builds the libFuzzer targets with clang and runs each for SECONDS (default 30, at most 60),
# starting from the seeds in fuzz/corpus/<target>. Exits non-zero when a target crashes.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${SECONDS_PER_TARGET:-30}
build_dir=${BUILD_DIR:-build-fuzz}
scripts/deps.sh --fuzz
CC=clang CXX=clang++ cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DOTAGW_FUZZ=ON -DOTAGW_TESTS=OFF -DOTAGW_BENCH=OFF >/dev/null
cmake --build "$build_dir" --target fuzz_targets -- -j"$(nproc)"
status=0
for target in "$build_dir"/fuzz/fuzz_*; do
    name=$(basename "$target")
    work=$(mktemp -d)
    cp -r "fuzz/corpus/$name/." "$work/" 2>/dev/null || true
    echo "== $name (${seconds}s)"
    if ! "$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
            -print_final_stats=1 -artifact_prefix="$build_dir/$name-" "$work" 2>"$build_dir/$name.log"; then
        echo "FAILED: $name, see $build_dir/$name.log" >&2
        tail -40 "$build_dir/$name.log" >&2
        status=1
    fi
    grep -E '^stat::number_of_executed_units' "$build_dir/$name.log" || true
    rm -rf "$work"
done
exit $status
