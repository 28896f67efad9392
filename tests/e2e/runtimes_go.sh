#!/usr/bin/env bash
# Go under rrx: `go build` of a small module (the go tool runs compile and
# link as subprocesses), the built binary, and a program with goroutines (a
# channel pipeline, a WaitGroup, a mutex) and net/http on a loopback
# listener. The Go runtime's threads block in futex/epoll_pwait while others
# run, and it preempts goroutines with signals (SIGURG).
# Hermetic: GOCACHE and GOPATH inside the work directory, no network
# (GOPROXY=off, GOTOOLCHAIN=local, stdlib only).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/lib/mt.sh"

GO=$(command -v go || true)
[[ -n $GO ]] || skip_all "go is not installed (Debian package golang-go)"

export GOCACHE=$WORK/go-cache GOPATH=$WORK/gopath GOTOOLCHAIN=local GOPROXY=off GOFLAGS= GO111MODULE=on
export GOTELEMETRY=off CGO_ENABLED=0
mkdir -p "$GOCACHE" "$GOPATH"

# The pipeline/HTTP program, built natively (its build is not under test).
mkdir -p "$WORK/go"
cp -r "$E2E_DATA/go_pipeline" "$E2E_DATA/go_module" "$WORK/go/"
printf 'module example.com/pipeline\n\ngo 1.19\n' >"$WORK/go/go_pipeline/go.mod"
if ! (cd "$WORK/go/go_pipeline" && "$GO" build -o "$WORK/go/pipeline" .) >"$WORK/go-build-pipeline.log" 2>&1; then
  CHECKS=$((CHECKS + 1))
  fail "go build of tests/e2e/data/go_pipeline failed natively"
  show_file "go build output" "$WORK/go-build-pipeline.log"
  rr_finish
fi
rr_check_native go_pipeline_http --stdout-has "http 4: 200 7 squared is 49" -- "$WORK/go/pipeline"
check_dump_tree go_pipeline_http 3 '\bclone3?\('

# `go build` itself, recorded: an empty cache, so compile and link run.
cd "$WORK/go/go_module"
rr_check go_build -- "$GO" build -o "$WORK/go/wc" .
check "go_build: the recorded go build wrote a binary that runs" \
  bash -c '"$1" "a b a" | tr "\n" " " | grep -qx "a 2 b 1 "' _ "$WORK/go/wc"
[[ -x $WORK/go/wc ]] && rr_check_native go_wc --stdout-has "the 3" -- "$WORK/go/wc"

rr_finish
