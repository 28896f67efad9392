#!/usr/bin/env bash
# Traced calls completed at their seccomp stop while recording, their result
# taken from the return slot at the thread's next stop (record/return_slot.h):
# counted by RRX_RECORD_STATS; slot_calls (file maps, munmap, close, access,
# failing ones, under a 200 us timer whose signals stop threads inside the
# return stub, and in a fork) and python3's start-up replay as recorded, and
# record the same events with RRX_NO_RETURN_SLOT=1 (exit stops). A spin on
# sched_yield gives the CPU to the process it waits for at each call's exit
# (kGivesWay), not after 2 ms of calls: few sched_yield events. Calls rrx
# skips and answers itself (rseq) complete at their seccomp stop too.
# rrx-e2e: one record mode (the slot is the fast path's)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

P=$(prog slot_calls)
RRX_RECORD_STATS=1 rr_check slot_calls --record-arg --syscallbuf --stdout-has "child exited 0" -- "$P"
if [[ -f $WORK/slot_calls.rec.rawerr ]]; then
  done_at=$(sed -n 's/.*completed at their seccomp stop (no exit stop): \([0-9]*\),.*/\1/p' "$WORK/slot_calls.rec.rawerr")
  # 2,000 rounds of two traced maps (one fails; munmap, close and access
  # are buffered once their sites are patched). Those made with a timer
  # signal held for their exit keep their exit stop: some of them.
  check "slot_calls: the file maps and the failing ones complete at their seccomp stop (${done_at:-none})" \
    test "${done_at:-0}" -ge 500
  # The loader's rseq (refused by rrx) in each of its two processes, and
  # the library's rrx_desched_fd where no desched event is opened: skipped
  # and answered at their seccomp stops, no exit stop.
  answered=$(sed -n 's/.*; \([0-9]*\) calls skipped and answered there.*/\1/p' "$WORK/slot_calls.rec.rawerr")
  check "slot_calls: the loader's refused rseq is answered at its seccomp stop (${answered:-none})" \
    test "${answered:-0}" -ge 1
  check "slot_calls: the recording prints what it saw" \
    grep -q "parent: 1500 rounds, sum [0-9]*, 6000 failures as expected" "$WORK/slot_calls.rec.out"
fi

# The same events with exit stops: the slot changes no result.
RRX_NO_RETURN_SLOT=1 RRX_RECORD_STATS=1 rr_record slot_calls_exits --record-arg --syscallbuf -- "$P"
if [[ -f $WORK/slot_calls.trace/trace && -f $WORK/slot_calls_exits.trace/trace ]]; then
  check "slot_calls: RRX_NO_RETURN_SLOT=1 completes no call at its seccomp stop" \
    bash -c "! grep -q 'completed at their seccomp stop' '$WORK/slot_calls_exits.rec.rawerr'"
  rrx_run "$WORK/with.dump" dump "$WORK/slot_calls.trace"
  rrx_run "$WORK/without.dump" dump "$WORK/slot_calls_exits.trace"
  # Each call as "name(args) = result", without event numbers, tids and addresses.
  calls() { grep -Eo '(mmap|munmap|close|access)\(.*' "$1" | sed -E 's/0x[0-9a-f]+/ADDR/g' | sort | uniq -c; }
  calls "$WORK/with.dump.out" >"$WORK/with.calls"
  calls "$WORK/without.dump.out" >"$WORK/without.calls"
  check "slot_calls: the same calls with the same results, slot or exit stops" \
    cmp -s "$WORK/with.calls" "$WORK/without.calls"
  check "slot_calls: the failing calls' errors are in the trace" \
    grep -q "mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, 999, 0) = -1 EBADF" "$WORK/with.dump.out"
fi

# The dynamic loader's traced calls (python3's many libraries and modules:
# its maps of their files; most of its other calls are buffered, from the
# syscall buffer's early set-up on, tests/e2e/preload_early.sh).
if [[ -x /usr/bin/python3 ]]; then
  RRX_RECORD_STATS=1 rr_check python --record-arg --syscallbuf -- /usr/bin/python3 -c 'import json, os; print(json.dumps(sorted(os.listdir("/"))[:3]))'
  n=$(sed -n 's/.*completed at their seccomp stop (no exit stop): \([0-9]*\),.*/\1/p' "$WORK/python.rec.rawerr" 2>/dev/null)
  check "python: the loader's calls complete at their seccomp stop (${n:-none})" test "${n:-0}" -ge 10
fi

# A spin on sched_yield waits for the other process's turn, not 2 ms of calls.
S=$(prog shared_map)
rr_check yield --record-arg --syscallbuf --stdout-has "counter 200 (expected 200)" -- "$S" anon
if [[ -f $WORK/yield.trace/trace ]]; then
  rrx_run "$WORK/yield.dump" dump "$WORK/yield.trace"
  yields=$(grep -c 'sched_yield() = 0' "$WORK/yield.dump.out" || true)
  check "yield: 200 turns take few sched_yield calls ($yields)" test "$yields" -le 2000
fi

rr_finish
