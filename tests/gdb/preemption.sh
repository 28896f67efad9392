#!/usr/bin/env bash
# gdb in a program whose threads are preempted inside hot loops
# (mt_cpu_bound: two CPU-bound threads). The replay reaches each recorded
# preemption pass with a PreemptStub patched into the loop; gdb must never
# notice it: a breakpoint inside the loop stops there (a stop on the way to
# a preemption point), the code gdb reads is the program's, stepping from
# there and continuing reach the recorded passes, reverse-continue finds a
# breakpoint behind several preemptions, and the replay ends with the
# recorded output and exit status. Reverse execution from inside the hot
# loop: reverse-stepi back to the pass the breakpoint stopped at and over
# the start of the thread's stretch, and reverse-continue to the function's
# entry. A reverse search finds its starting point (and reverse-stepi
# the pass before it) with the same kind of stub, not with a breakpoint
# that stops at every pass of the loop (~20 µs each, millions of passes
# here): the timeline's debug log (RRX_DEBUG_TIMELINE) shows a handful of
# stops per search, and the passes the stub counted.
# (The session replays the loop's stretches a few dozen times: under heavy
# load that takes minutes.)
GDB_TIMEOUT=${GDB_TIMEOUT:-300}
source "$(dirname "$0")/lib/gdb_common.sh"

# 400 million LCG steps a thread: each thread's loop spans several of the
# recorder's slices, so the second thread is inside its loop (preempted
# there) when the first reaches array_passes, whatever the slices' timing
# (with 150 million, on rrx's one CPU, the first thread sometimes finished
# its loop before the second entered it, and the breakpoint then stopped at
# the second's first pass, not after a preemption: 1 run in 4).
gdb_record cpu -- "$RRX_TEST_PROGRAMS/mt_cpu_bound" 2 400
loop_line=$(grep -n 'lcg body' "$RRX_SOURCE_DIR/tests/programs/mt_cpu_bound.c" | cut -d: -f1)

RRX_DEBUG_TIMELINE=1 gdb_run cpu "
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
echo ==at-pass==\\n
p/x \$pc
p i
p/x x
echo ==end==\\n
stepi
stepi
echo ==stepped==\\n
bt 1
echo ==end==\\n
delete
reverse-stepi
reverse-stepi
echo ==back-at-pass==\\n
p/x \$pc
p i
p/x x
echo ==end==\\n
$(for k in $(seq 13); do echo reverse-stepi; done)
echo ==far-back==\\n
p i
echo ==end==\\n
$(for k in $(seq 13); do echo stepi; done)
echo ==forth-at-pass==\\n
p/x \$pc
p i
p/x x
echo ==end==\\n
break lcg_run
reverse-continue
echo ==rc-loop==\\n
bt 1
echo ==end==\\n
delete
continue
continue
"
OUT=$WORK/cpu.gdb.out

expect_in first-done '^#0  array_passes \('
expect_in in-loop "^#0  lcg_run \\(x=[0-9]+, n=400000000\\) at .*mt_cpu_bound.c:$loop_line"
expect_in stepped '^#0  (0x[0-9a-f]+ in )?lcg_run \('
expect_in rc-loop '^#0  lcg_run \(x=[12], n=400000000\) at .*mt_cpu_bound.c'
# Two reverse-stepi after two stepi: the same pass of the loop (pc and registers).
CHECKS=$((CHECKS + 1))
at_pass=$(section at-pass | sed -n 's/^\$[0-9]* = //p' | tr '\n' ' ')
back=$(section back-at-pass | sed -n 's/^\$[0-9]* = //p' | tr '\n' ' ')
if [[ -n $at_pass && $at_pass == "$back" ]]; then
  echo "ok:   reverse-stepi x2 is back at the pass the breakpoint stopped at ($back)"
else
  fail "reverse-stepi x2: '$back', the pass was '$at_pass'"
fi
# 13 reverse-stepi go back over the start of the thread's stretch (its
# last preemption, inside the loop, at most one pass of the loop before the
# breakpoint's), 13 stepi come back to the same pass.
CHECKS=$((CHECKS + 1))
forth=$(section forth-at-pass | sed -n 's/^\$[0-9]* = //p' | tr '\n' ' ')
i_pass=$(section at-pass | sed -n 's/^\$[0-9]* = \([0-9][0-9]*\)$/\1/p' | head -1)
i_far=$(section far-back | sed -n 's/^\$[0-9]* = \([0-9][0-9]*\)$/\1/p' | head -1)
if [[ -n $at_pass && $at_pass == "$forth" && -n $i_far && -n $i_pass ]] && ((i_far < i_pass)); then
  echo "ok:   13 reverse-stepi went back to i = $i_far (from $i_pass), 13 stepi came back to the pass"
else
  fail "13 reverse-stepi and 13 stepi: i $i_pass -> $i_far, back at '$forth', the pass was '$at_pass'"
fi
# Without the stub every pass of the loop between the start of an interval
# and the position would be a stop (millions here).
CHECKS=$((CHECKS + 1))
scan_stops=$(grep -c 'rrx-timeline: \[[0-9.]*\]   scan stop' "$OUT" || true)
if ((scan_stops < 200)); then
  echo "ok:   the reverse searches stopped $scan_stops times on their way"
else
  fail "the reverse searches stopped $scan_stops times (a stop per pass of the loop?)"
fi
# reverse-stepi found the pass before a position by counting passes (the
# ones that went back into the previous stretch counted many).
expect cpu 'rrx-timeline: \[[0-9.]+\] previous: [0-9]{3,} pass\(es\) of pc'
reject cpu 'no position stub at pc'
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
