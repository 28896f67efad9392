#!/usr/bin/env bash
# Multi-process programs: fork + pipe, fork/vfork/posix_spawn + exec, a
# failed exec, a child killed with SIGKILL, python's subprocess (vfork +
# exec, pipes), exec from a non-main thread; `rrx ps` and `rrx dump` on the
# resulting traces.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/lib/mt.sh"

# A directory with known files for ls.
D=$WORK/listing
mkdir -p "$D/subdir"
touch "$D/alpha.txt" "$D/beta.c" "$D/gamma"

rr_check_native pipe_pc --stdout-has "child exited with status 3" -- "$(prog mt_pipe_pc)"
check_dump_tree pipe_pc 2 '\b(clone3?|fork|vfork)\('

rr_check_native fork_exec --stdout-has "ls: exited with status 0" -- "$(prog mt_fork_exec)" "$D"
rr_check_native vfork_exec --stdout-has "ls: exited with status 0" -- "$(prog mt_fork_exec)" "$D" vfork
rr_check_native spawn_exec --stdout-has "ls: exited with status 0" -- "$(prog mt_fork_exec)" "$D" spawn
rr_check_native exec_missing --stdout-has "exited with status 127" -- "$(prog mt_fork_exec)" "$D" fork rrx-no-such-program
rr_check_native spawn_missing --stdout-has "No such file" -- "$(prog mt_fork_exec)" "$D" spawn rrx-no-such-program
# ls fails (status 2) with a message on the shared stderr.
rr_check_native ls_missing_dir --stdout-has "ls: exited with status 2" -- "$(prog mt_fork_exec)" "$WORK/no-such-dir"
rr_check_native kill_child --stdout-has "WIFSIGNALED = 1, WTERMSIG = 9" -- "$(prog mt_kill_child)"

# rrx ps: a header, then one line per process: PID PPID STATUS COMMAND...
# check_ps NAME CHILD_REGEX CHILD_STATUS ROOT_STATUS: exactly two processes,
# the recorded one (its parent is not in the trace) with status ROOT_STATUS,
# and its child, whose command line matches CHILD_REGEX, with CHILD_STATUS.
check_ps() {
  local name=$1 regex=$2 child_status=$3 root_status=$4
  [[ -f $WORK/$name.trace/trace ]] || return 0
  rrx_run "$WORK/$name.ps" ps "$WORK/$name.trace"
  CHECKS=$((CHECKS + 1))
  if ((RUN_RC == 0)) && python3 - "$WORK/$name.ps.out" "$regex" "$child_status" "$root_status" \
    2>"$WORK/$name.ps.check" <<'PY'
import re, sys
path, regex, child_status, root_status = sys.argv[1:]
lines = [l for l in open(path, errors="replace").read().splitlines() if l.strip()]
assert lines, "no output"
rows = [l.split(None, 3) for l in lines[1:]]
assert len(rows) == 2, "%d process lines, expected 2" % len(rows)
for r in rows:
    assert len(r) == 4 and r[0].isdigit() and r[1].isdigit(), "not PID PPID STATUS COMMAND: %r" % " ".join(r)
pids = {r[0] for r in rows}
roots = [r for r in rows if r[1] not in pids]
assert len(roots) == 1, "%d processes whose parent is not in the trace, expected 1" % len(roots)
root = roots[0]
child = [r for r in rows if r is not root][0]
assert child[1] == root[0], "the child's parent pid %s is not the recorded process %s" % (child[1], root[0])
assert re.search(regex, child[3]), "the child's command line %r does not match /%s/" % (child[3], regex)
assert child[2] == child_status, "child status %r, expected %s" % (child[2], child_status)
assert root[2] == root_status, "status of the recorded process %r, expected %s" % (root[2], root_status)
PY
  then
    pass "$name: rrx ps lists the recorded process and its child /$regex/"
  else
    fail "$name: rrx ps (exit $RUN_RC): $(tail -n 1 "$WORK/$name.ps.check" 2>/dev/null)"
    show_file "ps stdout" "$WORK/$name.ps.out"
    show_file "ps stderr" "$WORK/$name.ps.rawerr"
  fi
}
check_ps fork_exec '(^|/)ls -1 ' 0 0
check_ps pipe_pc 'mt_pipe_pc' 3 0
check_dump_tree fork_exec 2 '\bexec(ve)?\b.*/ls'

PY=/usr/bin/python3
if [[ -x $PY ]]; then
  rr_check_native py_subprocess --stdout-has "b'hi\\n' 0" -- "$PY" -I -c '
import subprocess
r = subprocess.run(["echo", "hi"], capture_output=True)
print(r.stdout, r.returncode)
r = subprocess.run(["sh", "-c", "echo to-stderr >&2; exit 5"], stderr=subprocess.PIPE)
print(r.stderr, r.returncode)
'
  # exec from a thread that is not the main thread: the kernel ends the
  # other threads and the exec'ing thread takes over the process id.
  rr_check_native py_exec_from_thread --stdout-has "exec from a thread" -- "$PY" -I -c '
import os, threading, time
print("before exec", flush=True)
def go():
    os.execv("/bin/echo", ["echo", "exec from a thread"])
threading.Thread(target=go).start()
time.sleep(30)
print("not reached")
'
else
  note "skip: python3 tests ($PY is not installed)"
fi

rr_finish
