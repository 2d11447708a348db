#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Installs the Debian 12 packages a job needs, only those missing.
#   scripts/deps.sh            build: compilers, CMake, libraries, Graphviz (the state diagrams)
#   scripts/deps.sh --test     + the interop peers the tests run (osmo-msc, osmo-hlr, tshark, node,
#                              the sqlite3 and openssl tools)
#   scripts/deps.sh --fuzz     + clang and its libFuzzer runtime
#   scripts/deps.sh --ci       all of the above and clang-format
set -euo pipefail

packages=(cmake ninja-build pkg-config g++ libmbedtls-dev libcmocka-dev nlohmann-json3-dev
          libcli11-dev zlib1g-dev libsmpp34-dev libuv1-dev libsqlite3-dev libosmocore-dev
          libhttp-parser-dev libphonenumber-dev libcurl4-openssl-dev libjemalloc-dev libzip-dev graphviz)
interop=(osmo-msc osmo-hlr tshark nodejs npm sqlite3 openssl gnutls-bin)
fuzz=(clang libclang-rt-14-dev)
case "${1:-}" in
--test) packages+=("${interop[@]}") ;;
--fuzz) packages+=("${fuzz[@]}") ;;
--ci) packages+=("${interop[@]}" "${fuzz[@]}" clang-format) ;;
esac
# node from another source (e.g. nodesource) already brings npm.
if command -v node >/dev/null && command -v npm >/dev/null; then
    packages=("${packages[@]/nodejs/}")
    packages=("${packages[@]/npm/}")
fi

missing=()
for p in "${packages[@]}"; do
    [[ -n "$p" ]] || continue
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "installing: ${missing[*]}" >&2
sudo=""
if [[ $(id -u) -ne 0 ]]; then
    sudo="sudo"
fi
# The Osmocom packages come with services; the tests start their own instances, so keep the
# packaged ones from starting during the install (Debian's policy-rc.d convention).
policy=/usr/sbin/policy-rc.d
added_policy=0
if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee $policy >/dev/null
    $sudo chmod +x $policy
    added_policy=1
fi
trap '[[ $added_policy == 1 ]] && $sudo rm -f $policy' EXIT
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
