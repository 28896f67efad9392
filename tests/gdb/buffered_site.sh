#!/usr/bin/env bash
# gdb over calls the fast path buffered (the default recording mode): at a
# stop inside a buffered call (catch syscall's entry and return, a
# watchpoint on what it wrote), gdb sees the program at its own syscall
# instruction, as with -n: the libc wrapper as frame 0 with its arguments,
# its caller and main above it; finish returns to the caller with the
# result; stepi from the entry completes the call; reverse-stepi lands on
# the syscall instruction (the program's code, not the patch's jump), from
# before the call and from after it (not on the library's last
# instruction);
# catch syscall reports the program's calls only (not the library's own
# fstat of the fd before it buffers a read). The same session is run on a
# trace recorded with -n, and the outputs must say the same.
source "$(dirname "$0")/lib/gdb_common.sh"

printf 'abcdefghijklmnopqrstuvwxyz' >"$WORK/input.txt"
SCRIPT='
break main
continue
delete
catch syscall read fstat newfstatat
echo ==entry1==\n
continue
bt
echo ==end==\n
continue
echo ==entry2==\n
continue
bt
echo ==end==\n
echo ==return2==\n
continue
bt
print $rax
print data
echo ==end==\n
delete
echo ==finish==\n
finish
echo ==end==\n
catch syscall read
echo ==entry3==\n
continue
echo ==end==\n
echo ==back==\n
reverse-stepi
x/i $pc
echo ==end==\n
echo ==stepi==\n
stepi
print $rax
bt 2
echo ==end==\n
echo ==stepback==\n
reverse-stepi
x/i $pc
bt 2
stepi
print $rax
print ($eflags & 0x100) == 0
echo ==end==\n
delete
watch -l data[14]
echo ==watch==\n
reverse-continue
bt 3
echo ==end==\n
echo ==watch-forward==\n
continue
bt 3
echo ==end==\n
delete
echo ==done==\n
continue
echo ==end==\n
'
for mode in fast ptrace; do
  args=""
  [[ $mode == ptrace ]] && args="-n"
  RRX_E2E_RECORD_ARGS="${RRX_E2E_RECORD_ARGS:-} $args" gdb_record "$mode" -- "$RRX_TEST_PROGRAMS/buffered_read" "$WORK/input.txt"
  gdb_run "$mode" "$SCRIPT"
  OUT=$WORK/$mode.gdb.out
  echo "-- $mode"
  # The first read at the site (traced, before the patch), then the next
  # (buffered): no fstat of the library's own is caught on the way.
  expect_in entry1 'Catchpoint 2 \(call to syscall read\).* (__GI___libc_read|read) \(fd=[0-9]+, buf=0x[0-9a-f]+ <data>, nbytes=4\)'
  expect_in entry1 '^#1 +0x[0-9a-f]+ in load \(fd=[0-9]+, to=0x[0-9a-f]+ <data> "", n=4\) at .*buffered_read.c:12'
  expect_in entry1 '^#2 +0x[0-9a-f]+ in main \('
  expect_in entry2 'Catchpoint 2 \(call to syscall read\).* (__GI___libc_read|read) \(fd=[0-9]+, buf=0x[0-9a-f]+ <data\+4>, nbytes=8\)'
  expect_in entry2 '^#1 +0x[0-9a-f]+ in load \(fd=[0-9]+, to=0x[0-9a-f]+ <data\+4> "", n=8\) at .*buffered_read.c:12'
  expect_in entry2 '^#2 +0x[0-9a-f]+ in main \('
  expect_in return2 'Catchpoint 2 \(returned from syscall read\)'
  expect_in return2 '^#1 +0x[0-9a-f]+ in load \('
  expect_in return2 '^\$1 = 8$'
  expect_in return2 '^\$2 = "abcdefghijkl", .*'
  expect_in finish 'load \(fd=[0-9]+, to=0x[0-9a-f]+ <data\+4> "efghijkl", n=8\) at .*buffered_read.c:12'
  expect_in finish '^Value returned is \$3 = 8$'
  expect_in entry3 'Catchpoint 3 \(call to syscall read\).*nbytes=8\)'
  expect_in back '=> 0x[0-9a-f]+ <[^>]*>:[[:space:]]+syscall'
  expect_in stepi '^\$4 = 8$'
  expect_in stepi '^#1 +0x[0-9a-f]+ in load \('
  # Back over the completed call: its syscall instruction again (not the
  # library's last instruction, which ran last), and forwards over it again.
  expect_in stepback '=> 0x[0-9a-f]+ <[^>]*>:[[:space:]]+syscall'
  expect_in stepback '^#1 +0x[0-9a-f]+ in load \('
  expect_in stepback '^\$5 = 8$'
  # (No trap flag of the steps left in the program's flags: the hook's pushfq saved it.)
  expect_in stepback '^\$6 = 1$'
  expect_in watch 'Old value = 111 .o.'
  expect_in watch 'New value = 0 '
  expect_in watch '^#0 .* (__GI___libc_read|read) \(fd=[0-9]+, buf=0x[0-9a-f]+ <data\+12>, nbytes=8\)'
  expect_in watch '^#1 +0x[0-9a-f]+ in load \('
  expect_in watch-forward 'New value = 111 .o.'
  expect_in watch-forward '^#1 +0x[0-9a-f]+ in load \('
  expect_in done 'got 20: abcdefghijklmnopqrst'
done
gdb_finish
