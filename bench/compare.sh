#!/usr/bin/env bash
# Compares two rrx binaries side by side on one workload command: each
# repetition runs it natively, recorded by A, recorded by B, replayed by A
# and by B (each its own trace), alternating, and prints the median times and
# B's record and replay time as a percentage of A's. For changes whose cost
# is a few percent, below the noise between separate bench/run.sh runs.
#
#   bash bench/compare.sh RRX_A RRX_B [REPS] -- CMD ARGS...
#   e.g. bash bench/compare.sh /tmp/old/rrx build/bin/rrx 9 -- dd if=big of=/dev/null bs=512
# COMPARE_RECORD_ARGS: flags for both recordings (e.g. "-n" for ptrace stops
# only; each build's own default otherwise: see bench/lib/record_modes.sh).
set -euo pipefail
A=$1 B=$2
shift 2
REPS=9
if [[ $1 != -- ]]; then REPS=$1; shift; fi
[[ $1 == -- ]] || { echo "usage: bench/compare.sh RRX_A RRX_B [REPS] -- CMD ARGS..." >&2; exit 2; }
shift
WORK=$(mktemp -d "${TMPDIR:-/tmp}/rrx-compare.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

secs() {  # secs CMD...: wall time of CMD in seconds, output discarded
  local s e
  s=$(date +%s%N)
  "$@" >/dev/null 2>&1 </dev/null || true
  e=$(date +%s%N)
  echo "scale=4; ($e - $s) / 1000000000" | bc
}
median() { sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }

for ((i = 0; i < REPS; i++)); do
  echo "native $(secs "$@")" >>"$WORK/times"
  for side in A B; do
    bin=${!side}
    rm -rf "$WORK/trace.$side"
    # shellcheck disable=SC2086 # flags, split on purpose
    echo "record.$side $(secs "$bin" record ${COMPARE_RECORD_ARGS:-} -o "$WORK/trace.$side" -- "$@")" >>"$WORK/times"
  done
  for side in A B; do
    bin=${!side}
    echo "replay.$side $(secs "$bin" replay --autopilot -q "$WORK/trace.$side")" >>"$WORK/times"
  done
done
m() { awk -v k="$1" '$1 == k {print $2}' "$WORK/times" | median; }
printf 'command: %s (%d repetitions, medians)\n' "$*" "$REPS"
printf 'native %ss\n' "$(m native)"
for mode in record replay; do
  a=$(m "$mode.A") b=$(m "$mode.B")
  printf '%-7s A %ss  B %ss  B/A %s%%\n' "$mode" "$a" "$b" "$(echo "scale=1; 100 * $b / $a" | bc)"
done
