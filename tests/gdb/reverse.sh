#!/usr/bin/env bash
# Reverse execution in gdb on a replay (reverse_demo, mt_gdb_threads):
# a value corrupted by a stray write found with watch + reverse-continue;
# reverse-next over a call; reverse-finish out of a function; reverse-step
# into the previous line of another function; reverse-stepi; a buffer the
# kernel wrote (read) found with a watchpoint in reverse; a conditional
# breakpoint and a read watchpoint in reverse; back to the start ("No more
# reverse-execution history") and forward to the end again with the same
# output; identical registers and memory each time a position is reached
# again; monitor when/goto/checkpoint/restart/info checkpoints; run; and a
# multi-threaded program.
source "$(dirname "$0")/lib/gdb_common.sh"

gdb_record rev -- "$RRX_TEST_PROGRAMS/reverse_demo"
# Small checkpoint intervals so that reverse execution crosses several.
export RRX_CHECKPOINT_INTERVAL=7

# A read watchpoint needs debug registers that fire (rrx refuses it where
# they do not: gdb's error would end its script here).
RWATCH='rwatch counter
continue
echo ==rwatch-forward==\n
bt 1
echo ==end==\n
reverse-continue
echo ==rwatch-reverse==\n
bt 1
echo ==end==\n
delete'
DEBUG_REGS=0
"$RRX" info --here --json | grep -q '"debug_registers":true' && DEBUG_REGS=1
[[ $DEBUG_REGS == 1 ]] || RWATCH='delete'
gdb_run rev '
break report
continue
echo ==state-1==\n
info registers rip rsp rbp rax rbx rcx rdx rsi rdi r8 r9 r10 r11 r12 r13 r14 r15 eflags
x/16xw &table
output buf
echo \n
echo ==end==\n
watch buf[0]
reverse-continue
echo ==where-read==\n
bt 1
echo ==end==\n
delete
break report
continue
delete
watch -l table[3].value
reverse-continue
echo ==where-stray==\n
bt 1
echo ==end==\n
reverse-continue
echo ==where-fill==\n
bt 1
print i
echo ==end==\n
delete
delete
continue
echo ==at-end==\n
monitor when
echo ==end==\n
reverse-continue
echo ==at-start==\n
monitor when
echo ==end==\n
break report
continue
echo ==state-2==\n
info registers rip rsp rbp rax rbx rcx rdx rsi rdi r8 r9 r10 r11 r12 r13 r14 r15 eflags
x/16xw &table
output buf
echo \n
echo ==end==\n
delete
break reverse_demo.c:54
reverse-continue
echo ==line54==\n
print i
echo ==end==\n
reverse-next
echo ==reverse-next==\n
bt 1
print i
echo ==end==\n
next
echo ==forward-again==\n
bt 1
echo ==end==\n
reverse-step
echo ==reverse-step==\n
bt 1
echo ==end==\n
delete
reverse-finish
echo ==reverse-finish==\n
bt 1
echo ==end==\n
echo ==stepi-round-trip-a==\n
info registers rip rsp rax rdi eflags
echo ==end==\n
reverse-stepi
reverse-stepi
stepi
stepi
echo ==stepi-round-trip-b==\n
info registers rip rsp rax rdi eflags
echo ==end==\n
break square if x == 1
break report
continue
reverse-continue
echo ==conditional==\n
bt 1
echo ==end==\n
delete
'"$RWATCH"'
monitor checkpoint
print counter
continue
monitor restart 1
maint flush register-cache
echo ==restarted==\n
print counter
monitor when
echo ==end==\n
monitor info checkpoints
monitor goto -5
monitor goto 30x
monitor goto 1 2
monitor restart 99999999999
monitor goto 99999999
monitor goto 30
echo ==goto==\n
monitor when
echo ==end==\n
break main
run
echo ==run==\n
bt 1
monitor when
echo ==end==\n
delete
continue
continue
'
OUT=$WORK/rev.gdb.out
same_sections() {  # same_sections A B
  CHECKS=$((CHECKS + 1))
  if diff <(section "$1" | tail -n +2) <(section "$2" | tail -n +2) >"$WORK/$1.diff" && [[ -n $(section "$1") ]]; then
    echo "ok:   $1 and $2 are identical"
  else
    fail "$1 and $2 differ"
    cat "$WORK/$1.diff"
  fi
}

# The stray write, then the write before it (fill's loop, i == 3).
expect rev 'Old value = -1'
expect rev 'New value = 9'
expect_in where-stray '^#0  corrupt \(\) at .*reverse_demo.c:32'
expect_in where-fill 'fill \(\) at .*reverse_demo.c:26'
expect_in where-fill '^\$[0-9]+ = 3$'
# The kernel wrote buf in read(): reverse-continue stops at the syscall.
expect rev "Old value = 104 'h'"
expect_in where-read 'read'
# The end (held before the exit), the start, and the same state at report() both times.
expect_in at-end 'Current event: [0-9]+'
expect rev 'the end of the recording: process [0-9]+ exits with status 1 next'
expect_in at-start 'Current event: 1 '
same_sections state-1 state-2
# reverse-next stays in main; reverse-step goes into square's last line;
# reverse-finish goes back to the call.
expect_in line54 '^\$[0-9]+ = 2$'
expect_in reverse-next '^#0  main \(\) at .*reverse_demo.c:53'
expect_in reverse-next '^\$[0-9]+ = 2$'
expect_in forward-again '^#0  main \(\) at .*reverse_demo.c:54'
expect_in reverse-step '^#0  square \(x=2\) at .*reverse_demo.c:2[01]'
expect_in reverse-finish 'main \(\) at .*reverse_demo.c:53'
same_sections stepi-round-trip-a stepi-round-trip-b
# A conditional breakpoint in reverse: the last call with x == 1.
expect_in conditional '^#0  square \(x=1\) at .*reverse_demo.c:19'
# A read watchpoint, forwards then backwards.
if [[ $DEBUG_REGS == 1 ]]; then
  expect_in rwatch-forward 'main \(\) at .*reverse_demo.c:53'
  expect_in rwatch-reverse 'main \(\) at .*reverse_demo.c:5[0-9]'
else
  echo "ok:   rwatch: the debug registers do not fire here (rrx refuses read watchpoints: gdb/soft_watch.sh)"
fi
# monitor commands and run.
expect rev 'Checkpoint 1 at event [0-9]+'
expect_in restarted 'Current event: [0-9]+'
expect rev 'checkpoint 1: event [0-9]+, thread [0-9]+, pc 0x[0-9a-f]+, 1 thread, [0-9]+ KiB'
expect rev 'memory held by checkpoints: [0-9]+ KiB'
expect rev 'automatic: [1-9][0-9]* \(every [0-9.]+ s of replay or 7 events'
expect_in goto 'Current event: 30 '
# Monitor arguments are checked: no wrap-around of -5, no trailing junk.
CHECKS=$((CHECKS + 1))
n=$(grep -c 'usage: monitor goto EVENT (an event number from 1 to [0-9]*' "$OUT" || true)
if [[ $n == 3 ]]; then echo "ok:   monitor goto refuses -5, 30x and '1 2'"; else fail "monitor goto with bad arguments: $n usage messages (expected 3)"; fi
expect rev 'usage: monitor restart CHECKPOINT'
expect rev 'event 99999999 is not in this recording'
reject rev '18446744073709551611'
expect_in run '^#0  main \(\) at .*reverse_demo.c:'
expect_in run 'Current event: [0-9]+ '
expect rev 'exited with code 01'
# The program's output: once per forward pass over its printf (to the end,
# after the checkpoint, after run), never during reverse moves.
CHECKS=$((CHECKS + 1))
n=$(grep -c '^table\[3\] = -1, counter = 5, buf = hello from a pipe$' "$OUT" || true)
if [[ $n == 3 ]]; then echo "ok:   the program's output appears once per forward pass"; else fail "the program's output appears $n times (expected 3)"; fi
reject rev 'reverse execution failed|cannot find that position again|Remote connection closed'

# Threads: the last write to one worker's counter, in that worker.
gdb_record mt -- "$RRX_TEST_PROGRAMS/mt_gdb_threads"
gdb_run mt '
break mt_gdb_threads.c:40
continue
watch -l iterations[1]
reverse-continue
echo ==mt-1==\n
bt 1
print iterations
echo ==end==\n
reverse-continue
echo ==mt-2==\n
print iterations
echo ==end==\n
delete
continue
continue
'
OUT=$WORK/mt.gdb.out
expect mt 'Thread [0-9]+ "mt_gdb_threads" hit Hardware watchpoint 2: -location iterations\[1\]'
expect_in mt-1 'worker \(arg=0x1\) at .*mt_gdb_threads.c:22'
expect_in mt-1 '^\$[0-9]+ = \{[0-3], 2\}$'
expect_in mt-2 '^\$[0-9]+ = \{[0-3], 1\}$'
expect mt 'exited with code 06'
reject mt 'reverse execution failed|cannot find that position again|Remote connection closed'

gdb_finish
