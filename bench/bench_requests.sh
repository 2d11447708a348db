#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The request pipeline's latency: cardlets-sim (RATE x SECONDS cards) and ota-gatewayd on a
# fresh SQLite database (synchronous FULL), bound to the simulator's SMSC; bench_requests posts
# RATE requests per second through the API for SECONDS and prints the intake -> submit_sm
# latency (p50, p99) the daemon measured. Target (issue 6): p99 <= 2 ms at 1 000 requests/s.
#   bench/bench_requests.sh [RATE] [SECONDS] [BUILD_DIR]
set -euo pipefail
rate=${1:-1000}
seconds=${2:-10}
build=$(realpath "${3:-build}")
cards=$(( rate * seconds ))
work=$(mktemp -d /tmp/otagw-bench-requests-XXXXXX)
trap 'kill $daemon $sim 2>/dev/null || true; wait 2>/dev/null; rm -rf "$work"' EXIT
cd "$work"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

"$build/cardlets-sim/cardlets-sim" --smpp-listen 127.0.0.1:0 --system-id bench --password bench \
    --cards "$cards" --seed 1 --export inventory.csv --duration 600 > sim.log 2>&1 &
sim=$!
for _ in $(seq 300); do grep -q '"ready"' sim.log 2>/dev/null && break; sleep 0.1; done
smsc=$(sed -n 's/.*"smpp":"127.0.0.1:\([0-9]*\)".*/\1/p' sim.log | head -1)

api=$(free_port)
token=bench-token
cat > bench.cfg <<CFG
line vty
 no login
 bind 127.0.0.1 $(free_port)
smpp
 bind smsc
  remote-ip 127.0.0.1
  remote-port $smsc
  mode transceiver
  system-id bench
  password bench
  window 64
db
 path bench.db
 synchronous full
 master-key-env OTAGW_BENCH_MASTER_KEY
api
 listen 127.0.0.1 $api
 max-connections 1024
 token bench sha256 $(printf '%s' "$token" | sha256sum | cut -d' ' -f1)
ota
 spi 1639
 kvn 1
 por-timeout 60
application transit
 aid f04f5441470102010001
 code 02
 type transit
 load-file f04f5441470102
 module f04f544147010201
 tar c00002
 msl 12
CFG
OTAGW_BENCH_MASTER_KEY=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n') \
    "$build/gateway/ota-gatewayd" -c bench.cfg 2>daemon.log &
daemon=$!
for _ in $(seq 100); do grep -q "bind smsc up" daemon.log 2>/dev/null && break; sleep 0.1; done
OTAGW_API_TOKEN=$token "$build/otactl/otactl" inventory import inventory.csv \
    --api "http://127.0.0.1:$api" > /dev/null
echo "cards: $cards (cardlets-sim, imported); daemon on SQLite, synchronous FULL"
"$build/bench/bench_requests" "$api" "$token" inventory.csv "$rate" "$seconds"
