#!/usr/bin/env bash
# rdtsc trapping and the vDSO made invisible to the program:
# prctl(PR_GET_TSC) answers what the program set (PR_TSC_ENABLE by
# default), and a program's own PR_TSC_SIGSEGV gives its rdtsc a real,
# recorded fault (inherited by threads and forks, kept across exec); the
# SIGSEGV that rrx's trap causes and suppresses leaves SIGSEGV blocked,
# ignored or handled as the program had it (in handlers, after sigsuspend,
# in threads); vDSO functions looked up by parsing the vDSO exist and work,
# made into real syscalls that `rrx dump` shows. Each output equals the
# native run's and replays identically. Where the machine does not fault on
# rdtsc with PR_TSC_SIGSEGV (some hypervisors: rrx patches the rdtsc sites
# instead, core/tsc_trap.h), the native run takes no fault, and neither
# does the recording.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/lib/mt.sh"

rr_check_native tsc_prctl --stdout-has "default: PR_GET_TSC = 1 (PR_TSC_ENABLE = 1)" -- "$(prog tsc_prctl)"
if grep -q "after 1 fault(s)" "$WORK/tsc_prctl.native.out"; then
  check_dump_tree tsc_prctl 4 'SIGSEGV \{si_code=128\} fault'
else
  note "  (rdtsc does not fault with PR_TSC_SIGSEGV on this machine, natively)"
  check_dump_tree tsc_prctl 4 '\] rdtsc at 0x'
fi
rr_check_native tsc_sigstate --stdout-has "ignored and blocked:         rdtsc nonzero 1, SIGSEGV blocked 1, action SIG_IGN" \
  -- "$(prog tsc_sigstate)"
check_dump_tree tsc_sigstate 2 'rdtsc at .*restored mask=0x400 SIGSEGV=SIG_IGN'
rr_check_native vdso_lookup --stdout-has "vdso getcpu: 0, cpu set 1" -- "$(prog vdso_lookup)"
check_dump_tree vdso_lookup 1 '^ *[0-9]+ \[[0-9]+\] getcpu\('
check_dump_tree vdso_lookup 1 '^ *[0-9]+ \[[0-9]+\] gettimeofday\('
rr_finish
