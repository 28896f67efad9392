#!/usr/bin/env bash
# Emulated ptrace (README, "Tracers and sanitizers inside a recording"),
# what a tracer in the recording sees besides syscall and signal stops:
# group-stops of its tracees (PTRACE_EVENT_STOP for a seized one, the plain
# stop signal otherwise, PTRACE_LISTEN, SIGCONT's PTRACE_EVENT_STOP,
# PTRACE_INTERRUPT of a listening tracee, detach in a group-stop);
# PTRACE_INTERRUPT of a tracee blocked in a call (cut short and restarted,
# or made to fail with EINTR by register writes at the interrupt stop);
# /proc/PID/status's TracerPid and /proc/PID/stat's state. Each program's
# output is compared with a native run, then replayed with every strategy.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/lib/mt.sh"

rr_check_native groupstop --stdout-has "seized: 4 (after SIGCONT): stopped by Trace/breakpoint trap, event 128" \
  -- "$(prog ptrace_groupstop)"
rr_check_native interrupt --stdout-has "child: nanosleep returned -1 (Interrupted system call)" \
  -- "$(prog ptrace_interrupt)"
rr_check_native tracerpid --stdout-has "child: own TracerPid: the tracer" -- "$(prog ptrace_tracerpid)"

rr_finish
