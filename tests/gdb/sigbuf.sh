#!/usr/bin/env bash
# gdb over signal handlers and masks set by buffered rt_sigaction and
# rt_sigprocmask calls (tests/programs/sigbuf.c, rrx record --syscallbuf):
# from a checkpoint after the first twenty rounds of them, forward to the
# sigaltstack handler; reverse-continue to the last set() (a buffered
# sigaction, from automatic checkpoints: fork copies made after the calls),
# `finish` over its sigaction and `next` over the raise: the handler really
# runs on the alternate stack in the replay; monitor restart to the
# checkpoint and forward again give the same values.
source "$(dirname "$0")/lib/gdb_common.sh"

export RRX_E2E_RECORD_ARGS="${RRX_E2E_RECORD_ARGS:-} --syscallbuf"
export RRX_CHECKPOINT_INTERVAL=20
gdb_record sig -- "$RRX_TEST_PROGRAMS/sigbuf"
SRC=$RRX_SOURCE_DIR/tests/programs/sigbuf.c
ROUNDS=$(grep -n '// gdb: rounds done' "$SRC" | cut -d: -f1)
ALTSTACK=$(grep -n '// gdb: after the altstack handler' "$SRC" | cut -d: -f1)
gdb_run sig "
break sigbuf.c:$ROUNDS
continue
monitor checkpoint
echo ==cp==\n
print hits[10]
echo ==end==\n
break sigbuf.c:$ALTSTACK
continue
echo ==fwd==\n
print hits[10]
print hits[12]
print on_alt
echo ==end==\n
delete
break set
reverse-continue
echo ==rc==\n
bt 1
print sig
print flags
echo ==end==\n
delete
finish
echo ==finish==\n
print hits[12]
echo ==end==\n
next
next
echo ==next==\n
print hits[12]
print on_alt
echo ==end==\n
monitor restart 1
maint flush register-cache
echo ==restarted==\n
print hits[10]
echo ==end==\n
break sigbuf.c:$ALTSTACK
continue
echo ==fwd2==\n
print hits[10]
print hits[12]
print on_alt
echo ==end==\n
"
OUT=$WORK/sig.gdb.out
expect_in cp '^\$1 = 0$'
expect_in fwd '^\$2 = 5$'
expect_in fwd '^\$3 = 1$'
expect_in fwd '^\$4 = 1$'
expect_in rc '^#0 +set \(sig=12'
expect_in rc '^\$6 = 134217728$'
expect_in finish '^\$7 = 0$'
expect_in next '^\$8 = 1$'
expect_in next '^\$9 = 1$'
expect_in restarted '^\$10 = 0$'
expect_in fwd2 '^\$11 = 5$'
expect_in fwd2 '^\$12 = 1$'
expect_in fwd2 '^\$13 = 1$'
gdb_finish
