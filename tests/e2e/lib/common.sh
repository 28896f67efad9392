# Helpers for the end-to-end tests (sourced by tests/e2e/*.sh; kept out of
# tests/e2e/ itself because every tests/e2e/*.sh is a CTest test).
#
# CTest sets RRX, RRX_TEST_PROGRAMS, RRX_SOURCE_DIR and RRX_BUILD_DIR; when a
# script is run by hand they default to ./build of this checkout:
#     bash tests/e2e/coreutils.sh
# RRX_E2E_KEEP=1 keeps the work directory (traces and captured outputs).
# RRX_E2E_STRATEGIES="regs sysemu" replays with these skip strategies instead
# of those `rrx replay --list-skip-strategies` prints ("none": no extra ones).
# RRX_E2E_RECORD_ARGS="--syscallbuf" adds these arguments to every `rrx record`
# of rr_record (to run the whole suite with the fast path; CTest's "e2e
# --syscallbuf: NAME" or "e2e -n: NAME" tests run each script so, in the mode
# that is not the build's default, unless the script has a line
# "# rrx-e2e: one record mode": tests/CMakeLists.txt).
# RRX_E2E_TIMEOUT bounds each rrx command (seconds, default 60; after one
# command timed out, the others of the script get 15 s, so that a hanging rrx
# fails the script quickly instead of hitting CTest's limit).
#
# Main helper:
#     rr_check NAME [--status N] [--stdin FILE] [--stdout-has TEXT] -- CMD ARGS...
# records CMD with `rrx record -o DIR`, replays it with `rrx replay
# --autopilot` twice and once per supported skip strategy, and checks that
# every replay reproduces the recording's stdout, stderr (rrx's own `rrx:`
# lines removed) and exit status byte for byte, and never reports a
# divergence. It can be split into rr_record and rr_replay_check (to change
# the world between the two):
#     if rr_record NAME -- CMD...; then change things; rr_replay_check NAME; fi
# Failures are counted and printed, not fatal (rr_check, rr_replay_check and
# check always return 0; rr_record returns 1 when no usable trace came out):
# end every script with rr_finish, which exits 1 if anything failed.

set -euo pipefail

RRX_SOURCE_DIR=${RRX_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}
RRX_BUILD_DIR=${RRX_BUILD_DIR:-$RRX_SOURCE_DIR/build}
RRX=${RRX:-$RRX_BUILD_DIR/bin/rrx}
RRX_TEST_PROGRAMS=${RRX_TEST_PROGRAMS:-$RRX_BUILD_DIR/tests/programs}
RRX_TRACE_EDIT=${RRX_TRACE_EDIT:-$RRX_BUILD_DIR/tests/tools/rrx_trace_edit}
RRX_E2E_TIMEOUT=${RRX_E2E_TIMEOUT:-60}
_RR_TIMEOUT=$RRX_E2E_TIMEOUT  # lowered to 15 s after a first time-out
export RRX RRX_SOURCE_DIR RRX_BUILD_DIR RRX_TEST_PROGRAMS RRX_TRACE_EDIT

TEST_NAME=$(basename "$0" .sh)
E2E_DATA=$RRX_SOURCE_DIR/tests/e2e/data
FAILURES=0
CHECKS=0
_RR_STRATEGIES_DONE=0
RR_STRATEGIES=()

# (Not "divergence" in the path: the checks grep rrx's messages for that word.)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/rrx-e2e-${TEST_NAME/divergence/div}.XXXXXX")
_rr_cleanup() {
  if [[ ${RRX_E2E_KEEP:-0} == 1 ]]; then
    echo "(work directory kept: $WORK)"
  else
    chmod -R u+w "$WORK" 2>/dev/null || true  # packed traces have read-only directories
    rm -rf "$WORK"
  fi
}
trap _rr_cleanup EXIT
# Traces of this script only; temporary files of the programs inside WORK too.
export RRX_TRACE_DIR=$WORK/traces
mkdir -p "$RRX_TRACE_DIR" "$WORK/tmp"
export TMPDIR=$WORK/tmp

if [[ ! -x $RRX ]]; then
  echo "FAIL: rrx is not built: $RRX (build with: bash scripts/setup.sh)" >&2
  exit 1
fi
if [[ ! -x $RRX_TEST_PROGRAMS/exit_code ]]; then
  echo "FAIL: the test programs are not built in $RRX_TEST_PROGRAMS (tests/programs/*.c)" >&2
  exit 1
fi
if [[ -r /proc/sys/kernel/yama/ptrace_scope && $(cat /proc/sys/kernel/yama/ptrace_scope) -ge 3 ]]; then
  echo "SKIP: kernel.yama.ptrace_scope is 3: ptrace is disabled on this machine"
  exit 77
fi

# ---------------------------------------------------------------- reporting

note() { printf '%s\n' "$*"; }

# fail MSG: counts a failure and prints it; returns 0 (callers decide to go on).
fail() {
  FAILURES=$((FAILURES + 1))
  printf 'FAIL: %s\n' "$*"
}

pass() {
  printf 'ok:   %s\n' "$*"
}

# skip_all MSG: the whole script is skipped (CTest shows "Skipped").
skip_all() {
  printf 'SKIP: %s\n' "$*"
  exit 77
}

rr_finish() {
  if ((FAILURES > 0)); then
    printf '%s: FAILED: %d failure(s) (%d checks)\n' "$TEST_NAME" "$FAILURES" "$CHECKS"
    exit 1
  fi
  printf '%s: all %d check(s) passed\n' "$TEST_NAME" "$CHECKS"
  exit 0
}

# show_file LABEL FILE [LINES]: prints the head of a file, indented.
show_file() {
  local label=$1 file=$2 lines=${3:-20}
  if [[ -s $file ]]; then
    printf '  --- %s (first %d lines):\n' "$label" "$lines"
    head -n "$lines" "$file" | cat -v | sed 's/^/  | /'
  else
    printf '  --- %s: (empty)\n' "$label"
  fi
}

# show_diff LABEL_A FILE_A LABEL_B FILE_B: a unified diff, cut to 60 lines.
show_diff() {
  diff -a -u --label "$1" --label "$3" "$2" "$4" | head -n 60 | cat -v | sed 's/^/  /' || true
}

# ----------------------------------------------------------------- running

# prog NAME: path of a built test program (tests/programs/NAME.c).
prog() {
  local p=$RRX_TEST_PROGRAMS/$1
  if [[ ! -x $p ]]; then
    echo "FAIL: test program $1 is not built ($p)" >&2
    exit 1
  fi
  printf '%s\n' "$p"
}

# run_capture PREFIX [--stdin FILE] -- CMD ARGS...: runs CMD under a time
# limit with stdout in PREFIX.out, stderr in PREFIX.rawerr, the stderr
# without rrx's own lines in PREFIX.err and the exit status in PREFIX.rc and
# $RUN_RC. A time-out is reported and gives status 124.
run_capture() {
  local prefix=$1 stdin=/dev/null
  shift
  while [[ $# -gt 0 && $1 != -- ]]; do
    case $1 in
      --stdin) stdin=$2; shift 2 ;;
      *) echo "run_capture: bad option $1" >&2; exit 2 ;;
    esac
  done
  shift  # --
  RUN_RC=0
  timeout -k 10 "$_RR_TIMEOUT" "$@" <"$stdin" >"$prefix.out" 2>"$prefix.rawerr" || RUN_RC=$?
  LC_ALL=C sed -e '/^rrx:/d' "$prefix.rawerr" >"$prefix.err"
  echo "$RUN_RC" >"$prefix.rc"
  if ((RUN_RC == 124)); then
    printf '  (timed out after %ss: %s)\n' "$_RR_TIMEOUT" "$*"
    ((_RR_TIMEOUT <= 15)) || _RR_TIMEOUT=15
  fi
}

# rrx_run PREFIX ARGS...: run_capture of "$RRX" ARGS.
rrx_run() {
  local prefix=$1
  shift
  run_capture "$prefix" -- "$RRX" "$@"
}

# The skip strategies to replay with, besides the default.
rr_strategies() {
  if ((_RR_STRATEGIES_DONE)); then return 0; fi
  _RR_STRATEGIES_DONE=1
  RR_STRATEGIES=()
  if [[ -n ${RRX_E2E_STRATEGIES:-} ]]; then
    [[ $RRX_E2E_STRATEGIES == none ]] || read -r -a RR_STRATEGIES <<<"$RRX_E2E_STRATEGIES"
    return 0
  fi
  local out rc=0
  out=$(timeout 30 "$RRX" replay --list-skip-strategies </dev/null 2>"$WORK/strategies.err") || rc=$?
  if ((rc != 0)); then
    CHECKS=$((CHECKS + 1))
    fail "rrx replay --list-skip-strategies exited $rc"
    show_file stderr "$WORK/strategies.err"
    return 0
  fi
  local s
  while IFS= read -r s; do
    s=${s//[[:space:]]/}
    [[ -n $s ]] && RR_STRATEGIES+=("$s")
  done <<<"$out"
  if ((${#RR_STRATEGIES[@]} == 0)); then
    CHECKS=$((CHECKS + 1))
    fail "rrx replay --list-skip-strategies printed no strategy"
  fi
}

# rr_trace NAME: the trace directory rr_record NAME wrote.
rr_trace() { printf '%s\n' "$WORK/$1.trace"; }

# rr_record NAME [--status N] [--stdin FILE] [--stdout-has TEXT] [--record-arg ARG]... -- CMD ARGS...
# Records CMD into $WORK/NAME.trace (`rrx record ARG... -o DIR`); outputs in $WORK/NAME.rec.{out,err,rc}.
# Returns non-zero (after counting a failure) when no usable trace came out.
rr_record() {
  local name=$1
  shift
  local status="" stdin=/dev/null has=""
  local rec_args=()
  while [[ $# -gt 0 && $1 != -- ]]; do
    case $1 in
      --status) status=$2; shift 2 ;;
      --stdin) stdin=$2; shift 2 ;;
      --stdout-has) has=$2; shift 2 ;;
      --record-arg) rec_args+=("$2"); shift 2 ;;
      *) echo "rr_record: bad option $1" >&2; exit 2 ;;
    esac
  done
  [[ ${1:-} == -- ]] || { echo "rr_record: missing -- before the command" >&2; exit 2; }
  shift
  local dir=$WORK/$name.trace rec=$WORK/$name.rec
  if [[ -e $dir ]]; then
    echo "rr_record: name $name used twice" >&2
    exit 2
  fi
  CHECKS=$((CHECKS + 1))
  local extra=()
  read -r -a extra <<<"${RRX_E2E_RECORD_ARGS:-}"
  run_capture "$rec" --stdin "$stdin" -- "$RRX" record ${extra[@]+"${extra[@]}"} ${rec_args[@]+"${rec_args[@]}"} -o "$dir" -- "$@"
  local rc=$RUN_RC ok=1
  if ((rc == 124)); then
    fail "$name: rrx record timed out: $*"
    ok=0
  fi
  if ! grep -q '^rrx: trace written to ' "$rec.rawerr"; then
    fail "$name: rrx record (exit $rc) did not print 'rrx: trace written to DIR' on stderr: $*"
    show_file "record stderr" "$rec.rawerr"
    ok=0
  elif [[ ! -f $dir/trace ]]; then
    fail "$name: rrx record -o $dir wrote no $dir/trace"
    ok=0
  fi
  if [[ -n $status && $rc != "$status" ]]; then
    fail "$name: recorded exit status $rc, expected $status: $*"
    show_file "record stdout" "$rec.out"
    show_file "record stderr" "$rec.rawerr"
  fi
  if [[ -n $has ]] && ! grep -qF -- "$has" "$rec.out"; then
    fail "$name: recorded stdout lacks \"$has\""
    show_file "record stdout" "$rec.out"
  fi
  ((ok)) || return 1
  return 0
}

# _rr_compare NAME LABEL REF_PREFIX GOT_PREFIX: 0 when stdout, stderr (rrx
# lines removed) and exit status are identical; prints the differences.
_rr_compare() {
  local name=$1 label=$2 ref=$3 got=$4 same=1
  local ref_rc got_rc
  ref_rc=$(cat "$ref.rc")
  got_rc=$(cat "$got.rc")
  if grep -qi 'divergence' "$got.rawerr"; then
    fail "$name: $label reported a divergence"
    show_file "$label stderr" "$got.rawerr" 30
    same=0
  fi
  if [[ $ref_rc != "$got_rc" ]]; then
    fail "$name: $label exit status $got_rc, recorded $ref_rc"
    ((same)) && show_file "$label stderr" "$got.rawerr" 30
    same=0
  fi
  if ! cmp -s "$ref.out" "$got.out"; then
    fail "$name: $label stdout differs from the recording"
    show_diff "recorded stdout" "$ref.out" "$label stdout" "$got.out"
    same=0
  fi
  if ! cmp -s "$ref.err" "$got.err"; then
    fail "$name: $label stderr differs from the recording (rrx: lines removed)"
    show_diff "recorded stderr" "$ref.err" "$label stderr" "$got.err"
    same=0
  fi
  ((same))
}

# rr_replay_check NAME [--default-only]: replays $WORK/NAME.trace twice with
# the default strategy and once per supported skip strategy; each must match
# the recording (and the two default replays each other).
rr_replay_check() {
  local name=$1 default_only=0
  [[ ${2:-} == --default-only ]] && default_only=1
  local dir=$WORK/$name.trace rec=$WORK/$name.rec
  local ok=1 done_list="default"
  CHECKS=$((CHECKS + 1))

  run_capture "$WORK/$name.rep1" -- "$RRX" replay --autopilot "$dir"
  _rr_compare "$name" "replay" "$rec" "$WORK/$name.rep1" || ok=0
  if ((RUN_RC == 124)); then
    note "  ($name: the first replay timed out; not trying the other replays)"
    return 0
  fi

  run_capture "$WORK/$name.rep2" -- "$RRX" replay --autopilot "$dir"
  if ! _rr_compare "$name" "second replay" "$rec" "$WORK/$name.rep2"; then
    ok=0
  elif ! cmp -s "$WORK/$name.rep1.rawerr" "$WORK/$name.rep2.rawerr"; then
    # rrx's own lines may legitimately differ (timings); show, do not fail.
    note "  note: $name: the two replays' rrx: lines differ"
  fi
  done_list+=" x2"

  if ((!default_only)); then
    rr_strategies
    local s
    for s in ${RR_STRATEGIES[@]+"${RR_STRATEGIES[@]}"}; do
      run_capture "$WORK/$name.rep-$s" -- "$RRX" replay --autopilot "--skip=$s" "$dir"
      _rr_compare "$name" "replay --skip=$s" "$rec" "$WORK/$name.rep-$s" || ok=0
      done_list+=", $s"
    done
  fi
  if ((ok)); then
    pass "$name (exit $(cat "$rec.rc"); replays: $done_list)"
  fi
  return 0
}

# rr_check NAME [rr_record options] -- CMD ARGS...: rr_record + rr_replay_check.
rr_check() {
  local name=$1
  rr_record "$@" || return 0
  rr_replay_check "$name"
}

# check NAME COMMAND...: counts a check; fails NAME when COMMAND fails.
check() {
  local name=$1
  shift
  CHECKS=$((CHECKS + 1))
  if "$@"; then
    pass "$name"
  else
    fail "$name"
  fi
  return 0
}

# rc_is_clean_error RC: rrx failed (non-zero) without crashing (< 128, not a time-out).
# Whether this machine's debug registers fire (rrx info --here; true when
# it cannot tell). PVM-like guests accept them and never trap.
debug_registers_fire() {
  local v
  v=$("$RRX" info --here --json 2>/dev/null |
    python3 -c 'import json,sys; print(json.load(sys.stdin).get("debug_registers", True))' 2>/dev/null) || v=True
  [[ $v != False ]]
}

rc_is_clean_error() { (($1 != 0 && $1 < 124)) || (($1 > 124 && $1 < 128)); }
