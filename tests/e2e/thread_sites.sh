#!/usr/bin/env bash
# Syscall sites only threads without a buffer yet call (rrx record
# --syscallbuf): a thread gets its buffer at its first call through a patched
# site, and a site is patched at the exit of its first traced call, so the
# patch must not wait for the calling thread's buffer (four worker threads
# making getppid from one libc site made every call traced: 200,000 stops for
# 100,000 calls each way). Most calls are then buffered, and the replay is
# the recording's.
# rrx-e2e: one record mode (each recording names its mode)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

P=$(prog watch_distance_mt)
rr_check workers --stdout-has "20000 syscalls after the write" --record-arg --syscallbuf -- "$P" 20000
T=$(rr_trace workers)
if [[ -f $T/trace ]]; then
  rrx_run "$WORK/workers.dump" dump "$T"
  D=$WORK/workers.dump.out
  all=$(grep -cE '^ *[0-9]+ \[[0-9]+\] getppid\(\)' "$D" || true)
  buffered=$(grep -cE '^ *[0-9]+ \[[0-9]+\] getppid\(\) = [0-9]+ \(buffered\)$' "$D" || true)
  check "workers: 40000 getppid calls recorded (got $all)" test "$all" -eq 40000
  check "workers: the worker threads' calls are buffered ($buffered of $all)" test $((buffered * 100)) -ge $((all * 99))
fi
# Without the fast path: every call traced, the same output.
rr_check workers_n --stdout-has "20000 syscalls after the write" --record-arg -n -- "$P" 20000

rr_finish
