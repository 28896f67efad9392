#!/usr/bin/env bash
# What replay prints is byte for byte what the recording printed, in the
# same order, on the same stream: writes reach rrx's stdout/stderr through
# fds 1 and 2, dup(1), dup2(1, 7), fcntl(F_DUPFD), dup(2), writev, a child's
# inherited descriptors, and from two threads and two processes writing
# interleaved lines; a pipe write does not show. rr_check compares stdout
# and stderr separately, for every replay.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

rr_check fds --stdout-has "z: done" -- "$(prog output_fds)"
check "fds: the recording printed every kind of write to stdout" \
  bash -c "grep -c '^[abcdgh]: ' '$WORK/fds.rec.out' | grep -qx 6"
check "fds: the recording printed the stderr writes to stderr" \
  bash -c "grep -q '^f: dup(2)' '$WORK/fds.rec.err' && grep -q '^i: child, inherited dup(2)' '$WORK/fds.rec.err'"
check "fds: the pipe write did not show" bash -c "! grep -q 'not output' '$WORK/fds.rec.out' '$WORK/fds.rec.err'"

# Longer bursts give the concurrent writers more chances to interleave.
rr_check fds_long -- "$(prog output_fds)" 300

# stdout and stderr are the same file while recording (2>&1): each write
# keeps its place in the one stream.
CHECKS=$((CHECKS + 1))
run_capture "$WORK/merged.rec" -- bash -c '"$0" record -o "$1" -- "$2" 2>&1' "$RRX" "$WORK/merged.trace" "$(prog output_fds)"
run_capture "$WORK/merged.rep" -- bash -c '"$0" replay --autopilot "$1" 2>&1' "$RRX" "$WORK/merged.trace"
if [[ $(grep -v '^rrx:' "$WORK/merged.rec.out") == "$(grep -v '^rrx:' "$WORK/merged.rep.out")" ]]; then
  pass "merged: 2>&1 replays in the recorded order"
else
  fail "merged: 2>&1 replay differs from the recording"
  show_diff "recorded" "$WORK/merged.rec.out" "replayed" "$WORK/merged.rep.out"
fi

rr_finish
