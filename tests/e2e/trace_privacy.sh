#!/usr/bin/env bash
# A trace holds secrets (the environment, arguments, every byte read), so:
#  - under `umask 000` the trace directory, files/ and its HASH directories
#    are 0700, trace and trace.idx 0600, stored copies 0400/0500 (hard links
#    to system files keep their own mode: the 0700 directory protects them);
#    the directory holding latest-trace keeps its mode;
#  - `rrx record --env-drop PATTERN` / `--env-keep PATTERN` run the program
#    with a reduced environment: the program does not see the dropped
#    variables, the trace holds none of their values, and the replay is
#    identical to the recording.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

PRINTENV=$(command -v printenv)

# mode PATH: octal permission bits.
mode() { stat -c %a "$1"; }

# expect_mode NAME PATH MODE
expect_mode() {
  local got
  got=$(mode "$2")
  CHECKS=$((CHECKS + 1))
  if [[ $got == "$3" ]]; then
    pass "$1: mode $got"
  else
    fail "$1: mode $got, expected $3 ($2)"
  fi
}

# check_private NAME DIR: the modes of everything in trace DIR.
check_private() {
  local name=$1 dir=$2 f bad=0 copies=0 links=0
  expect_mode "$name: the trace directory" "$dir" 700
  expect_mode "$name: files/" "$dir/files" 700
  expect_mode "$name: trace" "$dir/trace" 600
  expect_mode "$name: trace.idx" "$dir/trace.idx" 600
  CHECKS=$((CHECKS + 1))
  while IFS= read -r f; do
    [[ $(mode "$f") == 700 ]] || { fail "$name: $f: mode $(mode "$f"), expected 700"; bad=1; }
  done < <(find "$dir/files" -mindepth 1 -type d)
  while IFS= read -r f; do
    if (($(stat -c %h "$f") > 1)); then
      links=$((links + 1))  # a hard link to a system file: its own mode, protected by files/
    else
      copies=$((copies + 1))
      [[ $(mode "$f") == 400 || $(mode "$f") == 500 ]] ||
        { fail "$name: the copy $f: mode $(mode "$f"), expected 400 or 500"; bad=1; }
    fi
  done < <(find "$dir/files" -type f)
  if ((copies == 0)); then
    fail "$name: no stored copy that is not a hard link (the test program should be one)"
  elif ((!bad)); then
    pass "$name: files/*/ are 700, the $copies copies 400/500 ($links hard links to system files left as they are)"
  fi
  CHECKS=$((CHECKS + 1))
  if [[ -z $(find "$dir" -name '*.rrxtmp') ]]; then pass "$name: no temporary files left"; else fail "$name: temporary files left"; fi
}

# ---- permissions under umask 000: -o DIR, and NAME-N under RRX_TRACE_DIR
PIDS=$(prog pids)  # built here, not under /usr: stored as a copy
(umask 000 && rr_record perm --status 0 -- "$PIDS") && check_private "umask 000, -o DIR" "$(rr_trace perm)"
mkdir -p "$RRX_TRACE_DIR"
chmod 755 "$RRX_TRACE_DIR"
(umask 000 && "$RRX" record -q -- "$PIDS" >/dev/null 2>&1) || true
if [[ -f $RRX_TRACE_DIR/pids-0/trace ]]; then
  check_private "umask 000, RRX_TRACE_DIR/NAME-N" "$RRX_TRACE_DIR/pids-0"
  expect_mode "the directory holding latest-trace keeps its mode" "$RRX_TRACE_DIR" 755
else
  CHECKS=$((CHECKS + 1))
  fail "rrx record under umask 000 wrote no $RRX_TRACE_DIR/pids-0/trace"
fi
# An index rebuilt by a reader under umask 000.
rm -f "$(rr_trace perm)/trace.idx"
(umask 000 && "$RRX" info "$(rr_trace perm)" >/dev/null 2>&1) || true
expect_mode "trace.idx rebuilt by rrx info under umask 000" "$(rr_trace perm)/trace.idx" 600

# ---- the environment
SECRET_VALUE=s3cr3t-$RANDOM-value-that-must-not-leak
export SECRET_TOKEN=$SECRET_VALUE SECRET_PASSWORD=$SECRET_VALUE-2 AWS_SECRET_ACCESS_KEY=$SECRET_VALUE-3
export PRIVTEST_KEEP_A=a PRIVTEST_KEEP_B=b

# trace_bytes DIR: every chunk of DIR/trace decompressed, on stdout.
trace_bytes() {
  python3 - "$1/trace" <<'PY' | zstd -dcq
import struct, sys
b = open(sys.argv[1], "rb").read()
off = 16
while off + 32 <= len(b):
    csize = struct.unpack_from("<I", b, off + 8)[0]
    sys.stdout.buffer.write(b[off + 32 : off + 32 + csize])
    off += 32 + csize
PY
}

# env_names DIR: the variable names rrx info --json lists, one a line.
env_names() {
  "$RRX" info --json "$1" | python3 -c 'import json, sys; print("\n".join(json.load(sys.stdin)["env_names"]))'
}

# Sanity: without a filter the program sees them, and the trace holds them.
rr_check env-all --stdout-has "SECRET_TOKEN=$SECRET_VALUE" -- "$PRINTENV"
if command -v zstd >/dev/null; then
  trace_bytes "$(rr_trace env-all)" >"$WORK/env-all.bytes"
  check "without --env-drop the trace holds the secret (the check below can see it)" \
    grep -qaF "$SECRET_VALUE" "$WORK/env-all.bytes"
fi

# --env-drop: gone from the program's view, from the trace, replay identical.
run_capture "$WORK/drop.rec" -- "$RRX" record --env-drop 'SECRET*' --env-drop=AWS_SECRET_ACCESS_KEY \
  -o "$WORK/drop.trace" -- "$PRINTENV"
CHECKS=$((CHECKS + 1))
if [[ $RUN_RC == 0 ]] && grep -q '^PRIVTEST_KEEP_A=a$' "$WORK/drop.rec.out" && grep -q '^PATH=' "$WORK/drop.rec.out" &&
  ! grep -qF "$SECRET_VALUE" "$WORK/drop.rec.out" && ! grep -q '^SECRET\|^AWS_SECRET' "$WORK/drop.rec.out"; then
  pass "--env-drop: the program sees the other variables, not the dropped ones"
else
  fail "--env-drop: exit $RUN_RC, or the program saw a dropped variable (or lost another)"
  show_file stdout "$WORK/drop.rec.out" 60
  show_file stderr "$WORK/drop.rec.rawerr"
fi
CHECKS=$((CHECKS + 1))
env_names "$WORK/drop.trace" >"$WORK/drop.names"  # (a file: grep -q on a pipe would break it, with pipefail)
if ! grep -q '^SECRET\|^AWS_SECRET' "$WORK/drop.names" && grep -q '^PRIVTEST_KEEP_A$' "$WORK/drop.names"; then
  pass "--env-drop: the trace header's environment lacks the dropped names (rrx info --json)"
else
  fail "--env-drop: rrx info --json lists a dropped variable"
fi
CHECKS=$((CHECKS + 1))
"$RRX" dump "$WORK/drop.trace" >"$WORK/drop.dump" 2>&1 || true
if [[ -s $WORK/drop.dump ]] && ! grep -qF "$SECRET_VALUE" "$WORK/drop.dump"; then
  pass "--env-drop: rrx dump shows no secret value"
else
  fail "--env-drop: rrx dump shows the secret value"
fi
if command -v zstd >/dev/null; then
  CHECKS=$((CHECKS + 1))
  trace_bytes "$WORK/drop.trace" >"$WORK/drop.bytes"
  if [[ -s $WORK/drop.bytes ]] && ! grep -qaF "$SECRET_VALUE" "$WORK/drop.bytes" &&
    grep -qaF PRIVTEST_KEEP_A "$WORK/drop.bytes"; then
    pass "--env-drop: no byte of the trace (decompressed) holds a secret value"
  else
    fail "--env-drop: the decompressed trace holds a secret value (or could not be read)"
  fi
else
  note "skip: the raw-bytes check (no zstd command)"
fi
# The replay (in rrx's full environment) is the recording.
for i in 1 2; do
  run_capture "$WORK/drop.rep$i" -- "$RRX" replay --autopilot "$WORK/drop.trace"
  CHECKS=$((CHECKS + 1))
  if _rr_compare drop "replay $i" "$WORK/drop.rec" "$WORK/drop.rep$i"; then pass "--env-drop: replay $i is identical"; fi
done

# --env-keep: only those; then --env-drop applies to what is kept.
run_capture "$WORK/keep.rec" -- "$RRX" record --env-keep 'PRIVTEST_KEEP_*' --env-keep PATH -o "$WORK/keep.trace" -- "$PRINTENV"
CHECKS=$((CHECKS + 1))
printf 'PATH=%s\nPRIVTEST_KEEP_A=a\nPRIVTEST_KEEP_B=b\n' "$PATH" >"$WORK/keep.expected"
if [[ $RUN_RC == 0 ]] && cmp -s <(sort "$WORK/keep.rec.out") "$WORK/keep.expected"; then
  pass "--env-keep: the program sees exactly the kept variables"
else
  fail "--env-keep: exit $RUN_RC, or another environment"
  show_diff expected "$WORK/keep.expected" "printenv" <(sort "$WORK/keep.rec.out")
fi
check "--env-keep: the header lists exactly those" cmp -s <(env_names "$WORK/keep.trace" | sort) <(printf 'PATH\nPRIVTEST_KEEP_A\nPRIVTEST_KEEP_B\n')
run_capture "$WORK/keep.rep" -- "$RRX" replay --autopilot "$WORK/keep.trace"
CHECKS=$((CHECKS + 1))
if _rr_compare keep "replay" "$WORK/keep.rec" "$WORK/keep.rep"; then pass "--env-keep: the replay is identical"; fi

run_capture "$WORK/both.rec" -- "$RRX" record --env-keep 'PRIVTEST_*' --env-drop '*_B' -o "$WORK/both.trace" -- "$PRINTENV"
check "--env-keep then --env-drop: PRIVTEST_KEEP_A only" cmp -s "$WORK/both.rec.out" <(printf 'PRIVTEST_KEEP_A=a\n')

# A pattern with '=' is refused before anything runs.
rrx_run "$WORK/bad-pattern" record --env-drop 'SECRET=x' -o "$WORK/bad-pattern.trace" -- "$PRINTENV"
CHECKS=$((CHECKS + 1))
if rc_is_clean_error "$RUN_RC" && grep -q -- '--env-drop' "$WORK/bad-pattern.rawerr" && [[ ! -e $WORK/bad-pattern.trace ]]; then
  pass "--env-drop with '=' is refused (exit $RUN_RC), no trace made"
else
  fail "--env-drop 'SECRET=x': exit $RUN_RC"
  show_file stderr "$WORK/bad-pattern.rawerr"
fi

rr_finish
