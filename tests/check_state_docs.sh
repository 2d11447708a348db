#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A document (doc/request-states.md, doc/bip.md) shows the transition tables as otagw-fsm-doc
# draws them from the code: fails (with the difference) when one was changed without the other.
#   tests/check_state_docs.sh OTAGW_FSM_DOC DOC_FILE [MACHINE...]   (default: request campaign target)
set -euo pipefail
tool=$1 doc=$2
shift 2
machines=("$@")
[[ ${#machines[@]} -gt 0 ]] || machines=(request campaign target)
status=0
for machine in "${machines[@]}"; do
    documented=$(sed -n "/<!-- table:$machine -->/,/<!-- end table -->/p" "$doc" | sed '1d;$d')
    if ! diff -u <(printf '%s\n' "$documented") <("$tool" markdown "$machine"); then
        echo "$doc: the $machine table differs from the code (above)" >&2
        status=1
    fi
done
exit $status
