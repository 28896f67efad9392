#!/usr/bin/env bash
# rrx record under a tracer that follows its forks (rrx record itself,
# strace -f) cannot trace the program: it says so, naming the tracer, and
# exits non-zero without a trace. Under gdb, which does not follow forks by
# default, it records as usual.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

EXIT=$(prog exit_code)

# check_refused NAME LABEL: the inner rrx record's refusal is in NAME.rawerr.
check_refused() {
  local name=$1 label=$2
  CHECKS=$((CHECKS + 1))
  if grep -qE "rrx: cannot record under a tracer: rrx record is itself traced by PID [0-9]+ \($label\)" \
      "$WORK/$name.rawerr" && [[ ! -e $WORK/$name.inner ]]; then
    pass "$name: the inner rrx record names its tracer ($label) and records nothing"
  else
    fail "$name: no 'cannot record under a tracer ... ($label)' message, or an inner trace was written"
    show_file "stderr" "$WORK/$name.rawerr"
  fi
}

# rrx record under rrx record: the outer one records the inner one's failure.
rrx_run "$WORK/nested" record -o "$WORK/nested.outer" -- "$RRX" record -o "$WORK/nested.inner" -- "$EXIT" 3
check "nested: rrx record exited with the inner rrx's error status ($RUN_RC)" rc_is_clean_error "$RUN_RC"
check_refused nested rrx

if command -v strace >/dev/null; then
  run_capture "$WORK/strace" -- strace -f -o /dev/null "$RRX" record -o "$WORK/strace.inner" -- "$EXIT" 3
  check "strace -f: rrx record exited non-zero ($RUN_RC)" rc_is_clean_error "$RUN_RC"
  check_refused strace strace
else
  note "skip: under strace -f (strace is not installed)"
fi

if command -v gdb >/dev/null; then
  run_capture "$WORK/gdb" -- gdb -q -batch -ex run -ex 'info inferiors' --args "$RRX" record -o "$WORK/gdb.trace" -- "$EXIT" 3
  check "gdb: rrx record under gdb records as usual" \
    bash -c 'grep -q "exited with code 03" "$1" && [[ -f $2/trace ]]' _ "$WORK/gdb.out" "$WORK/gdb.trace"
else
  note "skip: under gdb (gdb is not installed)"
fi

rr_finish
