#!/usr/bin/env bash
# Measures the replay of preemption points inside hot loops: CPU-bound
# threads (tests/programs/mt_cpu_bound, 2 and 4 threads) and CPU-bound
# goroutines (tests/e2e/data/go_cpu, when go is installed), each sized to
# run about BENCH_SECONDS natively. For each: the native run, the recording,
# the number of preemption events, `rrx replay --autopilot` (its output
# compared with the recording's), and replay / record (the target of issue
# 15: <= 3). BENCH_SLOW=1 also replays with
# RRX_PREEMPT_STUB=0 (one ptrace stop per pass of the loop, the old way),
# bounded by BENCH_SLOW_LIMIT seconds (default 120).
#
#   bash bench/preempt.sh
#
# Environment: RRX_BUILD_DIR (default build), RRX, RRX_TEST_PROGRAMS,
# BENCH_RECORD_ARGS (extra `rrx record` flags, e.g. -n or --syscallbuf),
# BENCH_SECONDS (default 2: the native run time aimed at; the work per
# thread is calibrated from a short native run), BENCH_KEEP=1 keeps the work
# directory.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib/paths.sh
source "$ROOT/bench/lib/paths.sh"
[[ -x $RRX && -x $PROGS/mt_cpu_bound ]] || { echo "bench: build rrx and its test programs first (bash scripts/test.sh)" >&2; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/rrx-bench-preempt.XXXXXX")
trap '[[ ${BENCH_KEEP:-0} == 1 ]] || rm -rf "$WORK"' EXIT
export RRX_TRACE_DIR=$WORK/traces
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
TARGET=${BENCH_SECONDS:-2}

# calibrate CMD...: millions of steps per thread for about TARGET seconds
# natively (CMD takes THREADS MILLIONS; timed with 1 thread, 20 million).
calibrate() {
  local t0 t1
  t0=$(now)
  "$@" 1 20 >/dev/null
  t1=$(now)
  awk -v a="$t0" -v b="$t1" -v target="$TARGET" 'BEGIN { d = b - a; if (d < 0.01) d = 0.01; m = int(20 * target / d); if (m < 1) m = 1; print m }'
}

printf '%-12s %7s %8s %8s %8s %8s %12s %s\n' workload native record replay "rep/rec" preempts "replay-old" status
row() {  # row NAME THREADS CMD...
  local name=$1 threads=$2
  shift 2
  local per total m t0 t1 native rec rep n status=ok old="-"
  per=$(calibrate "$@")
  # The whole run aims at TARGET seconds natively: the threads share the work.
  m=$(( (per + threads - 1) / threads ))
  ((m >= 1)) || m=1
  t0=$(now); "$@" "$threads" "$m" >"$WORK/$name.native.out"; t1=$(now); native=$(secs "$t0" "$t1")
  t0=$(now)
  "$RRX" record -q ${BENCH_RECORD_ARGS:-} -o "$WORK/$name.trace" -- "$@" "$threads" "$m" >"$WORK/$name.rec.out" 2>"$WORK/$name.rec.err" || true
  t1=$(now); rec=$(secs "$t0" "$t1")
  n=$("$RRX" dump "$WORK/$name.trace" 2>/dev/null | grep -c ' preempted at ' || true)
  t0=$(now)
  timeout 600 "$RRX" replay --autopilot "$WORK/$name.trace" >"$WORK/$name.rep.out" 2>"$WORK/$name.rep.err" || status="replay-exit-$?"
  t1=$(now); rep=$(secs "$t0" "$t1")
  cmp -s "$WORK/$name.rec.out" "$WORK/$name.native.out" || status="record-differs"
  cmp -s "$WORK/$name.rep.out" "$WORK/$name.rec.out" || status="replay-differs"
  if [[ ${BENCH_SLOW:-0} == 1 ]]; then
    t0=$(now)
    if RRX_PREEMPT_STUB=0 timeout "${BENCH_SLOW_LIMIT:-120}" "$RRX" replay --autopilot -q "$WORK/$name.trace" >/dev/null 2>&1; then
      t1=$(now); old=$(secs "$t0" "$t1")
    else
      old=">${BENCH_SLOW_LIMIT:-120}"
    fi
  fi
  printf '%-12s %7s %8s %8s %8s %8s %12s %s\n' "$name" "$native" "$rec" "$rep" \
    "$(awk -v a="$rec" -v b="$rep" 'BEGIN { printf "%.2f", b / (a > 0 ? a : 0.01) }')" "$n" "$old" "$status"
}

row threads-2 2 "$PROGS/mt_cpu_bound"
row threads-4 4 "$PROGS/mt_cpu_bound"

GO=$(command -v go || true)
if [[ -n $GO ]]; then
  export GOCACHE=$WORK/go-cache GOPATH=$WORK/gopath GOTOOLCHAIN=local GOPROXY=off GOFLAGS= GO111MODULE=on
  export GOTELEMETRY=off CGO_ENABLED=0
  mkdir -p "$GOCACHE" "$GOPATH"
  cp -r "$ROOT/tests/e2e/data/go_cpu" "$WORK/"
  printf 'module example.com/gocpu\n\ngo 1.19\n' >"$WORK/go_cpu/go.mod"
  if (cd "$WORK/go_cpu" && "$GO" build -o "$WORK/gocpu" .) >"$WORK/go-build.log" 2>&1; then
    row goroutines-4 4 "$WORK/gocpu"
  else
    echo "go-cpu: go build failed (see $WORK/go-build.log)"
  fi
else
  echo "(go is not installed: no goroutine workload)"
fi
