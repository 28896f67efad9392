#!/usr/bin/env bash
# rt_sigaction and rt_sigprocmask buffered by the syscall buffer
# (core/syscallbuf_abi.h, "Signal state"): tests/programs/sigbuf.c sets its
# handlers and masks from patched sites, then takes signals (handled,
# ignored, blocked then unblocked, SA_RESETHAND, SA_RESTART around a
# blocking read, SA_ONSTACK), forks and execs (dispositions across exec),
# and ignores and blocks SIGSEGV around rdtsc (RRX_TSC_PATCH=1: the patched
# way, whose forced SIGSEGV rrx undoes from its model of the signal state)
# before it catches real SIGSEGVs. Recorded with the fast path and with -n,
# each must print what the program prints natively, and replay exactly
# (twice, and with each skip strategy); `rrx dump` shows the buffered sets
# as it shows traced ones, marked "(buffered)"; an unblock of a pending
# signal stays traced; a replay with a stop per buffered call
# (RRX_SYSCALLBUF_REPLAY=stops) prints the same.
# rrx-e2e: one record mode (each recording names its mode)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

P=$(prog sigbuf)
"$P" > "$WORK/native.out" 2>&1 || fail "sigbuf: the program fails natively"

same_as_native() {
  local name=$1
  check "$name: prints what it prints natively" cmp -s "$WORK/native.out" "$WORK/$name.rec.out"
  if ! cmp -s "$WORK/native.out" "$WORK/$name.rec.out"; then show_diff "native" "$WORK/native.out" "$name" "$WORK/$name.rec.out"; fi
}

for mode in --syscallbuf -n; do
  name=sigbuf${mode//-/_}
  rr_check "$name" --status 0 --record-arg "$mode" -- "$P"
  same_as_native "$name"
  RRX_TSC_PATCH=1 rr_check "${name}_tsc_patch" --status 0 --record-arg "$mode" -- "$P"
  same_as_native "${name}_tsc_patch"
done

T=$(rr_trace sigbuf__syscallbuf)
if [[ -f $T/trace ]]; then
  rrx_run "$WORK/sigbuf.dump" dump "$T"
  D=$WORK/sigbuf.dump.out
  n=$(grep -cE 'rt_sigaction\(SIGUSR1, \{sa_handler=0x[0-9a-f]+, sa_mask=\[\], sa_flags=SA_RESTORER\}, NULL, 8\) = 0 \(buffered\)' "$D" || true)
  check "dump: rt_sigaction setting a handler is buffered, its act shown (got $n)" test "$n" -ge 19
  n=$(grep -cE 'rt_sigprocmask\(SIG_(BLOCK|UNBLOCK), \[SIGTERM\], NULL, 8\) = 0 \(buffered\)' "$D" || true)
  check "dump: rt_sigprocmask setting the mask is buffered, its set shown (got $n)" test "$n" -ge 38
  check "dump: the library's check of pending signals is buffered" grep -qE 'rt_sigpending\(\[\], 8\) = 0 \(buffered\)' "$D"
  check "dump: a query after an EFAULT is buffered" grep -qE 'rt_sigaction\(SIGSEGV, NULL, \{sa_handler=SIG_IGN, .*\) = 0 \(buffered\)' "$D"
  check "dump: an unblock of a pending signal is traced" grep -qE '^ *[0-9]+ .*rt_sigprocmask\(SIG_UNBLOCK, 0x[0-9a-f]+, NULL, 8\) = 0$' "$D"
fi
# The replayer's own path for buffered calls: a stop at each (RRX_SYSCALLBUF_REPLAY=stops).
for name in sigbuf__syscallbuf sigbuf__syscallbuf_tsc_patch; do
  T=$(rr_trace $name)
  [[ -f $T/trace ]] || continue
  RRX_SYSCALLBUF_REPLAY=stops rrx_run "$WORK/$name.stops" replay --autopilot "$T"
  check "$name: with a stop per buffered call the replay prints the same" cmp -s "$WORK/$name.stops.out" "$WORK/$name.rec.out"
  check "$name: with a stop per buffered call no divergence" bash -c "! grep -qi divergence '$WORK/$name.stops.rawerr'"
done
rr_finish
