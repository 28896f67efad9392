#!/usr/bin/env bash
# rdtsc recorded by patched sites (record/tsc_sites.h), as on machines where
# prctl(PR_SET_TSC, PR_TSC_SIGSEGV) does not make rdtsc fault (forced here
# with RRX_TSC_PATCH=1, so that it runs on any machine): the rdtsc and
# rdtscp of the program, and ld.so's (before any syscall), become hlt at the
# exec's stop; each gives an rdtsc event; two replays print the recorded
# values. rrx info and rrx info --here say which way rdtsc is recorded.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/lib/mt.sh"

export RRX_TSC_PATCH=1
rr_check tsc_patched_loop --status 0 --stdout-has "monotonic: yes" -- "$(prog rdtsc)"
check_dump_tree tsc_patched_loop 1 'rdtsc sites? patched \(hlt\):.* rdtscp 0x'
check_dump_tree tsc_patched_loop 1 '\] rdtscp at 0x'
# ld.so's rdtsc in _dl_start runs before the program's first syscall.
check "tsc_patched_loop: an rdtsc before the first syscall" \
  awk '/\] rdtsc at / { exit } / \[[0-9]+\] [a-z_0-9]+\(/ && !/execve/ { exit 1 }' "$WORK/tsc_patched_loop.dump.out"
rrx_run "$WORK/tsc_patched_loop.info" info "$(rr_trace tsc_patched_loop)"
check "tsc_patched_loop: rrx info says the sites were patched" grep -q '^rdtsc: *patched sites' "$WORK/tsc_patched_loop.info.out"
rrx_run "$WORK/here" info --here
check "rrx info --here says how rdtsc would be recorded" grep -q '^rdtsc: *patched sites: ' "$WORK/here.out"
# A forked child and a thread run the same patched code.
rr_check tsc_patched_prctl -- "$(prog tsc_prctl)"
rr_finish
