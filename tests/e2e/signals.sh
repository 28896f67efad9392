#!/usr/bin/env bash
# Signals: handlers, faults recovered, queued and blocked signals, an
# alternate stack, timers interrupting blocking syscalls (EINTR and
# SA_RESTART), signalfd, tgkill between threads; processes of the tree
# killed by SIGKILL from another process of the tree; a shell killed by a
# core-dumping signal.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/lib/mt.sh"

rr_check_native signals --status 0 --stdout-has "0 section(s) wrong" -- "$(prog mt_signals)"
rr_check_native sigalrm --status 0 --stdout-has "errno EINTR" -- "$(prog mt_sigalrm)"
rr_check_native sh_kill9 --stdout-has "137" -- /bin/sh -c 'sleep 100 & kill -9 $!; wait $!; echo $?'
rr_check_native kill_child --stdout-has "WTERMSIG = 9" -- "$(prog mt_kill_child)"
# SIGABRT dumps core by default (ulimit -c 0 here): the shell dies, 128+6.
rr_check sh_abort --status 134 -- /bin/sh -c 'echo aborting; kill -ABRT $$; echo not reached'
rr_check sh_term --status 143 -- /bin/sh -c 'echo terminating; kill -TERM $$; echo not reached'

rr_finish
