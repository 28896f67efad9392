#!/usr/bin/env bash
# The fast path's LD_PRELOAD is out of the program's sight: under
# `rrx record --syscallbuf` a program's environ, main's envp, getenv and
# /proc/self/environ are byte for byte those of a native run (with and
# without an LD_PRELOAD of the user's own, which still loads, and with an
# empty environment), an exec'd child still loads the library (its calls are
# buffered), and the replays are identical.
# rrx-e2e: one record mode (each recording names its mode)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

P=$(prog env_view)

# same_view NAME ENV...: records `env -i ENV... env_view` (env is itself a
# dynamically linked program that execs env_view), replays it, and compares
# the recorded output with a native run.
same_view() {
  local name=$1
  shift
  run_capture "$WORK/$name.native" -- env -i "$@" "$P"
  rr_check "$name" --stdout-has "child exited 0" --record-arg --syscallbuf -- env -i "$@" "$P"
  [[ -f $WORK/$name.rec.out ]] || return 0
  if cmp -s "$WORK/$name.native.out" "$WORK/$name.rec.out"; then
    pass "$name: the recorded program's view of its environment is the native one"
  else
    fail "$name: the recorded program's view of its environment differs from a native run"
    show_diff "native stdout" "$WORK/$name.native.out" "recorded stdout" "$WORK/$name.rec.out"
  fi
}

same_view plain HOME=/nonexistent 'A=x y' B= LANG=C
same_view empty
same_view user_preload A=1 LD_PRELOAD=libm.so.6 Z=2
check "user_preload: the user's LD_PRELOAD loads" grep -q '^main libm mapped: 1$' "$WORK/user_preload.rec.out"
check "user_preload: ... in the exec'd child too" grep -q '^child libm mapped: 1$' "$WORK/user_preload.rec.out"

# The library still loads in every image: env, env_view and its exec'd child
# (2000 getppid calls each) make buffered calls.
T=$(rr_trace plain)
if [[ -f $T/trace ]]; then
  rrx_run "$WORK/plain.dump" dump "$T"
  n=$(grep -c 'getppid() = [0-9]* (buffered)' "$WORK/plain.dump.out" || true)
  check "plain: the program and its exec'd child buffer getppid ($n calls)" test "$n" -gt 3500
  # (The recorded command is env: the trace's environment is the harness's,
  # which has no LD_PRELOAD of its own.)
  "$RRX" info --json "$T" | python3 -c 'import json, sys; print("\n".join(json.load(sys.stdin)["env_names"]))' \
    >"$WORK/plain.names"
  check "plain: the trace's environment has no LD_PRELOAD" bash -c "! grep -qx LD_PRELOAD '$WORK/plain.names'"
  check "plain: the trace's environment is rrx's own" test -s "$WORK/plain.names"
fi

rr_finish
