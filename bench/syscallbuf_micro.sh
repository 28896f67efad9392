#!/usr/bin/env bash
# Cost of one getppid natively, traced (rrx record -n: two ptrace stops) and
# buffered (rrx record --syscallbuf: recorded in-process), in ns per call, and
# the trace bytes each buffered call adds. Usage: bench/syscallbuf_micro.sh [N]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${RRX_BUILD_DIR:-$ROOT/build}
RRX=${RRX:-$BUILD/bin/rrx}
PROG=$BUILD/bench/syscallbuf_micro
N=${1:-100000}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

ns() { sed -n 's/.* \([0-9.]*\) ns per call.*/\1/p'; }
native=$("$PROG" "$N" | ns)
traced_n=$((N / 20))  # traced calls are slow: fewer of them
traced=$("$RRX" record -q -n -o "$WORK/traced" -- "$PROG" "$traced_n" | ns)
buffered=$("$RRX" record -q --syscallbuf -o "$WORK/buffered" -- "$PROG" "$N" | ns)
"$RRX" record -q --syscallbuf -o "$WORK/buffered0" -- "$PROG" 0 >/dev/null
size() { stat -c %s "$1/trace"; }
per_call=$(( ($(size "$WORK/buffered") - $(size "$WORK/buffered0")) * 1000 / N ))
printf 'getppid, ns per call: native %s, traced (-n) %s, buffered (--syscallbuf) %s\n' "$native" "$traced" "$buffered"
printf 'trace bytes per buffered getppid: %d.%03d (compressed; %d calls)\n' $((per_call / 1000)) $((per_call % 1000)) "$N"

# Replay of the buffered trace (rrx replay --autopilot), less the replay of
# the same program making no calls, divided by the calls (best of 3 each):
# with one stop per buffered call (RRX_SYSCALLBUF_REPLAY=stops) and stop-free
# (the library takes each recorded result from its buffer).
replay_ms() {  # best wall time in ms of 3 replays of trace $1, env $2
  local best=0 start end t
  for _ in 1 2 3; do
    start=$(date +%s%N)
    env "$2" "$RRX" replay -q --autopilot "$1" >/dev/null
    end=$(date +%s%N)
    t=$(( (end - start) / 1000 ))
    if (( best == 0 || t < best )); then best=$t; fi
  done
  echo "$best"
}
replay_ns() {
  local full zero
  full=$(replay_ms "$WORK/buffered" "$1")
  zero=$(replay_ms "$WORK/buffered0" "$1")
  echo $(( (full - zero) * 1000 / N ))
}
printf 'replay of the buffered trace, ns per call: one stop per call %s, stop-free %s\n' \
  "$(replay_ns RRX_SYSCALLBUF_REPLAY=stops)" "$(replay_ns RRX_SYSCALLBUF_REPLAY=)"
