#!/usr/bin/env bash
# Signals: handlers, faults recovered, queued and blocked signals, an
# alternate stack, timers interrupting blocking syscalls (EINTR and
# SA_RESTART), signalfd, tgkill between threads; processes of the tree
# killed by SIGKILL from another process of the tree; waits with a temporary
# signal mask interrupted by a signal; a shell killed by a
# core-dumping signal; signal dispositions and mask inherited from rrx's parent.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/lib/mt.sh"

rr_check_native signals --status 0 --stdout-has "0 section(s) wrong" -- "$(prog mt_signals)"
rr_check_native sigalrm --status 0 --stdout-has "errno EINTR" -- "$(prog mt_sigalrm)"
# Waits with a temporary signal mask (ppoll, pselect6, epoll_pwait(2),
# rt_sigsuspend) interrupted by a timer, a child and another thread.
rr_check_native masked_waits --status 0 --stdout-has "sigsuspend    from thread" -- "$(prog masked_wait_signal)" 2
rr_check_native sh_kill9 --stdout-has "137" -- /bin/sh -c 'sleep 100 & kill -9 $!; wait $!; echo $?'
rr_check_native kill_child --stdout-has "WTERMSIG = 9" -- "$(prog mt_kill_child)"
# SIGABRT dumps core by default (ulimit -c 0 here): the shell dies, 128+6.
rr_check sh_abort --status 134 -- /bin/sh -c 'echo aborting; kill -ABRT $$; echo not reached'
rr_check sh_term --status 143 -- /bin/sh -c 'echo terminating; kill -TERM $$; echo not reached'

# Signal dispositions and mask inherited from rrx's parent (nohup, a shell's
# background job, a CI runner): the recorded program starts with SIGHUP and
# SIGQUIT ignored and SIGUSR1 blocked. The replays run with everything at
# the default, and must still behave as recorded: sh survives its own
# SIGHUP, python sees the same dispositions and mask.
# check_inherited NAME -- CMD...: records (and runs natively) under
# `env --ignore-signal=HUP,QUIT --block-signal=USR1`, replays plainly.
check_inherited() {
  local name=$1
  shift 2
  local wrap=(env --ignore-signal=HUP,QUIT --block-signal=USR1)
  run_capture "$WORK/$name.native" -- "${wrap[@]}" "$@"
  CHECKS=$((CHECKS + 1))
  run_capture "$WORK/$name.rec" -- "${wrap[@]}" "$RRX" record -o "$WORK/$name.trace" -- "$@"
  if ! grep -q '^rrx: trace written to ' "$WORK/$name.rec.rawerr"; then
    fail "$name: rrx record (exit $RUN_RC) wrote no trace"
    show_file "record stderr" "$WORK/$name.rec.rawerr"
    return 0
  fi
  if [[ $(cat "$WORK/$name.native.rc") == "$RUN_RC" ]] && cmp -s "$WORK/$name.native.out" "$WORK/$name.rec.out"; then
    pass "$name: the recording behaves as the native run (exit $RUN_RC, same stdout)"
  else
    fail "$name: recorded exit $RUN_RC and stdout differ from the native run (exit $(cat "$WORK/$name.native.rc"))"
    show_diff "native stdout" "$WORK/$name.native.out" "recorded stdout" "$WORK/$name.rec.out"
  fi
  rr_replay_check "$name"
}
if env --ignore-signal=HUP --block-signal=USR1 true 2>/dev/null; then
  check_inherited inherited_sh -- /bin/sh -c 'kill -HUP $$; echo "survived SIGHUP"; kill -USR1 $$; echo "survived SIGUSR1"'
  if [[ -x /usr/bin/python3 ]]; then
    check_inherited inherited_py -- /usr/bin/python3 -I -c '
import signal
print("SIGHUP", signal.getsignal(signal.SIGHUP), "SIGQUIT", signal.getsignal(signal.SIGQUIT))
print("blocked", sorted(s.name for s in signal.pthread_sigmask(signal.SIG_BLOCK, [])))
'
  fi
else
  note "skip: inherited dispositions (env has no --ignore-signal/--block-signal)"
fi

rr_finish
