#!/usr/bin/env bash
# Reverse execution across a thread's blocking futex wait while other
# threads run (mt_lock_queue: `first` sleeps in pthread_mutex_lock while
# `second` calls pthread_mutex_lock and sleeps behind it). A step back
# that crosses a blocking syscall runs the other threads backwards too: a
# breakpoint one of them hit on the way is reported (the step becomes a
# reverse-continue to the last such hit), as a forward step reports the
# hits of the threads it lets run.
# * reverse-next in `second` from the line after its pthread_mutex_lock()
#   goes back to the line of the call. On the way gdb steps `first` back
#   over its futex wait (it hits the breakpoint gdb puts at the address
#   where `second` sleeps); that step must stop at `second`'s entry into
#   pthread_mutex_lock (gdb's step-resume breakpoint), which lies inside
#   `first`'s wait.
# * reverse-stepi in `first` from after its pthread_mutex_lock() back
#   across its futex wait stops at the breakpoint `second` hit meanwhile.
source "$(dirname "$0")/lib/gdb_common.sh"

SRC=$RRX_SOURCE_DIR/tests/programs/mt_lock_queue.c
LOCK=$(grep -n '// line LOCK' "$SRC" | cut -d: -f1)
AFTER=$(grep -n '// line AFTER' "$SRC" | cut -d: -f1)
FIRST_AFTER=$(grep -n 'pthread_mutex_lock(&other)' "$SRC" | cut -d: -f1)

gdb_record mt -- "$RRX_TEST_PROGRAMS/mt_lock_queue"
expect_rec() {
  CHECKS=$((CHECKS + 1))
  if grep -qx 'order 1 2' "$WORK/mt.rec.out"; then
    echo "ok:   recorded: first took the mutex before second"
  else
    fail "the recording did not queue first before second: $(cat "$WORK/mt.rec.out")"
  fi
}
expect_rec

gdb_run mt "
break mt_lock_queue.c:$AFTER
continue
echo ==at-after==\\n
bt 1
echo ==end==\\n
reverse-next
echo ==rnext==\\n
bt 1
echo ==end==\\n
reverse-next
echo ==rnext-2==\\n
bt 1
echo ==end==\\n
"
OUT=$WORK/mt.gdb.out
expect_in at-after "^#0  second \\(arg=0x0\\) at .*mt_lock_queue.c:$AFTER\$"
expect_in rnext "^#0  second \\(arg=0x0\\) at .*mt_lock_queue.c:$LOCK\$"
expect_in rnext-2 "^#0  second \\(arg=0x0\\) at .*mt_lock_queue.c:$((LOCK - 1))\$"
reject mt 'No more reverse-execution history'

# The step of `first` back across its futex wait: gdb hears of `second`'s
# breakpoint hit inside the wait (and stops there, in `second`).
gdb_run mt "
break mt_lock_queue.c:$FIRST_AFTER
continue
echo ==at-first==\\n
bt 1
echo ==end==\\n
delete
break mt_lock_queue.c:$LOCK
echo ==rsi==\\n
set \$t = \$_thread
set \$i = 0
while \$_thread == \$t && \$i < 200
  reverse-stepi
  set \$i = \$i + 1
end
bt 1
echo ==end==\\n
" "$WORK/step.gdb.out"
OUT=$WORK/step.gdb.out
expect_in at-first "^#0  first \\(arg=0x0\\) at .*mt_lock_queue.c:$FIRST_AFTER\$"
expect_in rsi "hit Breakpoint 2, second \\(arg=0x0\\) at .*mt_lock_queue.c:$LOCK\$"
expect_in rsi "^#0  second \\(arg=0x0\\) at .*mt_lock_queue.c:$LOCK\$"

# Steps alone of two threads one after the other (scheduler-locking on: Hc
# THREAD + bs): `first` back across its futex wait (second's breakpoint hit
# in it is held back), then main alone. The hit stays due: reverse-continue
# with every thread running goes to it (second, held by gdb until then, had
# not yet gone back over it).
gdb_run mt "
break mt_lock_queue.c:$FIRST_AFTER
continue
delete
break mt_lock_queue.c:$LOCK
set scheduler-locking on
set \$i = 0
while *(unsigned short *) \$pc != 0x050f && \$i < 200
  reverse-stepi
  set \$i = \$i + 1
end
echo ==first-alone==\n
bt 1
echo ==end==\n
thread 1
reverse-stepi
echo ==main-alone==\n
info threads
echo ==end==\n
set scheduler-locking off
echo ==rc-held==\n
reverse-continue
bt 1
echo ==end==\n
" "$WORK/chain.gdb.out"
OUT=$WORK/chain.gdb.out
# (At the futex wait's syscall instruction: in libc, or in its patch's stub.)
expect_in first-alone "^#0  (0x[0-9a-f]+ in )?(futex|__|\\?\\?)"
expect_in rc-held "hit Breakpoint 2, second \\(arg=0x0\\) at .*mt_lock_queue.c:$LOCK\$"
expect_in rc-held "^#0  second \\(arg=0x0\\) at .*mt_lock_queue.c:$LOCK\$"

gdb_finish
