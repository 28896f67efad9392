#!/usr/bin/env bash
# Damaged traces say what is wrong and where (file and offset):
#  - a trace that lost part of its last chunk (cut at several offsets inside
#    the end chunk, at a chunk boundary, inside the last events chunk):
#    replay re-emits what it can and exits non-zero saying the trace is
#    incomplete and at which offset; dump and info say the same;
#  - a flipped byte in a middle chunk's payload (which opening a trace does
#    not read): info says CORRUPTED with the chunk's offset and exits 1 (it
#    verifies every chunk's CRC-32C before calling a trace complete); replay
#    and dump stop with an error naming the file and offset, exit non-zero.
# Never a crash, never a hang (every command runs under a time limit).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

rr_record good --status 0 -- "$(prog write_loop)" 20000 || rr_finish
GOOD=$(rr_trace good)
TRACE_SIZE=$(stat -c %s "$GOOD/trace")

# The chunk layout, read independently of rrx: "OFFSET END KIND" per chunk
# (kind 1 header, 2 events, 3 end).
python3 - "$GOOD/trace" >"$WORK/chunks" <<'PY'
import struct, sys
b = open(sys.argv[1], "rb").read()
off = 16
while off + 32 <= len(b):
    magic, kind, codec, _, csize = struct.unpack_from("<IBBHI", b, off)
    assert magic == 0x43585252
    print(off, off + 32 + csize, kind)
    off += 32 + csize
assert off == len(b)
PY
mapfile -t CHUNKS <"$WORK/chunks"
note "  (the trace is $TRACE_SIZE bytes in ${#CHUNKS[@]} chunks)"
CHECKS=$((CHECKS + 1))
if ((${#CHUNKS[@]} >= 5)); then
  pass "the test trace has ${#CHUNKS[@]} chunks"
else
  fail "the test trace has only ${#CHUNKS[@]} chunks; the checks below need a middle events chunk"
  rr_finish
fi
read -r END_OFF END_END END_KIND <<<"${CHUNKS[-1]}"
read -r LAST_OFF LAST_END _ <<<"${CHUNKS[-2]}"
read -r MID_OFF MID_END MID_KIND <<<"${CHUNKS[$((${#CHUNKS[@]} / 2))]}"
check "the last chunk is the end chunk" test "$END_KIND" = 3
check "the middle chunk is an events chunk" test "$MID_KIND" = 2

# expect_said NAME FILE TEXT...: FILE contains every TEXT (fixed strings).
expect_said() {
  local name=$1 file=$2 t
  shift 2
  CHECKS=$((CHECKS + 1))
  for t in "$@"; do
    if ! grep -qF -- "$t" "$file"; then
      fail "$name: no \"$t\" in what rrx said"
      show_file "output" "$file"
      return 0
    fi
  done
  pass "$name"
}

# expect_prefix NAME PREFIX: the replay printed a prefix of the recorded stdout.
expect_prefix() {
  local name=$1 prefix=$2
  CHECKS=$((CHECKS + 1))
  if head -c "$(stat -c %s "$prefix.out")" "$WORK/good.rec.out" | cmp -s - "$prefix.out"; then
    pass "$name: the replay printed $(wc -l <"$prefix.out") of the recorded lines, nothing else"
  else
    fail "$name: the replay printed output the recording did not"
    show_diff "recorded stdout" "$WORK/good.rec.out" "replay stdout" "$prefix.out"
  fi
}

# ---- cut inside the last chunk, at its start, and inside the last events chunk
# check_cut NAME LENGTH CHUNK_OFFSET [with-index]: the trace cut to LENGTH
# bytes; CHUNK_OFFSET is where the readable part ends.
check_cut() {
  local name=$1 len=$2 at=$3 index=${4:-}
  local t=$WORK/$name.trace
  cp -a "$GOOD" "$t"
  truncate -s "$len" "$t/trace"
  [[ $index == with-index ]] || rm -f "$t/trace.idx"
  local where
  if ((len == at)); then
    where="ends at offset $at"
  else
    where="the last chunk, at offset $at, is truncated: the file ends at offset $len"
  fi

  rrx_run "$WORK/$name-replay" replay --autopilot "$t"
  CHECKS=$((CHECKS + 1))
  if rc_is_clean_error "$RUN_RC"; then
    pass "$name: replay exits $RUN_RC"
  else
    fail "$name: replay exit $RUN_RC; expected a clean non-zero status"
  fi
  expect_prefix "$name" "$WORK/$name-replay"
  expect_said "$name: replay says the trace is incomplete and where" "$WORK/$name-replay.rawerr" \
    "incomplete" "$t/trace" "$where"

  rrx_run "$WORK/$name-dump" dump "$t"
  cat "$WORK/$name-dump.out" "$WORK/$name-dump.rawerr" >"$WORK/$name-dump.all"
  expect_said "$name: dump says it too (exit $RUN_RC)" "$WORK/$name-dump.all" "incomplete" "$t/trace" "$where"
  check "$name: dump does not crash" rc_is_clean_error_or_ok "$RUN_RC"

  rrx_run "$WORK/$name-info" info "$t"
  expect_said "$name: info says INCOMPLETE and where (exit $RUN_RC)" "$WORK/$name-info.out" "INCOMPLETE" \
    "$t/trace" "$where"
  check "$name: info exits 0" test "$RUN_RC" = 0
}
rc_is_clean_error_or_ok() { (($1 == 0)) || rc_is_clean_error "$1"; }

check_cut cut-end-1 $((TRACE_SIZE - 1)) "$END_OFF"
check_cut cut-end-half $(((END_OFF + END_END) / 2)) "$END_OFF" with-index
check_cut cut-end-in-header $((END_OFF + 5)) "$END_OFF"
check_cut cut-end-header-only $((END_OFF + 32)) "$END_OFF" with-index
check_cut cut-at-end-chunk "$END_OFF" "$END_OFF"
check_cut cut-last-events $(((LAST_OFF + LAST_END) / 2)) "$LAST_OFF"
# Everything the program printed is in the events: all of it is re-emitted.
CHECKS=$((CHECKS + 1))
if cmp -s "$WORK/good.rec.out" "$WORK/cut-end-1-replay.out"; then
  pass "a trace that lost only its end record replays all its output"
else
  fail "a trace that lost only its end record does not replay all its output"
fi

# ---- a flipped byte in the payload of a middle chunk
# check_flip NAME [with-index]
check_flip() {
  local name=$1 index=${2:-}
  local t=$WORK/$name.trace
  cp -a "$GOOD" "$t"
  [[ $index == with-index ]] || rm -f "$t/trace.idx"
  python3 - "$t/trace" $(((MID_OFF + MID_END) / 2)) <<'PY'
import sys
p, i = sys.argv[1], int(sys.argv[2])
b = bytearray(open(p, "rb").read())
b[i] ^= 0x20
open(p, "wb").write(bytes(b))
PY
  rrx_run "$WORK/$name-info" info "$t"
  expect_said "$name: info says CORRUPTED, the file and the chunk's offset" "$WORK/$name-info.out" \
    "CORRUPTED" "$t/trace: at offset $MID_OFF: checksum mismatch"
  check "$name: info exits 1" test "$RUN_RC" = 1
  rrx_run "$WORK/$name-info-json" info --json "$t"
  CHECKS=$((CHECKS + 1))
  if python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
assert j["status"] == "corrupted" and j["complete"] is False, j
assert ("at offset " + sys.argv[2]) in j["corruption"], j["corruption"]
' "$WORK/$name-info-json.out" "$MID_OFF" 2>"$WORK/$name-info-json.py"; then
    pass "$name: info --json: status corrupted, complete false, the offset"
  else
    fail "$name: info --json does not report the corruption"
    show_file "python" "$WORK/$name-info-json.py"
  fi

  rrx_run "$WORK/$name-replay" replay --autopilot "$t"
  check "$name: replay exits non-zero, cleanly ($RUN_RC)" rc_is_clean_error "$RUN_RC"
  expect_said "$name: replay names the file, the offset and the checksum" "$WORK/$name-replay.rawerr" \
    "$t/trace: at offset $MID_OFF: checksum mismatch"
  expect_prefix "$name" "$WORK/$name-replay"

  rrx_run "$WORK/$name-dump" dump "$t"
  check "$name: dump exits non-zero, cleanly ($RUN_RC)" rc_is_clean_error "$RUN_RC"
  expect_said "$name: dump names the file and the offset" "$WORK/$name-dump.rawerr" \
    "$t/trace: at offset $MID_OFF: checksum mismatch"
}
check_flip flip-mid
check_flip flip-mid-idx with-index

# ---- the intact trace: verified complete
rrx_run "$WORK/good-info" info "$GOOD"
expect_said "info of the intact trace: complete, checksums verified" "$WORK/good-info.out" \
  "complete (every chunk's checksum verified)"
check "info of the intact trace exits 0" test "$RUN_RC" = 0

rr_finish
