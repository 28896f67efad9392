#!/usr/bin/env bash
# A multi-threaded process that dies while its other threads wait in the
# kernel (read, nanosleep, poll, futex) or spin: the main thread calls
# abort(), a worker thread faults (SIGSEGV), the main thread calls exit(6),
# the main thread calls pthread_exit and another thread exit(7) later (the
# main thread's death is reported last: the others must run meanwhile).
# rrx record must end with the program's status (the kernel ends the other
# threads; their stops are handled at once, whatever thread holds the CPU)
# and the trace must be complete and replay identically.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/lib/mt.sh"

FATAL=$(prog mt_fatal_end)

# record_death NAME MODE STATUS: the recording ends with STATUS and a complete trace.
record_death() {
  local name=$1 mode=$2 status=$3
  rr_record "$name" --status "$status" --stdout-has ready -- "$FATAL" "$mode" || return 1
  check_info_complete "$name"
}

for mode in abort:134 segv:139 exit:6 pthread_exit:7; do
  name=${mode%:*}_with_blocked_threads
  if record_death "$name" "${mode%:*}" "${mode#*:}"; then
    rr_replay_check "$name"
  fi
done

rr_finish
