#!/usr/bin/env bash
# Sets up (scripts/setup.sh: packages and build), then runs every test with
# CTest on 2 cores. The exit status is CTest's.
#
#   bash scripts/test.sh [extra ctest arguments, e.g. -R e2e]
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
BUILD=${RRX_BUILD_DIR:-build}

bash scripts/setup.sh

echo "test: kernel $(uname -r), $(nproc) CPUs, ptrace_scope $(cat /proc/sys/kernel/yama/ptrace_scope 2>/dev/null || echo n/a)"
if [[ -x $BUILD/bin/rrx ]]; then
  echo "test: skip strategies here: $(timeout 20 "$BUILD/bin/rrx" replay --list-skip-strategies 2>/dev/null </dev/null | tr '\n' ' ' || true)"
fi

rc=0
ctest --test-dir "$BUILD" --output-on-failure -j"${RRX_TEST_JOBS:-2}" "$@" </dev/null || rc=$?
echo "test: ctest exited $rc"
exit "$rc"
