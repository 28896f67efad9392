#!/usr/bin/env bash
# What a replay costs in ptrace stops, counted by RRX_REPLAY_STATS: the
# stop-free replay takes buffered writes as it takes reads (dd from
# /dev/zero to a file: no stop per call), and under sysemu a syscall that
# runs for real on replay (mprotect, brk, rt_sigaction...) costs one stop
# (its seccomp stop; mmap too: a return stub in the vDSO puts the program's
# argument registers back, replay/mmap_return.h), or without the seccomp filter
# (RRX_REPLAY_SECCOMP=0) two, three right after an emulated one (sysemu's
# exit stop of that one), not four. Writes to /dev/null while rrx's stdout is /dev/null are
# rrx's own output (replay shows them): buffered, and taken without a stop
# on replay too (the library copies their bytes for the replayer to show at
# the next stop). The stop counts asserted are the trace's, not the
# machine's: no timing. rr_check replays the same traces with every skip
# strategy; a trace whose executed call has another argument than the
# program passes still diverges at that call's event (found at its entry
# stop, entered for real).
# rrx-e2e: one record mode (each recording names --syscallbuf)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

rr_check dd --record-arg --syscallbuf -- dd if=/dev/zero of="$WORK/dd.out" bs=512 count=3000
T=$(rr_trace dd)
if [[ -f $T/trace ]]; then
  RRX_REPLAY_STATS=1 rrx_run "$WORK/dd-stats" replay --autopilot "$T"
  check "dd: the replay with RRX_REPLAY_STATS printed what the recording did" \
    cmp -s "$WORK/dd-stats.err" "$WORK/dd.rec.err"
  taken=$(sed -n 's/.* \([0-9]*\) buffered calls taken without a stop.*/\1/p' "$WORK/dd-stats.rawerr")
  # 3,000 reads and 3,000 writes, all buffered; the first of each kind is
  # traced (its site is patched at that stop).
  check "dd: the 6,000 buffered reads and writes are taken without a stop (${taken:-none})" \
    test "${taken:-0}" -ge 5990
  # "rrx:   NAME   N events   M stops   R per event": the stops of the
  # buffered calls left are the refills of the 1 MiB buffer (3 MiB of
  # records here) and the call after each: a handful.
  dd_stops=$(awk '$2 ~ /^(read|write)$/ && $3 == "(buffered)" { s += $6 } END { print s + 0 }' "$WORK/dd-stats.rawerr")
  check "dd: the buffered reads and writes replay in at most 12 stops ($dd_stops)" test "$dd_stops" -le 12
fi

# dd of=/dev/null while rrx's own stdout is /dev/null too: the writes are
# the program's output, which the replay shows again (a recording made with
# its output thrown away shows it on replay): buffered when recorded, taken
# without a stop on replay like the reads; the bytes come out all the same
# (the library copies them after the records fed, the replayer writes them
# at the next stop: a stop per ~1 MiB of records and output, not per write).
CHECKS=$((CHECKS + 1))
if "$RRX" record --syscallbuf -o "$WORK/null.trace" -- dd if=/dev/zero of=/dev/null bs=512 count=2000 \
    >/dev/null 2>"$WORK/null.rec.err" </dev/null; then
  pass "dd of=/dev/null recorded with rrx's stdout on /dev/null"
  rrx_run "$WORK/null.dump" dump "$WORK/null.trace"
  writes=$(grep -c 'write(1, .*buffered' "$WORK/null.dump.out" || true)
  check "dd of=/dev/null: the writes to /dev/null are buffered ($writes of 2,000)" test "$writes" -ge 1990
  RRX_REPLAY_STATS=1 rrx_run "$WORK/null-stats" replay --autopilot "$WORK/null.trace"
  taken=$(sed -n 's/.* \([0-9]*\) buffered calls taken without a stop.*/\1/p' "$WORK/null-stats.rawerr")
  check "dd of=/dev/null: the replay exits 0, shows dd's output and takes the reads and writes without a stop (${taken:-none})" \
    eval "[[ \$RUN_RC == 0 ]] && test '${taken:-0}' -ge 3990 && test \$(wc -c < '$WORK/null-stats.out') -eq 1024000"
  check "dd of=/dev/null: the bytes shown are dd's (1,024,000 zero bytes)" \
    cmp -s "$WORK/null-stats.out" <(head -c 1024000 /dev/zero)
  null_stops=$(awk '$2 ~ /^(read|write)$/ && $3 == "(buffered)" { s += $6 } END { print s + 0 }' "$WORK/null-stats.rawerr")
  check "dd of=/dev/null: the buffered reads and writes replay in at most 12 stops ($null_stops; 2,000 before)" \
    test "$null_stops" -le 12
  # -q: the same replay without the output.
  rrx_run "$WORK/null-quiet" replay --autopilot -q "$WORK/null.trace"
  check "dd of=/dev/null: rrx replay -q shows none of it" eval "[[ \$RUN_RC == 0 && ! -s '$WORK/null-quiet.out' ]]"
else
  fail "rrx record of dd of=/dev/null failed"
  show_file stderr "$WORK/null.rec.err"
fi

rr_strategies
if [[ " ${RR_STRATEGIES[*]} " == *" sysemu "* ]]; then
  rr_check sh --record-arg --syscallbuf -- sh -c 'for i in 1 2 3 4 5; do cat /dev/null; done; echo done'
  T=$(rr_trace sh)
  if [[ -f $T/trace ]]; then
    RRX_REPLAY_STATS=1 rrx_run "$WORK/sh-stats" replay --autopilot --skip=sysemu "$T"
    check "sh: the sysemu replay with RRX_REPLAY_STATS printed what the recording did" \
      cmp -s "$WORK/sh-stats.out" "$WORK/sh.rec.out"
    # "rrx:   NAME   N events   M stops   R per event". Autopilot under
    # sysemu: a call that runs for real stops once, at its seccomp stop;
    # one whose exit needs no work completes there (a few keep their exit
    # stop: another thread's event or a site patch comes next); so does
    # mmap, the program's own arguments put back in its registers by the
    # return stub (replay/mmap_return.h) the call returns into.
    # (Not the lines of those taken without a stop: "NAME (buffered), taken".)
    # set_tid_address too: its recorded result (the recorded thread id)
    # is set by a return stub (replay/mmap_return.h), not at an exit stop.
    # (The buffered ones among them, the dynamic loader's too since the early
    # set-up, are taken without a stop: counted with theirs, none.)
    read -r events stops < <(awk '$2 ~ /^(mprotect|brk|munmap|rt_sigaction|set_robust_list|arch_prctl|set_tid_address)$/ {
        if ($3 ~ /^[0-9]+$/) { e += $3; s += $5 } else if ($3 == "(buffered),") { e += $5; s += $7 } }
      END { print e + 0, s + 0 }' "$WORK/sh-stats.rawerr")
    check "sh: under sysemu mprotect, brk, munmap, set_tid_address... take one stop each, a few two ($stops stops for $events calls)" \
      test "$events" -gt 40 -a "$stops" -le $((events * 6 / 5))
    read -r events stops < <(awk '$2 == "mmap" && $3 ~ /^[0-9]+$/ { e += $3; s += $5 } END { print e + 0, s + 0 }' "$WORK/sh-stats.rawerr")
    check "sh: under sysemu mmap takes one stop, a few two ($stops stops for $events calls)" \
      test "$events" -gt 40 -a "$stops" -le $((events * 6 / 5))
    # Without the seccomp filter (RRX_REPLAY_SECCOMP=0): entered with
    # PTRACE_SYSCALL, two stops, three right after an emulated call.
    RRX_REPLAY_SECCOMP=0 RRX_REPLAY_STATS=1 rrx_run "$WORK/sh-stats0" replay --autopilot --skip=sysemu "$T"
    check "sh: the replay with RRX_REPLAY_SECCOMP=0 printed what the recording did" \
      cmp -s "$WORK/sh-stats0.out" "$WORK/sh.rec.out"
    read -r events stops < <(awk '$2 ~ /^(mmap|mprotect|brk|munmap|rt_sigaction|set_robust_list|arch_prctl)$/ \
      { e += $3; s += $5 } END { print e + 0, s + 0 }' "$WORK/sh-stats0.rawerr")
    check "sh: with RRX_REPLAY_SECCOMP=0 the calls that run for real take 2-3 stops each ($stops stops for $events calls)" \
      test "$events" -gt 50 -a "$stops" -le $((events * 5 / 2))
    # A file mapping made as anonymous memory filled with the copy's bytes
    # (RRX_REPLAY_MAP_COPIES=0) replays the same.
    RRX_REPLAY_MAP_COPIES=0 rrx_run "$WORK/sh-fill" replay --autopilot "$T"
    check "sh: the replay with RRX_REPLAY_MAP_COPIES=0 exits 0 and prints what the recording did" \
      eval "[[ \$RUN_RC == 0 ]] && cmp -s '$WORK/sh-fill.out' '$WORK/sh.rec.out'"
  fi
  # Another argument to the first mprotect than the program passes: the
  # divergence is found at its entry stop, entered for real.
  CHECKS=$((CHECKS + 1))
  if [[ -x $RRX_TRACE_EDIT && -f $T/trace ]] &&
      "$RRX_TRACE_EDIT" "$T" "$WORK/sh-edited.trace" --syscall mprotect --nth 1 --arg 2 7 >"$WORK/edit.out" 2>&1; then
    ev=$(sed -n 's/^edited event \([0-9]*\):.*/\1/p' "$WORK/edit.out")
    pass "rrx_trace_edit: $(cat "$WORK/edit.out")"
    run_capture "$WORK/sh-div" -- "$RRX" replay --autopilot --skip=sysemu "$WORK/sh-edited.trace"
    check "sh (edited mprotect): exit 125 with a divergence at event $ev" \
      eval "[[ \$RUN_RC == 125 ]] && grep -qi 'divergence at event $ev\\b' '$WORK/sh-div.rawerr'"
  else
    fail "rrx_trace_edit could not edit the first mprotect"
    [[ -f $WORK/edit.out ]] && show_file output "$WORK/edit.out"
  fi
  # Another result of an mmap at a fixed address (the loader's second
  # mapping of the preload library) than the kernel gives: the return stub
  # finds it (its ud2), a divergence at that mmap's event, though the
  # replay had gone past it.
  CHECKS=$((CHECKS + 1))
  if [[ -x $RRX_TRACE_EDIT && -f $T/trace ]] &&
      "$RRX_TRACE_EDIT" "$T" "$WORK/sh-mmap.trace" --syscall mmap --nth 3 --ret 4096 >"$WORK/edit-mmap.out" 2>&1; then
    ev=$(sed -n 's/^edited event \([0-9]*\):.*/\1/p' "$WORK/edit-mmap.out")
    pass "rrx_trace_edit: $(cat "$WORK/edit-mmap.out")"
    rrx_run "$WORK/sh-mmap" dump "$WORK/sh-mmap.trace"
    check "sh (edited mmap): event $ev is an mmap at a fixed address" \
      grep -q "^ *$ev .*mmap(0x[0-9a-f]*, .*MAP_FIXED" "$WORK/sh-mmap.out"
    run_capture "$WORK/sh-mmap-div" -- "$RRX" replay --autopilot --skip=sysemu "$WORK/sh-mmap.trace"
    check "sh (edited mmap): exit 125 with a divergence at event $ev, mapped at another address" \
      eval "[[ \$RUN_RC == 125 ]] && grep -qi 'divergence at event $ev\\b' '$WORK/sh-mmap-div.rawerr' &&
        grep -q 'mapped at another address' '$WORK/sh-mmap-div.rawerr'"
  else
    fail "rrx_trace_edit could not edit the third mmap"
    [[ -f $WORK/edit-mmap.out ]] && show_file output "$WORK/edit-mmap.out"
  fi
  # Another result of an mprotect than the kernel gives: a call completed at
  # its seccomp stop has its result checked by a return stub too, so the
  # divergence is reported at that mprotect's event.
  CHECKS=$((CHECKS + 1))
  if [[ -x $RRX_TRACE_EDIT && -f $T/trace ]] &&
      "$RRX_TRACE_EDIT" "$T" "$WORK/sh-mprot.trace" --syscall mprotect --nth 3 --ret 5 >"$WORK/edit-mprot.out" 2>&1; then
    ev=$(sed -n 's/^edited event \([0-9]*\):.*/\1/p' "$WORK/edit-mprot.out")
    pass "rrx_trace_edit: $(cat "$WORK/edit-mprot.out")"
    run_capture "$WORK/sh-mprot-div" -- "$RRX" replay --autopilot --skip=sysemu "$WORK/sh-mprot.trace"
    check "sh (edited mprotect result): exit 125 with a divergence at event $ev" \
      eval "[[ \$RUN_RC == 125 ]] && grep -qi 'divergence at event $ev\\b' '$WORK/sh-mprot-div.rawerr'"
  else
    fail "rrx_trace_edit could not edit the third mprotect"
    [[ -f $WORK/edit-mprot.out ]] && show_file output "$WORK/edit-mprot.out"
  fi
fi

# Buffered address-space calls (mmap of anonymous memory, munmap, brk,
# mprotect, madvise) and rt_sigaction must take effect in the replayed
# process: under the seccomp filter the library makes them for real from
# its own instruction, without a stop, and takes their record when the
# kernel's result is the recorded one. Without the filter each has a stop.
# A recorded result the kernel does not give (an edited trace) is a
# divergence at that call's event.
rr_check maps --stdout-has "same place 200" --record-arg --syscallbuf -- "$(prog buffered_maps)"
T=$(rr_trace maps)
if [[ -f $T/trace ]]; then
  RRX_REPLAY_STATS=1 rrx_run "$WORK/maps-stats" replay --autopilot "$T"
  check "maps: the replay prints what the recording did" cmp -s "$WORK/maps-stats.out" "$WORK/maps.rec.out"
  in_process=$(awk '$2 ~ /^(mmap|munmap|brk|mprotect|madvise|rt_sigaction)$/ && $3 == "(buffered)" { s += $6 } END { print s + 0 }' \
    "$WORK/maps-stats.rawerr")
  check "maps: the buffered address-space calls replay in at most 12 stops ($in_process)" test "$in_process" -le 12
  RRX_REPLAY_SECCOMP=0 RRX_REPLAY_STATS=1 rrx_run "$WORK/maps-stats0" replay --autopilot "$T"
  check "maps: with RRX_REPLAY_SECCOMP=0 the replay prints the same" cmp -s "$WORK/maps-stats0.out" "$WORK/maps.rec.out"
  with_stops=$(awk '$2 ~ /^(mmap|munmap|brk|mprotect|madvise)$/ && $3 == "(buffered)" { s += $6 } END { print s + 0 }' \
    "$WORK/maps-stats0.rawerr")
  check "maps: with RRX_REPLAY_SECCOMP=0 each has its stop ($with_stops)" test "$with_stops" -ge 1500
  CHECKS=$((CHECKS + 1))
  if [[ -x $RRX_TRACE_EDIT ]] &&
      "$RRX_TRACE_EDIT" "$T" "$WORK/maps-edited.trace" --syscall brk --nth 100 --ret 4096 >"$WORK/maps-edit.out" 2>&1; then
    ev=$(sed -n 's/^edited event \([0-9]*\):.*/\1/p' "$WORK/maps-edit.out")
    pass "rrx_trace_edit: $(cat "$WORK/maps-edit.out")"
    rrx_run "$WORK/maps.dump" dump "$T"
    check "maps: the edited brk (event $ev) is a buffered one" grep -q "^ *$ev .*brk(.*(buffered)\$" "$WORK/maps.dump.out"
    run_capture "$WORK/maps-div" -- "$RRX" replay --autopilot "$WORK/maps-edited.trace"
    check "maps (edited brk): exit 125 with a divergence at event $ev" \
      eval "[[ \$RUN_RC == 125 ]] && grep -qi 'divergence at event $ev\\b' '$WORK/maps-div.rawerr'"
  else
    fail "rrx_trace_edit could not edit the 100th brk"
    [[ -f $WORK/maps-edit.out ]] && show_file output "$WORK/maps-edit.out"
  fi
fi

# Children that run in their parent's memory until they exec (vfork, and
# posix_spawn's CLONE_VM | CLONE_VFORK) make buffered calls right before
# their execve (rt_sigprocmask): the execve stops the child where the
# replay handles it, so those records are fed like any others, the last
# one included (each of them cost two stops before).
rr_check spawn --stdout-has "children ok 8" --record-arg --syscallbuf -- "$(prog spawn_children)" 4
T=$(rr_trace spawn)
if [[ -f $T/trace ]]; then
  rrx_run "$WORK/spawn.dump" dump "$T"
  before_exec=$(grep -B1 'exec /usr/bin/true' "$WORK/spawn.dump.out" | grep -c '(buffered)$' || true)
  check "spawn: each child's call right before its exec is a buffered one ($before_exec of 8)" test "$before_exec" -eq 8
  RRX_REPLAY_STATS=1 rrx_run "$WORK/spawn-stats" replay --autopilot "$T"
  check "spawn: the replay prints what the recording did" cmp -s "$WORK/spawn-stats.out" "$WORK/spawn.rec.out"
  # (The children's rt_sigprocmask calls. The dynamic loader's buffered
  # calls right before one of its rdtsc traps keep their stop: a fed stretch
  # ends at a syscall of its thread only.)
  spawn_stops=$(awk '$2 == "rt_sigprocmask" && $3 == "(buffered)" { s += $6 } END { print s + 0 }' "$WORK/spawn-stats.rawerr")
  check "spawn: no buffered rt_sigprocmask replays with a stop ($spawn_stops stops)" test "$spawn_stops" -eq 0
fi

rr_finish
