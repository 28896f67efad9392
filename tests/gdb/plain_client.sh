#!/usr/bin/env bash
# A gdb that rrx did not start (an IDE's, or one typed by hand) connected to
# `rrx replay -s PORT`: moving the replay with `starti EVENT` / `starti cN`
# (gdb's vRun) reaches it as a new start, so it re-reads registers, memory,
# frames and shared libraries: `print` and `bt` show the new position's
# values, libc frames by name. Refused writes carry rrx's reason.
source "$(dirname "$0")/lib/gdb_common.sh"

gdb_record rev -- "$RRX_TEST_PROGRAMS/reverse_demo"

# plain_gdb NAME SCRIPT: serves the trace, runs a plain gdb -batch (no rrx
# hooks, no init files) that connects itself; output in $WORK/NAME.gdb.out.
plain_gdb() {
  local name=$1 script=$2 port="" rc=0
  serve_stub "$name" "$WORK/rev.trace" || return
  local serve_pid=$SERVE_PID port=$SERVE_PORT
  printf 'set pagination off\nset confirm off\nfile %s\ntarget extended-remote 127.0.0.1:%s\n%s\n' \
    "$RRX_TEST_PROGRAMS/reverse_demo" "$port" "$script" >"$WORK/$name.gdb"
  timeout "$GDB_TIMEOUT" gdb -nx -batch -x "$WORK/$name.gdb" >"$WORK/$name.gdb.out" 2>&1 </dev/null || rc=$?
  [[ $rc == 124 ]] && fail "$name: gdb timed out"
  # The server ends when its client goes.
  for _ in $(seq 100); do
    kill -0 "$serve_pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$serve_pid" 2>/dev/null; then
    fail "$name: rrx replay -s did not end after gdb left"
    kill "$serve_pid" 2>/dev/null || true
  fi
  wait "$serve_pid" || true
  cat "$WORK/$name.serve.err" >>"$WORK/$name.gdb.out"
}

OUT=

# The loop's three getppid() calls (i = 0, 1, 2) are events G1-G3 of the
# recording: G2's stretch starts where the first returns, inside libc, with
# i = 0.
"$RRX" dump "$WORK/rev.trace" >"$WORK/rev.dump" 2>&1
GOTO=$(awk '/\] getppid\(\) = / {n++; if (n == 2) print $1}' "$WORK/rev.dump")
CHECKS=$((CHECKS + 1))
if [[ -n $GOTO && $(grep -c '\] getppid() = ' "$WORK/rev.dump") == 3 ]]; then
  echo "ok:   the second getppid() is event $GOTO"
else
  fail "the recording does not have three getppid() events"
  GOTO=1
fi

plain_gdb goto '
break reverse_demo.c:54
continue
continue
continue
echo ==before==\n
print i
monitor checkpoint
echo ==end==\n
delete
starti '"$GOTO"'
echo ==goto==\n
bt
frame function main
print i
monitor when
echo ==end==\n
starti c1
echo ==restart==\n
print i
bt 1
monitor when
echo ==end==\n
python
for c in ["starti 99999", "starti 12x"]:
    try:
        gdb.execute(c)
    except gdb.error as e:
        print("refused[%s]: %s" % (c, e))
end
set args
starti
echo ==start==\n
monitor when
echo ==end==\n
set args
break report
run
echo ==run==\n
bt 1
echo ==end==\n
python
for c in ["set var counter=1", "print counter=2", "call square(3)", "set $rax=1"]:
    try:
        gdb.execute(c)
    except gdb.error as e:
        print("refused[%s]: %s" % (c, e))
end
'
OUT=$WORK/goto.gdb.out
expect_in before '^\$1 = 2$'
expect_in goto '^\$2 = 0$'
expect_in goto '^#0  .*getppid \(\)'
reject goto '\?\? \(\)'
expect_in goto '^#1  [0-9a-fx ]*(in )?main \(\) at .*reverse_demo.c:54'
expect_in goto "Current event: $GOTO "
expect_in restart '^\$3 = 2$'
expect_in restart 'main \(\) at .*reverse_demo.c:54'
# gdb 13 says only that the run failed; the reason is on rrx's stderr.
expect goto 'refused\[starti 99999\]: Running the default executable on the remote target failed'
expect goto '^rrx: event 99999 is not in this recording'
expect goto '^rrx: usage: run \[EVENT \| cCHECKPOINT\]'
expect_in start 'Current event: 1 '
expect_in run '^#0  report \(v=-1\) at .*reverse_demo.c'
# gdb 13 shows the reply's text for register writes; for memory writes it
# only says "Cannot access memory", and rrx's terminal gets the reason.
expect goto 'refused\[set \$rax=1\]: Could not write register "rax"; remote failure reply .E\.rrx: a replay cannot change the program.s registers'
expect goto 'refused\[set var counter=1\]: Cannot access memory at address'
expect goto 'refused\[call square\(3\)\]'
expect goto '^rrx: a replay cannot change the program.s memory'
reject goto 'Remote connection closed|Remote communication error|internal error'

gdb_finish
