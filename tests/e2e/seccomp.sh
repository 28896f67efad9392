#!/usr/bin/env bash
# Programs with seccomp filters of their own (tests/programs/seccomp_filter.c):
# every verdict is recorded as the kernel gave it (the recording behaves as
# the native run) and replays identically with every skip strategy: ERRNO
# for calls replay would otherwise run for real (mmap, munmap, mprotect, brk,
# clone, setrlimit, arch_prctl), also in another thread (TSYNC), RET_TRACE without a seccomp-aware tracer (ENOSYS), RET_TRAP
# with a SIGSYS handler reading its siginfo and setting the result (and with
# SIGSYS blocked: the forced SIGSYS kills), KILL_PROCESS (also with another
# thread blocked in read), KILL_THREAD of one
# thread among two and of the last one, strict mode (a write, then SIGKILL;
# or exit; also under --syscallbuf, where rrx enforces it), a default-KILL allowlist with a thread whose rseq rrx refuses,
# both with sites patched before the filter came (a second process of the same program),
# and a user-notification listener, which rrx refuses with a warning.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/lib/mt.sh"

# Filters that kill dump core: not into the work directory.
ulimit -c 0
S=$(prog seccomp_filter)
rr_check_native sc_errno --status 0 --stdout-has "mmap 7 pages                 = -1 EPERM" -- "$S" errno
rr_check_native sc_tsync --status 0 --stdout-has "thread: mprotect             = -1 EACCES" -- "$S" tsync
rr_check_native sc_trace --status 0 --stdout-has "getppid (RET_TRACE)          = -1 ENOSYS" -- "$S" trace
rr_check_native sc_trap --status 159 --stdout-has "si_syscall 9 si_errno 9 si_arch 0xc000003e rax 9" -- "$S" trap
rr_check_native sc_kill_process --status 159 --stdout-has "seccomp(SET_MODE_FILTER)" -- "$S" kill-process
rr_check_native sc_kill_process_mt --status 159 --stdout-has "seccomp(SET_MODE_FILTER)" -- "$S" kill-process-mt
rr_check_native sc_kill_last --status 159 --stdout-has "seccomp(SET_MODE_FILTER)" -- "$S" kill-last
rr_check_native sc_kill_thread --status 0 --stdout-has "the thread is gone; getppid here works" -- "$S" kill-thread
rr_check_native sc_strict --status 137 --stdout-has "in strict mode: write works" -- "$S" strict
rr_check_native sc_strict_exit --status 3 --stdout-has "in strict mode: write works" -- "$S" strict-exit
rr_check_native sc_allowlist --status 0 --stdout-has "joined" -- "$S" allowlist
# Under the fast path rrx enforces strict mode itself (the kernel refuses it
# over rrx's filter), at its stops: from then on the thread's buffer takes no
# call (a buffered write would first check its fd with calls strict mode
# forbids), so the write is traced, and allowed, and the next call kills.
rr_check_native sc_strict_sb --status 137 --stdout-has "in strict mode: write works" --record-arg --syscallbuf \
  -- "$S" strict
rr_check_native sc_strict_exit_sb --status 3 --stdout-has "in strict mode: write works" --record-arg --syscallbuf \
  -- "$S" strict-exit

# A filter installed after the sites it meets were patched: the second
# process patches, at its library's start, every site the first one patched
# (record/site_patch.h), those of its calls after the filter among them. A
# thread with a filter of its own is seen at every call (the library then
# buffers none, and its process makes none of the library's own calls: the
# allowlist would kill a new thread's buffer set-up), so the verdicts are the
# kernel's as in the native run: TRAP's SIGSYS with its siginfo, the
# allowlist's thread.
rr_check_native sc_trap_ahead --status 159 --stdout-has "getppid (RET_TRAP)           = 1007" \
  --record-arg --syscallbuf -- sh -c "'$S' trap >/dev/null; exec '$S' trap"
rr_check_native sc_allowlist_ahead --status 0 --stdout-has "joined" --record-arg --syscallbuf \
  -- sh -c "'$S' allowlist >/dev/null; exec '$S' allowlist"

# A listener's supervisor decides calls in another process (and may let them
# run): rrx refuses the filter (ENOSYS) and says so.
rr_check sc_listener --status 0 --stdout-has "seccomp(NEW_LISTENER)        = -1" -- "$S" listener
CHECKS=$((CHECKS + 1))
if grep -q '^rrx: warning: seccomp' "$WORK/sc_listener.rec.rawerr" 2>/dev/null; then
  pass "rrx record warned about the seccomp listener"
else
  fail "rrx record printed no warning about the seccomp listener"
  show_file "record stderr" "$WORK/sc_listener.rec.rawerr"
fi

# rrx dump names the verdicts.
dump_has() {
  local name=$1 pattern=$2
  CHECKS=$((CHECKS + 1))
  rrx_run "$WORK/$name.dump" dump "$WORK/$name.trace"
  if grep -qE -- "$pattern" "$WORK/$name.dump.out"; then
    pass "$name: rrx dump shows '$pattern'"
  else
    fail "$name: rrx dump has no line matching '$pattern'"
    show_file "dump" "$WORK/$name.dump.out"
  fi
}
dump_has sc_errno 'mmap\(.*= -1 EPERM .*\(seccomp ERRNO\(1\)\)'
dump_has sc_trap 'getppid\(\) = 110 \(seccomp TRAP\(7\)\)'
dump_has sc_kill_process 'getppid\(\) = \? \(killed: seccomp KILL_PROCESS\)'
dump_has sc_strict 'getpid\(\) = \? \(killed: seccomp strict mode\)'
dump_has sc_strict_sb 'getpid\(\) = \? \(killed: seccomp strict mode\)'
dump_has sc_strict_sb '^ *[0-9]+ \[[0-9]+\] write\(1, .*\) = 28$'

# A filter that refuses arch_prctl(ARCH_SET_CPUID) stays across exec: rrx
# leaves cpuid untrapped in the new program (and says so) rather than fail
# its own arch_prctl there; replay does the same.
rr_check sc_no_cpuid --stdout-has "ARCH_SET_CPUID refused: 1" -- "$(prog seccomp_no_cpuid)" /bin/echo after exec
if grep -qw cpuid_fault /proc/cpuinfo && [[ -z ${RRX_NO_CPUID_FAULTING:-} ]]; then
  check "sc_no_cpuid: the recording says cpuid is not trapped" \
    grep -q "cpuid is not trapped in it" "$WORK/sc_no_cpuid.rec.rawerr"
fi

rr_finish
