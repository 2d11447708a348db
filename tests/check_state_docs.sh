#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# doc/request-states.md shows the transition tables as otagw-fsm-doc draws them from the code:
# fails (with the difference) when one was changed without the other.
#   tests/check_state_docs.sh OTAGW_FSM_DOC DOC_FILE
set -euo pipefail
tool=$1 doc=$2
status=0
for machine in request campaign target; do
    documented=$(sed -n "/<!-- table:$machine -->/,/<!-- end table -->/p" "$doc" | sed '1d;$d')
    if ! diff -u <(printf '%s\n' "$documented") <("$tool" markdown "$machine"); then
        echo "doc/request-states.md: the $machine table differs from the code (above)" >&2
        status=1
    fi
done
exit $status
