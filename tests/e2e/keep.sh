#!/usr/bin/env bash
# rrx record --keep=always|failure|never, --name NAME and RRX_TRACE_DIR:
# with --keep=failure a passing program leaves nothing (and latest-trace does
# not dangle), a failing one (non-zero exit, or killed by a signal) leaves a
# packed trace at the predictable $RRX_TRACE_DIR/NAME that replays
# identically; rrx record exits with the program's status in every case.
# --name refuses a name in use (without running the program) and bad names.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

EXIT=$(prog exit_code)
SEGV=$(prog segv)
T=$RRX_TRACE_DIR

rrx_run "$WORK/pass" record --keep=failure --name passing -- "$EXIT" 0
check "--keep=failure, program exits 0: rrx record exits 0" test "$RUN_RC" = 0
check "--keep=failure, program exits 0: no trace left" test ! -e "$T/passing"
check "--keep=failure, program exits 0: nothing left in RRX_TRACE_DIR" test -z "$(ls -A "$T")"
check "--keep=failure, program exits 0: says the trace was deleted" grep -q 'trace was deleted (--keep=failure)' "$WORK/pass.rawerr"

# kept_check NAME STATUS ARGS...: records with --keep=failure --name NAME;
# the trace must be there, packed, and replay identically.
kept_check() {
  local name=$1 status=$2
  shift 2
  run_capture "$WORK/$name.rec" -- "$RRX" record --keep=failure --name "$name" -- "$@"
  check "$name: rrx record exits with the program's status $status" test "$RUN_RC" = "$status"
  check "$name: the trace is kept at \$RRX_TRACE_DIR/$name" test -f "$T/$name/trace"
  check "$name: the kept trace is packed" test -f "$T/$name/packed" -a -z "$(find "$T/$name/files" -type f -links +1)"
  check "$name: latest-trace points at it" test "$(readlink "$T/latest-trace")" = "$name"
  ln -s "$T/$name" "$WORK/$name.trace"
  rr_replay_check "$name" --default-only
  rrx_run "$WORK/$name.byname" replay --autopilot -q "$name"
  check "$name: replay by its name" test "$RUN_RC" = "$status"
}
kept_check failing 3 "$EXIT" 3
kept_check crashing 139 "$SEGV"

rrx_run "$WORK/never" record --keep=never --name never -- "$EXIT" 4
check "--keep=never: exit status 4, no trace" test "$RUN_RC" = 4 -a ! -e "$T/never"
check "--keep=never: latest-trace does not dangle (removed)" test ! -L "$T/latest-trace"

rrx_run "$WORK/always" record --name always -- "$EXIT" 0
check "--keep=always (the default): the trace stays, unpacked" test "$RUN_RC" = 0 -a -f "$T/always/trace" -a ! -e "$T/always/packed"

# A name in use: refused before the program runs; the old trace untouched.
before=$(find "$T/always" -printf '%p %s\n' | sort | md5sum)
rrx_run "$WORK/dup" record --name always -- "$EXIT" 7
check "--name in use: a clean error" rc_is_clean_error "$RUN_RC"
check "--name in use: the message says so" grep -q "a trace named 'always' exists already" "$WORK/dup.rawerr"
check "--name in use: the existing trace is untouched" test "$before" = "$(find "$T/always" -printf '%p %s\n' | sort | md5sum)"
for bad in "a/b" "latest-trace" ".."; do
  rrx_run "$WORK/badname" record --name "$bad" -- "$EXIT" 0
  check "--name '$bad': a clean error" rc_is_clean_error "$RUN_RC"
done
rrx_run "$WORK/both" record --name x -o "$WORK/x" -- "$EXIT" 0
check "--name with -o: a clean error" rc_is_clean_error "$RUN_RC"
rrx_run "$WORK/badkeep" record --keep=sometimes -- "$EXIT" 0
check "--keep=sometimes: a usage error" test "$RUN_RC" = 2

# RRX_TRACE_DIR decides where --name puts it.
mkdir -p "$WORK/ci-traces"
RRX_TRACE_DIR=$WORK/ci-traces rrx_run "$WORK/envdir" record --keep=failure --name job-1 -- "$EXIT" 1
check "RRX_TRACE_DIR + --name: the failing run's trace is at \$RRX_TRACE_DIR/job-1" test "$RUN_RC" = 1 -a -f "$WORK/ci-traces/job-1/packed"

rr_finish
