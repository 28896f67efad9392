#!/usr/bin/env bash
# Reverse execution over shared memory: shared anonymous memory changed
# step by step (shared_map anon-steps), and a MAP_SHARED file changed by
# pwrite, write and ftruncate (shared_map pwrite), and a memfd two processes
# write with buffered pwrite64 calls in turns, which the preload library
# makes itself on replay (shared_map pwrite-turns). Going back restores the
# replay's copy of the shared object from the checkpoint it starts from, so
# the mapping shows the bytes it held then, not the later ones.
source "$(dirname "$0")/lib/gdb_common.sh"

gdb_record shm -- "$RRX_TEST_PROGRAMS/shared_map" pwrite
gdb_record anon -- "$RRX_TEST_PROGRAMS/shared_map" anon-steps
gdb_record turns -- "$RRX_TEST_PROGRAMS/shared_map" pwrite-turns
export RRX_CHECKPOINT_INTERVAL=5

gdb_run shm '
break pwritev
continue
up
echo ==later==\n
x/s map + 100
x/s map + 300
echo ==end==\n
delete
break pread
reverse-continue
up
echo ==earlier==\n
x/s map + 100
x/s map + 4096
echo ==end==\n
delete
break pwritev
continue
up
echo ==later-again==\n
x/s map + 100
echo ==end==\n
'
# Shared anonymous memory is mapped for real, so a checkpoint's frozen copy
# shares it with the live process: its bytes are restored from the
# checkpoint too.
gdb_run anon '
break step_done if i == 5
continue
echo ==anon-later==\n
print mem[0]
echo ==end==\n
delete
break step_done if i == 2
reverse-continue
echo ==anon-earlier==\n
print mem[0]
echo ==end==\n
'
# pwrite64 to the memfd both processes map, buffered and made by the
# preload library on replay: going back to a turn in the middle restores
# the object's copy, and forward again the library's writes rebuild it.
gdb_run turns '
define turn_words
  up
  print map[0]
  print map[50]
  echo ==end==\n
end
break mode_pwrite_turns
continue
delete
break fstat
continue
echo ==turns-end==\n
turn_words
delete
break sched_yield
reverse-continue
echo ==turns-middle==\n
turn_words
delete
break fstat
continue
echo ==turns-again==\n
turn_words
'
OUT=$WORK/shm.gdb.out
# Before pwritev the file was cut to 100 bytes and grown again: zeros at 100.
expect_in later ':[[:space:]]+""'
expect_in earlier ':[[:space:]]+"written by pwrite"'
expect_in earlier ':[[:space:]]+"written by write"'
expect_in later-again ':[[:space:]]+""'
OUT=$WORK/turns.gdb.out
# The parent's last wait for its turn (597: the child's), before its last
# pwrite64 to slot 50 (598; 98 from round 49 until then).
expect_in turns-end '= 600$'
expect_in turns-end '= 598$'
expect_in turns-middle '= 597$'
expect_in turns-middle '= 98$'
expect_in turns-again '= 600$'
expect_in turns-again '= 598$'
OUT=$WORK/anon.gdb.out
expect_in anon-later '= 55$'
expect_in anon-earlier '= 22$'
gdb_finish
