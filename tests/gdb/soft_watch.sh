#!/usr/bin/env bash
# gdb watchpoints without the debug registers (RRX_DEBUG_REGS=0, as on a
# virtual machine whose debug registers never fire: core/debug_regs_probe.h):
# a write watchpoint stops forwards and in reverse by rrx's single-steps,
# with gdb's old and new values; a stepi over the write reports it; a read
# watchpoint is refused; a hardware breakpoint stops (an int3). The same
# session with the debug registers, where they fire, gives the same stops.
source "$(dirname "$0")/lib/gdb_common.sh"

gdb_record demo -- "$RRX_TEST_PROGRAMS/gdb_demo"

script='
break sum_squares
continue
watch global_counter
echo ==first==\n
continue
bt 1
echo ==end==\n
echo ==second==\n
continue
bt 1
echo ==end==\n
echo ==reverse==\n
reverse-continue
bt 1
echo ==end==\n
delete
hbreak square
echo ==hbreak==\n
continue
bt 1
echo ==end==\n
delete
watch origin.x
echo ==origin==\n
continue
bt 1
echo ==end==\n
delete
continue
continue
'
RRX_DEBUG_REGS=0 gdb_run demo "$script"
OUT=$WORK/demo.gdb.out
expect demo 'Hardware watchpoint 2: global_counter'
expect_in first 'Old value = 0'
expect_in first 'New value = 1'
expect_in first '^#0  square \(v=1\) at .*gdb_demo.c:1[67]'
expect_in second 'Old value = 1'
expect_in second 'New value = 5'
expect_in second '^#0  square \(v=2\) at .*gdb_demo.c:1[67]'
# Back to the write of the first pass: gdb shows the value going back.
expect_in reverse 'Old value = 5'
expect_in reverse 'New value = 1'
expect_in reverse '^#0  .*square \(v=[12]\) at .*gdb_demo.c:1[567]'
expect_in hbreak '[Bb]reakpoint [0-9]+, square \(v=3\) at .*gdb_demo.c:15'
expect_in origin 'Old value = 1'
expect_in origin 'New value = 30'
expect_in origin '^#0  main \(\) at .*gdb_demo.c:3[34]'
expect demo 'exited with code 02'

# A read watchpoint cannot be watched by comparing bytes: refused.
ln -s "$WORK/demo.trace" "$WORK/rwatch.trace"
RRX_DEBUG_REGS=0 gdb_run rwatch '
break sum_squares
continue
rwatch global_counter
continue
'
expect rwatch 'Could not insert hardware watchpoint|Could not insert hardware breakpoints'

# Where the debug registers fire, they give the same stops.
if "$RRX" info --here --json | grep -q '"debug_registers":true'; then
  ln -s "$WORK/demo.trace" "$WORK/hw.trace"
  gdb_run hw "$script"
  for s in first second reverse hbreak origin; do
    same_output=$(diff <(OUT=$WORK/demo.gdb.out section $s) <(OUT=$WORK/hw.gdb.out section $s)) ||
      fail "section $s differs with the debug registers: $same_output"
  done
else
  echo "ok:   the debug registers do not fire here: the software way only"
fi

gdb_finish
