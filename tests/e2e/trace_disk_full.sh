#!/usr/bin/env bash
# The trace's own file system fills up while the recorder writes events (the
# writer's thread compresses and writes chunks behind the recorder): rrx
# record must fail with the write error and a clean exit status, and the
# trace must read up to its last whole chunk (rrx info says incomplete, rrx
# dump reads every event in it). The program reads 24 MiB of random bytes
# (incompressible) into a trace on a 12 MiB tmpfs, mounted in a user
# namespace (skipped where that is not possible).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

if ! timeout 10 unshare -rm true 2>/dev/null; then
  skip_all "user namespaces (unshare -rm) are not available here"
fi
mkdir -p "$WORK/small"
# In the namespace: record, then copy the trace out before the tmpfs goes.
RRX_TEST_FREE_SPACE=$((1 << 40)) timeout -k 10 "$_RR_TIMEOUT" unshare -rm bash -c '
  mount -t tmpfs -o size=12m tmpfs "$1/small" || exit 99
  rc=0
  "$2" record $3 -o "$1/small/trace" -- dd if=/dev/urandom of=/dev/null bs=64k count=384 \
    >"$1/full.out" 2>"$1/full.rawerr" || rc=$?
  echo "$rc" >"$1/full.rc"
  cp -a "$1/small/trace" "$1/full.trace"' _ "$WORK" "$RRX" "${RRX_E2E_RECORD_ARGS:-}" || true
if [[ ! -f $WORK/full.rc ]]; then
  skip_all "cannot mount a tmpfs in a user namespace here"
fi
RUN_RC=$(cat "$WORK/full.rc")
CHECKS=$((CHECKS + 1))
if rc_is_clean_error "$RUN_RC" && grep -q 'writing .*/trace/trace: No space left on device' "$WORK/full.rawerr"; then
  pass "rrx record fails (exit $RUN_RC): $(grep -m1 -o 'writing .*No space left on device' "$WORK/full.rawerr")"
else
  fail "rrx record: exit $RUN_RC; expected a clean error naming the trace and ENOSPC"
  show_file stderr "$WORK/full.rawerr"
fi

rrx_run "$WORK/info" info "$WORK/full.trace" || true
check "rrx info says the trace is incomplete" grep -qi 'incomplete' "$WORK/info.out" "$WORK/info.rawerr"
check "the trace file ends with its last whole chunk" grep -qE 'ends at offset ([0-9]+) of \1 bytes' "$WORK/info.out"
rrx_run "$WORK/dump" dump "$WORK/full.trace" || true
events=$(grep -cE '^ *[0-9]+ \[' "$WORK/dump.out" || true)
check "rrx dump reads the events of the prefix ($events)" test "$events" -gt 100
rr_finish
