#!/usr/bin/env bash
# rrx replay -p: gdb debugs one process of a recorded tree (here the `ls`
# that mt_fork_exec runs in a child), while the others replay along.
source "$(dirname "$0")/lib/gdb_common.sh"

mkdir -p "$WORK/dir"
touch "$WORK/dir/alpha" "$WORK/dir/beta"
gdb_record tree -- "$RRX_TEST_PROGRAMS/mt_fork_exec" "$WORK/dir"

printf 'set breakpoint pending on\nbreak write\ncontinue\nbt 2\ninfo threads\ndelete\ncontinue\ncontinue\n' >"$WORK/p.gdb"
for which in ls "$(awk 'NR==3 {print $1}' <("$RRX" ps "$WORK/tree.trace"))"; do
  timeout "$GDB_TIMEOUT" "$RRX" replay -p "$which" --batch -x "$WORK/p.gdb" "$WORK/tree.trace" \
    >"$WORK/tree.gdb.out" 2>&1 </dev/null || true
  expect tree 'Breakpoint 1, .*write'
  expect tree '#1  0x[0-9a-f]+ in '
  expect tree '^\* 1 +Thread [0-9]+ \(name=ls'"|"'^\* 1 +Thread [0-9]+.*ls'
  expect tree '^alpha$'
  expect tree 'exited normally'
done
# The processes that are not debugged still replay: the parent's report.
expect tree 'exited with status 0'

# A process that does not exist: a clear error, no gdb.
rc=0
"$RRX" replay -p no-such-program --batch -x "$WORK/p.gdb" "$WORK/tree.trace" >"$WORK/bad.gdb.out" 2>&1 </dev/null || rc=$?
CHECKS=$((CHECKS + 1))
if [[ $rc == 125 ]] && grep -q "no process 'no-such-program'" "$WORK/bad.gdb.out"; then
  echo "ok:   -p with an unknown process is refused (exit 125)"
else
  fail "-p with an unknown process: exit $rc"
  cat "$WORK/bad.gdb.out"
fi

gdb_finish
