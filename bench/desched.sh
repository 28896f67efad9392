#!/usr/bin/env bash
# The desched event's effect on calls that block: a pipe ping-pong between two
# threads and between two processes (tests/programs/pipe_pingpong.c) and a
# futex ring of threads passing a turn with a mutex and condition variable
# (tests/programs/futex_ring.c), run natively, under `rrx record --syscallbuf`
# with the desched event (opt-in: RRX_DESCHED=1), with
# the checked mode (the default; RRX_DESCHED=0) and under `rrx record -n`: medians of
# the wall times in milliseconds, the ratio to native, and the ptrace stops
# of the last recording (RRX_RECORD_STATS: all stops, the desched signals
# that found the call blocked / completed). Each trace's replay is checked
# against its recording.
#
#   bash bench/desched.sh [ROUNDS [REPS]]     (default 20000 rounds, 3 reps)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${RRX_BUILD_DIR:-$ROOT/build}
RRX=${RRX:-$BUILD/bin/rrx}
PROGS=${RRX_TEST_PROGRAMS:-$BUILD/tests/programs}
ROUNDS=${1:-20000}
REPS=${2:-3}
[[ -x $RRX && -x $PROGS/pipe_pingpong && -x $PROGS/futex_ring ]] ||
  { echo "bench/desched.sh: build rrx, pipe_pingpong and futex_ring first ($RRX, $PROGS)" >&2; exit 2; }
WORK=$(mktemp -d /tmp/rrx-bench-desched.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

ms() { echo $(($(date +%s%N) / 1000000)); }
median() { sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }

# The workload's command line.
workload() {
  case $1 in
    pp-threads) echo "$PROGS/pipe_pingpong threads $ROUNDS" ;;
    pp-processes) echo "$PROGS/pipe_pingpong processes $ROUNDS" ;;
    futex-ring) echo "$PROGS/futex_ring 4 $((ROUNDS / 4))" ;;
  esac
}

# run MODE WORKLOAD: one run's milliseconds on stdout; the stats of a
# recording in $WORK/MODE-WORKLOAD.stats; its replay is checked.
run() {
  local mode=$1 w=$2 t0 t1 out cmd
  read -r -a cmd <<<"$(workload "$w")"
  out=$WORK/$mode-$w.out
  t0=$(ms)
  case $mode in
    native) "${cmd[@]}" >"$out" ;;
    desched) RRX_DESCHED=1 RRX_RECORD_STATS=1 "$RRX" record --syscallbuf -o "$WORK/t" -- "${cmd[@]}" >"$out" 2>"$WORK/$mode-$w.stats" ;;
    checked) RRX_DESCHED=0 RRX_RECORD_STATS=1 "$RRX" record --syscallbuf -o "$WORK/t" -- "${cmd[@]}" >"$out" 2>"$WORK/$mode-$w.stats" ;;
    record-n) RRX_RECORD_STATS=1 "$RRX" record -n -o "$WORK/t" -- "${cmd[@]}" >"$out" 2>"$WORK/$mode-$w.stats" ;;
  esac
  t1=$(ms)
  if [[ $mode != native ]]; then
    if ! "$RRX" replay --autopilot "$WORK/t" 2>/dev/null | cmp -s - "$out"; then
      echo "bench/desched.sh: the replay of $mode $w differs" >&2
      exit 1
    fi
    rm -rf "$WORK/t"
  fi
  echo $((t1 - t0))
}

# The stops of the last recording, and its desched signals "blocked/completed".
stops() {
  local f=$WORK/$1-$2.stats
  [[ -f $f ]] || { echo "-"; return; }
  local all given spurious
  all=$(sed -n 's/^rrx: record stats: \([0-9]*\) stops.*/\1/p' "$f")
  given=$(sed -n 's/.*desched signals: \([0-9]*\) given back.*/\1/p' "$f")
  spurious=$(sed -n 's/.*given back (blocked), \([0-9]*\) spurious.*/\1/p' "$f")
  if [[ $1 == desched ]]; then echo "$all ($given/$spurious)"; else echo "$all"; fi
}

MODES=(native desched checked record-n)
printf '%-13s' "workload"
for mode in "${MODES[@]}"; do printf ' | %-26s' "$mode ms (x native) stops"; done
printf '\n'
for w in pp-threads pp-processes futex-ring; do
  declare -A times=()
  for ((r = 0; r < REPS; ++r)); do
    for mode in "${MODES[@]}"; do times[$mode]+="$(run "$mode" "$w") "; done
  done
  native=$(tr ' ' '\n' <<<"${times[native]}" | grep . | median)
  printf '%-13s' "$w"
  for mode in "${MODES[@]}"; do
    t=$(tr ' ' '\n' <<<"${times[$mode]}" | grep . | median)
    ratio=$(awk -v t="$t" -v n="$native" 'BEGIN {printf "%.1f", (n > 0 ? t / n : 0)}')
    printf ' | %-26s' "$t ($ratio) $(stops "$mode" "$w")"
  done
  printf '\n'
  unset times
done
echo "($ROUNDS rounds (futex-ring: 4 threads, ROUNDS/4 turns each), median of $REPS; desched stops: all (desched signals: blocked/completed); rrx $("$RRX" --version 2>/dev/null | head -1))"
