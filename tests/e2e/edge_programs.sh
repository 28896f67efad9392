#!/usr/bin/env bash
# Every test program in tests/programs/*.c through record and replay (new
# programs are picked up automatically, run without arguments).
# A program whose source contains the marker "rrx-e2e: later" (e.g. one that
# needs threads or fork, not supported yet) is listed as skipped.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

DATA=$WORK/data.txt
printf 'first line of the data file\n%s\n' "$(seq 1 500)" >"$DATA"

for src in "$RRX_SOURCE_DIR"/tests/programs/*.c; do
  name=$(basename "$src" .c)
  if grep -q 'rrx-e2e: later' "$src"; then
    note "skip: $name (marked 'rrx-e2e: later')"
    continue
  fi
  # cpuid's answers (the APIC id of the CPU it ran on) and rdrand, which
  # these use when cpuid shows it, are recorded only where cpuid traps (CPUID
  # faulting); without it rrx warns at record time (tests/e2e/cpuid.sh).
  if [[ $name == cpuid_loops || $name == rdrand_guarded ]] && ! grep -qw cpuid_fault /proc/cpuinfo; then
    note "skip: $name (this machine has no CPUID faulting: its cpuid answers are not recorded)"
    continue
  fi
  exe=$(prog "$name")
  # Arguments and expected exit status of the programs that need them; any
  # other program runs without arguments, and its recorded status (whatever
  # it is) must be replayed.
  status=""
  args=()
  case $name in
    exit_code) args=(5); status=5 ;;
    segv) status=139 ;;
    gdb_demo) status=2 ;;
    mmap_file) args=("$DATA"); status=0 ;;
    stat_branch) args=("$DATA"); status=0 ;;
    write_loop) args=(1000); status=0 ;;
    ticker) args=(5 10); status=0 ;;
    compute_loop) args=(0.1); status=0 ;;
    at_random | clocks | getdents_dir | getrandom_bytes | hello_random | pids | rdtsc | \
      read_sizes | rlimit_stack | stat_family | unsupported_syscall | urandom | vector_io) status=0 ;;
  esac
  opts=()
  [[ -z $status ]] || opts=(--status "$status")
  rr_check "$name" ${opts[@]+"${opts[@]}"} -- "$exe" ${args[@]+"${args[@]}"}
done
# The stack limit lowered with prlimit64 instead of setrlimit: replay applies
# it too, so the overflow comes at the recorded depth.
rr_check rlimit_stack_prlimit --status 0 --stdout-has "overflow at depth" -- "$(prog rlimit_stack)" prlimit

rr_finish
