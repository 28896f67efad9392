#!/usr/bin/env bash
# rrx dump: strace-style lines with event numbers; -e NAME filters; --json
# prints one JSON object per line. Also rrx info and rrx ls on the same trace.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

F=$WORK/input.txt
printf 'some input\n' >"$F"
# head opens its argument with plain O_RDONLY, reads and writes it (cat
# would copy_file_range to a file); the loader opens libraries with
# O_RDONLY|O_CLOEXEC.
if rr_record head --status 0 -- head -n 5 "$F"; then
  T=$(rr_trace head)

  rrx_run "$WORK/dump" dump "$T"
  check "dump exits 0" test "$RUN_RC" = 0
  CHECKS=$((CHECKS + 1))
  if grep -qE 'openat\(AT_FDCWD, "[^"]+", O_RDONLY\|O_CLOEXEC\) = [0-9]+' "$WORK/dump.out"; then
    pass "dump shows the loader's openat(AT_FDCWD, \"...\", O_RDONLY|O_CLOEXEC) = N"
  else
    fail "dump has no line like openat(AT_FDCWD, \"...\", O_RDONLY|O_CLOEXEC) = 3"
    show_file "dump" "$WORK/dump.out" 40
  fi
  CHECKS=$((CHECKS + 1))
  # (= 3 usually; CTest leaves one more descriptor open in its tests. Under
  # --syscallbuf the open is buffered: the line ends in "(buffered)".)
  if grep -F "openat(AT_FDCWD, \"$F\", O_RDONLY) = " "$WORK/dump.out" | grep -qE '\) = [0-9]+( \(buffered\))?$'; then
    pass "dump shows head's openat(AT_FDCWD, \"$F\", O_RDONLY) = N"
  else
    fail "dump has no line openat(AT_FDCWD, \"$F\", O_RDONLY) = N"
    grep -F 'openat(' "$WORK/dump.out" | head -n 20 | sed 's/^/  | /' || true
  fi
  CHECKS=$((CHECKS + 1))
  if grep -E '^[^(]*\b(read|write)\(' "$WORK/dump.out" | grep -q 'some input'; then
    pass "dump shows the data read and written (\"some input\")"
  else
    fail "dump shows no read/write line with the data \"some input\""
    grep -E '\b(read|write)\(' "$WORK/dump.out" | head -n 20 | sed 's/^/  | /' || true
  fi
  CHECKS=$((CHECKS + 1))
  if python3 - "$WORK/dump.out" 2>"$WORK/numbers.err" <<'PY'
import re, sys
calls = 0
for line in open(sys.argv[1], errors="replace"):
    m = re.search(r"\b[a-z_][a-z0-9_]*\(.*\) = ", line)
    if not m:
        continue
    calls += 1
    assert re.search(r"\d", line[: m.start()]), "no event number before the call: " + line.strip()
assert calls > 10, "only %d syscall lines" % calls
PY
  then
    pass "every syscall line carries an event number before the call"
  else
    fail "dump: $(tail -n 1 "$WORK/numbers.err")"
  fi

  # -e openat: exactly the openat lines of the full dump.
  rrx_run "$WORK/dump-e" dump -e openat "$T"
  CHECKS=$((CHECKS + 1))
  grep -F 'openat(' "$WORK/dump.out" >"$WORK/dump-openat-expected" || true
  if [[ $RUN_RC == 0 && -s $WORK/dump-e.out ]] && cmp -s "$WORK/dump-openat-expected" "$WORK/dump-e.out"; then
    pass "dump -e openat prints exactly the $(wc -l <"$WORK/dump-e.out") openat lines of the full dump"
  else
    fail "dump -e openat (exit $RUN_RC) differs from the openat lines of the full dump"
    show_diff "full dump | grep openat(" "$WORK/dump-openat-expected" "dump -e openat" "$WORK/dump-e.out"
  fi
  rrx_run "$WORK/dump-e-none" dump -e io_uring_setup "$T"
  check "dump -e of a syscall the program never made prints nothing" \
    test "$RUN_RC" = 0 -a ! -s "$WORK/dump-e-none.out"

  # --json: one object per line.
  rrx_run "$WORK/dump-json" dump --json "$T"
  CHECKS=$((CHECKS + 1))
  if [[ $RUN_RC == 0 && -s $WORK/dump-json.out ]] &&
    python3 -c 'import json,sys; [json.loads(l) for l in sys.stdin]' <"$WORK/dump-json.out" 2>"$WORK/json.err"; then
    pass "dump --json: $(wc -l <"$WORK/dump-json.out") lines, each a JSON object"
  else
    fail "dump --json (exit $RUN_RC) is not one JSON object per line"
    show_file "json error" "$WORK/json.err"
    show_file "dump --json" "$WORK/dump-json.out" 5
  fi
  CHECKS=$((CHECKS + 1))
  if python3 - "$F" "$WORK/dump-json.out" 2>"$WORK/json2.err" <<'PY'
import json, sys
objs = [json.loads(l) for l in open(sys.argv[2]) if l.strip()]
assert all(isinstance(o, dict) for o in objs), "a line is not a JSON object"
text = [json.dumps(o) for o in objs]
assert any("openat" in t for t in text), "no object mentions openat"
assert any(sys.argv[1] in t for t in text), "no object mentions the file head opened"
PY
  then
    pass "dump --json objects mention openat and the opened file"
  else
    fail "dump --json content: $(tail -n 1 "$WORK/json2.err")"
  fi
  rrx_run "$WORK/dump-json-e" dump --json -e openat "$T"
  CHECKS=$((CHECKS + 1))
  if [[ $RUN_RC == 0 ]] && python3 -c '
import json, sys
objs = [json.loads(l) for l in sys.stdin]
assert objs and all("openat" in json.dumps(o) for o in objs)' <"$WORK/dump-json-e.out" 2>/dev/null &&
    [[ $(wc -l <"$WORK/dump-json-e.out") == $(wc -l <"$WORK/dump-e.out") ]]; then
    pass "dump --json -e openat: only openat objects, as many as dump -e openat lines"
  else
    fail "dump --json -e openat (exit $RUN_RC): other objects, or not as many as the text lines"
    show_file "dump --json -e openat" "$WORK/dump-json-e.out" 5
  fi

  # rrx info, text and JSON.
  rrx_run "$WORK/info" info "$T"
  check "info exits 0 and prints something" test "$RUN_RC" = 0 -a -s "$WORK/info.out"
  rrx_run "$WORK/info-json" info --json "$T"
  CHECKS=$((CHECKS + 1))
  if [[ $RUN_RC == 0 ]] && python3 -c '
import json, sys
o = json.load(sys.stdin)
assert isinstance(o.get("events"), int) and o["events"] > 0, "no positive integer field \"events\""
' <"$WORK/info-json.out" 2>"$WORK/info-json.err"; then
    pass "info --json: one object with \"events\" > 0"
  else
    fail "info --json (exit $RUN_RC): $(tail -n 1 "$WORK/info-json.err" 2>/dev/null)"
    show_file "info --json" "$WORK/info-json.out"
  fi
fi

# rrx ls and trace names: record twice into RRX_TRACE_DIR (no -o).
rrx_run "$WORK/rec-named1" record -- "$(prog exit_code)" 0
rrx_run "$WORK/rec-named2" record -- "$(prog exit_code)" 0
mapfile -t NAMES < <(cd "$RRX_TRACE_DIR" && ls -d exit_code-* 2>/dev/null | sort -t- -k2 -n)
CHECKS=$((CHECKS + 1))
if ((${#NAMES[@]} == 2)); then
  pass "two recordings without -o made ${NAMES[*]} in RRX_TRACE_DIR"
  OLDER=${NAMES[0]} NEWER=${NAMES[1]}
else
  fail "two recordings without -o should make exit_code-N and exit_code-M in $RRX_TRACE_DIR"
  ls -la "$RRX_TRACE_DIR" | sed 's/^/  | /'
  OLDER=exit_code-0 NEWER=exit_code-1
fi
rrx_run "$WORK/ls" ls
CHECKS=$((CHECKS + 1))
if [[ $RUN_RC == 0 ]] && grep -q "$OLDER" "$WORK/ls.out" && grep -q "$NEWER" "$WORK/ls.out"; then
  pass "rrx ls lists $OLDER and $NEWER"
else
  fail "rrx ls (exit $RUN_RC) does not list $OLDER and $NEWER"
  show_file "ls" "$WORK/ls.out"
fi
CHECKS=$((CHECKS + 1))
if [[ $(basename "$(readlink "$RRX_TRACE_DIR/latest-trace" 2>/dev/null)") == "$NEWER" ]]; then
  pass "latest-trace points at $NEWER"
else
  fail "$RRX_TRACE_DIR/latest-trace does not point at $NEWER"
  ls -la "$RRX_TRACE_DIR" | sed 's/^/  | /'
fi
rrx_run "$WORK/dump-latest" dump
rrx_run "$WORK/dump-named" dump "$NEWER"
check "dump with no trace argument dumps the latest trace" \
  test "$RUN_RC" = 0 -a -s "$WORK/dump-named.out"
check "dump of the latest trace equals dump $NEWER" cmp -s "$WORK/dump-latest.out" "$WORK/dump-named.out"
rrx_run "$WORK/replay-latest" replay --autopilot
check "replay with no trace argument replays the latest" \
  test "$RUN_RC" = 0 -a "$(cat "$WORK/replay-latest.out")" = "exit_code: exiting with 0"
rrx_run "$WORK/replay-q" replay --autopilot -q "$OLDER"
check "replay -q NAME-N prints nothing of the program's output" \
  test "$RUN_RC" = 0 -a ! -s "$WORK/replay-q.out" -a ! -s "$WORK/replay-q.err"

# A trace named by a path relative to a directory other than the recorded
# working directory: the replay runs the stored programs from the recorded
# one, so rrx must make the trace's path absolute first.
mkdir -p "$WORK/rec-cwd" "$WORK/other-cwd"
(cd "$WORK/rec-cwd" && "$RRX" record -o ../rel.trace -- "$(prog exit_code)" 3) >/dev/null 2>&1 || true
(cd "$WORK/other-cwd" && rrx_run "$WORK/replay-rel" replay --autopilot ../rel.trace)
check "replay ../rel.trace from another directory than the recorded one" \
  test "$(cat "$WORK/replay-rel.rc")" = 3 -a "$(cat "$WORK/replay-rel.out")" = "exit_code: exiting with 3"
(cd "$WORK" && rrx_run "$WORK/dump-rel" dump rel.trace)
check "dump rel.trace (relative path)" test "$(cat "$WORK/dump-rel.rc")" = 0 -a -s "$WORK/dump-rel.out"

rr_finish
