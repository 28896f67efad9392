#!/usr/bin/env bash
# Cost of one getppid natively, traced (rrx record -n: two ptrace stops) and
# buffered (rrx record with the fast path: recorded in-process), in ns per
# call, and the trace bytes each buffered call adds; then the replay of the
# buffered trace (rrx replay --autopilot), less the replay of the same
# program making no calls, per call: with one stop per buffered call
# (RRX_SYSCALLBUF_REPLAY=stops) and stop-free (the library takes each
# recorded result from its buffer). All run in turn in each repetition;
# medians. Works whether the fast path is the build's
# default or needs --syscallbuf (bench/lib/record_modes.sh); says so when the
# build did not buffer the calls (then the "buffered" number is a traced one).
# bench/run.sh runs it after its workloads.
#
#   bash bench/syscallbuf_micro.sh [--markdown] [N]    (N calls, default 200000)
#
# Environment: RRX_BUILD_DIR (default build), RRX, BENCH_REPS (default 5).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib/paths.sh
source "$ROOT/bench/lib/paths.sh"
MARKDOWN=0
if [[ ${1:-} == --markdown ]]; then MARKDOWN=1; shift; fi
N=${1:-200000}
REPS=${BENCH_REPS:-5}
[[ $N =~ ^[1-9][0-9]*$ && $REPS =~ ^[1-9][0-9]*$ ]] || { echo "usage: bench/syscallbuf_micro.sh [--markdown] [N]" >&2; exit 2; }
[[ -x $RRX ]] || { echo "bench: $RRX is not built" >&2; exit 1; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/rrx-micro.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
source "$ROOT/bench/lib/record_modes.sh"

PROG=$BUILD/bench/syscallbuf_micro
if [[ ! -x $PROG ]]; then  # a build without it: compile it the way bench/CMakeLists.txt does
  PROG=$WORK/syscallbuf_micro
  cc -O2 -o "$PROG" "$ROOT/bench/syscallbuf_micro.c"
fi
detect_record_modes "$WORK"

ns() { sed -n 's/.* \([0-9.]*\) ns per call.*/\1/p'; }
median() { sort -g | awk '{v[NR] = $1} END {if (NR) print v[int((NR + 1) / 2)]; else print "n/a"}'; }
json_field() {  # json_field TRACE KEY
  "$RRX" info --json "$1" 2>/dev/null </dev/null | python3 -c 'import json, sys; print(json.load(sys.stdin).get(sys.argv[1], 0))' "$2" 2>/dev/null || echo 0
}
# replay_ns ENV: ns per call of replaying the buffered trace (under ENV),
# less the replay of the program making no calls.
replay_secs() {  # replay_secs TRACE ENV
  local t0=$EPOCHREALTIME
  env "$2" "$RRX" replay -q --autopilot "$1" >/dev/null 2>&1 </dev/null || { echo nan; return; }
  awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.6f", b - a }'
}
replay_ns() {
  local full zero
  full=$(replay_secs "$WORK/buffered" "$1")
  zero=$(replay_secs "$WORK/buffered0" "$1")
  awk -v f="$full" -v z="$zero" -v n="$N" 'BEGIN { if (f == "nan" || z == "nan") print "nan"; else printf "%.1f\n", (f - z) * 1e9 / n }'
}
traced_n=$((N / 20 > 100 ? N / 20 : 100))  # traced calls are slow: fewer of them
for ((rep = 1; rep <= REPS; rep++)); do
  "$PROG" "$N" | ns >>"$WORK/native"
  if ((HAVE_PTRACE)); then
    "$RRX" record -q "${PTRACE_ARGS[@]}" -o "$WORK/traced" -- "$PROG" "$traced_n" </dev/null | ns >>"$WORK/traced.ns"
    rm -rf "$WORK/traced"
  fi
  if ((HAVE_FAST)); then
    "$RRX" record -q "${FAST_ARGS[@]}" -o "$WORK/buffered" -- "$PROG" "$N" </dev/null | ns >>"$WORK/buffered.ns"
    "$RRX" record -q "${FAST_ARGS[@]}" -o "$WORK/buffered0" -- "$PROG" 0 </dev/null >/dev/null
    json_field "$WORK/buffered" buffered_syscalls >>"$WORK/buffered.count"
    echo $(($(stat -c %s "$WORK/buffered/trace") - $(stat -c %s "$WORK/buffered0/trace"))) >>"$WORK/buffered.bytes"
    replay_ns RRX_SYSCALLBUF_REPLAY=stops >>"$WORK/replay-stops.ns"
    replay_ns RRX_SYSCALLBUF_REPLAY= >>"$WORK/replay-free.ns"
    rm -rf "$WORK/buffered" "$WORK/buffered0"
  fi
done

native=$(median <"$WORK/native")
traced=n/a buffered=n/a per_call=n/a count=0 replay_stops=n/a replay_free=n/a
((HAVE_PTRACE)) && traced=$(median <"$WORK/traced.ns")
if ((HAVE_FAST)); then
  buffered=$(median <"$WORK/buffered.ns")
  count=$(median <"$WORK/buffered.count")
  per_call=$(awk -v b="$(median <"$WORK/buffered.bytes")" -v n="$N" 'BEGIN { printf "%.2f", b / n }')
  replay_stops=$({ grep -v nan "$WORK/replay-stops.ns" || true; } | median)
  replay_free=$({ grep -v nan "$WORK/replay-free.ns" || true; } | median)
  # A build without stop-free replay ignores the variable: one number twice.
  grep -q RRX_SYSCALLBUF_REPLAY "$RRX" || replay_free="n/a (not in this build)"
fi
note=""
if ((HAVE_FAST)) && ((count < N / 2)); then
  note="this build buffered $count of the $N getppid calls: the fast-path number is mostly traced calls"
fi
((HAVE_FAST)) || note="this build has no fast path"

printf 'getppid, ns per call (%d repetitions, medians): native %s, traced (-n) %s, buffered (fast path) %s\n' "$REPS" "$native" "$traced" "$buffered" >&2
printf 'trace bytes per buffered getppid: %s (compressed; %d calls, %s of them buffered)\n' "$per_call" "$N" "$count" >&2
printf 'replay of the buffered trace, ns per call: one stop per call %s, stop-free %s\n' "$replay_stops" "$replay_free" >&2
[[ -z $note ]] || echo "note: $note" >&2
if ((MARKDOWN)); then
  echo "getppid micro-benchmark (bench/syscallbuf_micro.sh: $N calls natively and buffered, $traced_n traced; $REPS repetitions, medians; $(describe_record_modes)):"
  echo
  echo "| call | native ns | traced (-n) ns | buffered (fast path) ns | buffered calls | trace bytes per buffered call | replay, a stop per call ns | replay, stop-free ns |"
  echo "|---|--:|--:|--:|--:|--:|--:|--:|"
  echo "| getppid | $native | $traced | $buffered | $count of $N | $per_call | $replay_stops | $replay_free |"
  [[ -z $note ]] || { echo; echo "Note: $note."; }
else
  printf 'native %s\ntraced %s\nbuffered %s\nbuffered_calls %s\nbytes_per_buffered_call %s\nreplay_stops %s\nreplay_stop_free %s\n' \
    "$native" "$traced" "$buffered" "$count" "$per_call" "$replay_stops" "$replay_free"
fi
