#!/usr/bin/env bash
# Reverse execution in a multi-threaded program (mt_reverse: main and four
# workers doing CPU work, condition-variable waits and writes under a mutex)
# from checkpoints taken while all five threads ran: a checkpoint of yours
# at all_running() (five threads, workers waiting in futexes), automatic
# ones after it; reverse-continue to a watchpoint on a variable the workers
# write and reverse-step/next from there start from one of them (monitor info
# checkpoints says which and how many threads it has); monitor restart to
# the checkpoint and forward again give the same values, the same positions
# and the recorded output and exit status.
source "$(dirname "$0")/lib/gdb_common.sh"

gdb_record mt -- "$RRX_TEST_PROGRAMS/mt_reverse"
# Automatic checkpoints every 20 events (and every 0.5 s of replay).
export RRX_CHECKPOINT_INTERVAL=20

gdb_run mt '
break all_running
continue
monitor checkpoint
echo ==cp==\n
print total
print rounds_done
monitor info checkpoints
echo ==end==\n
delete
break finished_all
continue
echo ==end-state-1==\n
print total
print last_writer
print rounds_done
print scale
echo ==end==\n
watch total
reverse-continue
echo ==rc-watch-1==\n
bt 1
print total
print last_writer
print rounds_done
info registers rip rsp rbp rax rbx rcx rdx rsi rdi r8 r9 r10 r11 r12 r13 r14 r15 eflags fs_base
echo ==end==\n
echo ==rc-ckpt==\n
monitor info checkpoints
echo ==end==\n
delete
reverse-step
echo ==rstep-1==\n
bt 1
info registers rip rsp rbp rax rbx rcx rdx rsi rdi r8 r9 r10 r11 r12 r13 r14 r15 eflags fs_base
echo ==end==\n
reverse-next
echo ==rstep-1b==\n
bt 1
info registers rip rsp rbp rax rbx rcx rdx rsi rdi r8 r9 r10 r11 r12 r13 r14 r15 eflags fs_base
echo ==end==\n
echo ==rstep-ckpt==\n
monitor info checkpoints
echo ==end==\n
monitor restart 1
maint flush register-cache
echo ==restarted==\n
print total
print rounds_done
echo ==end==\n
break finished_all
continue
echo ==end-state-2==\n
print total
print last_writer
print rounds_done
print scale
echo ==end==\n
watch total
reverse-continue
echo ==rc-watch-2==\n
bt 1
print total
print last_writer
print rounds_done
info registers rip rsp rbp rax rbx rcx rdx rsi rdi r8 r9 r10 r11 r12 r13 r14 r15 eflags fs_base
echo ==end==\n
delete
reverse-step
echo ==rstep-2==\n
bt 1
info registers rip rsp rbp rax rbx rcx rdx rsi rdi r8 r9 r10 r11 r12 r13 r14 r15 eflags fs_base
echo ==end==\n
reverse-next
echo ==rstep-2b==\n
bt 1
info registers rip rsp rbp rax rbx rcx rdx rsi rdi r8 r9 r10 r11 r12 r13 r14 r15 eflags fs_base
echo ==end==\n
monitor restart 1
maint flush register-cache
delete
continue
continue
'
OUT=$WORK/mt.gdb.out

same_sections() {  # same_sections A B
  CHECKS=$((CHECKS + 1))
  # (gdb numbers the values it prints: $3 = ... the first time, $12 = ... the second.)
  if diff <(section "$1" | tail -n +2 | sed 's/^\$[0-9]* = //') <(section "$2" | tail -n +2 | sed 's/^\$[0-9]* = //') \
    >"$WORK/$1.diff" && [[ -n $(section "$1") ]]; then
    echo "ok:   $1 and $2 are identical"
  else
    fail "$1 and $2 differ"
    cat "$WORK/$1.diff"
  fi
}

# The checkpoint at all_running() holds all five threads.
expect_in cp '^checkpoint 1: event [0-9]+, thread [0-9]+, pc 0x[0-9a-f]+, 5 threads, [0-9]+ KiB'
# Automatic checkpoints with several threads exist, and reverse-continue and
# reverse-step restored one with several threads (workers end one by one
# near the end), later than checkpoint 1.
cp1=$(section cp | sed -n 's/^checkpoint 1: event \([0-9]*\),.*/\1/p')
for s in rc-ckpt rstep-ckpt; do
  expect_in "$s" '^automatic ones taken while several threads ran: [1-9]'
  expect_in "$s" '^last restored: the checkpoint at event [0-9]+, [2-5] threads'
  CHECKS=$((CHECKS + 1))
  at=$(section "$s" | sed -n 's/^last restored: the checkpoint at event \([0-9]*\),.*/\1/p')
  if [[ -n $at && -n $cp1 ]] && ((at > cp1)); then
    echo "ok:   $s: restored the checkpoint at event $at (after checkpoint 1 at $cp1)"
  else
    fail "$s: the last restored checkpoint (event '${at}') is not after checkpoint 1 (event '${cp1}')"
  fi
done
# reverse-continue stops at a worker's write; reverse-step goes to the start
# of its line, reverse-next over pthread_mutex_lock() to the line before.
expect mt 'Hardware watchpoint [0-9]+: total'
expect mt 'Old value = [0-9]+'
expect_in rc-watch-1 '^#0  (0x[0-9a-f]+ in )?worker \(arg=0x[0-3]\) at .*mt_reverse.c:54'
expect_in rstep-1 '^#0  worker \(arg=0x[0-3]\) at .*mt_reverse.c:54'
expect_in rstep-1b '^#0  worker \(arg=0x[0-3]\) at .*mt_reverse.c:53'
# The same state at the end before and after monitor restart, and the same
# write and reverse-step position found again from the restarted replay.
same_sections end-state-1 end-state-2
same_sections rc-watch-1 rc-watch-2
same_sections rstep-1 rstep-2
same_sections rstep-1b rstep-2b
# Back at checkpoint 1, the values are those it was taken with.
CHECKS=$((CHECKS + 1))
if diff <(section cp | grep -E '^\$[0-9]+ = ' | sed 's/^\$[0-9]* //') \
  <(section restarted | grep -E '^\$[0-9]+ = ' | sed 's/^\$[0-9]* //') >/dev/null; then
  echo "ok:   restart 1: total and rounds_done as at the checkpoint"
else
  fail "restart 1: total and rounds_done differ from the checkpoint's"
fi
# Forward from the restart to the end: the recorded output and exit status.
rec_total=$(grep -E '^total [0-9]+$' "$WORK/mt.rec.out")
expect mt "^$rec_total\$"
for i in 0 1 2 3; do
  expect mt "^$(grep -E "^worker $i: sum" "$WORK/mt.rec.out")\$"
done
expect mt "exited with code 0*$(printf '%o' "$(cat "$WORK/mt.rec.status")")"
reject mt 'Remote connection closed|Remote communication error'

# Thinning: with room for 6 automatic checkpoints, one every 10 ms of
# replay over 20,000 events keeps a spread over the whole recording
# (logarithmic within 16 intervals of the end, where the replay stands, even
# beyond: no gap wider than 60% of the recording); dropping the oldest
# would keep the last 6, a few hundred events apart. Costs are replay wall
# time: on a loaded machine a stall makes a short stretch look costly and
# shifts the spread, so the session gets three tries. (A trace of the fast
# path replays its 20,000 buffered getppid calls in a few stops, with no
# interval start between them to take a checkpoint at: that replay keeps a
# stop per call, RRX_SYSCALLBUF_REPLAY=stops.)
gdb_record thin -- "$RRX_TEST_PROGRAMS/watch_distance" 20000
OUT=$WORK/thin.gdb.out
CHECKS=$((CHECKS + 1))
spread=""
for try in 1 2 3; do
  RRX_SYSCALLBUF_REPLAY=stops RRX_CHECKPOINT_MAX=6 RRX_CHECKPOINT_SECONDS=0.01 RRX_CHECKPOINT_INTERVAL=0 gdb_run thin '
break done
continue
echo ==thin==\n
monitor info checkpoints
echo ==end==\n
delete
continue
'
  read -r -a kept <<<"$(section thin | sed -n 's/^automatic: 6 (.*, at events //p')"
  spread="$spread [${kept[*]}]"
  widest=0
  if ((${#kept[@]} == 6)); then
    prev=0
    for e in "${kept[@]}" 20000; do
      ((e - prev > widest)) && widest=$((e - prev))
      prev=$e
    done
  fi
  if ((${#kept[@]} == 6)) && ((kept[5] - kept[0] > 5000)) && ((widest < 12000)); then
    echo "ok:   thinned to a spread over the whole recording: events ${kept[*]} (try $try)"
    spread=ok
    break
  fi
done
[[ $spread == ok ]] || fail "automatic checkpoints not thinned to a spread over the whole recording: events$spread"

gdb_finish
