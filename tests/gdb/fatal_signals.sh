#!/usr/bin/env bash
# A program killed by a signal that no fault raised (abort()'s SIGABRT, in
# the main thread or in a worker; a SIGTERM another process of the tree
# sent) stops in gdb at the signal's delivery, as a live process under
# gdbserver does: bt, registers, memory and reverse execution work there,
# and going on gives the recorded death. Also through gdb's MI.
source "$(dirname "$0")/lib/gdb_common.sh"
export RRX_CHECKPOINT_INTERVAL=20

OUT=
count() {  # count NAME REGEX N
  CHECKS=$((CHECKS + 1))
  local n
  n=$(grep -cE -- "$2" "$WORK/$1.gdb.out" || true)
  if [[ $n == "$3" ]]; then echo "ok:   $1: /$2/ $3 times"; else fail "$1: /$2/ $n times (expected $3)"; fi
}

# abort() in the main thread.
gdb_record abort -- "$RRX_TEST_PROGRAMS/fatal_signal" abort
gdb_run abort '
continue
echo ==stop==\n
bt
print $_siginfo.si_signo
frame function check
print v
echo ==end==\n
break fatal_signal.c:20
reverse-continue
echo ==back==\n
bt 2
print v
echo ==end==\n
reverse-next
echo ==reverse-next==\n
bt 1
print i
echo ==end==\n
delete
continue
echo ==again==\n
bt
echo ==end==\n
continue
'
OUT=$WORK/abort.gdb.out
expect abort 'Program received signal SIGABRT, Aborted'
expect_in stop 'in (__GI_)?abort '
expect_in stop 'check \(v=6\) at .*fatal_signal.c:23'
expect_in stop 'main \(.*\) at .*fatal_signal.c:41'
expect_in stop '^\$1 = 6$'
expect_in stop '^\$2 = 6$'
expect_in back '^#0  check \(v=6\) at .*fatal_signal.c:20'
expect_in back '^\$3 = 6$'
expect_in reverse-next '^#0  main \(.*\) at .*fatal_signal.c:(40|41)'
expect_in reverse-next '^\$4 = 2$'
expect_in again 'check \(v=6\) at .*fatal_signal.c:23'
count abort 'Program received signal SIGABRT' 2
expect abort 'Program terminated with signal SIGABRT, Aborted'
count abort 'fatal_signal: bad value 6' 2
reject abort 'reverse execution failed|cannot find that position again|Remote connection closed'

# abort() in a worker thread: the stop names that thread.
gdb_record mt -- "$RRX_TEST_PROGRAMS/fatal_signal" mt
gdb_run mt '
continue
echo ==stop==\n
bt
thread
echo ==end==\n
break fatal_signal.c:20
reverse-continue
echo ==back==\n
bt 2
print v
echo ==end==\n
delete
continue
continue
'
OUT=$WORK/mt.gdb.out
expect mt 'Thread [0-9]+ "fatal_signal" received signal SIGABRT, Aborted'
expect_in stop 'abort'
expect_in stop 'check \(v=6\) at .*fatal_signal.c:23'
expect_in stop 'worker \(arg=0x3\) at .*fatal_signal.c:31'
expect_in stop 'Current thread is [0-9]+ \(Thread [0-9]+\.[0-9]+\)|Current thread is 2 '
expect_in back '^#0  check \(v=6\) at .*fatal_signal.c:20'
expect_in back 'worker \(arg=0x3\)'
expect mt 'Program terminated with signal SIGABRT, Aborted'
reject mt 'reverse execution failed|cannot find that position again|Remote connection closed'

# SIGTERM from a child process, while the program waits in sigsuspend().
gdb_record term -- "$RRX_TEST_PROGRAMS/fatal_signal" term
gdb_run term '
continue
echo ==stop==\n
bt
print $_siginfo.si_signo
print $_siginfo._sifields._kill.si_pid != 0
echo ==end==\n
reverse-finish
echo ==reverse-finish==\n
bt 1
echo ==end==\n
continue
continue
'
OUT=$WORK/term.gdb.out
expect term 'Program received signal SIGTERM, Terminated'
expect_in stop 'sigsuspend'
expect_in stop 'main \(.*\) at .*fatal_signal.c:69'
expect_in stop '^\$1 = 15$'
expect_in stop '^\$2 = 1$'
expect_in reverse-finish '^#0 .*main \(.*\) at .*fatal_signal.c:69'
count term 'Program received signal SIGTERM' 2
expect term 'Program terminated with signal SIGTERM, Terminated'
reject term 'reverse execution failed|cannot find that position again|Remote connection closed'

# SIGKILL from another process: no delivery to stop at, so the replay stops
# just before it, at the killed thread's last position.
gdb_record kill -- "$RRX_TEST_PROGRAMS/fatal_signal" kill
gdb_run kill '
continue
echo ==stop==\n
bt
echo ==end==\n
reverse-stepi
echo ==reverse-stepi==\n
bt
echo ==end==\n
continue
continue
'
OUT=$WORK/kill.gdb.out
expect kill 'Program received signal SIGKILL, Killed'
expect_in stop 'main \(.*\) at .*fatal_signal.c:[0-9]+'
expect_in reverse-stepi 'main \(.*\) at .*fatal_signal.c:[0-9]+'
count kill 'Program received signal SIGKILL' 2
expect kill 'Program terminated with signal SIGKILL, Killed'
reject kill 'reverse execution failed|cannot find that position again|Remote connection closed'

# The same stop through gdb's machine interface (IDEs).
timeout "$GDB_TIMEOUT" "$RRX" replay --gdb-arg=-i=mi "$WORK/abort.trace" >"$WORK/mi.gdb.out" 2>&1 \
  <<<$'-exec-continue\n-stack-list-frames 0 6\n-exec-continue\n-gdb-exit' || true
expect mi '\*stopped,reason="signal-received",signal-name="SIGABRT"'
expect mi 'func="check"'
expect mi '\*stopped,reason="exited-signalled",signal-name="SIGABRT"'

gdb_finish
