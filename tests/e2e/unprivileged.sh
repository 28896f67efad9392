#!/usr/bin/env bash
# Recording and replaying as a user without privileges (uid 65534, no
# capabilities), as a CI job usually runs: the fast path's seccomp filter
# then needs no_new_privs set first, in the child rrx starts before the
# program's exec (core/pre_exec_child.h); ptrace-only recording needs
# nothing. Each mode: a shell pipeline with a python step, recorded, then
# replayed twice, stdout and exit status the same every time. Runs where the
# suite runs as root and setpriv exists (else skipped).
# rrx-e2e: one record mode (each recording names its mode)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

[[ $(id -u) == 0 ]] || skip_all "not root: the suite already runs unprivileged"
command -v setpriv >/dev/null || skip_all "no setpriv"
U=$WORK/user
chmod 755 "$WORK"
mkdir -m 1777 "$U"
as_user() { HOME=$U XDG_CACHE_HOME=$U/.cache setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all "$@"; }
if ! as_user "$RRX" --version >/dev/null 2>&1; then
  skip_all "uid 65534 cannot run $RRX (a directory above it is not searchable)"
fi

SCRIPT='echo start; seq 1 500 | sort -rn | head -3; python3 -c "import os; print(os.getuid(), sum(range(100)))"; exit 3'

# as_user_run PREFIX RRX-ARGS...: runs rrx as uid 65534, PREFIX.out/.err/.rc.
as_user_run() {
  local prefix=$1 rc=0
  shift
  as_user "$RRX" "$@" >"$prefix.out" 2>"$prefix.err" || rc=$?
  echo "$rc" >"$prefix.rc"
}
# exited_3 NAME PREFIX CMD...: a check that the run PREFIX exited 3 (as the
# script does natively) and CMD holds; its stderr shown when not. Returns it.
exited_3() {
  local name=$1 prefix=$2
  shift 2
  CHECKS=$((CHECKS + 1))
  if [[ $(cat "$prefix.rc") == 3 ]] && "$@"; then
    pass "$name"
    return 0
  fi
  fail "$name (exit $(cat "$prefix.rc"))"
  show_file stderr "$prefix.err"
  return 1
}

for mode in fast -n; do
  args=()
  [[ $mode == -n ]] && args=(-n)
  T=$U/$mode.trace
  as_user_run "$WORK/$mode.rec" record "${args[@]}" -o "$T" -- bash -c "$SCRIPT"
  exited_3 "$mode: recorded as uid 65534" "$WORK/$mode.rec" grep -q '^65534 4950$' "$WORK/$mode.rec.out" || continue
  if [[ $mode == fast ]]; then
    as_user_run "$WORK/$mode.info" info "$T"
    check "$mode: the trace says the fast path recorded" grep -q '^syscall buffer: *on: [1-9]' "$WORK/$mode.info.out"
  fi
  for i in 1 2; do
    R=$WORK/$mode.rep$i
    as_user_run "$R" replay --autopilot "$T"
    exited_3 "$mode: replay $i as uid 65534: the same stdout and exit status" "$R" cmp -s "$WORK/$mode.rec.out" "$R.out" ||
      show_diff "recorded" "$WORK/$mode.rec.out" "replayed" "$R.out"
  done
done
rr_finish
