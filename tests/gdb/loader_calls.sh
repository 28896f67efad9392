#!/usr/bin/env bash
# gdb over the dynamic loader's calls, which the fast path buffers from the
# syscall buffer's early set-up on (before the preload library's
# constructor: record/preload_early.h): catch syscall stops at the loader's
# openat of libc with ld.so's frames above it; stepi completes the call,
# reverse-stepi comes back to its syscall instruction; a watchpoint on what
# the loader's fstat of libc wrote is found by reverse-continue at that
# call's syscall instruction, and by continue after it. The same session on
# a trace recorded without the early set-up, and with -n (every call
# traced), says the same.
source "$(dirname "$0")/lib/gdb_common.sh"

SCRIPT='
catch syscall openat
condition 1 $_regex((char*)$rsi, ".*/libc\\.so\\.6$")
continue
echo ==entry==\n
x/s $rsi
bt 3
echo ==end==\n
delete 1
echo ==stepi==\n
stepi
print $rax >= 0
reverse-stepi
x/i $pc
stepi
echo ==end==\n
catch syscall newfstatat fstat
continue
set $st = (long*)$rdx
stepi
delete
echo ==size==\n
print $st[6] > 100000
echo ==end==\n
watch -l $st[6]
echo ==back==\n
reverse-continue
x/i $pc
bt 3
echo ==end==\n
echo ==forward==\n
continue
print $st[6] > 100000
echo ==end==\n
delete
continue
'
for mode in early fast ptrace; do
  args=""
  [[ $mode == ptrace ]] && args="-n"
  early=0
  [[ $mode == early ]] && early=1  # (opt-in for now: bench/RESULTS-syscallbuf.md, stop 35)
  RRX_EARLY_SETUP=$early RRX_E2E_RECORD_ARGS="${RRX_E2E_RECORD_ARGS:-} $args" gdb_record "$mode" -- "$RRX_TEST_PROGRAMS/gdb_tiny"
  gdb_run "$mode" "$SCRIPT"
  OUT=$WORK/$mode.gdb.out
  echo "-- $mode"
  expect_in entry 'libc\.so\.6"$'
  expect_in entry '^#0 .*open'
  expect_in entry '^#[12] .*(open_verify|_dl_map_object)'
  expect_in stepi '^\$1 = 1$'
  expect_in stepi '=> 0x[0-9a-f]+ <[^>]*>:[[:space:]]+syscall'
  expect_in size '^\$2 = 1$'
  expect_in back 'Old value = '
  expect_in back '=> 0x[0-9a-f]+ <[^>]*>:[[:space:]]+syscall'
  expect_in back '^#[01] .*fstatat'
  expect_in forward 'New value = '
  expect_in forward '^\$3 = 1$'
done
gdb_finish
