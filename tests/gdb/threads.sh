#!/usr/bin/env bash
# gdb on the replay of a multi-threaded program (mt_gdb_threads: main and
# two workers running worker()): a breakpoint hit in a worker thread, info
# threads, switching threads, backtraces of every thread, the second
# worker's hit, and the exit code.
source "$(dirname "$0")/lib/gdb_common.sh"

gdb_record mt -- "$RRX_TEST_PROGRAMS/mt_gdb_threads"

gdb_run mt '
break worker
continue
echo ==info-threads==\n
info threads
echo ==end==\n
thread 1
echo ==bt-1==\n
bt
echo ==end==\n
echo ==all-bt==\n
thread apply all bt
echo ==end==\n
continue
info threads
delete
continue
continue
'
OUT=$WORK/mt.gdb.out

# section NAME: the lines of gdb's output between ==NAME== and ==end==.

# count_check LABEL GOT WANT (gdb's output is shown at the first failure)
SHOWN=0
count_check() {
  CHECKS=$((CHECKS + 1))
  if [[ $2 == "$3" ]]; then
    echo "ok:   mt: $1 ($2)"
  else
    fail "mt: $1: $2, expected $3"
    ((SHOWN)) || sed 's/^/  | /' "$OUT" | head -120
    SHOWN=1
  fi
}

expect mt 'Breakpoint 1 at 0x[0-9a-f]+: file .*mt_gdb_threads.c, line [0-9]+'
# First hit: in a worker thread (gdb says "Thread N ... hit Breakpoint 1").
expect mt 'hit Breakpoint 1, worker \(arg=0x[01]\) at .*mt_gdb_threads.c:[0-9]+'
# info threads: three threads, the current one (*) in worker.
count_check "info threads lists 3 threads" "$(section info-threads | grep -cE '^[* ] +[0-9]+ +')" 3
count_check "the current thread is in worker" \
  "$(section info-threads | grep -cE '^\* +[0-9]+ +.* worker \(arg=0x[01]\) at .*mt_gdb_threads.c')" 1
expect mt '\[Switching to thread 1 '
# Thread 1 is main, somewhere below main() (pthread_join or the barrier).
count_check "thread 1's backtrace reaches main" \
  "$(section bt-1 | grep -cE '^#[0-9]+ +(0x[0-9a-f]+ in )?main \(\) at .*mt_gdb_threads.c:[0-9]+')" 1
count_check "thread 1 is not in worker" "$(section bt-1 | grep -cE ' worker \(')" 0
# thread apply all bt: a header and a #0 frame for each of the 3 threads,
# worker() <- thread_start() in the workers, main() in thread 1.
count_check "thread apply all bt: 3 thread headers" "$(section all-bt | grep -cE '^Thread [0-9]+ \(')" 3
count_check "thread apply all bt: 3 innermost frames" "$(section all-bt | grep -cE '^#0 ')" 3
count_check "thread apply all bt: main() once" "$(section all-bt | grep -cE ' main \(\) at ')" 1
count_check "thread apply all bt: thread_start() in both workers" \
  "$(section all-bt | grep -cE ' thread_start \(arg=0x[01]\) at ')" 2
# The second hit: the other worker.
count_check "worker hit for both arguments" \
  "$(grep -oE 'hit Breakpoint 1, worker \(arg=0x[01]\)' "$OUT" | sort -u | wc -l)" 2
expect mt 'iterations 3 3'
expect mt 'exited with code 06'
reject mt 'Remote connection closed|Remote communication error'

gdb_finish
