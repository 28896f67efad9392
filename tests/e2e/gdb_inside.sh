#!/usr/bin/env bash
# Tracers that change their tracee, inside a recording (README, "Tracers and
# sanitizers inside a recording"): gdb runs a program to a breakpoint, looks
# at it, steps and continues (int3 written through /proc/PID/mem, the
# SIGTRAP swallowed, the pc moved back with PTRACE_SETREGS, single steps);
# a C tracer makes getpid return 4242 (PTRACE_SETREGS at the syscall-exit
# stop), skips a write with PTRACE_SYSEMU and with PTRACE_SET_SYSCALL_INFO,
# moves the pc past an int3 with POKEUSER, blocks a signal with
# PTRACE_SETSIGMASK, and sets vector registers (SETFPREGS, SETREGSET). Each recording replays, with every skip strategy,
# byte for byte; the C tracer's output also equals a native run's.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/lib/mt.sh"

rr_check_native setregs --stdout-has "child: getpid returned 4242" -- "$(prog ptrace_modify)" setregs
rr_check_native sysemu --stdout-has "child: write returned 77" -- "$(prog ptrace_modify)" sysemu
# PTRACE_SET_SYSCALL_INFO is Linux 6.16's: the emulation has it on any kernel.
rr_check setinfo --stdout-has "child: write returned 99" -- "$(prog ptrace_modify)" setinfo
check "setinfo: the skipped write did not run" bash -c "! grep -q 'this write ran' '$WORK/setinfo.rec.out'"
rr_check_native int3 --stdout-has "child: went on after int3" -- "$(prog ptrace_modify)" int3
rr_check_native sigmask --stdout-has "child: SIGUSR1 pending 1" -- "$(prog ptrace_modify)" sigmask
rr_check_native fpregs --stdout-has "child: xmm0 0x1122334455667788 xmm1 0x99aabbccddeeff00" -- \
  "$(prog ptrace_modify)" fpregs

# (gdb's worker threads index the debug info while its main thread works:
# a preemption of one of them often lands in its name comparator, whose
# entry jumps into its loop: the replay's stub routes that branch (see
# tests/e2e/preemption.sh, mt_entered_loop). CTest runs this script in both
# recording modes.)
if command -v gdb >/dev/null; then
  rr_check gdb --stdout-has "x is 42" -- \
    sh -c 'gdb -batch -nx -ex "break main" -ex run -ex bt -ex "print x" \
             -ex next -ex continue "$1" 2>&1' sh "$(prog gdb_tiny)"
  for want in "Breakpoint 1, main () at" "#0  main () at" "exited normally"; do
    check "gdb: its output has '$want'" grep -qF "$want" "$WORK/gdb.rec.out"
  done
  check "gdb: no error" bash -c "! grep -v 'Source file is more recent' '$WORK/gdb.rec.out' | grep -qiE \"couldn't|cannot|warning: \""
else
  note "  note: gdb is not installed: its case is skipped"
fi

rr_finish
