#!/usr/bin/env bash
# An unsupported syscall (io_uring_setup) fails with ENOSYS while recording,
# with a warning; the replay reproduces it. --strict refuses such a recording.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

U=$(prog unsupported_syscall)
rr_check io_uring --status 0 --stdout-has "io_uring_setup = -1 errno ENOSYS" -- "$U"

CHECKS=$((CHECKS + 1))
if [[ -f $WORK/io_uring.rec.rawerr ]] && grep '^rrx:' "$WORK/io_uring.rec.rawerr" | grep -qi 'io_uring'; then
  pass "rrx record warned about io_uring_setup on stderr"
else
  fail "rrx record printed no 'rrx: ...' warning naming io_uring_setup on stderr"
  show_file "record stderr" "$WORK/io_uring.rec.rawerr"
fi

CHECKS=$((CHECKS + 1))
rrx_run "$WORK/strict" record --strict -o "$WORK/strict.trace" -- "$U"
if ((RUN_RC != 0 && RUN_RC != 124)) && [[ -s $WORK/strict.rawerr ]]; then
  pass "rrx record --strict fails (exit $RUN_RC) with a message"
else
  fail "rrx record --strict of an unsupported syscall: exit $RUN_RC (expected non-zero with a message)"
  show_file "stdout" "$WORK/strict.out"
  show_file "stderr" "$WORK/strict.rawerr"
fi
if grep -q 'still running after the unsupported call' "$WORK/strict.out"; then
  note "  note: under --strict the program ran on after the unsupported call"
fi

rr_finish
