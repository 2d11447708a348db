#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Inventory import, end to end: cardlets-sim exports N cards (default 1 000 000), ota-gatewayd
# runs with a fresh database, `otactl inventory import` sends the file through the admin API
# (validate, then apply: all or nothing). Prints the seconds of each pass and the daemon's peak
# RSS (VmHWM). Targets (issue 5): < 60 s, < 150 MB.
#   bench/bench_import.sh [CARDS] [BUILD_DIR]
set -euo pipefail
cards=${1:-1000000}
build=$(realpath "${2:-build}")
work=$(mktemp -d /tmp/otagw-bench-import-XXXXXX)
trap 'kill $daemon 2>/dev/null || true; rm -rf "$work"' EXIT
cd "$work"

t0=$(date +%s.%N)
"$build/cardlets-sim/cardlets-sim" --smpp-listen 127.0.0.1:0 --system-id bench --password bench \
    --cards "$cards" --seed 1 --export inventory.csv --duration 0.01 >/dev/null
t1=$(date +%s.%N)
printf 'export: %d cards, %d MB, %.1f s\n' "$cards" $(( $(stat -c %s inventory.csv) / 1000000 )) \
    "$(echo "$t1 - $t0" | bc)"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
vty=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
token=bench-token
cat > bench.cfg <<CFG
line vty
 no login
 bind 127.0.0.1 $vty
db
 path bench.db
 synchronous full
 master-key-env OTAGW_BENCH_MASTER_KEY
api
 listen 127.0.0.1 $port
 token bench sha256 $(printf '%s' "$token" | sha256sum | cut -d' ' -f1)
CFG
OTAGW_BENCH_MASTER_KEY=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n') \
    "$build/gateway/ota-gatewayd" -c bench.cfg 2>daemon.log &
daemon=$!
for _ in $(seq 50); do
    grep -q "listening on" daemon.log 2>/dev/null && break
    sleep 0.1
done

t2=$(date +%s.%N)
OTAGW_API_TOKEN=$token "$build/otactl/otactl" inventory import inventory.csv \
    --api "http://127.0.0.1:$port" --json > report.json
t3=$(date +%s.%N)
python3 - "$t2" "$t3" "$daemon" <<'PY'
import json, sys
t2, t3, pid = float(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
r = json.load(open("report.json"))
hwm = [l for l in open(f"/proc/{pid}/status") if l.startswith("VmHWM")][0].split()[1]
v, a = r["validate"], r["apply"]
print(f"import: {a['inserted']} cards added ({v['issues_total']} bad lines) in {t3 - t2:.1f} s "
      f"= {a['inserted'] / (t3 - t2):.0f} cards/s; daemon peak RSS {int(hwm) / 1024:.0f} MB")
PY
