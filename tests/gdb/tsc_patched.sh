#!/usr/bin/env bash
# gdb on a replay whose rdtsc sites were patched (record/tsc_sites.h; forced
# with RRX_TSC_PATCH=1, the way machines where the rdtsc trap does not work
# record): gdb reads the rdtsc's own bytes at the site, not the hlt; stepi
# over it is one instruction and gives the recorded value; reverse-stepi
# goes back before it, and stepping it again gives the same value.
source "$(dirname "$0")/lib/gdb_common.sh"

P=$RRX_TEST_PROGRAMS/rdtsc
# The program's first rdtsc (in main), at the PIE base that rrx's
# ADDR_NO_RANDOMIZE gives.
off=$(objdump -d "$P" | awk '$NF == "rdtsc" && !found { sub(":", "", $1); print $1; found = 1 }')
addr=$(printf '0x%x' $((0x555555554000 + 0x$off)))
next=$(printf '0x%x' $((addr + 2)))

RRX_TSC_PATCH=1 gdb_record tsc_patched -- "$P"
gdb_run tsc_patched "
break *$addr
continue
x/2xb $addr
stepi
printf \"after: pc=%#lx\\n\", \$pc
set \$first = ((unsigned long)\$rdx << 32) | (\$rax & 0xffffffff)
reverse-stepi
printf \"back: pc=%#lx\\n\", \$pc
stepi
set \$again = ((unsigned long)\$rdx << 32) | (\$rax & 0xffffffff)
printf \"again: pc=%#lx same=%d\\n\", \$pc, \$first == \$again
delete
continue
"
expect tsc_patched ":[[:space:]]0x0f[[:space:]]0x31\$"
expect tsc_patched "^after: pc=$next\$"
expect tsc_patched "^back: pc=$addr\$"
expect tsc_patched "^again: pc=$next same=1\$"
expect tsc_patched 'monotonic: yes'
gdb_finish
