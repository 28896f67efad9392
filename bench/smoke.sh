#!/usr/bin/env bash
# The default test suite's check of the benchmark scripts (ctest "bench:
# smoke", about 10 s): bench/run.sh in quick mode on one tiny workload, with
# the getppid micro-benchmark. Asserts that every mode ran and the tables are
# complete, never a time. The benchmarks themselves: ctest -C bench -L bench.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${RRX_BUILD_DIR:-$ROOT/build}
RRX=${RRX:-$BUILD/bin/rrx}
[[ -x $RRX ]] || { echo "SKIP: $RRX is not built"; exit 77; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/rrx-bench-smoke.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
fail() { echo "FAIL: $*"; echo "--- stdout"; cat "$WORK/out"; echo "--- stderr"; tail -n 30 "$WORK/err"; exit 1; }

status=0
RRX=$RRX bash "$ROOT/bench/run.sh" --quick dd-512-write >"$WORK/out" 2>"$WORK/err" || status=$?
((status == 0)) || fail "bench/run.sh --quick dd-512-write exited $status"
header=$(grep -m1 '^| workload |' "$WORK/out") || fail "no Markdown table"
row=$(grep -m1 '^| dd-512-write |' "$WORK/out") || fail "no dd-512-write row"
# Every column asked for is there and filled: the native time, a ratio per
# mode the build offers, the trace sizes.
cols() { awk -F'|' '{print NF}' <<<"$1"; }
[[ $(cols "$header") == $(cols "$row") ]] || fail "the row has other columns than the header"
for mode in "1 CPU x" "record x" "record -n x" "replay x" "replay -n x"; do
  if [[ $header != *"| $mode |"* ]]; then
    grep -q "^- note: this rrx" "$WORK/out" || fail "no '$mode' column and no note why"
  fi
done
grep -Eq '^\| dd-512-write \| [0-9]+\.[0-9]+ \| [0-9]' <<<"$row" || fail "no native time and ratio in: $row"
[[ $row != *fail* && $row != *n/a* ]] || fail "a mode failed or a size is missing: $row"
grep -q '^| getppid | [0-9.]* | ' "$WORK/out" || fail "no getppid micro-benchmark row"
grep -q '^default recording mode: \|^- default recording mode: ' "$WORK/out" || fail "the default recording mode is not stated"
echo "PASS: bench/run.sh --quick"
