#!/usr/bin/env bash
# rrx record --chaos finds races that plain recording hides: each racy
# program of tests/programs/race_*.c is recorded with --chaos --keep=failure
# in a loop until it fails (at most a bounded number of runs, far above the
# runs it took in bench/races.sh), the failing trace is kept packed and must
# replay identically (twice and with each skip strategy), and rrx info shows
# its chaos seed. --chaos-seed N is recorded as given.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

# until_failure NAME MAX PROG: records PROG with --chaos until it exits non-zero.
until_failure() {
  local name=$1 max=$2 exe
  exe=$(prog "$3")
  local i
  for ((i = 1; i <= max; i++)); do
    run_capture "$WORK/$name.rec" -- "$RRX" record --chaos --keep=failure -o "$WORK/$name.trace" -- "$exe"
    if [[ $RUN_RC != 0 ]]; then break; fi
    if [[ -e $WORK/$name.trace ]]; then
      CHECKS=$((CHECKS + 1))
      fail "$name: --keep=failure left a trace of a passing run"
      return 0
    fi
  done
  CHECKS=$((CHECKS + 1))
  if ((i > max)); then
    fail "$name: --chaos did not find the race in $max runs"
    return 0
  fi
  if [[ $RUN_RC == 1 && -f $WORK/$name.trace/packed ]]; then
    pass "$name: --chaos found the race in run $i of at most $max: $(tail -n 1 "$WORK/$name.rec.out")"
  else
    fail "$name: run $i exited $RUN_RC (expected 1, the race), or left no packed trace"
    show_file "record stderr" "$WORK/$name.rec.rawerr"
    return 0
  fi
  local s e
  s=$(date +%s%N)
  rr_replay_check "$name"
  e=$(date +%s%N)
  note "  ($name: the replays took $(((e - s) / 1000000)) ms in all)"
  rrx_run "$WORK/$name.info" info "$WORK/$name.trace"
  check "$name: rrx info shows the chaos seed" grep -q '^chaos: *recorded with --chaos --chaos-seed [0-9]' "$WORK/$name.info.out"
}

# Bounds: bench/RESULTS-races.md measured these failure rates under --chaos
# (lost update 40-50 %, check-then-act 85-95 %, ABA ~20 %, init flag 20-30 %);
# at those rates each bound misses its race with a probability under 1e-5
# (in 10 runs of this script here, the most runs needed were 7, 1, 16, 13).
until_failure lost_update 40 race_lost_update
until_failure check_then_act 20 race_check_then_act
until_failure aba_stack 80 race_aba_stack
until_failure init_flag 60 race_init_flag

# The seed given is the seed recorded.
rrx_run "$WORK/seeded" record --chaos-seed 12345 -o "$WORK/seeded.trace" -- "$(prog race_check_then_act)"
check "--chaos-seed: printed when recording" grep -q '^rrx: chaos scheduling, seed 12345$' "$WORK/seeded.rawerr"
rrx_run "$WORK/seeded.info" info --json "$WORK/seeded.trace"
check "--chaos-seed: in the header" grep -q '"chaos-seed": "12345"' "$WORK/seeded.info.out"
# Chaos switches at syscall boundaries, so the recorder sees every call (the
# buffer takes none: each of the 200-odd getppid calls is a boundary), and
# rrx is not bound to one CPU (its timer's preemptions land anywhere).
rrx_run "$WORK/seeded.dump" dump "$WORK/seeded.trace"
traced=$(grep -c 'getppid() = [0-9]*$' "$WORK/seeded.dump.out" || true)
check "--chaos: no call buffered ($traced getppid traced)" \
  bash -c "(( $traced >= 200 )) && ! grep -q '(buffered)' '$WORK/seeded.dump.out'"
rrx_run "$WORK/seeded.text" info "$WORK/seeded.trace"
check "--chaos: recorded unbound" grep -q '^cpu binding: *none (recorded with --cpu-unbound or --chaos' "$WORK/seeded.text.out"

rr_finish
