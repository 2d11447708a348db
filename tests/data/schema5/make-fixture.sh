#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Writes a database as the gateway of schema 5 (commit 9274d6b) left it, for
# test_schema_upgrade. Run once with that commit's build:
#   tests/data/schema5/make-fixture.sh OLD_BUILD_DIR OLD_SOURCE_DIR in-flight > in-flight.sql
#   tests/data/schema5/make-fixture.sh OLD_BUILD_DIR OLD_SOURCE_DIR latin1-audit > latin1-audit.sql
# 4 cards of cardlets-sim --seed 5 (the test starts the same), keys sealed under the tests'
# master key.
#   in-flight: killed with requests in flight: 1 done (a query); 2 suspend transit reconciling
#     (its packet and its audit lost); 3 suspend transit sent (its packet lost); 4 activate
#     canteen waiting for the provider (silent).
#   latin1-audit: the inventory imported from a file named in Latin-1 (cartes_\xe9t\xe9.csv):
#     that byte in the append-only audit log, where it made every GET /v1/audit abort the daemon.
set -euo pipefail
build=$(realpath "$1")
src=$(realpath "$2")
scenario=${3:-in-flight}
work=$(mktemp -d /tmp/otagw-schema5-XXXXXX)
trap 'kill $daemon $sim $provider 2>/dev/null || true; wait 2>/dev/null; rm -rf "$work"' EXIT
cd "$work"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
smsc=$(free_port) api=$(free_port) vty=$(free_port)
"$build/cardlets-sim/cardlets-sim" --smpp-listen 127.0.0.1:$smsc --system-id otagw --password secret \
    --cards 4 --seed 5 --export inventory.csv --duration 120 --control 127.0.0.1:0 > sim.log 2>&1 &
sim=$!
printf 'campus-shared-secret\n' > campus.secret
"$build/gateway/ota-provider-sim" --secret-file campus.secret --duration 120 > provider.log 2>&1 &
provider=$!
for _ in $(seq 100); do grep -q '"ready"' sim.log && grep -q '"listen"' provider.log && break; sleep 0.1; done
control=$(sed -n 's/.*"control":"127.0.0.1:\([0-9]*\)".*/\1/p' sim.log | head -1)
pport=$(sed -n 's/.*127.0.0.1:\([0-9]*\).*/\1/p' provider.log | head -1)
sed -e "s/bind 127.0.0.1 4270/bind 127.0.0.1 $vty/" -e "s/listen 127.0.0.1 8080/listen 127.0.0.1 $api/" \
    -e "s/remote-port 2775/remote-port $smsc/" -e "s/por-timeout 60/por-timeout 2/" \
    -e "s#url https://127.0.0.1:8443/ota#url http://127.0.0.1:$pport#" \
    "$src/doc/examples/ota-gateway.cfg" > gw.cfg
OTAGW_MASTER_KEY=00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff \
    "$build/gateway/ota-gatewayd" -c gw.cfg > gw.log 2>&1 &
daemon=$!
for _ in $(seq 100); do grep -q "bind smsc up" gw.log && break; sleep 0.1; done
ctl() { OTAGW_API=http://127.0.0.1:$api OTAGW_API_TOKEN=example-ops-token "$build/otactl/otactl" "$@"; }
if [[ $scenario == latin1-audit ]]; then
    latin1=$(printf 'cartes_\xe9t\xe9.csv')
    cp inventory.csv "$latin1"
    ctl inventory import "$latin1" >/dev/null
    kill -9 $daemon
    wait $daemon 2>/dev/null || true
    sqlite3 ota-gateway.db .dump | sed "s/^COMMIT;$/PRAGMA user_version = 5;\nCOMMIT;/"
    exit 0
fi
ctl inventory import inventory.csv >/dev/null
msisdn() { grep "^[0-9]" inventory.csv | sed -n "$(( $1 + 1 ))p" | cut -d, -f3; }
ctl request create --msisdn "$(msisdn 3)" --app 02 --op query --wait 10 >/dev/null
"$build/cardlets-sim/cardlets-sim" ctl --control 127.0.0.1:$control fault mt-loss=1 >/dev/null
curl -s -X POST -d "{\"silent\":[\"$(msisdn 2)\"]}" http://127.0.0.1:$pport/control >/dev/null
ctl request create --msisdn "$(msisdn 1)" --app 02 --op suspend >/dev/null
sleep 2.6 # its PoR timed out: reconciling
ctl request create --msisdn "$(msisdn 0)" --app 02 --op suspend >/dev/null
ctl request create --msisdn "$(msisdn 2)" --app 01 --op activate >/dev/null
sleep 0.5
kill -9 $daemon
wait $daemon 2>/dev/null || true
sqlite3 ota-gateway.db "SELECT id, operation, state FROM requests" >&2
sqlite3 ota-gateway.db .dump | sed "s/^COMMIT;$/PRAGMA user_version = 5;\nCOMMIT;/" # .dump leaves it out
