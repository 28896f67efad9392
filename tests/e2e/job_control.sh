#!/usr/bin/env bash
# Job control: stop signals (SIGSTOP raised or sent, SIGTSTP with its default
# action, to a multi-threaded process, to a process group) stop the recorded
# tasks as the kernel stops them; the parent's wait sees the stop and the
# SIGCONT that ends it, a SIGCONT handler runs; the same in the replays.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/lib/mt.sh"

rr_check_native job_control --status 0 --stdout-has "waitid(WSTOPPED): CLD_STOPPED" -- "$(prog mt_job_control)"
check_dump_tree job_control 6 'stopped by SIGSTOP'
CHECKS=$((CHECKS + 1))
if grep -q 'continued after SIGTSTP' "$WORK/job_control.dump.out"; then
  pass "job_control: the trace holds the end of the SIGTSTP stop"
else
  fail "job_control: rrx dump shows no 'continued after SIGTSTP'"
fi

# A SIGSTOP that reaches a computing child (rrx holds it for the child's
# next syscall) is delivered before the read(2) the child blocks in next,
# which only the parent, once it has seen the stop, ends.
rr_check_native stop_while_computing --stdout-has "child stopped" -- "$(prog stop_while_computing)"

# From a shell: a background job stopped and continued with kill(1).
rr_check_native sh_stop_cont --stdout-has "sleep: 0" -- /bin/sh -c \
  'sleep 0.3 & p=$!; kill -STOP $p; kill -CONT $p; wait $p; echo "sleep: $?"'
# A job-control shell (set -m) waits with WUNTRACED: its wait returns when
# the job stops (128 + SIGSTOP), and the job goes on after SIGCONT.
rr_check_native sh_stopped_job --stdout-has "wait: 147" -- /bin/bash -c \
  'set -m; sleep 0.3 & p=$!; kill -STOP $p; wait $p; echo "wait: $?"; kill -CONT $p; wait; echo "done: $?"'

rr_finish
