#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Formats the C++ sources with the committed .clang-format; --check only reports.
set -euo pipefail
cd "$(dirname "$0")/.."
# Tracked files and new ones not yet added (a file formatted only once committed fails CI).
mapfile -t files < <(git ls-files --cached --others --exclude-standard '*.cpp' '*.hpp' '*.c' '*.h')
if [[ "${1:-}" == "--check" ]]; then
    clang-format --dry-run --Werror "${files[@]}"
else
    clang-format -i "${files[@]}"
fi
