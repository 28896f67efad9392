#!/usr/bin/env bash
# Stress runs of end-to-end scripts whose replays diverge now and then (the
# end of a multi-threaded process: exit_group while sibling threads sit in
# blocking syscalls). Not a CTest test: run by hand, it takes minutes.
#
#   bash tests/stress/thread_exit.sh [-n RUNS] [-j PARALLEL] [-o LOGDIR] [SCRIPT...]
#
# Runs each SCRIPT (default: tests/e2e/runtimes_{node,go,jvm}.sh and
# tests/e2e/threads.sh) RUNS times (default 50), PARALLEL at a time (default
# 2, through xargs -P), then prints "N passed, M failed" per script and in
# all. The log of every failing run is kept in LOGDIR (default: a new
# directory under ${TMPDIR:-/tmp}, removed when all pass) with its work directory (traces and
# captured outputs: RRX_E2E_KEEP=1); those of passing runs are removed.
# Exit status: 0 when every run passed (or was skipped), 1 otherwise.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

# Internal mode: one run, called by xargs. Prints "pass", "fail" or "skip".
if [[ ${1:-} == --one ]]; then
  logdir=$2 script=$3 run=$4
  log=$logdir/$(basename "$script" .sh).$run.log
  rc=0
  RRX_E2E_KEEP=1 bash "$script" >"$log" 2>&1 </dev/null || rc=$?
  work=$(sed -n 's/^(work directory kept: \(.*\))$/\1/p' "$log" | tail -n 1)
  if ((rc == 0 || rc == 77)); then
    [[ -n $work && -d $work ]] && rm -rf "$work"
    rm -f "$log"
    if ((rc == 0)); then echo "pass $script"; else echo "skip $script"; fi
  else
    if [[ -n $work && -d $work ]]; then
      mv "$work" "$logdir/$(basename "$script" .sh).$run.work"
      echo "(work directory moved to $logdir/$(basename "$script" .sh).$run.work)" >>"$log"
    fi
    echo "fail $script $log"
  fi
  exit 0
fi

usage() {
  sed -n '6,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

runs=50 parallel=2 logdir=""
while getopts 'n:j:o:h' opt; do
  case $opt in
    n) runs=$OPTARG ;;
    j) parallel=$OPTARG ;;
    o) logdir=$OPTARG ;;
    *) usage ;;
  esac
done
shift $((OPTIND - 1))
[[ $runs =~ ^[1-9][0-9]*$ ]] || { echo "thread_exit.sh: -n wants a positive number, not '$runs'" >&2; exit 2; }
[[ $parallel =~ ^[1-9][0-9]*$ ]] || { echo "thread_exit.sh: -j wants a positive number, not '$parallel'" >&2; exit 2; }

scripts=("$@")
if ((${#scripts[@]} == 0)); then
  scripts=("$ROOT"/tests/e2e/runtimes_node.sh "$ROOT"/tests/e2e/runtimes_go.sh
           "$ROOT"/tests/e2e/runtimes_jvm.sh "$ROOT"/tests/e2e/threads.sh)
fi
for s in "${scripts[@]}"; do
  [[ -f $s ]] || { echo "thread_exit.sh: no such script: $s" >&2; exit 2; }
done
made_logdir=0
if [[ -z $logdir ]]; then
  logdir=$(mktemp -d "${TMPDIR:-/tmp}/rrx-stress.XXXXXX")
  made_logdir=1
else
  mkdir -p "$logdir"
fi
logdir=$(cd "$logdir" && pwd)

echo "thread_exit.sh: ${#scripts[@]} script(s) x $runs runs, $parallel in parallel; logs of failures in $logdir"
results=$logdir/results
for s in "${scripts[@]}"; do
  s=$(cd "$(dirname "$s")" && pwd)/$(basename "$s")
  for ((i = 1; i <= runs; i++)); do printf '%s\0%s\0' "$s" "$i"; done
done | xargs -0 -n 2 -P "$parallel" bash "${BASH_SOURCE[0]}" --one "$logdir" \
  | tee "$results" | sed -n 's/^fail \(.*\) \(.*\)$/  FAIL: \1 (log: \2)/p'

total_pass=0 total_fail=0 total_skip=0
for s in "${scripts[@]}"; do
  s=$(cd "$(dirname "$s")" && pwd)/$(basename "$s")
  p=$(grep -c "^pass $s\$" "$results" || true)
  f=$(grep -c "^fail $s " "$results" || true)
  k=$(grep -c "^skip $s\$" "$results" || true)
  printf '%s: %d passed, %d failed' "$(basename "$s")" "$p" "$f"
  ((k == 0)) || printf ', %d skipped' "$k"
  printf '\n'
  total_pass=$((total_pass + p)) total_fail=$((total_fail + f)) total_skip=$((total_skip + k))
done
printf 'in all: %d passed, %d failed' "$total_pass" "$total_fail"
((total_skip == 0)) || printf ', %d skipped' "$total_skip"
printf '\n'
if ((total_fail > 0)); then
  echo "logs of the failing runs: $logdir"
  exit 1
fi
rm -f "$results"
((made_logdir)) && rm -rf "$logdir"
exit 0
