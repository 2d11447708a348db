#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Installs the Debian 12 packages the build needs, only those missing.
#   scripts/deps.sh [--fuzz|--ci]   (--fuzz adds clang and its libFuzzer runtime, --ci also
#                                    clang-format)
set -euo pipefail

packages=(cmake ninja-build pkg-config g++ libmbedtls-dev libcmocka-dev nlohmann-json3-dev
          libcli11-dev zlib1g-dev libsmpp34-dev libuv1-dev)
case "${1:-}" in
--fuzz) packages+=(clang libclang-rt-14-dev) ;;
--ci) packages+=(clang libclang-rt-14-dev clang-format) ;;
esac

missing=()
for p in "${packages[@]}"; do
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
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
