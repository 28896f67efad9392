#!/usr/bin/env bash
# gdb on a replay recorded with CPUID faulting: stepi over a cpuid
# instruction gives the recorded answer and lands after it; reverse-stepi
# goes back before it, and stepping it again gives the same answer. The
# program's cpuid is a patched site (record/cpuid_sites.h): gdb sees its
# bytes, breaks at it and steps over it as over the instruction itself
# (the stub's lookup, and the breakpoint set before the patch was applied,
# do not show).
source "$(dirname "$0")/lib/gdb_common.sh"

if ! grep -qw cpuid_fault /proc/cpuinfo; then
  echo "SKIP: this machine has no CPUID faulting"
  exit 77
fi
P=$RRX_TEST_PROGRAMS/rdrand_guarded
# The program's first cpuid (in __get_cpuid_max, leaf 0), at the PIE base
# that rrx's ADDR_NO_RANDOMIZE gives.
off=$(objdump -d "$P" | awk '$NF == "cpuid" && !found { sub(":", "", $1); print $1; found = 1 }')
addr=$(printf '0x%x' $((0x555555554000 + 0x$off)))
next=$(printf '0x%x' $((addr + 2)))
max_leaf=$(printf '0x%x' "$(grep -m1 'cpuid level' /proc/cpuinfo | awk '{print $NF}')")

gdb_record cpuid -- "$P"
gdb_run cpuid "
break *$addr
continue
stepi
printf \"after: pc=%#lx eax=%#x\\n\", \$pc, \$eax
reverse-stepi
printf \"back: pc=%#lx\\n\", \$pc
stepi
printf \"again: pc=%#lx eax=%#x\\n\", \$pc, \$eax
delete
continue
"
expect cpuid "^after: pc=$next eax=$max_leaf\$"
expect cpuid "^back: pc=$addr\$"
expect cpuid "^again: pc=$next eax=$max_leaf\$"
expect cpuid 'main: getrandom \(cpuid says no rdrand\)'
gdb_finish
