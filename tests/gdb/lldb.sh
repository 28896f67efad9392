#!/usr/bin/env bash
# lldb on `rrx replay -s PORT` (lldb's `gdb-remote PORT`): breakpoints by
# name and by file:line, bt, register read, memory read, memory region,
# frame variable, step/next, continue, thread list in a multi-threaded
# program, the recorded exit, and a refused write: lldb (14) prints only
# "Failed to write register", so rrx's reason is on its stderr and in the
# error reply ("E01;HEXTEXT" once lldb sent QEnableErrorStrings), which
# `process plugin packet send` shows.
source "$(dirname "$0")/lib/gdb_common.sh"
if ! command -v lldb >/dev/null; then
  echo "lldb is not installed (scripts/setup.sh installs it): skipped"
  exit 77
fi

gdb_record demo -- "$RRX_TEST_PROGRAMS/gdb_demo"
gdb_record threads -- "$RRX_TEST_PROGRAMS/mt_gdb_threads"

# lldb_session NAME TRACE EXE COMMANDS: serves TRACE, runs lldb in batch
# mode on EXE, connects and runs COMMANDS (one a line; a failing command
# does not stop the rest). Output in $WORK/NAME.gdb.out, rrx's stderr
# after a line "==rrx==".
lldb_session() {
  local name=$1 trace=$2 exe=$3 commands=$4 port="" rc=0
  serve_stub "$name" "$trace" || return
  local serve_pid=$SERVE_PID port=$SERVE_PORT
  printf 'gdb-remote %s\n%s\n' "$port" "$commands" >"$WORK/$name.lldb"
  timeout "$GDB_TIMEOUT" lldb --no-lldbinit -b -o 'settings set interpreter.stop-command-source-on-error false' \
    -o 'settings set auto-confirm true' \
    -s "$WORK/$name.lldb" "$exe" >"$WORK/$name.gdb.out" 2>&1 </dev/null || rc=$?
  [[ $rc == 124 ]] && fail "$name: lldb timed out"
  for _ in $(seq 100); do
    kill -0 "$serve_pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$serve_pid" 2>/dev/null; then
    fail "$name: rrx replay -s did not end after lldb left"
    kill "$serve_pid" 2>/dev/null || true
  fi
  wait "$serve_pid" || true
  { echo "==rrx=="; cat "$WORK/$name.serve.err"; } >>"$WORK/$name.gdb.out"
}

# The lines of $WORK/NAME.gdb.out from the command "(lldb) CMD" to the next command.
after() { awk -v c="(lldb) $2" 'index($0, c) == 1 {on = 1; print; next} /^\(lldb\) / {on = 0} on' "$WORK/$1.gdb.out"; }
# expect_after NAME CMD REGEX: what CMD printed matches REGEX.
expect_after() {
  CHECKS=$((CHECKS + 1))
  local printed
  printed=$(after "$1" "$2")
  if grep -Eq -- "$3" <<<"$printed"; then
    echo "ok:   $1: $2: /$3/"
  else
    fail "$1: '$2' printed no match for /$3/"
    sed 's/^/  | /' "$WORK/$1.gdb.out" | grep -v 'ymm\|xmm\|st[0-7] =' | head -150
  fi
}

lldb_session demo "$WORK/demo.trace" "$RRX_TEST_PROGRAMS/gdb_demo" '
breakpoint set -n square
breakpoint set -f gdb_demo.c -l 31
continue
continue
bt
register read rip
register read rdi
register read
memory read --format x --size 4 --count 2 &origin
memory read --format x --size 1 --count 4 &origin
memory region $pc
memory region $sp
memory region 0x1000
frame variable
next
next
frame variable r
thread list
register write rax 5
process plugin packet send P0=0500000000000000
memory write --size 4 &global_counter 9
expression global_counter
breakpoint delete 2
continue
frame variable v
breakpoint delete
continue
continue'
expect demo 'Process [0-9]+ stopped'
expect_after demo 'breakpoint set -n square' "Breakpoint 1: where = gdb_demo\`square \+ [0-9]+ at gdb_demo.c:15"
expect_after demo 'breakpoint set -f gdb_demo.c -l 31' "Breakpoint 2: where = gdb_demo\`main \+ [0-9]+ at gdb_demo.c:31"
# The first continue: main's breakpoint; the second: square's.
CHECKS=$((CHECKS + 1))
if grep -Eq 'stop reason = breakpoint 2\.1' "$WORK/demo.gdb.out" && grep -Eq "gdb_demo\`main at gdb_demo.c:31" "$WORK/demo.gdb.out"; then
  echo "ok:   demo: stopped at the file:line breakpoint in main"
else
  fail "demo: no stop at gdb_demo.c:31"
fi
expect_after demo 'bt' "frame #0: 0x[0-9a-f]+ gdb_demo\`square\(v=1\) at gdb_demo.c:15"
expect_after demo 'bt' "frame #1: 0x[0-9a-f]+ gdb_demo\`sum_squares\(n=4\) at gdb_demo.c:23"
expect_after demo 'bt' "frame #2: 0x[0-9a-f]+ gdb_demo\`main at gdb_demo.c:31"
expect_after demo 'bt' "libc.so.6\`__libc_start"
expect_after demo 'register read rip' "rip = 0x0000555555[0-9a-f]+ +gdb_demo\`square \+ [0-9]+ at gdb_demo.c:15"
expect_after demo 'register read rdi' "rdi = 0x0000000000000001$"
expect_after demo 'register read' "orig_rax = 0x"
expect_after demo 'register read' "fs_base = 0x00007ffff7"
expect_after demo 'memory read --format x --size 4' ": 0x00000001 0x00000002$"
expect_after demo 'memory read --format x --size 1' ": 0x01 0x00 0x00 0x00$"
expect_after demo 'memory region $pc' '^\[0x0000555555555000-0x0000555555556000\) r-x'
expect_after demo 'memory region $sp' '^\[0x00007ffffff[0-9a-f]+-0x00007ffffffff000\) rw- \[stack\]'
# (Up to the program's first mapping, or the fast path's pages: the rrx page
# at 0x70000000, or the early set-up's below it, core/syscallbuf_abi.h.)
expect_after demo 'memory region 0x1000' '^\[0x0000000000000000-0x0000(555555554000|000070000000|00006fefb000)\) ---'
expect_after demo 'frame variable' '^\(int\) v = 1$'
expect_after demo 'next' "square\(v=1\) at gdb_demo.c:16"
expect_after demo 'frame variable r' '^\(int\) r = 1$'
expect_after demo 'thread list' "thread #1: tid = [0-9]+, 0x[0-9a-f]+ gdb_demo\`square\(v=1\) at gdb_demo.c:17"
expect_after demo 'register write rax 5' "Failed to write register 'rax'"
expect_after demo 'memory write' 'error: Memory write to 0x[0-9a-f]+ failed'
expect_after demo 'expression global_counter' '\(int\) \$[0-9]+ = 1$'
# The refusal's reason: in the reply lldb gets, and on rrx's stderr.
CHECKS=$((CHECKS + 1))
reply=$(after demo 'process plugin packet send' | grep -o 'response: E01;[0-9a-f]*' | cut -d';' -f2 || true)
reason=$(printf '%s' "$reply" | xxd -r -p 2>/dev/null || true)
if [[ $reason == "rrx: a replay cannot change the program's registers"* ]]; then
  echo "ok:   demo: the error reply to P carries rrx's reason: $reason"
else
  fail "demo: the error reply to P does not carry rrx's reason (got '$reply')"
  after demo 'process plugin packet send' | sed 's/^/  | /'
fi
CHECKS=$((CHECKS + 1))
if sed -n '/^==rrx==$/,$p' "$WORK/demo.gdb.out" | grep -q "rrx: a replay cannot change the program's registers" &&
  sed -n '/^==rrx==$/,$p' "$WORK/demo.gdb.out" | grep -q "rrx: a replay cannot change the program's memory"; then
  echo "ok:   demo: rrx's stderr explains the refused register and memory writes"
else
  fail "demo: rrx's stderr does not explain the refused writes"
  sed -n '/^==rrx==$/,$p' "$WORK/demo.gdb.out" | sed 's/^/  | /'
fi
expect_after demo 'frame variable v' '^\(int\) v = 2$'
expect demo 'Process [0-9]+ exited with status = 2'
reject demo 'internal error|divergence|Assertion'

lldb_session threads "$WORK/threads.trace" "$RRX_TEST_PROGRAMS/mt_gdb_threads" '
breakpoint set -n worker
continue
thread list
thread backtrace all
continue
thread list
thread select 1
bt
breakpoint delete
continue
continue'
expect_after threads 'continue' "stop reason = breakpoint 1\.1"
expect_after threads 'thread list' '^\* thread #[23]: tid = [0-9]+, 0x[0-9a-f]+ mt_gdb_threads`worker\(arg=0x[0-9a-f]+\) at mt_gdb_threads.c:20:[0-9]+, stop reason = breakpoint 1\.1'
expect_after threads 'thread list' '^  thread #1: tid = [0-9]+, 0x[0-9a-f]+ libc.so.6`'
CHECKS=$((CHECKS + 1))
if [[ $(after threads 'thread list' | sed -n '3,5p' | grep -c '^[* ] thread #[123]: tid = ') == 3 ]]; then
  echo "ok:   threads: thread list shows the three threads"
else
  fail "threads: thread list does not show three threads"
  after threads 'thread list' | sed 's/^/  | /'
fi
expect_after threads 'thread backtrace all' "mt_gdb_threads\`main at mt_gdb_threads.c:[0-9]+"
expect_after threads 'bt' "mt_gdb_threads\`main at mt_gdb_threads.c:[0-9]+"
expect threads 'Process [0-9]+ exited with status = 6'
reject threads 'internal error|divergence|Assertion'
gdb_finish
