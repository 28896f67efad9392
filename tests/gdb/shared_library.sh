#!/usr/bin/env bash
# Breakpoints in shared libraries going backwards when the checkpoint the
# reverse search replays from was taken before the library was mapped:
# short traces (under 10,000 events: the only checkpoint is at _start) and a
# multi-threaded program (no checkpoints but the start). The replay puts
# gdb's breakpoints into a library as it maps it (mmap, mprotect, exec...):
# break write + reverse-continue stops in write with its caller below it;
# reverse-next over printf stays in main; reverse-finish out of __cxa_throw
# after catch throw goes back to the throw; break nanosleep +
# reverse-continue in a threaded program stops in a worker.
source "$(dirname "$0")/lib/gdb_common.sh"

section() { sed -n "/^==$2==\$/,/^==end==\$/p" "$WORK/$1.gdb.out"; }
expect_in() {  # expect_in NAME SECTION REGEX
  CHECKS=$((CHECKS + 1))
  if section "$1" "$2" | grep -qE "$3"; then
    echo "ok:   $1: $2: /$3/"
  else
    fail "$1: $2: no match for /$3/"
    sed 's/^/  | /' "$WORK/$1.gdb.out" | head -120
  fi
}

# "No more reverse-execution history" once: at the end of the recording
# (where gdb is held before the exit), never at the start.
history_ends_once() {  # history_ends_once NAME
  CHECKS=$((CHECKS + 1))
  local n
  n=$(grep -c 'No more reverse-execution history' "$WORK/$1.gdb.out" || true)
  if [[ $n == 1 ]] && grep -q 'rrx: the end of the recording' "$WORK/$1.gdb.out"; then
    echo "ok:   $1: no reverse move ran back to the start"
  else
    fail "$1: 'No more reverse-execution history' $n times (expected once, at the end)"
    sed 's/^/  | /' "$WORK/$1.gdb.out" | head -120
  fi
}

# libc: write() and printf() called from main.
gdb_record lib -- "$RRX_TEST_PROGRAMS/gdb_libcalls"
gdb_run lib '
break gdb_libcalls.c:20
continue
break write
reverse-continue
echo ==write==\n
bt 2
monitor when
echo ==end==\n
delete
break gdb_libcalls.c:17
reverse-continue
echo ==line17==\n
bt 1
echo ==end==\n
delete
reverse-next
echo ==reverse-next==\n
bt 1
print counter
monitor when
echo ==end==\n
break write
continue
echo ==write-forward==\n
bt 2
echo ==end==\n
'
expect_in lib write '^#0  .*write \('
expect_in lib write '^#1  .*say \(s=.*\) at .*gdb_libcalls.c:12'
reject lib 'No more reverse-execution history'
expect_in lib line17 '^#0  main \(\) at .*gdb_libcalls.c:17'
expect_in lib reverse-next '^#0  main \(\) at .*gdb_libcalls.c:16'
expect_in lib reverse-next '^\$[0-9]+ = 1$'
reject lib 'Current event: 1 '
# Forward again from there: the next write is printf's (through fflush).
expect_in lib write-forward '^#0  .*write \('
reject lib 'reverse execution failed|cannot find that position again|Remote connection closed'

# libstdc++: catch throw, then reverse-finish out of __cxa_throw.
gdb_record throw -- "$RRX_TEST_PROGRAMS/gdb_throw"
gdb_run throw '
catch throw
continue
echo ==throw==\n
bt 2
echo ==end==\n
reverse-finish
echo ==reverse-finish==\n
bt 1
print x
echo ==end==\n
delete
continue
continue
'
expect_in throw throw '__cxa_throw'
expect_in throw throw '^#1  .*check \(x=2\) at .*gdb_throw.cpp:11'
expect_in throw reverse-finish '^#0  .*check \(x=2\) at .*gdb_throw.cpp:11'
expect_in throw reverse-finish '^\$[0-9]+ = 2$'
reject throw '_dl_debug_state'
history_ends_once throw
expect throw "caught 'too big' at 2"
expect throw 'exited normally'
reject throw 'reverse execution failed|cannot find that position again|Remote connection closed'

# Threads: the only checkpoint is at _start; the last nanosleep is a worker's.
gdb_record mt -- "$RRX_TEST_PROGRAMS/mt_gdb_threads"
gdb_run mt '
break mt_gdb_threads.c:40
continue
break nanosleep
reverse-continue
echo ==nanosleep==\n
bt 2
print iterations
echo ==end==\n
delete
continue
continue
'
expect mt 'Thread [0-9]+ "mt_gdb_threads" hit Breakpoint 2, .*nanosleep'
expect_in mt nanosleep '^#1  .*worker \(arg=0x[01]\) at .*mt_gdb_threads.c:24'
expect_in mt nanosleep '^\$[0-9]+ = \{3, 3\}$'
history_ends_once mt
expect mt 'exited with code 06'
reject mt 'reverse execution failed|cannot find that position again|Remote connection closed'

gdb_finish
