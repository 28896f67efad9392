#!/usr/bin/env bash
# The CI loop of docs/ci.md: runs a flaky test under
# `rrx record --chaos --keep=failure` until it fails, at most MAX times. A
# failing run's trace is kept packed and written as one archive to upload;
# passing runs leave nothing. Exits 1 when the test failed (the archive is
# there), 0 when it passed MAX times, 125 when rrx itself failed.
#
#   scripts/chaos-until-failure.sh [-n MAX] [-o ARCHIVE] [-t NAME] -- TEST ARGS...
#   e.g. scripts/chaos-until-failure.sh -n 50 -o rrx-trace.tar.zst -- ./build/tests/flaky
#
# RRX (default: rrx from PATH) is the rrx to run; RRX_TRACE_DIR where the
# trace goes (the archive is the file to upload).
set -euo pipefail
RRX=${RRX:-rrx}
MAX=50
ARCHIVE=rrx-trace.tar.zst
NAME=chaos-failure
while [[ $# -gt 0 && $1 != -- ]]; do
  case $1 in
    -n) MAX=$2; shift 2 ;;
    -o) ARCHIVE=$2; shift 2 ;;
    -t) NAME=$2; shift 2 ;;
    *) echo "usage: $0 [-n MAX] [-o ARCHIVE] [-t NAME] -- TEST ARGS..." >&2; exit 2 ;;
  esac
done
[[ ${1:-} == -- && $# -ge 2 ]] || { echo "usage: $0 [-n MAX] [-o ARCHIVE] [-t NAME] -- TEST ARGS..." >&2; exit 2; }
shift

for ((run = 1; run <= MAX; run++)); do
  rc=0
  "$RRX" record --chaos --keep=failure --name "$NAME" -- "$@" || rc=$?
  if ((rc == 0)); then continue; fi
  if ((rc == 125)); then
    echo "chaos-until-failure: rrx itself failed in run $run" >&2
    exit 125
  fi
  "$RRX" pack --archive "$ARCHIVE" "$NAME"
  echo "chaos-until-failure: the test failed in run $run (exit $rc); its trace: $ARCHIVE"
  echo "chaos-until-failure: debug it with: rrx replay $ARCHIVE   (or: rrx replay --autopilot $ARCHIVE)"
  exit 1
done
echo "chaos-until-failure: the test passed $MAX runs under rrx record --chaos"
