#!/usr/bin/env bash
# Every process of a recorded tree in one gdb session (gdb's multiprocess
# extensions: fork, vfork and exec events, pPID.TID thread ids). The
# program: a parent that forks; the child writes and execs mp_exec_child;
# the parent waits for it and writes the status waitpid gave it.
#  * follow-fork-mode child + catch exec + a breakpoint in the exec'd
#    program; reverse-continue from there stops where the child's new image
#    began (gdb's history of a process begins at its fork or exec);
#  * detach-on-fork off: info inferiors shows both, `inferior 2` switches,
#    each runs to its end;
#  * the default (parent only): the child replays unseen, the parent sees
#    its exit through waitpid;
#  * the same through gdb's machine interface.
source "$(dirname "$0")/lib/gdb_common.sh"

gdb_record mp -- "$RRX_TEST_PROGRAMS/mp_fork_exec" "$RRX_TEST_PROGRAMS/mp_exec_child"
grep -q 'parent: child exited with status 7' "$WORK/mp.rec.out" || fail "the recording's output: $(cat "$WORK/mp.rec.out")"

OUT=$WORK/mp.gdb.out

# follow-fork-mode child, catch exec, a breakpoint in the new program.
gdb_run mp '
set breakpoint pending on
set follow-fork-mode child
catch exec
break child_work
echo ==exec==\n
continue
info inferiors
echo ==end==\n
echo ==break==\n
continue
bt 1
info threads
echo ==end==\n
echo ==reverse==\n
reverse-continue
info inferiors
echo ==end==\n
echo ==again==\n
continue
print x
echo ==end==\n
continue
echo ==exit==\n
info inferiors
echo ==end==\n'
expect mp 'Attaching after (process|Thread) [0-9.]+ fork to child (process|Thread) [0-9.]+'
expect mp 'process [0-9]+ is executing new program: .*mp_exec_child'
expect_in exec 'hit Catchpoint 1 \(exec.d .*mp_exec_child\)'
expect_in exec '^\* +2 +process [0-9]+ +.*mp_exec_child'
expect_in break 'hit Breakpoint 2, child_work \(x=6\) at .*mp_exec_child.c'
expect_in break '^\* 2\.1 +Thread [0-9.]+ .*child_work'
expect_in reverse 'No more reverse-execution history'
expect_in reverse '_start \(\) from .*ld-linux'
expect_in again 'hit Breakpoint 2, child_work \(x=6\)'
expect_in again '\$1 = 6'
expect mp "exec'd child: from-child 19"
expect mp '\[Inferior 2 \(process [0-9]+\) exited with code 07\]'
reject mp 'Remote connection closed|Remote communication error|internal-error'

# detach-on-fork off: both processes in gdb; the child's exec caught;
# gdb's history of the child begins at its exec.
ln -sfn "$WORK/mp.trace" "$WORK/both.trace"
OUT=$WORK/both.gdb.out
gdb_run both '
set detach-on-fork off
catch exec
echo ==exec==\n
continue
info inferiors
reverse-stepi
echo ==end==\n
echo ==parent==\n
inferior 1
info threads
echo ==end==\n
break mp_fork_exec.c:33
echo ==child-end==\n
continue
info inferiors
echo ==end==\n
echo ==waited==\n
inferior 1
continue
print status
echo ==end==\n
echo ==parent-end==\n
continue
continue
info inferiors
echo ==end==\n'
expect both '\[New inferior 2 \(process [0-9]+\)\]'
expect_in exec 'hit Catchpoint 1 \(exec.d .*mp_exec_child\)'
expect_in exec '^ +1 +process [0-9]+ +.*mp_fork_exec'
expect_in exec '^\* +2 +process [0-9]+ +.*mp_exec_child'
expect_in exec 'No more reverse-execution history'
expect_in parent 'Switching to inferior 1 \[process [0-9]+\]'
expect_in parent '^\* 1\.1 +Thread [0-9.]+ "mp_fork_exec"'
expect_in child-end '\[Inferior 2 \(process [0-9]+\) exited with code 07\]'
expect_in waited 'Breakpoint 2, main .* at .*mp_fork_exec.c:33'
expect_in waited '\$1 = 1792'
expect_in parent-end '\[Inferior 1 \(process [0-9]+\) exited normally\]'
expect both 'parent: child exited with status 7'
reject both 'Remote connection closed|Remote communication error|internal-error'

# The default: gdb follows the parent, the child replays without it.
OUT=$WORK/parent.gdb.out
ln -sfn "$WORK/mp.trace" "$WORK/parent.trace"
gdb_run parent '
break waitpid
continue
echo ==wait==\n
finish
print status
echo ==end==\n
continue
continue'
expect parent 'Detaching after fork from child process [0-9]+'
expect_in wait 'Value returned is \$1 = [0-9]+'
expect_in wait '\$2 = 1792'
expect parent "exec'd child: from-child 19"
expect parent 'parent: child exited with status 7'
expect parent '\[Inferior 1 \(process [0-9]+\) exited normally\]'
reject parent 'Remote connection closed|Remote communication error|internal-error'

# gdb's machine interface (IDEs): follow the child to its breakpoint.
timeout "$GDB_TIMEOUT" "$RRX" replay --gdb-arg=-i=mi "$WORK/mp.trace" >"$WORK/mi.gdb.out" 2>&1 <<<'-gdb-set follow-fork-mode child
-gdb-set breakpoint pending on
-break-insert -f child_work
-exec-continue
-thread-info
-list-thread-groups
-exec-continue
-gdb-exit' || true
expect mi '=thread-group-started,id="i2",pid="[0-9]+"'
expect mi '\*stopped,reason="breakpoint-hit".*func="child_work"'
expect mi 'id="i2",type="process",pid="[0-9]+",executable=".*mp_exec_child"'
expect mi '\*stopped,reason="exited",exit-code="07"'

gdb_finish
