#!/usr/bin/env bash
# gdb over calls recorded by the syscall buffer (rrx record --syscallbuf):
# a watchpoint on memory that a buffered clock_gettime wrote, found in
# reverse, and forward again to the same value.
source "$(dirname "$0")/lib/gdb_common.sh"

export RRX_E2E_RECORD_ARGS="${RRX_E2E_RECORD_ARGS:-} --syscallbuf"
gdb_record sb -- "$RRX_TEST_PROGRAMS/syscallbuf_watch"
gdb_run sb '
break syscallbuf_watch.c:14
continue
echo ==at-print==\n
print when.tv_nsec == 0
print $rrx_ns = when.tv_nsec
echo ==end==\n
watch -l when.tv_nsec
echo ==back==\n
reverse-continue
print when.tv_nsec
echo ==end==\n
echo ==forward==\n
continue
print when.tv_nsec == $rrx_ns
echo ==end==\n
'
OUT=$WORK/sb.gdb.out
expect_in at-print '^\$1 = 0$'
# Back to the buffered call's untraced syscall instruction in the rrx page
# (0x70000000), where the replay wrote the recorded result.
expect_in back 'Old value = [1-9]'
expect_in back 'New value = 0'
expect_in back '^0x0*70000000 in '
expect_in forward 'New value = [1-9]'
expect_in forward '^\$4 = 1$'

# A buffered call from a patched site (glibc's syscall(), patched at its first
# getppid): stopped at its untraced syscall instruction in the rrx page, gdb
# sees the program at the site's own syscall instruction (replay/site_view.h):
# the backtrace is syscall() and main, as without the fast path.
gdb_record sites -- "$RRX_TEST_PROGRAMS/site_patch"
gdb_run sites '
catch syscall getppid
continue
continue
continue
continue
continue
echo ==bt==\n
bt
echo ==end==\n
'
OUT=$WORK/sites.gdb.out
expect_in bt '^#0 +(0x[0-9a-f]+ in )?(syscall|__GI_syscall) \('
expect_in bt '^#1 +0x[0-9a-f]+ in main \(\) at .*site_patch.c'
gdb_finish
