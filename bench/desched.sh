#!/usr/bin/env bash
# The desched event's effect on calls that block: a pipe ping-pong between two
# threads and between two processes (tests/programs/pipe_pingpong.c), run
# natively, under `rrx record --syscallbuf` with the desched event (the
# default where the probe finds it works), with the checked fallback
# (RRX_DESCHED=0) and under `rrx record -n`; medians of the wall times in
# milliseconds, and the replay of each trace checked against the recording.
#
#   bash bench/desched.sh [ROUNDS [REPS]]     (default 20000 rounds, 3 reps)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${RRX_BUILD_DIR:-$ROOT/build}
RRX=${RRX:-$BUILD/bin/rrx}
PP=${RRX_TEST_PROGRAMS:-$BUILD/tests/programs}/pipe_pingpong
ROUNDS=${1:-20000}
REPS=${2:-3}
[[ -x $RRX && -x $PP ]] || { echo "bench/desched.sh: build rrx and pipe_pingpong first ($RRX, $PP)" >&2; exit 2; }
WORK=$(mktemp -d /tmp/rrx-bench-desched.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

ms() { echo $(($(date +%s%N) / 1000000)); }
median() { sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }

# run MODE KIND: one run's milliseconds on stdout; the replay of a recording is checked.
run() {
  local mode=$1 kind=$2 t0 t1 out
  out=$WORK/$mode-$kind.out
  t0=$(ms)
  case $mode in
    native) "$PP" "$kind" "$ROUNDS" >"$out" ;;
    desched) "$RRX" record --syscallbuf -o "$WORK/t" -- "$PP" "$kind" "$ROUNDS" >"$out" 2>/dev/null ;;
    checked) RRX_DESCHED=0 "$RRX" record --syscallbuf -o "$WORK/t" -- "$PP" "$kind" "$ROUNDS" >"$out" 2>/dev/null ;;
    record-n) "$RRX" record -n -o "$WORK/t" -- "$PP" "$kind" "$ROUNDS" >"$out" 2>/dev/null ;;
  esac
  t1=$(ms)
  if [[ $mode != native ]]; then
    if ! "$RRX" replay --autopilot -q "$WORK/t" >"$WORK/replay.out" 2>"$WORK/replay.err" ||
      ! "$RRX" replay --autopilot "$WORK/t" 2>/dev/null | cmp -s - "$out"; then
      echo "bench/desched.sh: the replay of $mode $kind differs" >&2
      exit 1
    fi
    rm -rf "$WORK/t"
  fi
  echo $((t1 - t0))
}

printf '%-10s %12s %12s %12s %12s\n' "ping-pong" native desched checked record-n
for kind in threads processes; do
  declare -A times=()
  for ((r = 0; r < REPS; ++r)); do
    for mode in native desched checked record-n; do times[$mode]+="$(run "$mode" "$kind") "; done
  done
  printf '%-10s' "$kind"
  for mode in native desched checked record-n; do
    printf ' %10sms' "$(tr ' ' '\n' <<<"${times[$mode]}" | grep . | median)"
  done
  printf '\n'
  unset times
done
echo "($ROUNDS rounds, median of $REPS; rrx $("$RRX" --version 2>/dev/null | head -1))"
