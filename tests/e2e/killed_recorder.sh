#!/usr/bin/env bash
# The recorder is killed in the middle of a recording:
#  - SIGKILL: the trace is readable up to its last whole chunk and says it is
#    incomplete; replay plays that prefix, says so, and exits non-zero.
#  - SIGTERM: the recorder closes the trace cleanly (complete up to that
#    point); the replay reproduces it and exits with the recorded status.
# In both cases the recorded program must not outlive the recorder.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

TICK=$(prog ticker)

# start_recording NAME: starts `rrx record` of the ticker in the background
# (REC_PID) and waits until it has printed 80 ticks (2 s at 25 ms per tick).
# rrx runs under a subshell (SUB_PID) that waits for it and writes its exit
# status to NAME.rec.rc, so that bash prints no "Killed" job notice.
start_recording() {
  local name=$1
  rm -f "$WORK/$name.pid" "$WORK/$name.rec.rc"
  (
    "$RRX" record -o "$WORK/$name.trace" -- "$TICK" 2000 25 \
      </dev/null >"$WORK/$name.rec.out" 2>"$WORK/$name.rec.rawerr" &
    echo $! >"$WORK/$name.pid"
    rc=0
    wait $! 2>/dev/null || rc=$?
    echo "$rc" >"$WORK/$name.rec.rc"
  ) &
  SUB_PID=$!
  local i
  for ((i = 0; i < 50; i++)); do
    [[ -s $WORK/$name.pid ]] && break
    sleep 0.1
  done
  REC_PID=$(cat "$WORK/$name.pid")
  for ((i = 0; i < 600; i++)); do
    grep -q '^tick 80 ' "$WORK/$name.rec.out" 2>/dev/null && return 0
    kill -0 "$REC_PID" 2>/dev/null || break
    sleep 0.1
  done
  CHECKS=$((CHECKS + 1))
  fail "$name: the recording did not reach 80 ticks"
  show_file "record stdout" "$WORK/$name.rec.out"
  show_file "record stderr" "$WORK/$name.rec.rawerr"
  kill -KILL "$REC_PID" 2>/dev/null || true
  wait "$SUB_PID" 2>/dev/null || true
  check_tracee_gone "$name"
  return 1
}

# wait_recorder NAME SECONDS: waits for REC_PID to exit; REC_RC is its status.
wait_recorder() {
  local name=$1 limit=$2 i
  for ((i = 0; i < limit * 10; i++)); do
    kill -0 "$REC_PID" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$REC_PID" 2>/dev/null; then
    fail "$name: rrx record still running ${limit}s after the signal; killing it"
    kill -KILL "$REC_PID" 2>/dev/null || true
  fi
  wait "$SUB_PID" 2>/dev/null || true
  REC_RC=$(cat "$WORK/$name.rec.rc" 2>/dev/null || echo unknown)
  LC_ALL=C sed -e '/^rrx:/d' "$WORK/$name.rec.rawerr" >"$WORK/$name.rec.err"
}

# check_tracee_gone NAME: the ticker (pid on its first line) is not running.
check_tracee_gone() {
  local name=$1 pid i
  pid=$(sed -n 's/^ticker pid \([0-9]*\)$/\1/p' "$WORK/$name.rec.out" | head -n 1)
  CHECKS=$((CHECKS + 1))
  [[ -n $pid ]] || { fail "$name: no 'ticker pid' line"; return 0; }
  for ((i = 0; i < 50; i++)); do
    [[ $(readlink "/proc/$pid/exe" 2>/dev/null) == "$TICK" ]] || break
    sleep 0.1
  done
  if [[ $(readlink "/proc/$pid/exe" 2>/dev/null) == "$TICK" ]]; then
    fail "$name: the recorded program (pid $pid) outlived the recorder"
    kill -KILL "$pid" 2>/dev/null || true
  else
    pass "$name: the recorded program did not outlive the recorder"
  fi
}

# check_prefix NAME PREFIX: the replay printed a non-empty prefix of the
# recorded stdout.
check_prefix() {
  local name=$1 got=$2 n
  n=$(stat -c %s "$got.out")
  CHECKS=$((CHECKS + 1))
  if ((n == 0)); then
    fail "$name: the replay printed nothing (the trace should hold >= 2 s of ticks)"
    show_file "replay stderr" "$got.rawerr"
  elif head -c "$n" "$WORK/$name.rec.out" | cmp -s - "$got.out"; then
    pass "$name: the replay printed $(wc -l <"$got.out") of the $(wc -l <"$WORK/$name.rec.out") recorded lines, identical"
  else
    fail "$name: the replay's stdout is not a prefix of the recorded stdout"
    show_diff "recorded stdout" "$WORK/$name.rec.out" "replay stdout" "$got.out"
  fi
}

# ---- SIGKILL to the recorder
if start_recording killed; then
  kill -KILL "$REC_PID"
  wait_recorder killed 10
  check_tracee_gone killed
  T=$WORK/killed.trace
  CHECKS=$((CHECKS + 1))
  if [[ -s $T/trace ]]; then
    pass "killed: $T/trace exists ($(stat -c %s "$T/trace") bytes)"
  else
    fail "killed: no trace file"
  fi

  rrx_run "$WORK/killed-info" info "$T"
  CHECKS=$((CHECKS + 1))
  if ((RUN_RC < 124)) && cat "$WORK/killed-info.out" "$WORK/killed-info.rawerr" | grep -qi 'incomplete'; then
    pass "killed: rrx info says the trace is incomplete (exit $RUN_RC)"
  else
    fail "killed: rrx info (exit $RUN_RC) does not say 'incomplete'"
    show_file stdout "$WORK/killed-info.out"
    show_file stderr "$WORK/killed-info.rawerr"
  fi

  rrx_run "$WORK/killed-replay" replay --autopilot "$T"
  CHECKS=$((CHECKS + 1))
  if rc_is_clean_error "$RUN_RC" && grep -qi 'incomplete' "$WORK/killed-replay.rawerr"; then
    pass "killed: replay exits $RUN_RC and says the trace is incomplete"
  else
    fail "killed: replay exit $RUN_RC (expected non-zero, < 128) and stderr must say 'incomplete'"
    show_file stderr "$WORK/killed-replay.rawerr"
  fi
  CHECKS=$((CHECKS + 1))
  if grep -qi divergence "$WORK/killed-replay.rawerr"; then
    fail "killed: the replay of the readable prefix reported a divergence"
    show_file stderr "$WORK/killed-replay.rawerr"
  else
    pass "killed: no divergence in the readable prefix"
  fi
  check_prefix killed "$WORK/killed-replay"

  rrx_run "$WORK/killed-dump" dump "$T"
  CHECKS=$((CHECKS + 1))
  if ((RUN_RC < 124)) && grep -q 'nanosleep\|clock_nanosleep' "$WORK/killed-dump.out"; then
    pass "killed: rrx dump lists the readable events (exit $RUN_RC)"
  else
    fail "killed: rrx dump exit $RUN_RC, or no nanosleep events listed"
    show_file stderr "$WORK/killed-dump.rawerr"
  fi
fi

# ---- SIGTERM to the recorder
if start_recording terminated; then
  kill -TERM "$REC_PID"
  wait_recorder terminated 30
  check_tracee_gone terminated
  T=$WORK/terminated.trace
  CHECKS=$((CHECKS + 1))
  if grep -q '^rrx: trace written to ' "$WORK/terminated.rec.rawerr"; then
    pass "terminated: rrx record exited $REC_RC after writing the trace"
  else
    fail "terminated: rrx record (exit $REC_RC) did not print 'rrx: trace written to'"
    show_file stderr "$WORK/terminated.rec.rawerr"
  fi

  rrx_run "$WORK/terminated-info" info "$T"
  CHECKS=$((CHECKS + 1))
  if [[ $RUN_RC == 0 ]] && ! cat "$WORK/terminated-info.out" "$WORK/terminated-info.rawerr" | grep -qi 'incomplete'; then
    pass "terminated: rrx info shows a complete trace"
  else
    fail "terminated: rrx info exit $RUN_RC, or it says 'incomplete'"
    show_file stdout "$WORK/terminated-info.out"
    show_file stderr "$WORK/terminated-info.rawerr"
  fi

  rrx_run "$WORK/terminated-replay" replay --autopilot "$T"
  CHECKS=$((CHECKS + 1))
  if [[ $RUN_RC == "$REC_RC" ]] && ! grep -qi 'divergence' "$WORK/terminated-replay.rawerr"; then
    pass "terminated: replay exits with the recorded status $REC_RC, no divergence"
  else
    fail "terminated: replay exit $RUN_RC (recorded $REC_RC), or a divergence"
    show_file stderr "$WORK/terminated-replay.rawerr"
  fi
  check_prefix terminated "$WORK/terminated-replay"
  rrx_run "$WORK/terminated-replay2" replay --autopilot "$T"
  CHECKS=$((CHECKS + 1))
  if [[ $RUN_RC == "$REC_RC" ]] && cmp -s "$WORK/terminated-replay.out" "$WORK/terminated-replay2.out"; then
    pass "terminated: a second replay is identical"
  else
    fail "terminated: a second replay differs (exit $RUN_RC)"
    show_diff "replay 1" "$WORK/terminated-replay.out" "replay 2" "$WORK/terminated-replay2.out"
  fi
fi

rr_finish
