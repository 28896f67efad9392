#!/usr/bin/env bash
# rrx replay -f PID (--onfork): gdb debugs process PID from the moment it is
# forked, before it runs any code or execs (here the child of mt_fork_exec
# that execs ls): it stands in the child's return from fork, in the
# parent's program. A pid that was not forked is refused with the list of
# those that were.
source "$(dirname "$0")/lib/gdb_common.sh"

mkdir -p "$WORK/dir"
touch "$WORK/dir/alpha" "$WORK/dir/beta"
gdb_record tree -- "$RRX_TEST_PROGRAMS/mt_fork_exec" "$WORK/dir"
"$RRX" ps "$WORK/tree.trace" >"$WORK/ps.out"
PARENT=$(awk 'NR == 2 {print $1}' "$WORK/ps.out")
CHILD=$(awk 'NR == 3 {print $1}' "$WORK/ps.out")
"$RRX" dump "$WORK/tree.trace" >"$WORK/tree.dump" 2>&1
# The parent's fork returning the child's pid: gdb starts right after it, before the child runs.
RESULT_EV=$(awk -v c="$CHILD" '/clone|fork/ && $NF == c && /= / {print $1; exit}' "$WORK/tree.dump")

printf '%s\n' 'echo ==fork==\n' 'when' 'when-tid' 'info threads' 'bt' 'print $rax' 'next' 'echo ==end==\n' \
  'echo ==back==\n' 'reverse-finish' 'bt 1' 'when' 'echo ==end==\n' 'continue' 'continue' >"$WORK/f.gdb"
for opt in "-f $CHILD" "--onfork=$CHILD"; do
  # shellcheck disable=SC2086
  timeout "$GDB_TIMEOUT" "$RRX" replay $opt --batch -x "$WORK/f.gdb" "$WORK/tree.trace" \
    >"$WORK/f.gdb.out" 2>&1 </dev/null || true
  OUT=$WORK/f.gdb.out
  [[ -n $RESULT_EV ]] && expect_in fork "^Current event: $((RESULT_EV + 1)) "
  expect_in fork "^Current tid: $CHILD\$"
  expect_in fork "^\* 1 +Thread $CHILD"
  # The child returns from fork (0) into start(), in mt_fork_exec's main.
  expect_in fork '^#[0-9]+ +0x[0-9a-f]+ in start \(mode=|^#[0-9]+ +start \(mode='
  expect_in fork '^#[0-9]+ +0x[0-9a-f]+ in main \('
  expect_in fork '^\$1 = 0$'
  # Back to fork's return, where gdb started: reverse execution works there.
  # (Named event RESULT_EV + 1 or the next one: the child runs no code
  # until its first event, so both name the same place of the child.)
  expect_in back 'No more reverse-execution history'
  expect_in back '^#0 +arch_fork \(ctid=0x[0-9a-f]+\) at .*arch-fork.h:52'
  expect f '^alpha$'
  expect f 'exited normally'
  reject f 'reverse execution is not available'
  reject f 'internal error|Remote connection closed'
done

# A vfork child: the parent waits in vfork until the child execs, so gdb
# starts right after the clone event (no checkpoint there: rrx says reverse
# execution is not available) and the child still runs to its end.
gdb_record vtree -- "$RRX_TEST_PROGRAMS/mt_fork_exec" "$WORK/dir" vfork
VCHILD=$(awk 'NR == 3 {print $1}' <("$RRX" ps "$WORK/vtree.trace"))
printf '%s\n' 'echo ==vfork==\n' 'when-tid' 'bt' 'echo ==end==\n' 'continue' 'continue' >"$WORK/v.gdb"
timeout "$GDB_TIMEOUT" "$RRX" replay -f "$VCHILD" --batch -x "$WORK/v.gdb" "$WORK/vtree.trace" \
  >"$WORK/v.gdb.out" 2>&1 </dev/null || true
OUT=$WORK/v.gdb.out
expect_in vfork "^Current tid: $VCHILD\$"
expect_in vfork '^#[0-9]+ +0x[0-9a-f]+ in start \(mode=0x[0-9a-f]+ "vfork"'
expect v 'reverse execution is not available in this replay'
expect v '^alpha$'
expect v 'exited normally'

refused() {
  local regex=$1
  shift
  local rc=0
  timeout "$GDB_TIMEOUT" "$RRX" replay "$@" --batch -x "$WORK/f.gdb" "$WORK/tree.trace" >"$WORK/bad.out" 2>&1 </dev/null || rc=$?
  CHECKS=$((CHECKS + 1))
  if [[ $rc == 125 ]] && grep -Eq -- "$regex" "$WORK/bad.out" && ! grep -q '==fork==' "$WORK/bad.out"; then
    echo "ok:   rrx replay $* is refused (exit 125): $(head -1 "$WORK/bad.out")"
  else
    fail "rrx replay $*: exit $rc (wanted 125 and /$regex/)"
    sed 's/^/  | /' "$WORK/bad.out" | head -20
  fi
}
refused "^rrx: no process 99999 was forked in this recording; the forked processes are:" -f 99999
expect_bad_list() {
  CHECKS=$((CHECKS + 1))
  if grep -Eq "^  $CHILD \(forked by $PARENT at event [0-9]+\)" "$WORK/bad.out"; then
    echo "ok:   the refusal lists $CHILD"
  else
    fail "the refusal does not list $CHILD"
    sed 's/^/  | /' "$WORK/bad.out"
  fi
}
expect_bad_list
refused "^rrx: process $PARENT is the recorded program itself: it was not forked" -f "$PARENT"
refused "^rrx: -f/--onfork takes the pid of a forked process .*not 'ls'" -f ls
refused "^rrx: -p and -f both choose the process to debug" -f "$CHILD" -p ls

gdb_finish
