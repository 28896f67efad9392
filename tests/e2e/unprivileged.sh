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
for mode in fast -n; do
  args=()
  [[ $mode == -n ]] && args=(-n)
  T=$U/$mode.trace
  set +e
  as_user "$RRX" record "${args[@]}" -o "$T" -- bash -c "$SCRIPT" >"$WORK/$mode.rec.out" 2>"$WORK/$mode.rec.err"
  rc=$?
  set -e
  CHECKS=$((CHECKS + 1))
  if [[ $rc == 3 ]] && grep -q '^65534 4950$' "$WORK/$mode.rec.out"; then
    pass "$mode: recorded as uid 65534 (exit 3, as natively)"
  else
    fail "$mode: recording as uid 65534 exited $rc"
    show_file stderr "$WORK/$mode.rec.err"
    continue
  fi
  if [[ $mode == fast ]]; then
    as_user "$RRX" info "$T" >"$WORK/$mode.info" 2>&1 || true
    check "$mode: the trace says the fast path recorded" grep -q '^syscall buffer: *on: [1-9]' "$WORK/$mode.info"
  fi
  for i in 1 2; do
    set +e
    as_user "$RRX" replay --autopilot "$T" >"$WORK/$mode.rep$i.out" 2>"$WORK/$mode.rep$i.err"
    rc=$?
    set -e
    CHECKS=$((CHECKS + 1))
    if [[ $rc == 3 ]] && cmp -s "$WORK/$mode.rec.out" "$WORK/$mode.rep$i.out"; then
      pass "$mode: replay $i as uid 65534: the same stdout and exit status"
    else
      fail "$mode: replay $i as uid 65534 exited $rc or printed something else"
      show_diff "recorded" "$WORK/$mode.rec.out" "replayed" "$WORK/$mode.rep$i.out"
      show_file stderr "$WORK/$mode.rep$i.err"
    fi
  done
done
rr_finish
