#!/usr/bin/env bash
# Signals a recorded program sends to its own process group (kill(0, ...),
# killpg) reach its tree only, never rrx: rrx record runs the program in a
# process group of its own, exits with the program's status, and the trace
# replays identically. And Ctrl-C at a terminal reaches the program as it
# would natively: rrx gives the terminal's foreground to the program's
# group (checked under script(1), which gives rrx a terminal).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/lib/mt.sh"

GROUP=$(prog group_signal)
rr_check kill0_usr1 --status 0 --stdout-has 'parent got SIGUSR1; child exited 0' -- "$GROUP" usr1
rr_check killpg_usr1 --status 0 --stdout-has 'parent got SIGUSR1; child exited 0' -- "$GROUP" killpg
rr_check kill0_abort --status 134 -- "$GROUP" abort
rr_check kill0_trap --status 133 -- "$GROUP" trap

# ctrl_c NAME STATUS REGEX -- CMD... PIDFILE: records CMD on a
# terminal (script -qfec), types Ctrl-C once PIDFILE exists; rrx record
# must exit STATUS, the program's output match REGEX (the terminal echoes
# "^C" before it), rrx must not report that it was stopped itself, and the
# trace must replay with the same status.
ctrl_c() {
  local name=$1 status=$2 regex=$3
  shift 4
  local pidfile=${*: -1} cmd="" a
  for a in "$RRX" record -o "$WORK/$name.trace" -- "$@"; do cmd+=" $(printf '%q' "$a")"; done
  local rc=0
  {
    for _ in $(seq 300); do [[ -f $pidfile ]] && break; sleep 0.1; done
    sleep 0.2
    printf '\003'
    sleep 5  # script ends with the recording; its input stays open until then
  } | timeout -k 5 60 script -qfec "$cmd; exit \$?" /dev/null >"$WORK/$name.tty" 2>&1 || rc=$?
  tr -d '\r' <"$WORK/$name.tty" >"$WORK/$name.out"
  CHECKS=$((CHECKS + 1))
  if ((rc == status)) && grep -qE "$regex" "$WORK/$name.out" && ! grep -q 'recording stopped by' "$WORK/$name.out"; then
    pass "$name: Ctrl-C reached the program only; rrx record exited $rc"
  else
    fail "$name: rrx record on a terminal exited $rc after Ctrl-C (expected $status, the program's output matching $regex)"
    show_file "terminal" "$WORK/$name.out"
    return 0
  fi
  rrx_run "$WORK/$name.rep" replay --autopilot "$WORK/$name.trace"
  CHECKS=$((CHECKS + 1))
  if ((RUN_RC == status)) && ! grep -qi divergence "$WORK/$name.rep.rawerr" && grep -qE "$regex" "$WORK/$name.rep.out"; then
    pass "$name: the replay exits $status too"
  else
    fail "$name: the replay exited $RUN_RC (recorded $status)"
    show_file "replay stdout" "$WORK/$name.rep.out"
    show_file "replay stderr" "$WORK/$name.rep.rawerr"
  fi
}

if command -v script >/dev/null; then
  # With a SIGINT handler: the program prints and exits 0.
  ctrl_c ctrl_c_handled 0 'got SIGINT$' -- "$(prog mt_sigint_wait)" "$WORK/ctrl_c_handled.pidfile"
  # Without one: the program (threads blocked in the kernel) dies of SIGINT.
  ctrl_c ctrl_c_fatal 130 '^ready$' -- "$(prog mt_fatal_end)" wait "$WORK/ctrl_c_fatal.pidfile"
else
  note "skip: Ctrl-C on a terminal (script(1) is not installed)"
fi

rr_finish
