#!/bin/sh
# A deliberately flaky stop condition for the repeat tests: it holds (exit 1) in every
# second run and never in the others. The state file keeps the last run's id and result.
state="${HACHAOS_FLAKY_STATE:-${TMPDIR:-/tmp}/hachaos-flaky-toggle}"
last=$(cat "$state" 2>/dev/null || echo "none 1")
set -- $last
if [ "$1" != "$HACHAOS_RUN_ID" ]; then
  fail=$((1 - ${2:-1}))
  echo "$HACHAOS_RUN_ID $fail" >"$state"
else
  fail=${2:-0}
fi
exit "$fail"
