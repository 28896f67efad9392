#!/usr/bin/env bash
# Preemption points inside hot loops: CPU-bound threads (mt_cpu_bound: 2 and
# 4 threads; mt_entered_loop: a loop entered in its middle at every pass)
# and CPU-bound goroutines (tests/e2e/data/go_cpu), about a second
# of computation each, with no syscall in their loops. The recorder preempts
# them (one preemption event per slice); the replay must find each recorded
# pass again, which one stop per pass could not do in reasonable time (the
# replay uses a PreemptStub, an in-process conditional breakpoint). Every
# replay must reproduce the recording byte for byte within the time limit.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/lib/mt.sh"

# Each replay is bounded: a replay that stops at every pass of these loops
# takes minutes.
export RRX_E2E_TIMEOUT=${RRX_E2E_TIMEOUT:-90}

# check_preemptions NAME MIN: rrx dump shows at least MIN preemption events.
check_preemptions() {
  local name=$1 min=$2
  [[ -f $WORK/$name.trace/trace ]] || return 0
  rrx_run "$WORK/$name.pdump" dump "$WORK/$name.trace"
  CHECKS=$((CHECKS + 1))
  local n
  n=$(grep -c ' preempted at ' "$WORK/$name.pdump.out" || true)
  if ((n >= min)); then
    pass "$name: the trace holds $n preemption events"
  else
    fail "$name: the trace holds $n preemption events (want >= $min)"
    show_file "dump" "$WORK/$name.pdump.out" 20
  fi
}

rr_check_native cpu2 --stdout-has "done" -- "$(prog mt_cpu_bound)" 2 250
check_preemptions cpu2 2
rr_check_native cpu4 --stdout-has "done" -- "$(prog mt_cpu_bound)" 4 120
check_preemptions cpu4 3
# A loop entered in its middle at every outer pass (gdb's name comparator):
# a preemption at its first instruction has a branch into the stub's patch
# at every outer pass, which the stub routes instead of trapping at each.
rr_check_native entered --stdout-has "done" -- "$(prog mt_entered_loop)" 2 600
check_preemptions entered 2

# A preemption at a new program's first instruction, right after its exec
# (a slow exec on a loaded machine: the slice ran out during it). The replay
# holds the thread inside the execve until its exit (which sets the result
# register) before it looks for the point. RRX_TEST_PREEMPT_AT_EXEC makes the
# recorder preempt every exec there.
RRX_TEST_PREEMPT_AT_EXEC=1 rr_check_native at_exec --stdout-has "two" -- \
  /bin/sh -c '/bin/echo one; /bin/echo two | /bin/cat'
check_preemptions at_exec 3

GO=$(command -v go || true)
# Where the debug registers do not fire (rrx info --here), a point the
# preemption stub cannot take is found by an int3 stop at every pass of its
# loop: correct, but go_cpu's loops take minutes that way (a known limit).
if ! debug_registers_fire; then
  note "  note: the debug registers do not fire here: the goroutine case is skipped (slow preemption fallback)"
  GO=""
fi
if [[ -n $GO ]]; then
  export GOCACHE=$WORK/go-cache GOPATH=$WORK/gopath GOTOOLCHAIN=local GOPROXY=off GOFLAGS= GO111MODULE=on
  export GOTELEMETRY=off CGO_ENABLED=0
  mkdir -p "$GOCACHE" "$GOPATH" "$WORK/go"
  cp -r "$E2E_DATA/go_cpu" "$WORK/go/"
  printf 'module example.com/gocpu\n\ngo 1.19\n' >"$WORK/go/go_cpu/go.mod"
  if (cd "$WORK/go/go_cpu" && "$GO" build -o "$WORK/go/gocpu" .) >"$WORK/go-build.log" 2>&1; then
    rr_check_native go_cpu --stdout-has "done" -- "$WORK/go/gocpu" 4 100
    check_preemptions go_cpu 2
  else
    CHECKS=$((CHECKS + 1))
    fail "go build of tests/e2e/data/go_cpu failed natively"
    show_file "go build output" "$WORK/go-build.log"
  fi
elif debug_registers_fire; then
  note "  note: go is not installed: the goroutine case is skipped"
fi

rr_finish
