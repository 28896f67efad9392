#!/usr/bin/env bash
# Buffered calls with a path argument (stat, access, open, readlink) fill a
# thread's syscall buffer again and again (tests/programs/syscallbuf_wrap.c:
# the main thread, then two threads at once). The call that finds the buffer
# full goes traced and empties it; on replay the buffered call after it has
# a stop of its own, and the next calls are fed at its exit, after the record
# the library has still to publish, path string included. The replay (stop-
# free and with a stop per call) must print what the recording printed.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

mkdir -p "$WORK/files"
rr_check wrap --stdout-has "thread 1: sizes" --record-arg --syscallbuf -- "$(prog syscallbuf_wrap)" "$WORK/files"
T=$(rr_trace wrap)
if [[ -f $T/trace ]]; then
  rrx_run "$WORK/wrap.dump" dump "$T"
  # Traced stats, accesses and readlinks of the long path (the first call at
  # each site, then one where a buffer was full).
  wraps=$(grep -v '(buffered)' "$WORK/wrap.dump.out" | grep -cE '(newfstatat|access|readlink)\(.*nnnnnnnnnn' || true)
  check "the recording filled a buffer several times ($wraps traced calls with the long path)" test "$wraps" -ge 8
  RRX_SYSCALLBUF_REPLAY=stops rrx_run "$WORK/stops" replay --autopilot "$T"
  check "with a stop per call (RRX_SYSCALLBUF_REPLAY=stops) the replay prints the same" \
    cmp -s "$WORK/stops.out" "$WORK/wrap.rec.out"
fi

rr_finish
