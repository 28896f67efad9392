#!/usr/bin/env bash
# A program that crashed while recorded stops in gdb at the fault, with the
# recorded signal and siginfo, and the recording's end is its death.
source "$(dirname "$0")/lib/gdb_common.sh"

gdb_record segv -- "$RRX_TEST_PROGRAMS/segv"

gdb_run segv '
continue
bt 1
print $_siginfo.si_signo
print $_siginfo._sifields._sigfault.si_addr
continue
'
expect segv 'Program received signal SIGSEGV, Segmentation fault'
expect segv 'main \(\) at .*segv.c:9'
expect segv '^\$1 = 11$'
expect segv '^\$2 = \(void \*\) 0x0$'
expect segv 'Program terminated with signal SIGSEGV'
expect segv 'segv: about to write to NULL'

gdb_finish
