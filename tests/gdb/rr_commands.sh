#!/usr/bin/env bash
# rr's commands in the gdb that rrx replay starts (loaded from a command file
# rrx writes; -x FILE still runs): when, when-tid, goto EVENT, checkpoint,
# restart N, info checkpoints, delete checkpoint N; a move re-reads
# registers, memory and shared libraries (print of a local and libc frames
# by name after goto and restart), and a refused move leaves gdb's process
# in place. rrx replay -g EVENT starts gdb there (also with -s and with -p),
# and refuses an event it cannot start at. Through gdb's MI too.
source "$(dirname "$0")/lib/gdb_common.sh"

gdb_record rev -- "$RRX_TEST_PROGRAMS/reverse_demo"
"$RRX" dump "$WORK/rev.trace" >"$WORK/rev.dump" 2>&1
# The second getppid() (i = 1): its stretch starts where the first returned, with i = 0.
GOTO=$(awk '/\] getppid\(\) = / {n++; if (n == 2) print $1}' "$WORK/rev.dump")
PID=$(awk 'NR == 2 {print $1}' <("$RRX" ps "$WORK/rev.trace"))
CHECKS=$((CHECKS + 1))
if [[ -n $GOTO && -n $PID ]]; then
  echo "ok:   the second getppid() is event $GOTO; the process is $PID"
else
  fail "no second getppid() in the recording, or no pid from rrx ps"
  GOTO=1
fi

gdb_run rev '
break reverse_demo.c:54
continue
continue
continue
echo ==before==\n
print i
when
when-tid
checkpoint
info checkpoints
echo ==end==\n
delete
goto '"$GOTO"'
echo ==goto==\n
bt
frame function main
print i
print counter
when
echo ==end==\n
restart 1
echo ==restart==\n
print i
bt 1
when
echo ==end==\n
python
for c in ["goto 99999", "goto 0", "goto abc", "goto", "goto -5", "restart 7", "restart", "delete checkpoint 9", "when 3"]:
    try:
        gdb.execute(c)
        print("accepted[%s]" % c)
    except gdb.error as e:
        print("refused[%s]: %s" % (c, e))
end
echo ==after-refusals==\n
print i
when
delete checkpoint 1
info checkpoints
echo ==end==\n
'
OUT=$WORK/rev.gdb.out
expect_in before '^\$1 = 2$'
expect_in before '^Current event: [0-9]+ '
expect_in before "^Current tid: $PID\$"
expect_in before '^Checkpoint 1 at event [0-9]+'
expect_in before '^checkpoint 1: event [0-9]+'
expect_in goto '^#0  .*getppid \(\)'
expect_in goto '^#1  [0-9a-fx ]*(in )?main \(\) at .*reverse_demo.c:54'
expect_in goto '^\$2 = 0$'
expect_in goto '^\$3 = 0$'
expect_in goto "^Current event: $GOTO "
expect_in restart '^\$4 = 2$'
expect_in restart 'main \(\) at .*reverse_demo.c:54'
reject rev '\?\? \(\)'
expect rev 'refused\[goto 99999\]: rrx: event 99999 is not in this recording \(events 1\.\.[0-9]+\)'
expect rev 'refused\[goto 0\]: rrx: event 0 is not in this recording'
expect rev 'refused\[goto abc\]: usage: goto EVENT'
expect rev 'refused\[goto\]: usage: goto EVENT'
expect rev 'refused\[goto -5\]: usage: goto EVENT'
expect rev 'refused\[restart 7\]: rrx: no checkpoint 7'
expect rev 'refused\[restart\]: usage: restart CHECKPOINT'
expect rev 'refused\[delete checkpoint 9\]: rrx: no checkpoint .9.'
expect rev 'refused\[when 3\]: usage: when'
# The refusals moved nothing and killed nothing: gdb's process is where restart 1 left it.
expect_in after-refusals '^\$5 = 2$'
expect_in after-refusals '^Deleted checkpoint 1\.'
expect_in after-refusals "^No checkpoints of yours"
reject rev 'The program is not being run|Remote connection closed|internal error'

# -g EVENT: gdb starts there (the stretch of the second getppid: i = 0).
printf 'echo ==start==\\n\nbt\nframe function main\nprint i\nwhen\necho ==end==\\n\ncontinue\ncontinue\n' >"$WORK/g.gdb"
timeout "$GDB_TIMEOUT" "$RRX" replay -g "$GOTO" --batch -x "$WORK/g.gdb" "$WORK/rev.trace" >"$WORK/g.gdb.out" 2>&1 </dev/null || true
OUT=$WORK/g.gdb.out
expect_in start '^#0  .*getppid \(\)'
expect_in start '^\$1 = 0$'
expect_in start "^Current event: $GOTO "
expect g 'table\[3\] = -1, counter = 5'
expect g 'exited with code 01'

# -g with -s: any gdb connects to a replay standing at EVENT.
serve_stub serve "$WORK/rev.trace" -g "$GOTO"
serve_pid=$SERVE_PID
port=$SERVE_PORT
printf 'set confirm off\nfile %s\ntarget extended-remote 127.0.0.1:%s\necho ==serve==\\n\nframe function main\nprint i\nmonitor when\necho ==end==\\n\n' \
  "$RRX_TEST_PROGRAMS/reverse_demo" "$port" >"$WORK/serve.gdb"
timeout "$GDB_TIMEOUT" gdb -nx -batch -x "$WORK/serve.gdb" >"$WORK/serve.gdb.out" 2>&1 </dev/null || true
wait "$serve_pid" || true
OUT=$WORK/serve.gdb.out
expect_in serve '^\$1 = 0$'
expect_in serve "^Current event: $GOTO "

# Events -g cannot start at: a clear error and exit 125 (a usage error: 2), no gdb.
refused_g() {
  local want_rc=$1 regex=$2
  shift 2
  local rc=0
  timeout "$GDB_TIMEOUT" "$RRX" replay "$@" --batch -x "$WORK/g.gdb" >"$WORK/bad.out" 2>&1 </dev/null || rc=$?
  CHECKS=$((CHECKS + 1))
  if [[ $rc == "$want_rc" ]] && grep -Eq -- "$regex" "$WORK/bad.out" && ! grep -q '==start==' "$WORK/bad.out"; then
    echo "ok:   rrx replay $* is refused (exit $rc): $(head -1 "$WORK/bad.out")"
  else
    fail "rrx replay $*: exit $rc (wanted $want_rc and /$regex/)"
    sed 's/^/  | /' "$WORK/bad.out" | head -20
  fi
}
refused_g 125 '^rrx: -g 99999: event 99999 is not in this recording \(events 1\.\.[0-9]+\)' -g 99999 "$WORK/rev.trace"
refused_g 125 '^rrx: -g 0: event 0 is not in this recording' -g 0 "$WORK/rev.trace"
refused_g 125 "^rrx: -g/--goto takes an event number .*not '12x'" -g 12x "$WORK/rev.trace"
refused_g 125 "^rrx: -g/--goto takes an event number .*not '-5'" --goto=-5 "$WORK/rev.trace"

# -g with -p: an event of the chosen process, after its exec.
mkdir -p "$WORK/dir"
touch "$WORK/dir/alpha" "$WORK/dir/beta"
gdb_record tree -- "$RRX_TEST_PROGRAMS/mt_fork_exec" "$WORK/dir"
"$RRX" dump "$WORK/tree.trace" >"$WORK/tree.dump" 2>&1
LS_PID=$(awk 'NR == 3 {print $1}' <("$RRX" ps "$WORK/tree.trace"))
# The child's exec, and its first write (the listing) later on.
EXEC_EV=$(awk -v t="[$LS_PID]" '$2 == t && /exec/ {print $1; exit}' "$WORK/tree.dump")
WRITE_EV=$(awk -v t="[$LS_PID]" '$2 == t && /\] write\(1,/ {print $1; exit}' "$WORK/tree.dump")
printf 'echo ==start==\\n\nwhen\nwhen-tid\nbt 1\necho ==end==\\n\ncontinue\n' >"$WORK/gp.gdb"
timeout "$GDB_TIMEOUT" "$RRX" replay -p ls -g "$WRITE_EV" --batch -x "$WORK/gp.gdb" "$WORK/tree.trace" \
  >"$WORK/gp.gdb.out" 2>&1 </dev/null || true
OUT=$WORK/gp.gdb.out
expect_in start "^Current event: $WRITE_EV "
expect_in start "^Current tid: $LS_PID\$"
expect gp '^alpha$'
refused_g 125 "^rrx: -g $((EXEC_EV - 1)): event $((EXEC_EV - 1)) comes before process $LS_PID is debugged from" \
  -p ls -g "$((EXEC_EV - 1))" "$WORK/tree.trace"

# The same commands through gdb's MI (as an IDE sends them).
cat >"$WORK/mi.cmds" <<MI
-break-insert reverse_demo.c:54
-exec-continue
-exec-continue
-interpreter-exec console "when"
-interpreter-exec console "checkpoint"
-interpreter-exec console "goto $GOTO"
-data-evaluate-expression counter
-stack-list-frames
-interpreter-exec console "restart 1"
-data-evaluate-expression counter
-interpreter-exec console "goto 99999"
-data-evaluate-expression counter
MI
timeout "$GDB_TIMEOUT" python3 "$(dirname "$0")/lib/mi_session.py" "$WORK/mi.cmds" "$RRX" replay "$WORK/rev.trace" \
  >"$WORK/mi.gdb.out" 2>&1 </dev/null || fail "the MI session did not complete"
OUT=$WORK/mi.gdb.out
mi_expect '-interpreter-exec console "when"' 1 '^@"Current event: [0-9]+ '
mi_expect '-interpreter-exec console "checkpoint"' 1 '^@"Checkpoint 1 at event'
mi_expect '-interpreter-exec console "goto '"$GOTO"'"' 1 '^\*stopped,'
mi_expect '-data-evaluate-expression counter' 1 '^\^done,value="0"'
mi_expect -stack-list-frames 1 'frame=\{level="1",addr="0x[0-9a-f]+",func="main"'
mi_expect '-data-evaluate-expression counter' 2 '^\^done,value="1"'
mi_expect '-interpreter-exec console "goto 99999"' 1 '^\^error,msg="rrx: event 99999 is not in this recording'
mi_expect '-data-evaluate-expression counter' 3 '^\^done,value="1"'
gdb_finish
