#!/usr/bin/env bash
# The trace's order of events is the order in which they took effect: two
# threads and two processes write interleaved lines to stdout and stderr
# (tests/programs/output_fds), recorded many times, with the fast path
# (--syscallbuf) and without (-n); every replay prints each stream byte for
# byte as the recording did. A write whose exit stop came after another
# task's writes (rrx gave the CPU away while the write was done or still
# running in the kernel) replays its bytes too late.
# rrx-e2e: one record mode (each recording is made with --syscallbuf and with -n)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

RUNS=${RRX_E2E_ORDER_RUNS:-12}
# The race needs a write that is slow in the kernel while rrx looks up (its
# 10 ms tick): busy loops competing for the CPUs make that likely.
hogs=()
for _ in $(seq $(($(nproc) * 2))); do
  bash -c 'while :; do :; done' &
  hogs+=($!)
done
stop_hogs() { kill "${hogs[@]}" 2>/dev/null || true; wait "${hogs[@]}" 2>/dev/null || true; }
trap 'stop_hogs; _rr_cleanup' EXIT
for mode in --syscallbuf -n; do
  bad=0
  for i in $(seq "$RUNS"); do
    t="$WORK/order$mode$i.trace"
    run_capture "$WORK/order$mode$i.rec" -- "$RRX" record -q "$mode" -o "$t" -- "$(prog output_fds)" 300
    run_capture "$WORK/order$mode$i.rep" -- "$RRX" replay --autopilot "$t"
    if [[ $(cat "$WORK/order$mode$i.rec.rc") != 0 || $(cat "$WORK/order$mode$i.rep.rc") != 0 ]] ||
      ! cmp -s "$WORK/order$mode$i.rec.out" "$WORK/order$mode$i.rep.out" ||
      ! cmp -s "$WORK/order$mode$i.rec.err" "$WORK/order$mode$i.rep.err"; then
      ((bad == 0)) || continue
      bad=$i
      show_diff "recorded stdout" "$WORK/order$mode$i.rec.out" "replayed stdout" "$WORK/order$mode$i.rep.out"
      show_diff "recorded stderr" "$WORK/order$mode$i.rec.err" "replayed stderr" "$WORK/order$mode$i.rep.err"
    fi
  done
  CHECKS=$((CHECKS + 1))
  if ((bad == 0)); then
    pass "order $mode: $RUNS recordings replay their interleaved output in the recorded order"
  else
    fail "order $mode: run $bad (of $RUNS) replays its output in another order than the recording"
  fi
done
stop_hogs

rr_finish
