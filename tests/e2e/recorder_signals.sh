#!/usr/bin/env bash
# Signals from outside a recording:
#  (a) SIGINT sent to the recorded program (not to rrx) while it is blocked
#      in read(2): its handler prints "got SIGINT" and exits 0; the replay
#      reproduces that.
#  (b) SIGTERM, SIGINT or SIGHUP sent to `rrx record` itself: rrx kills the
#      whole recorded tree (a shell with two children; a multi-threaded
#      python), closes the trace (complete up to that point) and exits
#      128+N; the replay prints what was recorded and exits 128+N too.
#  (c) the same in other states of the tree: threads blocked in read, poll,
#      futex and nanosleep beside one spinning; the main process gone and
#      an orphan it left sleeping (rrx waits for it by default).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/lib/mt.sh"

WAITER=$(prog mt_sigint_wait)
TICK=$(prog ticker)

# check_written NAME: rrx record said where the trace is (returns 1 if not).
check_written() {
  local name=$1
  CHECKS=$((CHECKS + 1))
  if grep -q '^rrx: trace written to ' "$WORK/$name.rec.rawerr" && [[ -f $WORK/$name.trace/trace ]]; then
    pass "$name: rrx record exited $REC_RC after writing the trace"
  else
    fail "$name: rrx record (exit $REC_RC) did not print 'rrx: trace written to', or no trace file"
    show_file "record stdout" "$WORK/$name.rec.out"
    show_file "record stderr" "$WORK/$name.rec.rawerr"
    return 1
  fi
}

# check_rc NAME EXPECTED
check_rc() {
  CHECKS=$((CHECKS + 1))
  if [[ $REC_RC == "$2" ]]; then
    pass "$1: rrx record exited $2"
  else
    fail "$1: rrx record exited $REC_RC, expected $2"
    show_file "record stdout" "$WORK/$1.rec.out"
    show_file "record stderr" "$WORK/$1.rec.rawerr"
  fi
}

# ---- (a) SIGINT to the recorded program
name=sigint_program
start_bg_record "$name" -- "$WAITER" "$WORK/$name.pidfile"
if wait_for_file "$WORK/$name.pidfile" 30 "$REC_PID"; then
  kill -INT "$(cat "$WORK/$name.pidfile")"
  wait_bg_record "$name" 30
  check_rc "$name" 0
  written=1
  check_written "$name" || written=0
  CHECKS=$((CHECKS + 1))
  if [[ $(cat "$WORK/$name.rec.out") == $'ready\ngot SIGINT' ]]; then
    pass "$name: the program printed ready, then got SIGINT"
  else
    fail "$name: the recorded stdout is not 'ready' + 'got SIGINT'"
    show_file "record stdout" "$WORK/$name.rec.out"
  fi
  if ((written)); then rr_replay_check "$name"; fi
else
  CHECKS=$((CHECKS + 1))
  fail "$name: the program did not write its pid file (within 30 s, while rrx ran)"
  kill -KILL "$REC_PID" 2>/dev/null || true
  wait_bg_record "$name" 5
  show_file "record stderr" "$WORK/$name.rec.rawerr"
fi

# ---- (b) a signal to the recorder
# signal_recorder NAME SIGNAL STATUS READY_REGEX PIDFILE -- CMD...: records
# CMD in the background until a line of its stdout matches READY_REGEX and
# PIDFILE exists, sends SIGNAL to rrx, and checks the exit status, that no
# process of the tree survived (the pids in PIDFILE and the "... pid N" lines
# of stdout), that the trace is complete, and that the replay matches.
signal_recorder() {
  local name=$1 sig=$2 status=$3 ready=$4 pidfile=$5
  shift 5
  [[ $1 == -- ]] && shift
  start_bg_record "$name" -- "$@"
  if ! wait_for_file "$pidfile" 60 "$REC_PID" || ! wait_for_line "$WORK/$name.rec.out" "$ready" 60 "$REC_PID"; then
    CHECKS=$((CHECKS + 1))
    fail "$name: the recorded program did not get ready (within 60 s, while rrx ran)"
    kill -KILL "$REC_PID" 2>/dev/null || true
    wait_bg_record "$name" 5
    show_file "record stdout" "$WORK/$name.rec.out"
    show_file "record stderr" "$WORK/$name.rec.rawerr"
    return 0
  fi
  # The processes of the tree, with their executables, while they run.
  local pids=() exes=() pid
  for pid in $(cat "$pidfile") $(sed -n -E 's/^.*pid ([0-9]+)$/\1/p' "$WORK/$name.rec.out"); do
    pids+=("$pid")
    exes+=("$(proc_exe "$pid")")
  done
  kill "-$sig" "$REC_PID"
  wait_bg_record "$name" 30
  check_rc "$name" "$status"
  local i
  for ((i = 0; i < ${#pids[@]}; i++)); do
    check_gone "$name" "process ${exes[i]##*/}" "${pids[i]}" "${exes[i]}"
  done
  check_written "$name" || return 0
  check_info_complete "$name"
  rr_replay_check "$name"
}

# A shell with two children: mt_sigint_wait blocked in read(2) and the
# ticker in nanosleep/write. The shell prints its own pid first.
TREE='echo "sh pid $$"; "$1" "$2" & "$3" 100000 20; wait'
signal_recorder term_tree TERM 143 '^tick 5 ' "$WORK/term_tree.pidfile" -- \
  /bin/sh -c "$TREE" sh "$WAITER" "$WORK/term_tree.pidfile" "$TICK"
signal_recorder int_tree INT 130 '^tick 5 ' "$WORK/int_tree.pidfile" -- \
  /bin/sh -c "$TREE" sh "$WAITER" "$WORK/int_tree.pidfile" "$TICK"

# Two python threads printing and sleeping; SIGHUP to rrx.
PY=/usr/bin/python3
if [[ -x $PY ]]; then
  signal_recorder hup_threads HUP 129 '^thread 1 tick 3$' "$WORK/hup_threads.pidfile" -- \
    "$PY" -I -c '
import os, sys, threading, time
def run(i):
    for n in range(100000):
        print("thread %d tick %d" % (i, n), flush=True)
        time.sleep(0.02)
threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(2)]
for t in threads:
    t.start()
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write("%d\n" % os.getpid())
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
for t in threads:
    t.join()
' "$WORK/hup_threads.pidfile"
else
  note "skip: SIGHUP with python threads ($PY is not installed)"
fi

# The single-process case with SIGHUP: mt_sigint_wait blocked in read(2).
signal_recorder hup_waiter HUP 129 '^ready$' "$WORK/hup_waiter.pidfile" -- \
  "$WAITER" "$WORK/hup_waiter.pidfile"

# ---- (c) other states of the tree
FATAL=$(prog mt_fatal_end)
LEAVES=$(prog leaves_children)
signal_recorder term_blocked_threads TERM 143 '^ready$' "$WORK/term_blocked_threads.pidfile" -- \
  "$FATAL" wait "$WORK/term_blocked_threads.pidfile"
signal_recorder int_blocked_threads INT 130 '^ready$' "$WORK/int_blocked_threads.pidfile" -- \
  "$FATAL" wait "$WORK/int_blocked_threads.pidfile"
signal_recorder term_orphan_left TERM 143 '^main done$' "$WORK/term_orphan_left.pidfile" -- \
  "$LEAVES" double-fork 100 "$WORK/term_orphan_left.pidfile"

rr_finish
