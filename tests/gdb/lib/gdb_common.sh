# Helpers for the gdb end-to-end tests (sourced by tests/gdb/*.sh): record a
# test program, replay it under the real gdb in batch mode with a command
# file, and check gdb's output.
#     gdb_record NAME -- CMD ARGS...       records into $WORK/NAME.trace
#     gdb_run NAME SCRIPT_TEXT             replays it under gdb; output in $WORK/NAME.gdb.out
#     expect NAME REGEX                    gdb's output must match (grep -E)
#     reject NAME REGEX                    gdb's output must not match
# End with gdb_finish.
set -euo pipefail

RRX_SOURCE_DIR=${RRX_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}
RRX_BUILD_DIR=${RRX_BUILD_DIR:-$RRX_SOURCE_DIR/build}
RRX=${RRX:-$RRX_BUILD_DIR/bin/rrx}
RRX_TEST_PROGRAMS=${RRX_TEST_PROGRAMS:-$RRX_BUILD_DIR/tests/programs}
GDB_TIMEOUT=${GDB_TIMEOUT:-120}

command -v gdb >/dev/null || { echo "gdb is not installed: skipped"; exit 77; }

TEST_NAME=$(basename "$0" .sh)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/rrx-gdb-$TEST_NAME.XXXXXX")
trap '[[ ${RRX_E2E_KEEP:-0} == 1 ]] || rm -rf "$WORK"' EXIT
export RRX_TRACE_DIR=$WORK/traces
FAILURES=0
CHECKS=0

fail() {
  echo "FAIL: $*"
  FAILURES=$((FAILURES + 1))
}

gdb_record() {
  local name=$1
  shift
  [[ $1 == -- ]] && shift
  local rc=0 extra=()
  read -r -a extra <<<"${RRX_E2E_RECORD_ARGS:-}"  # as rr_record (tests/e2e/lib/common.sh)
  "$RRX" record -q ${extra[@]+"${extra[@]}"} -o "$WORK/$name.trace" -- "$@" >"$WORK/$name.rec.out" 2>"$WORK/$name.rec.err" || rc=$?
  echo "$rc" >"$WORK/$name.rec.status"
  if [[ ! -f $WORK/$name.trace/trace ]]; then
    fail "recording $name produced no trace (exit $rc)"
    cat "$WORK/$name.rec.err"
    return 1
  fi
}

gdb_run() {
  local name=$1 script=$2 out=${3:-$WORK/$1.gdb.out}
  printf '%s\n' "$script" >"$WORK/$name.gdb"
  local rc=0
  timeout "$GDB_TIMEOUT" "$RRX" replay --batch -x "$WORK/$name.gdb" "$WORK/$name.trace" >"$out" 2>&1 </dev/null || rc=$?
  if [[ $rc == 124 ]]; then
    fail "gdb session $name timed out after ${GDB_TIMEOUT}s"
  fi
  if grep -q "internal error\|crashed with signal\|divergence" "$out"; then
    fail "gdb session $name: rrx reported an internal error or a divergence"
    sed 's/^/  | /' "$out" | head -40
  fi
}

expect() {
  local name=$1 regex=$2
  CHECKS=$((CHECKS + 1))
  if grep -Eq -- "$regex" "$WORK/$name.gdb.out"; then
    echo "ok:   $name: /$regex/"
  else
    fail "$name: gdb output has no match for /$regex/"
    sed 's/^/  | /' "$WORK/$name.gdb.out" | head -80
  fi
}

# section NAME: the lines of $OUT (a gdb output file) between "==NAME==" and
# "==end==", which the gdb script echoes around what a check looks at.
section() { sed -n "/^==$1==\$/,/^==end==\$/p" "$OUT"; }

# expect_in SECTION REGEX: the section has a line matching REGEX.
expect_in() {
  CHECKS=$((CHECKS + 1))
  if section "$1" | grep -qE "$2"; then
    echo "ok:   $1: /$2/"
  else
    fail "$1: no match for /$2/"
    sed 's/^/  | /' "$OUT" | head -200
  fi
}

# mi_expect COMMAND N REGEX: in $OUT, the output of an MI session run by
# lib/mi_session.py, what the Nth COMMAND got has a line matching REGEX.
mi_section() { awk -v c="== $1" -v n="$2" '$0 == c {k++; p = (k == n); next} /^== / {p = 0} p' "$OUT"; }
mi_expect() {
  CHECKS=$((CHECKS + 1))
  if mi_section "$1" "$2" | grep -Eq -- "$3"; then
    echo "ok:   MI $1 #$2: /$3/"
  else
    fail "MI $1 #$2: no /$3/"
    sed 's/^/  | /' "$OUT" | head -150
  fi
}

reject() {
  local name=$1 regex=$2
  CHECKS=$((CHECKS + 1))
  if grep -Eq -- "$regex" "$WORK/$name.gdb.out"; then
    fail "$name: gdb output unexpectedly matches /$regex/"
    grep -E -- "$regex" "$WORK/$name.gdb.out" | head -5 | sed 's/^/  | /'
  else
    echo "ok:   $name: no /$regex/"
  fi
}

# serve_stub NAME TRACE [REPLAY-OPTION]...: runs `rrx replay -q OPTIONS -s 0
# TRACE` in the background (stderr in $WORK/NAME.serve.err) and waits up to
# 30 s for the port it prints: SERVE_PID and SERVE_PORT. Without a port it
# fails the test, kills the server and returns 1.
serve_stub() {
  local name=$1 trace=$2
  shift 2
  "$RRX" replay -q "$@" -s 0 "$trace" 2>"$WORK/$name.serve.err" &
  SERVE_PID=$!
  SERVE_PORT=""
  for _ in $(seq 300); do
    SERVE_PORT=$(grep -o '127.0.0.1:[0-9]*' "$WORK/$name.serve.err" | head -1 | cut -d: -f2 || true)
    [[ -n $SERVE_PORT ]] && return 0
    sleep 0.1
  done
  fail "$name: rrx replay -s printed no port"
  cat "$WORK/$name.serve.err"
  kill "$SERVE_PID" 2>/dev/null || true
  return 1
}

gdb_finish() {
  if ((FAILURES > 0)); then
    echo "$TEST_NAME: FAILED: $FAILURES failure(s) ($CHECKS checks)"
    exit 1
  fi
  echo "$TEST_NAME: ok ($CHECKS checks)"
}
