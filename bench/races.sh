#!/usr/bin/env bash
# The racy test programs (tests/programs/race_*.c) natively, under
# `rrx record` and under `rrx record --chaos`: how often each fails (the
# race shows), the mean wall time of a run of each kind (chaos's record
# overhead next to plain recording's), and the replay time of the failing
# chaos traces. Writes a Markdown table to stdout.
#
#   bash bench/races.sh [RUNS]       (default 20 runs of each kind)
#   RRX=build/bin/rrx PROGRAMS=build/tests/programs bash bench/races.sh 50
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RRX=${RRX:-$ROOT/build/bin/rrx}
PROGRAMS=${PROGRAMS:-$ROOT/build/tests/programs}
RUNS=${1:-20}
RACES=(race_lost_update race_check_then_act race_aba_stack race_init_flag)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/rrx-races.XXXXXX")
trap 'chmod -R u+w "$WORK" 2>/dev/null; rm -rf "$WORK"' EXIT
export RRX_TRACE_DIR=$WORK/traces

now() { date +%s%N; }
ms() { echo "scale=1; $1 / 1000000" | bc; }

echo "| program | native fails | rrx record fails | rrx record --chaos fails | native ms/run | record ms/run | chaos record ms/run | chaos replay ms (failing traces) |"
echo "|---|---|---|---|---|---|---|---|"
for race in "${RACES[@]}"; do
  exe=$PROGRAMS/$race
  declare -A fails=([native]=0 [record]=0 [chaos]=0) total=([native]=0 [record]=0 [chaos]=0)
  replay_ms=()
  for ((i = 0; i < RUNS; i++)); do
    for kind in native record chaos; do
      case $kind in
        native) cmd=("$exe") ;;
        record) cmd=("$RRX" record -q --keep=never -- "$exe") ;;
        chaos) cmd=("$RRX" record -q --chaos --keep=failure -o "$WORK/chaos-$race-$i" -- "$exe") ;;
      esac
      s=$(now)
      rc=0
      "${cmd[@]}" >/dev/null 2>&1 </dev/null || rc=$?
      e=$(now)
      total[$kind]=$((total[$kind] + e - s))
      if ((rc != 0)); then
        fails[$kind]=$((fails[$kind] + 1))
        if [[ $kind == chaos && -d $WORK/chaos-$race-$i ]]; then
          s=$(now)
          "$RRX" replay --autopilot -q "$WORK/chaos-$race-$i" >/dev/null 2>&1 </dev/null || true
          e=$(now)
          replay_ms+=("$(ms $((e - s)))")
        fi
      fi
    done
  done
  replays=${replay_ms[*]:-none}
  echo "| $race | ${fails[native]}/$RUNS | ${fails[record]}/$RUNS | ${fails[chaos]}/$RUNS | $(ms $((total[native] / RUNS))) | $(ms $((total[record] / RUNS))) | $(ms $((total[chaos] / RUNS))) | ${replays// /, } |"
  unset fails total
done
