#!/usr/bin/env bash
# gdb in a program whose threads are preempted inside hot loops
# (mt_cpu_bound: two CPU-bound threads). The replay reaches each recorded
# preemption pass with a PreemptStub patched into the loop; gdb must never
# notice it: a breakpoint inside the loop stops there (a stop on the way to
# a preemption point), the code gdb reads is the program's, stepping from
# there and continuing reach the recorded passes, reverse-continue finds a
# breakpoint behind several preemptions, and the replay ends with the
# recorded output and exit status. (The reverse-continue starts after
# `finish`, at an address the loop does not pass: a reverse search whose
# starting point is inside a hot loop still stops at every pass of the loop
# on its way back to that point, which is issue 15's open part.)
source "$(dirname "$0")/lib/gdb_common.sh"

gdb_record cpu -- "$RRX_TEST_PROGRAMS/mt_cpu_bound" 2 150
loop_line=$(grep -n 'lcg body' "$RRX_SOURCE_DIR/tests/programs/mt_cpu_bound.c" | cut -d: -f1)

gdb_run cpu "
break array_passes
continue
echo ==first-done==\\n
bt 1
echo ==end==\\n
delete
break mt_cpu_bound.c:$loop_line
continue
echo ==in-loop==\\n
bt 1
x/8xb \$pc
echo ==end==\\n
stepi
stepi
echo ==stepped==\\n
bt 1
echo ==end==\\n
delete
finish
break lcg_run
reverse-continue
echo ==rc==\\n
bt 1
echo ==end==\\n
delete
continue
continue
"
OUT=$WORK/cpu.gdb.out

expect_in first-done '^#0  array_passes \('
expect_in in-loop "^#0  lcg_run \\(x=[0-9]+, n=150000000\\) at .*mt_cpu_bound.c:$loop_line"
expect_in stepped '^#0  (0x[0-9a-f]+ in )?lcg_run \('
expect_in rc '^#0  lcg_run \(x=[12], n=150000000\) at .*mt_cpu_bound.c'
# The bytes at the breakpoint are the program's, not a jmp (0xe9) to a stub.
CHECKS=$((CHECKS + 1))
first_byte=$(section in-loop | sed -n 's/^0x[0-9a-f]* <lcg_run+[0-9]*>:[[:space:]]*\(0x[0-9a-f]*\).*/\1/p')
if [[ -n $first_byte && $first_byte != 0xe9 && $first_byte != 0xcc ]]; then
  echo "ok:   the code at the loop's pc reads as the program's (first byte $first_byte)"
else
  fail "the code at the loop's pc reads '$first_byte'"
fi
for line in $(grep -E '^thread [0-9]+: ' "$WORK/cpu.rec.out" | tr ' ' '_'); do
  expect cpu "^${line//_/ }\$"
done
expect cpu "exited normally|exited with code 0+\\b"
reject cpu 'Remote connection closed|Remote communication error'

gdb_finish
