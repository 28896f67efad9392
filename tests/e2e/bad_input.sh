#!/usr/bin/env bash
# rrx given bad input: a missing program, missing, truncated, corrupted and
# garbage traces, a 32-bit program, an unknown subcommand. Each must give a
# clear message and a clean exit status (never a crash: status < 128).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

# expect_clean_error NAME PREFIX: rrx failed with a message, without crashing.
expect_clean_error() {
  local name=$1 prefix=$2 rc
  rc=$(cat "$prefix.rc")
  CHECKS=$((CHECKS + 1))
  if rc_is_clean_error "$rc" && [[ -s $prefix.rawerr ]]; then
    pass "$name (exit $rc: $(head -n 1 "$prefix.rawerr" | cut -c1-150))"
  else
    fail "$name: exit $rc; expected a non-zero status below 128 and a message on stderr"
    show_file stdout "$prefix.out"
    show_file stderr "$prefix.rawerr"
  fi
}

# expect_no_crash NAME PREFIX: any status below 128, and something said.
expect_no_crash() {
  local name=$1 prefix=$2 rc
  rc=$(cat "$prefix.rc")
  CHECKS=$((CHECKS + 1))
  if ((rc < 124 || (rc > 124 && rc < 128))) && [[ -s $prefix.rawerr || -s $prefix.out ]]; then
    pass "$name (exit $rc)"
  else
    fail "$name: exit $rc (crash or time-out?), or no output at all"
    show_file stdout "$prefix.out"
    show_file stderr "$prefix.rawerr"
  fi
}

# ---- a program that does not exist
rrx_run "$WORK/missing-prog" record -o "$WORK/missing-prog.trace" -- "$WORK/no/such/program"
CHECKS=$((CHECKS + 1))
if [[ $RUN_RC == 127 && -s $WORK/missing-prog.rawerr ]]; then
  pass "record of a missing program: exit 127 ($(head -n 1 "$WORK/missing-prog.rawerr"))"
else
  fail "record of a missing program: exit $RUN_RC, expected 127 with a message"
  show_file stderr "$WORK/missing-prog.rawerr"
fi
rrx_run "$WORK/missing-path" record -o "$WORK/missing-path.trace" -- no-such-program-in-path-rrx
CHECKS=$((CHECKS + 1))
if [[ $RUN_RC == 127 && -s $WORK/missing-path.rawerr ]]; then
  pass "record of a program not in PATH: exit 127"
else
  fail "record of a program not in PATH: exit $RUN_RC, expected 127 with a message"
  show_file stderr "$WORK/missing-path.rawerr"
fi
NOEXEC=$WORK/not-executable
printf '#!/bin/sh\necho hi\n' >"$NOEXEC"
chmod 644 "$NOEXEC"
rrx_run "$WORK/noexec" record -o "$WORK/noexec.trace" -- "$NOEXEC"
expect_clean_error "record of a file without execute permission" "$WORK/noexec"
# The kernel refuses the exec itself (a script whose interpreter does not
# exist: execve fails with ENOENT after rrx has started the child): the
# error names the program, and no trace is left (nothing was recorded).
BADINTERP=$WORK/bad-interpreter
printf '#!/no/such/interpreter-rrx\necho hi\n' >"$BADINTERP"
chmod 755 "$BADINTERP"
for mode in "" -n; do
  rrx_run "$WORK/badinterp$mode" record $mode -o "$WORK/badinterp$mode.trace" -- "$BADINTERP"
  expect_clean_error "record ${mode:+$mode }of a script whose interpreter is missing" "$WORK/badinterp$mode"
  CHECKS=$((CHECKS + 1))
  if grep -q "cannot run .*bad-interpreter" "$WORK/badinterp$mode.rawerr" && [[ ! -e $WORK/badinterp$mode.trace ]]; then
    pass "record ${mode:+$mode }of a failed exec: says so, leaves no trace"
  else
    fail "record ${mode:+$mode }of a failed exec: message or trace directory wrong"
    show_file stderr "$WORK/badinterp$mode.rawerr"
  fi
done

# ---- traces that do not exist
rrx_run "$WORK/no-trace" replay --autopilot "$WORK/no-such-trace"
expect_clean_error "replay of a nonexistent trace directory" "$WORK/no-trace"
rrx_run "$WORK/no-trace-name" replay --autopilot no-such-trace-name-17
expect_clean_error "replay of a nonexistent trace name" "$WORK/no-trace-name"
rrx_run "$WORK/no-latest" replay --autopilot
expect_clean_error "replay with no trace recorded at all (no latest-trace)" "$WORK/no-latest"
rrx_run "$WORK/no-trace-info" info "$WORK/no-such-trace"
expect_clean_error "info of a nonexistent trace" "$WORK/no-trace-info"
rrx_run "$WORK/no-trace-dump" dump "$WORK/no-such-trace"
expect_clean_error "dump of a nonexistent trace" "$WORK/no-trace-dump"
mkdir -p "$WORK/empty-dir"
rrx_run "$WORK/empty-dir-replay" replay --autopilot "$WORK/empty-dir"
expect_clean_error "replay of an empty directory" "$WORK/empty-dir-replay"

# ---- a good trace, then damaged copies of it
if rr_record good --status 0 -- "$(prog write_loop)" 20000; then
  GOOD=$(rr_trace good)
  size=$(stat -c %s "$GOOD/trace")
  note "  (the good trace file is $size bytes)"

  # Without the index: rebuilt from the chunk headers.
  cp -a "$GOOD" "$WORK/noidx.trace"
  rm -f "$WORK/noidx.trace/trace.idx"
  rrx_run "$WORK/noidx" replay --autopilot "$WORK/noidx.trace"
  CHECKS=$((CHECKS + 1))
  if [[ $RUN_RC == 0 ]] && cmp -s "$WORK/noidx.out" "$WORK/good.rec.out"; then
    pass "replay of a trace without trace.idx"
  else
    fail "replay of a trace without trace.idx: exit $RUN_RC or other output"
    show_file stderr "$WORK/noidx.rawerr"
  fi

  # Cut in half: incomplete, readable up to the last whole chunk.
  cp -a "$GOOD" "$WORK/half.trace"
  truncate -s $((size / 2)) "$WORK/half.trace/trace"
  rrx_run "$WORK/half-replay" replay --autopilot "$WORK/half.trace"
  expect_clean_error "replay of a trace cut in half" "$WORK/half-replay"
  rrx_run "$WORK/half-replay-q" replay --autopilot -q "$WORK/half.trace"
  expect_clean_error "replay -q of a trace cut in half" "$WORK/half-replay-q"
  rrx_run "$WORK/half-dump" dump "$WORK/half.trace"
  expect_no_crash "dump of a trace cut in half" "$WORK/half-dump"
  rrx_run "$WORK/half-dump-json" dump --json "$WORK/half.trace"
  expect_no_crash "dump --json of a trace cut in half" "$WORK/half-dump-json"
  rrx_run "$WORK/half-info" info "$WORK/half.trace"
  expect_no_crash "info of a trace cut in half" "$WORK/half-info"
  CHECKS=$((CHECKS + 1))
  if cat "$WORK/half-info.out" "$WORK/half-info.rawerr" | grep -qiE 'incomplete|truncat'; then
    pass "info of a trace cut in half says it is incomplete"
  else
    fail "info of a trace cut in half does not say 'incomplete' (or 'truncated')"
    show_file stdout "$WORK/half-info.out"
    show_file stderr "$WORK/half-info.rawerr"
  fi
  CHECKS=$((CHECKS + 1))
  if head -c "$(stat -c %s "$WORK/half-replay.out")" "$WORK/good.rec.out" | cmp -s - "$WORK/half-replay.out"; then
    pass "replay of a trace cut in half prints a prefix of the recorded output"
  else
    fail "replay of a trace cut in half prints output the recording did not"
    show_diff "recorded stdout" "$WORK/good.rec.out" "replay stdout" "$WORK/half-replay.out"
  fi

  # Cut inside the file header and inside the first chunk.
  for cut in 5 40; do
    cp -a "$GOOD" "$WORK/cut$cut.trace"
    truncate -s "$cut" "$WORK/cut$cut.trace/trace"
    for cmd in "replay --autopilot" info dump; do
      tag=cut$cut-${cmd%% *}
      # shellcheck disable=SC2086
      rrx_run "$WORK/$tag" $cmd "$WORK/cut$cut.trace"
      if [[ $cmd == "replay --autopilot" ]]; then
        expect_clean_error "$cmd of a trace cut to $cut bytes" "$WORK/$tag"
      else
        expect_no_crash "$cmd of a trace cut to $cut bytes" "$WORK/$tag"
      fi
    done
  done

  # An empty trace file.
  cp -a "$GOOD" "$WORK/zero.trace"
  : >"$WORK/zero.trace/trace"
  rrx_run "$WORK/zero-replay" replay --autopilot "$WORK/zero.trace"
  expect_clean_error "replay of an empty trace file" "$WORK/zero-replay"

  # One flipped byte in the middle: a checksum error, not a crash.
  cp -a "$GOOD" "$WORK/flip.trace"
  python3 - "$WORK/flip.trace/trace" <<'PY'
import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
i = max(len(b) // 2, 60)
if i < len(b):
    b[i] ^= 0x55
open(p, "wb").write(bytes(b))
PY
  rrx_run "$WORK/flip-replay" replay --autopilot "$WORK/flip.trace"
  expect_clean_error "replay of a trace with a corrupted byte" "$WORK/flip-replay"
  rrx_run "$WORK/flip-dump" dump "$WORK/flip.trace"
  expect_no_crash "dump of a trace with a corrupted byte" "$WORK/flip-dump"

  # Garbage where the trace should be.
  mkdir -p "$WORK/garbage.trace/files"
  head -c 100000 /dev/urandom >"$WORK/garbage.trace/trace"
  for cmd in "replay --autopilot" info dump; do
    tag=garbage-${cmd%% *}
    # shellcheck disable=SC2086
    rrx_run "$WORK/$tag" $cmd "$WORK/garbage.trace"
    expect_clean_error "$cmd of a garbage trace file" "$WORK/$tag"
  done
  # The magic of a trace followed by garbage.
  mkdir -p "$WORK/magic.trace"
  { head -c 16 "$GOOD/trace"; head -c 100000 /dev/urandom; } >"$WORK/magic.trace/trace"
  rrx_run "$WORK/magic-replay" replay --autopilot "$WORK/magic.trace"
  expect_clean_error "replay of a valid file header followed by garbage" "$WORK/magic-replay"
  rrx_run "$WORK/magic-info" info "$WORK/magic.trace"
  expect_no_crash "info of a valid file header followed by garbage" "$WORK/magic-info"
  # A regular file given as the trace.
  head -c 5000 /dev/urandom >"$WORK/garbage-file"
  rrx_run "$WORK/garbage-file-replay" replay --autopilot "$WORK/garbage-file"
  expect_clean_error "replay of a regular file as the trace" "$WORK/garbage-file-replay"
fi

# ---- a 32-bit program: refused clearly (rrx is x86-64 only)
if echo 'int main(void) { return 0; }' | gcc -m32 -x c - -o "$WORK/prog32" 2>/dev/null; then
  rrx_run "$WORK/m32" record -o "$WORK/m32.trace" -- "$WORK/prog32"
  expect_clean_error "record of a 32-bit program" "$WORK/m32"
else
  note "skip: 32-bit program (gcc -m32 cannot link here)"
fi

# ---- the command line itself
rrx_run "$WORK/unknown" frobnicate
expect_clean_error "unknown subcommand" "$WORK/unknown"
CHECKS=$((CHECKS + 1))
if cat "$WORK/unknown.out" "$WORK/unknown.rawerr" | grep -qi 'usage'; then
  pass "unknown subcommand prints the usage"
else
  fail "unknown subcommand: no usage text"
  show_file stderr "$WORK/unknown.rawerr"
fi
rrx_run "$WORK/help" help
CHECKS=$((CHECKS + 1))
if [[ $RUN_RC == 0 ]] && grep -q record "$WORK/help.out" && grep -q replay "$WORK/help.out"; then
  pass "rrx help"
else
  fail "rrx help: exit $RUN_RC, or no mention of record and replay on stdout"
  show_file stdout "$WORK/help.out"
fi
rrx_run "$WORK/noargs"
expect_no_crash "rrx without arguments" "$WORK/noargs"
rrx_run "$WORK/record-noprog" record
expect_clean_error "rrx record without a program" "$WORK/record-noprog"
rrx_run "$WORK/bad-skip" replay --autopilot --skip=no-such-strategy "$WORK/good.trace"
expect_clean_error "replay --skip with an unknown strategy" "$WORK/bad-skip"
rrx_run "$WORK/bad-option" record --no-such-option -- true
expect_clean_error "record with an unknown option" "$WORK/bad-option"

rr_finish
