#!/usr/bin/env bash
# gdb's interrupt (MI -exec-interrupt; ^C on the console: 0x03 on the
# connection) during a reverse-continue that has no breakpoint to stop at:
# the replay stops within a fraction of a second, as a forward continue
# does, reported as SIGINT where the search had got to; gdb can inspect that
# position and reverse-continue on from it to the start.
source "$(dirname "$0")/lib/gdb_common.sh"
command -v python3 >/dev/null || { echo "python3 is not installed: skipped"; exit 77; }

# A long recording (tens of thousands of events, several automatic
# checkpoints): a reverse-continue from its end to its start takes seconds.
# Recorded with -n: under the fast path the replay takes the program's
# writes without a stop each, and the same search ends within ~0.2 s, before
# the interrupt.
RRX_E2E_RECORD_ARGS="${RRX_E2E_RECORD_ARGS:-} -n" gdb_record long -- "$RRX_TEST_PROGRAMS/write_loop" 40000
CHECKS=$((CHECKS + 1))
if python3 "$(dirname "$0")/lib/mi_interrupt.py" "$RRX" "$WORK/long.trace" "$RRX_TEST_PROGRAMS/write_loop" \
  >"$WORK/mi.out" 2>&1; then
  sed 's/^/  /' "$WORK/mi.out"
else
  fail "the interrupted reverse-continue through gdb's MI:"
  sed 's/^/  | /' "$WORK/mi.out"
fi
gdb_finish
