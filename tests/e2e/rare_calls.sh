#!/usr/bin/env bash
# Calls benchmark harnesses and old code make (issue 16): perf_event_open
# software counters (the counts are recorded inputs; mapping a counter's ring
# buffer is refused with a warning), quotactl, and a 32-bit `int $0x80` call
# from a 64-bit program (refused, named by its i386 name in the warning and in
# rrx dump, not by the 64-bit call of the same number).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

R=$(prog rare_calls)
warned() {  # warned NAME PATTERN: rrx's warning on NAME's record stderr matches PATTERN
  grep '^rrx:' "$WORK/$1.rec.rawerr" 2>/dev/null | grep -q -- "$2"
}

if "$R" perf | grep -q '^opened:'; then
  rr_check perf --stdout-has "mmap of the counter: ENODEV" -- "$R" perf
  check "perf: rrx warned that it refused the ring buffer's mmap" warned perf 'mmap.*perf_event.*ENODEV'
  check "perf: the counts were read" grep -q '^task-clock: read 24 bytes' "$WORK/perf.rec.out"
else
  note "  note: perf_event_open of software counters fails here (perf_event_paranoid?): recorded as it fails"
  rr_check perf -- "$R" perf
fi

rr_check quota --stdout-has "quotactl(Q_GETFMT)" -- "$R" quota

if ! "$R" int80 2>/dev/null | grep -q '^int \$0x80 getpid'; then
  note "  note: int \$0x80 does not work natively here (a kernel without IA32 emulation): its case is not run"
  rr_finish
fi
rr_check int80 --stdout-has 'int $0x80 getpid = -38 (ENOSYS)' -- "$R" int80
check "int80: the warning names the i386 call (getpid, i386 syscall 20)" \
  warned int80 'int \$0x80 getpid (i386 syscall 20)'
check "int80: the warning does not name the 64-bit call of that number (writev)" \
  bash -c "! grep '^rrx:' '$WORK/int80.rec.rawerr' | grep -q writev"
if [[ -f $WORK/int80.trace/trace ]]; then
  rrx_run "$WORK/int80.dump" dump "$WORK/int80.trace"
  check "int80: rrx dump shows int80:getpid" grep -q 'int80:getpid(.*= -1 ENOSYS.*(refused by rrx)' "$WORK/int80.dump.out"
fi
rr_finish
