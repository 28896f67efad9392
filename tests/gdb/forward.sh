#!/usr/bin/env bash
# gdb on a replay, forward execution: breakpoints, locals and globals, bt,
# step/next/finish/until/stepi, registers, a hardware watchpoint, a
# breakpoint in libc, shared libraries, the recorded exit code, and the same
# session twice giving the same output.
source "$(dirname "$0")/lib/gdb_common.sh"

gdb_record demo -- "$RRX_TEST_PROGRAMS/gdb_demo"

gdb_run demo '
break square
continue
print v
print global_counter
print origin
bt
finish
next
step
info locals
until
stepi
info registers rip rsp fs_base orig_rax
print $_exitcode
watch global_counter
continue
delete
break write
continue
bt
info sharedlibrary
monitor when
delete
continue
continue
'
expect demo 'Breakpoint 1, square \(v=1\) at .*gdb_demo.c:15'
expect demo '^\$1 = 1$'
expect demo '^\$2 = 0$'
expect demo '^\$3 = \{x = 1, y = 2\}$'
expect demo '#1  0x[0-9a-f]+ in sum_squares \(n=4\) at .*gdb_demo.c:[0-9]+'
expect demo '#2  0x[0-9a-f]+ in main \(\) at .*gdb_demo.c:[0-9]+'
expect demo 'Value returned is \$[0-9]+ = 1'
expect demo 'square \(v=2\) at .*gdb_demo.c:15'
expect demo '^total = 1$'
expect demo '^rip +0x[0-9a-f]+ +0x[0-9a-f]+ <square\+[0-9]+>'
expect demo '^fs_base +0x7ffff7[0-9a-f]+'
expect demo '^orig_rax +0xffffffffffffffff +-1'
expect demo 'Hardware watchpoint 2: global_counter'
expect demo 'Old value = 1'
expect demo 'New value = 5'
expect demo 'Breakpoint 3, .*write .*fd=1'
expect demo '#[0-9]  0x[0-9a-f]+ in main \(\) at .*gdb_demo.c:[0-9]+'
expect demo '/lib/x86_64-linux-gnu/libc.so.6'
expect demo 'ld-linux-x86-64.so.2'
expect demo 'Current event: [0-9]+'
expect demo 'result=30 counter=30 pid=[0-9]+'
expect demo 'No more reverse-execution history'
expect demo 'the end of the recording: process [0-9]+ exits with status 2 next'
expect demo 'exited with code 02'
reject demo 'Remote connection closed|Remote communication error'

# The same session again: a replay is the same every time.
gdb_run demo "$(cat "$WORK/demo.gdb")" "$WORK/demo.again.out"
CHECKS=$((CHECKS + 1))
if diff -u "$WORK/demo.gdb.out" "$WORK/demo.again.out" >"$WORK/demo.diff"; then
  echo "ok:   the same gdb script twice gives identical output"
else
  fail "the same gdb script twice gave different output"
  head -40 "$WORK/demo.diff"
fi

# The debugger cannot change the replay: every write is refused with a
# message, and the program goes on as recorded. (gdb -batch stops a command
# file at its first error, so each write gets a file of its own.)
printf 'break square\ncontinue\n' >"$WORK/w0.gdb"
printf 'set var global_counter = 100\n' >"$WORK/w1.gdb"
printf 'print global_counter = 7\n' >"$WORK/w2.gdb"
printf 'set $rax = 0x1234567\n' >"$WORK/w3.gdb"
printf 'print global_counter\nprint $rax != 0x1234567\ndelete\ncontinue\ncontinue\n' >"$WORK/w4.gdb"
timeout "$GDB_TIMEOUT" "$RRX" replay --batch -x "$WORK/w0.gdb" -x "$WORK/w1.gdb" -x "$WORK/w2.gdb" \
  -x "$WORK/w3.gdb" -x "$WORK/w4.gdb" "$WORK/demo.trace" >"$WORK/writes.gdb.out" 2>&1 </dev/null || true
expect writes "a replay cannot change the program.s (memory|registers)"
expect writes 'Could not write register|Cannot access memory'
expect writes '^\$1 = 0$'
expect writes '^\$2 = 1$'
expect writes 'exited with code 02'

gdb_finish
