#!/usr/bin/env bash
# Stop-free replay of buffered calls: the preload library takes each
# recorded call's result and memory from its buffer, where the replayer put
# the records ahead of it, with no ptrace stop per call. The replay prints
# what the recording printed (rr_check: every skip strategy), takes almost
# every buffered call without a stop (RRX_REPLAY_STATS), prints the same with
# one stop per call (RRX_SYSCALLBUF_REPLAY=stops), and a trace whose buffered
# call has another argument than the program passes diverges at that call's
# event, found by the library's comparison, with and without the stops.
# rrx-e2e: one record mode (each recording names its mode)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

[[ -x $RRX_TRACE_EDIT ]] || { echo "FAIL: $RRX_TRACE_EDIT is not built"; exit 1; }

P=$(prog syscallbuf_calls)
rr_check calls --stdout-has "child exited 0" --record-arg --syscallbuf -- "$P"
T=$(rr_trace calls)
if [[ -f $T/trace ]]; then
  RRX_REPLAY_STATS=1 rrx_run "$WORK/stats" replay --autopilot "$T"
  taken=$(sed -n 's/.* \([0-9]*\) buffered calls taken without a stop.*/\1/p' "$WORK/stats.rawerr")
  rrx_run "$WORK/calls.dump" dump "$T"
  buffered=$(grep -c '(buffered)' "$WORK/calls.dump.out" || true)
  # Each stretch of a thread's buffered calls keeps a stop for its last call
  # only where what follows is not a syscall of the same thread.
  check "calls: most of the $buffered buffered calls are taken without a stop (${taken:-none})" \
    test "${taken:-0}" -gt $((buffered * 9 / 10))
  check "calls: the stop-free replay printed what the recording did" cmp -s "$WORK/stats.out" "$WORK/calls.rec.out"
  RRX_SYSCALLBUF_REPLAY=stops RRX_REPLAY_STATS=1 rrx_run "$WORK/stops" replay --autopilot "$T"
  check "calls: with a stop per call (RRX_SYSCALLBUF_REPLAY=stops) the output is the same" \
    cmp -s "$WORK/stops.out" "$WORK/calls.rec.out"
  check "calls: RRX_SYSCALLBUF_REPLAY=stops takes none without a stop" \
    grep -q ' 0 buffered calls taken without a stop' "$WORK/stops.rawerr"

  # The 100th clock_gettime (the main thread's loop, CLOCK_MONOTONIC) recorded
  # with clock 7: the program passes 1, which the library finds different.
  CHECKS=$((CHECKS + 1))
  if "$RRX_TRACE_EDIT" "$T" "$WORK/edited.trace" --syscall clock_gettime --nth 100 --arg 0 7 \
      >"$WORK/edit.out" 2>&1; then
    ev=$(sed -n 's/^edited event \([0-9]*\):.*/\1/p' "$WORK/edit.out")
    pass "rrx_trace_edit: $(cat "$WORK/edit.out")"
    for mode in stop-free stops; do
      env_mode=()
      [[ $mode == stops ]] && env_mode=(RRX_SYSCALLBUF_REPLAY=stops)
      run_capture "$WORK/div-$mode" -- env ${env_mode[@]+"${env_mode[@]}"} "$RRX" replay --autopilot "$WORK/edited.trace"
      CHECKS=$((CHECKS + 1))
      if [[ $RUN_RC == 125 ]] && grep -qi "divergence at event $ev\b" "$WORK/div-$mode.rawerr" &&
          grep -q 'recorded: clock_gettime(CLOCK_BOOTTIME,' "$WORK/div-$mode.rawerr"; then
        pass "edited ($mode): exit 125, divergence at event $ev, the recorded clock_gettime(CLOCK_BOOTTIME, ...) named"
      else
        fail "edited ($mode): exit $RUN_RC (expected 125), a divergence at event $ev naming the recorded clock_gettime(CLOCK_BOOTTIME, ...)"
        show_file stderr "$WORK/div-$mode.rawerr" 20
      fi
    done
  else
    fail "rrx_trace_edit could not edit the 100th clock_gettime"
    show_file output "$WORK/edit.out"
  fi
fi

rr_finish
