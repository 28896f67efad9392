#!/usr/bin/env bash
# The syscall buffer (the fast path, on by default): calls the preload library
# buffers in-process (getppid, clock_gettime... from the main thread, a second
# thread and a forked child; enough to fill the buffer several times) replay
# exactly, each is an event of its own in `rrx dump` (marked "(buffered)"),
# `rrx info` says the fast path was on, and -n records the same program with
# ptrace stops only.
# rrx-e2e: one record mode (each recording names its mode)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

P=$(prog syscallbuf_calls)
rr_check buffered --stdout-has "child exited 0" --record-arg --syscallbuf -- "$P"
T=$(rr_trace buffered)
if [[ -f $T/trace ]]; then
  rrx_run "$WORK/buffered.dump" dump "$T"
  n=$(grep -c '(buffered)' "$WORK/buffered.dump.out" || true)
  # main 1500 x 9 calls, thread 700 x 9, child 300 x 9, then 50 x 9, uname, fstat, lseek...
  check "buffered: dump shows each buffered call as an event (got $n)" test "$n" -gt 20000
  check "buffered: dump shows getppid lines" grep -q '^[0-9]* .*getppid() = [0-9]* (buffered)' "$WORK/buffered.dump.out"
  check "buffered: a failed buffered call keeps its error" \
    grep -q 'clock_gettime(12345, .*) = -1 EINVAL.*(buffered)' "$WORK/buffered.dump.out"
  check "buffered: the hook's unbuffered call is traced" grep -qE '^ *[0-9]+ .*getrlimit\(.*\) = 0$' "$WORK/buffered.dump.out"
  # Each buffered call has its own event number: numbers strictly increase.
  check "buffered: event numbers are distinct" bash -c \
    "awk '{print \$1}' '$WORK/buffered.dump.out' | grep -E '^[0-9]+$' | sort -n | uniq -d | wc -l | grep -qx 0"
  rrx_run "$WORK/buffered.info" info "$T"
  check "buffered: rrx info says the syscall buffer was on" grep -q '^syscall buffer: on: [1-9]' "$WORK/buffered.info.out"
fi

rr_check unbuffered --stdout-has "child exited 0" --record-arg -n -- "$P"
T=$(rr_trace unbuffered)
if [[ -f $T/trace ]]; then
  rrx_run "$WORK/unbuffered.dump" dump "$T"
  check "unbuffered: -n buffers nothing" bash -c "! grep -q '(buffered)' '$WORK/unbuffered.dump.out'"
  rrx_run "$WORK/unbuffered.info" info "$T"
  check "unbuffered: rrx info says the syscall buffer was off" grep -q '^syscall buffer: off' "$WORK/unbuffered.info.out"
fi

# The entry patched sites will use (the hook sequence): registers, flags and
# the red zone as a syscall leaves them, buffered and traced calls alike.
rr_check entry --stdout-has "all preserved" --record-arg --syscallbuf -- "$(prog syscallbuf_entry)"
T=$(rr_trace entry)
if [[ -f $T/trace ]]; then
  rrx_run "$WORK/entry.dump" dump "$T"
  check "entry: getppid through the hook entry is buffered" grep -q 'getppid() = [0-9]* (buffered)' "$WORK/entry.dump.out"
fi

# Site patching: glibc's syscall() function is patched at its first buffered
# call; later calls from it are buffered, unbuffered ones (getrlimit, a fork by
# clone, whose child returns into the stub) are made from the stub traced.
rr_check sites --stdout-has "child exited 7" --record-arg --syscallbuf -- "$(prog site_patch)"
T=$(rr_trace sites)
if [[ -f $T/trace ]]; then
  rrx_run "$WORK/sites.dump" dump "$T"
  check "sites: the dump shows site patches with their stub arena" \
    grep -Eq -- '--- syscall site 0x[0-9a-f]* patched, .*\(stub arena 0x[0-9a-f]*, 65536 bytes, mapped\)(; ip -> 0x[0-9a-f]*)? ---' "$WORK/sites.dump.out"
  check "sites: an after-mode patch moves the thread into its stub" grep -q -- 'patched, .*; ip -> 0x' "$WORK/sites.dump.out"
  n=$(grep -c 'getppid() = [0-9]* (buffered)' "$WORK/sites.dump.out" || true)
  check "sites: syscall(SYS_getppid) from the patched site is buffered ($n)" test "$n" -gt 4000
  check "sites: getrlimit from the patched site is traced" grep -q 'getrlimit(.*) = 0$' "$WORK/sites.dump.out"
fi
# split_at_execs NAME PROGRAM: the dump of recording NAME into
# $WORK/NAME.part0, .part1...: a new part at each exec event of a program
# whose path ends in /PROGRAM. False when there is no trace.
split_at_execs() {
  local T
  T=$(rr_trace "$1")
  [[ -f $T/trace ]] || return 1
  rrx_run "$WORK/$1.dump" dump "$T"
  awk -v prog="$2" '$3 == "exec" && $4 ~ ("/" prog "$") { n++ } { print > ("'"$WORK/$1"'.part" n + 0) }' "$WORK/$1.dump.out"
}

# A program run twice in one recording: the second process has the sites
# the first one patched patched when its library is ready, before their
# first call (SitePatches::patch_known_sites): none of its getppid calls is
# traced, where the first process's first ones were.
rr_check sites_twice --stdout-has "child exited 7" --record-arg --syscallbuf -- \
  sh -c "'$(prog site_patch)' >/dev/null; exec '$(prog site_patch)'"
if split_at_execs sites_twice site_patch; then
  first=$(grep -c 'getppid() = [0-9]*$' "$WORK/sites_twice.part1" || true)
  second=$(grep -c 'getppid() = [0-9]*$' "$WORK/sites_twice.part2" || true)
  check "sites_twice: the first process's first getppid calls are traced ($first)" test "$first" -ge 1
  check "sites_twice: the second process's sites are patched at its library's start, none of its getppid calls traced ($second)" \
    test "$second" -eq 0
  check "sites_twice: the second process's patches follow its rrx_init_buffer" \
    bash -c "grep -m1 -A1 'rrx_init_buffer(' '$WORK/sites_twice.part2' | grep -q -- '--- syscall site 0x[0-9a-f]* patched'"
fi
# Sites are patched ahead by program: another program after it (cat, which
# uses the same libc) patches none of site_patch's sites at its library's
# start (each of its own sites waits for its first call).
rr_check sites_other --stdout-has "child exited 7" --record-arg --syscallbuf -- \
  sh -c "'$(prog site_patch)'; exec /bin/cat /dev/null"
if split_at_execs sites_other cat; then
  check "sites_other: the first program's sites were patched" grep -q -- '--- syscall site 0x[0-9a-f]* patched' "$WORK/sites_other.part0"
  check "sites_other: cat's library start is followed by no patch of another program's sites" \
    bash -c "grep -q 'rrx_init_buffer(' '$WORK/sites_other.part1' && ! grep -m1 -A1 'rrx_init_buffer(' '$WORK/sites_other.part1' | grep -q -- '--- syscall site 0x[0-9a-f]* patched'"
fi
rr_check sites_n --stdout-has "child exited 7" --record-arg -n -- "$(prog site_patch)"
T=$(rr_trace sites_n)
if [[ -f $T/trace ]]; then
  rrx_run "$WORK/sites_n.dump" dump "$T"
  check "sites_n: -n patches no syscall site" bash -c "! grep -q 'syscall site 0x[0-9a-f]* patched' '$WORK/sites_n.dump.out'"
fi

# A site patched while other threads are inside a call made there: each goes
# on at the same place in the stub (its exit event says where), whether its
# call returns, is restarted after a SA_RESTART handler, or ends in EINTR.
rr_check patched_meanwhile --stdout-has "reader 1: read 3 errno 0 'one'" \
  --record-arg --syscallbuf -- "$(prog patch_during_call)"
T=$(rr_trace patched_meanwhile)
if [[ -f $T/trace ]]; then
  rrx_run "$WORK/meanwhile.dump" dump "$T"
  n=$(grep -c 'site patched meanwhile: on at 0x' "$WORK/meanwhile.dump.out" || true)
  check "patched_meanwhile: the blocked readers went on in the stub (got $n)" test "$n" -ge 3
  check "patched_meanwhile: a restart was among them" grep -q 'ERESTARTSYS .*(site patched meanwhile' "$WORK/meanwhile.dump.out"
fi

# Address-space calls buffered when recording (mmap of private anonymous
# memory, munmap, brk, mprotect without PROT_EXEC, madvise that changes no
# byte) and getrandom: replay runs the first ones for real at their stop,
# so a freed address is free again, the break moves, a read-only page faults.
rr_check maps --stdout-has "same place 200, read-only faults 200 (handler 200), break back 200" \
  --record-arg --syscallbuf -- "$(prog buffered_maps)"
T=$(rr_trace maps)
if [[ -f $T/trace ]]; then
  rrx_run "$WORK/maps.dump" dump "$T"
  for call in mmap munmap brk mprotect madvise getrandom; do
    n=$(grep -c " $call(.*(buffered)\$" "$WORK/maps.dump.out" || true)
    check "maps: $call from its patched libc site is buffered (got $n)" test "$n" -ge 150
  done
  check "maps: mprotect with PROT_EXEC is never buffered" \
    bash -c "! grep -q 'mprotect(.*PROT_EXEC.*(buffered)' '$WORK/maps.dump.out'"
  check "maps: madvise(MADV_DONTNEED) is never buffered" \
    bash -c "! grep -q 'madvise(.*MADV_DONTNEED.*(buffered)' '$WORK/maps.dump.out'"
fi

# A shell pipeline: exec, fork, vfork (posix_spawn) children under the fast path.
rr_check shell --stdout-has "3" --record-arg --syscallbuf -- /bin/sh -c 'date +%s >/dev/null; echo a b c | wc -w'

rr_finish
