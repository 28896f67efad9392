#!/usr/bin/env bash
# Signals a recorded program sends to its own process group (kill(0, ...),
# killpg) reach its tree only, never rrx: rrx record runs the program in a
# process group of its own, exits with the program's status, and the trace
# replays identically. And Ctrl-C at a terminal reaches the program as it
# would natively: rrx gives the terminal's foreground to the program's
# group (checked under script(1), which gives rrx a terminal), and Ctrl-Z
# stops rrx with the program so that the shell gets the terminal back; `fg`
# continues both (checked with an interactive bash in tmux).
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

# ctrl_z NAME: in an interactive bash in tmux, records mt_sigint_wait, types
# Ctrl-Z (the shell must report the job stopped), `fg`, then Ctrl-C (the
# program's handler runs: rrx record exits 0), and replays the trace.
ctrl_z() {
  local name=$1 tmux=(tmux -L "rrx-e2e-$$" -f /dev/null)
  local pidfile=$WORK/$name.pidfile trace=$WORK/$name.trace
  # tmux_wait REGEX: the pane shows a line matching REGEX (within 20 s).
  tmux_wait() {
    local _
    for _ in $(seq 200); do
      "${tmux[@]}" capture-pane -p -t "$name" 2>/dev/null | grep -qE "$1" && return 0
      sleep 0.1
    done
    return 1
  }
  "${tmux[@]}" new-session -d -s "$name" -x 200 -y 50 "env PS1='$ ' bash --norc --noprofile -i"
  local ok=1 step=""
  "${tmux[@]}" send-keys -t "$name" "$(printf '%q ' "$RRX" record -o "$trace" -- "$(prog mt_sigint_wait)" "$pidfile")" Enter
  for _ in $(seq 200); do [[ -f $pidfile ]] && break; sleep 0.1; done
  "${tmux[@]}" send-keys -t "$name" C-z
  tmux_wait '^\[1\]\+ +Stopped' || { ok=0; step="the shell did not report the job stopped after Ctrl-Z"; }
  if ((ok)); then
    "${tmux[@]}" send-keys -t "$name" fg Enter
    sleep 0.5
    "${tmux[@]}" send-keys -t "$name" C-c
    tmux_wait '^rrx: trace written to' || { ok=0; step="no 'trace written' after fg and Ctrl-C"; }
  fi
  if ((ok)); then
    "${tmux[@]}" send-keys -t "$name" 'echo "status=$?"' Enter
    tmux_wait '^status=[0-9]+' || true
  fi
  "${tmux[@]}" capture-pane -p -t "$name" >"$WORK/$name.out" 2>/dev/null || true
  "${tmux[@]}" kill-server 2>/dev/null || true
  CHECKS=$((CHECKS + 1))
  if ((ok)) && grep -q 'got SIGINT$' "$WORK/$name.out" && grep -q '^status=0$' "$WORK/$name.out"; then
    pass "$name: Ctrl-Z stopped the job, fg continued it, Ctrl-C reached the program; rrx record exited 0"
  else
    fail "$name: ${step:-the program did not print 'got SIGINT' or rrx record did not exit 0}"
    show_file "terminal" "$WORK/$name.out" 30
    return 0
  fi
  rrx_run "$WORK/$name.rep" replay --autopilot "$trace"
  CHECKS=$((CHECKS + 1))
  if ((RUN_RC == 0)) && [[ $(cat "$WORK/$name.rep.out") == $'ready\ngot SIGINT' ]]; then
    pass "$name: the replay prints ready, got SIGINT and exits 0"
  else
    fail "$name: the replay exited $RUN_RC"
    show_file "replay stdout" "$WORK/$name.rep.out"
    show_file "replay stderr" "$WORK/$name.rep.rawerr"
  fi
}

if command -v tmux >/dev/null; then
  ctrl_z ctrl_z_fg
else
  note "skip: Ctrl-Z in an interactive shell (tmux is not installed)"
fi

rr_finish
