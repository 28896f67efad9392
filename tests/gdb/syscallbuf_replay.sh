#!/usr/bin/env bash
# gdb over stop-free replay of buffered calls (the preload library takes each
# recorded result from its buffer, no stop per call): a breakpoint after a
# stretch of buffered calls, `monitor goto` to a buffered getppid's event in
# the middle of one, a watchpoint on what a buffered clock_gettime wrote hit
# forward and found again in reverse (from a position reached stop-free),
# then back to the start. Every answer (event numbers, values,
# where the watchpoint stops) must be the one the replay with a stop per call
# gives (RRX_SYSCALLBUF_REPLAY=stops), registers included (the library
# leaves the same ones whether it took a call's record or the call stopped):
# the same script runs both ways and the outputs are compared.
source "$(dirname "$0")/lib/gdb_common.sh"

export RRX_E2E_RECORD_ARGS="${RRX_E2E_RECORD_ARGS:-} --syscallbuf"
gdb_record sb -- "$RRX_TEST_PROGRAMS/syscallbuf_watch"
"$RRX" dump "$WORK/sb.trace" >"$WORK/dump.txt" 2>&1
# The 50th buffered getppid of the first loop, and the buffered clock_gettime.
G=$(grep 'getppid() = [0-9]* (buffered)' "$WORK/dump.txt" | sed -n '50s/^ *\([0-9]*\) .*/\1/p')
C=$(grep 'clock_gettime(.*(buffered)' "$WORK/dump.txt" | tail -n 1 | sed 's/^ *\([0-9]*\) .*/\1/')
if [[ -z $G || -z $C ]]; then
  fail "no buffered getppid/clock_gettime events in the dump"
  head -50 "$WORK/dump.txt"
  gdb_finish
fi
SCRIPT="
break syscallbuf_watch.c:14
continue
echo ==at14==\n
monitor when
print when.tv_nsec != 0
info registers rax rbx rcx rdx rsi rdi rbp rsp r8 r9 r10 r11 r12 r13 r14 r15 rip eflags
echo ==end==\n
monitor goto $G
echo ==goto==\n
monitor when
print when.tv_nsec
echo ==end==\n
watch -l when.tv_nsec
echo ==watch-forward==\n
continue
monitor when
print when.tv_nsec != 0
echo ==end==\n
continue
echo ==at14-again==\n
monitor when
info registers rax rbx rcx rdx rsi rdi rbp rsp r8 r9 r10 r11 r12 r13 r14 r15 rip eflags
echo ==end==\n
echo ==watch-back==\n
reverse-continue
monitor when
echo ==end==\n
echo ==before==\n
reverse-continue
monitor when
print when.tv_nsec
echo ==end==\n
"
gdb_run sb "$SCRIPT"
cp "$WORK/sb.gdb.out" "$WORK/fast.out"
RRX_SYSCALLBUF_REPLAY=stops gdb_run sb "$SCRIPT" "$WORK/stops.out"

OUT=$WORK/fast.out
expect_in at14 '^\$1 = 1$'
expect_in goto "^Current event: $G "
expect_in goto '^\$2 = 0$'
expect_in watch-forward 'New value = [1-9]'
expect_in watch-forward "^Current event: $((C + 1)) "
expect_in watch-back 'Old value = [1-9]'
expect_in watch-back 'New value = 0'
expect_in watch-back "^Current event: $C "
expect_in before 'No more reverse-execution history'
expect_in before '^\$[0-9]* = 0$'
CHECKS=$((CHECKS + 1))
# (Addresses and timings aside, which gdb does not print here.)
if diff <(grep -v '^Run till exit' "$WORK/fast.out") <(grep -v '^Run till exit' "$WORK/stops.out") >"$WORK/diff.txt"; then
  echo "ok:   the stop-free replay answers as the replay with a stop per call"
else
  fail "gdb's answers differ between the stop-free replay and RRX_SYSCALLBUF_REPLAY=stops"
  sed 's/^/  | /' "$WORK/diff.txt" | head -60
fi
gdb_finish
