#!/usr/bin/env bash
# Shared memory replays as one shared object: a MAP_SHARED file changed by
# pwrite/write/ftruncate and read through the map; a file, shm_open object,
# memfd, SysV segment, shared anonymous memory and /dev/zero shared by a
# parent and its child that update a counter in turn; mremap growing a
# shared map; a short file mapped past its end (SIGBUS); a read-only shared
# map (mprotect refused). Python's multiprocessing (Pool, Queue,
# ProcessPoolExecutor, Value + Lock: POSIX semaphores in shared memory).
# A shared map that a process outside the recorded tree also maps is
# reported, and bytes written from outside are detected at the replay's end.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/lib/mt.sh"

P=$(prog shared_map)
rr_check_native pwrite --stdout-has "map at 100: written by pwrite" -- "$P" pwrite
# pwrite64 to a file mapped shared, buffered (buffer ABI 14): seen at once
# through the other process's map, growing the file, O_APPEND (at open and
# by F_SETFL) going to the end, the bytes of a write whose fd is closed.
rr_check_native pwrite_turns --stdout-has "turns: 300 rounds, 0 wrong, child status 0" --record-arg --syscallbuf \
  -- "$P" pwrite-turns
T=$(rr_trace pwrite_turns)
if [[ -f $T/trace ]]; then
  rrx_run "$WORK/pwrite_turns.dump" dump "$T"
  n=$(grep -cE 'pwrite64\(.* \(buffered\) \[shared object 1: 8 bytes at' "$WORK/pwrite_turns.dump.out" || true)
  check "pwrite_turns: the turns' pwrite64 calls are buffered with their change (got $n of 1200)" test "$n" -ge 1190
  check "pwrite_turns: a pwrite64 with O_APPEND stays traced (its bytes at the end)" \
    grep -qE 'pwrite64\(.*, 4, 0\) = 4 \[shared object 1: 4 bytes at 12288, size 12292\]' "$WORK/pwrite_turns.dump.out"
  run_capture "$WORK/pwrite_turns.stats" -- env RRX_REPLAY_STATS=1 "$RRX" replay --autopilot "$T"
  n=$(sed -n 's/.*events, \([0-9]*\) buffered calls taken without a stop.*/\1/p' "$WORK/pwrite_turns.stats.rawerr")
  check "pwrite_turns: the replay writes the object without a stop per pwrite64 (${n:-0} taken)" test "${n:-0}" -ge 1100
fi
for mode in file shm_open memfd sysv anon devzero; do
  rr_check_native "$mode" --stdout-has "counter 200 (expected 200)" -- "$P" "$mode"
done
rr_check_native mremap --stdout-has "second page: from the child" -- "$P" mremap
rr_check_native sigbus --stdout-has "past the end: signal 7" -- "$P" sigbus
rr_check_native readonly --stdout-has "mprotect writable: -1" -- "$P" readonly
# A file mapped shared that no one changes while recorded: the End says so,
# and replay maps the trace's copy (no replay copy of its own, no hash of
# it at either end); one that is written (pwrite) is not that.
T=$(rr_trace readonly)
if [[ -f $T/trace ]]; then
  rrx_run "$WORK/readonly.info" info "$T"
  check "readonly: the read-only shared map never changed" \
    grep -q '^shared objects: 1 (files mapped shared); 1 never changed' "$WORK/readonly.info.out"
fi
T=$(rr_trace pwrite)
if [[ -f $T/trace ]]; then
  rrx_run "$WORK/pwrite.info" info "$T"
  check "pwrite: the shared map written by pwrite changed" \
    grep -q '^shared objects: 1 (files mapped shared); 0 never changed' "$WORK/pwrite.info.out"
fi

PY=/usr/bin/python3
if [[ -x $PY ]]; then
  for mode in pool queue executor value; do
    # Twice with the default strategy (the C cases above cover the others).
    rr_record "py_$mode" -- "$PY" -I "$E2E_DATA/multiprocessing_modes.py" "$mode" && rr_replay_check "py_$mode" --default-only
  done
else
  note "python3 is not installed: multiprocessing cases skipped"
fi

# A process outside the recorded tree maps the file shared: the recording
# says so (stderr and a warning event in the trace).
F=$WORK/outside-mapped
head -c 8192 /dev/zero >"$F"
"$P" hold "$F" &
holder=$!
for _ in $(seq 1 100); do [[ -e $F.held ]] && break; sleep 0.05; done
if rr_record outside_mapper -- "$P" map-file "$F"; then
  check "outside_mapper: the recording warns" grep -q "outside the recorded tree" "$WORK/outside_mapper.rec.rawerr"
  check "outside_mapper: the warning is in the trace" \
    bash -c "'$RRX' dump '$WORK/outside_mapper.trace' | grep -q 'outside the recorded tree'"
  rr_replay_check outside_mapper --default-only
fi
kill "$holder" 2>/dev/null || true
wait "$holder" 2>/dev/null || true

# Bytes written into a shared object from outside while it is mapped: the
# replay cannot reproduce them, and says so at its end.
F=$WORK/outside-written
head -c 4096 /dev/zero >"$F"
rm -f "$F.mapped"
(for _ in $(seq 1 200); do [[ -e $F.mapped ]] && break; sleep 0.02; done; printf 'from outside' | dd of="$F" conv=notrunc status=none) &
writer=$!
if rr_record outside_writer -- "$P" map-wait "$F"; then
  wait "$writer" 2>/dev/null || true
  run_capture "$WORK/outside_writer.rep" -- "$RRX" replay --autopilot "$WORK/outside_writer.trace"
  check "outside_writer: the replay reports the foreign bytes" \
    grep -q "outside the recorded tree wrote to it" "$WORK/outside_writer.rep.rawerr"
fi
wait "$writer" 2>/dev/null || true

rr_finish
