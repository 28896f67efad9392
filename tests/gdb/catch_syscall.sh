#!/usr/bin/env bash
# gdb's catch syscall on a replay (QCatchSyscalls, syscall_entry/
# syscall_return stops): a list of syscalls, one, or all; forwards, and
# backwards (reverse-continue stops at the previous caught entry or return,
# reverse-stepi from an entry lands on the syscall instruction, stepi from
# one runs the syscall); with gdb in batch mode and through gdb's MI.
source "$(dirname "$0")/lib/gdb_common.sh"

gdb_record rev -- "$RRX_TEST_PROGRAMS/reverse_demo"

# reverse_demo: receive() makes pipe, write(17 bytes), read, close, close;
# then three getppid() in main's loop; then printf's write (at exit: stdout is a file).
gdb_run rev '
break receive
continue
delete
catch syscall read close
echo ==read-entry==\n
continue
bt
echo ==end==\n
echo ==read-return==\n
continue
print $rax
echo ==end==\n
echo ==close-entry==\n
continue
echo ==end==\n
delete
catch syscall write
echo ==write-return==\n
reverse-continue
bt
print $rax
echo ==end==\n
echo ==write-entry==\n
reverse-continue
bt
echo ==end==\n
reverse-stepi
echo ==insn==\n
x/i $pc
echo ==end==\n
echo ==write-entry-again==\n
continue
bt 2
echo ==end==\n
echo ==stepi-entry==\n
stepi
print $rax
echo ==end==\n
echo ==report-write==\n
continue
bt
echo ==end==\n
echo ==report-return==\n
continue
echo ==end==\n
reverse-continue
reverse-continue
echo ==back-to-pipe-write==\n
reverse-continue
bt 2
echo ==end==\n
echo ==none-before==\n
reverse-continue
echo ==end==\n
'
OUT=$WORK/rev.gdb.out
expect_in read-entry 'Catchpoint 2 \(call to syscall read\)'
expect_in read-entry '^#[0-9]+ +0x[0-9a-f]+ in receive \(\)'
expect_in read-return 'Catchpoint 2 \(returned from syscall read\)'
expect_in read-return '^\$1 = 17$'
expect_in close-entry 'Catchpoint 2 \(call to syscall close\)'
expect_in write-return 'Catchpoint 3 \(returned from syscall write\)'
expect_in write-return '^#[0-9]+ +0x[0-9a-f]+ in receive \(\)'
expect_in write-return '^\$2 = 17$'
expect_in write-entry 'Catchpoint 3 \(call to syscall write\)'
expect_in write-entry '^#[0-9]+ +0x[0-9a-f]+ in receive \(\)'
expect_in insn '=> 0x[0-9a-f]+ <[^>]*>:[[:space:]]+syscall'
expect_in write-entry-again 'Catchpoint 3 \(call to syscall write\)'
expect_in write-entry-again '^#1 +0x[0-9a-f]+ in receive \(\)'
# stepi from an entry runs the syscall: its result is there, and no return stop.
expect_in stepi-entry '^\$3 = 17$'
CHECKS=$((CHECKS + 1))
if section stepi-entry | grep -q Catchpoint; then
  fail "stepi from a syscall entry stopped at a catchpoint"
else
  echo "ok:   stepi-entry: no catchpoint stop on the way"
fi
expect_in report-write 'Catchpoint 3 \(call to syscall write\)'
expect_in report-write 'in __GI___libc_write \(fd=1, buf=0x[0-9a-f]+, nbytes=52\)'
expect_in report-return 'Catchpoint 3 \(returned from syscall write\)'
expect_in back-to-pipe-write 'Catchpoint 3 \(call to syscall write\)'
expect_in back-to-pipe-write '^#1 +0x[0-9a-f]+ in receive \(\)'
# Nothing before it but the loader's syscalls, no write: the start.
expect_in none-before 'No more reverse-execution history'

gdb_run rev '
catch syscall getppid
echo ==g-entry==\n
continue
up
print i
echo ==end==\n
echo ==g-return==\n
continue
up
print i
echo ==end==\n
continue
echo ==g-rev==\n
reverse-continue
up
print i
echo ==end==\n
delete
catch syscall
echo ==all==\n
continue
bt
frame function main
print i
echo ==end==\n
echo ==all-return==\n
continue
echo ==end==\n
delete
continue
continue
' "$WORK/loop.gdb.out"
OUT=$WORK/loop.gdb.out
expect_in g-entry 'Catchpoint 1 \(call to syscall getppid\)'
expect_in g-entry '^\$1 = 0$'
expect_in g-return 'Catchpoint 1 \(returned from syscall getppid\)'
expect_in g-return '^\$2 = 0$'
expect_in g-rev 'Catchpoint 1 \(returned from syscall getppid\)'
expect_in g-rev '^\$3 = 0$'
expect_in all 'Catchpoint 2 \(call to syscall getppid\)'
expect_in all '^\$4 = 1$'
expect_in all-return 'Catchpoint 2 \(returned from syscall getppid\)'
expect loop 'exited with code 01'

# Through gdb's MI: the pipe write's entry and return, the report's write,
# then backwards to the pipe write's return.
cat >"$WORK/mi.cmds" <<'MI'
-interpreter-exec console "catch syscall write"
-exec-continue
-exec-continue
-exec-continue
-exec-continue --reverse
-stack-list-frames
-exec-continue --reverse
MI
timeout "$GDB_TIMEOUT" python3 "$(dirname "$0")/lib/mi_session.py" "$WORK/mi.cmds" "$RRX" replay "$WORK/rev.trace" \
  >"$WORK/mi.gdb.out" 2>&1 </dev/null || fail "the MI session did not complete"
OUT=$WORK/mi.gdb.out
stopped='^\*stopped,reason="syscall-'
mi_expect -exec-continue 1 "${stopped}entry\",disp=\"keep\",bkptno=\"1\",syscall-number=\"1\",syscall-name=\"write\".*nbytes\",value=\"17\""
mi_expect -exec-continue 2 "${stopped}return\",disp=\"keep\",bkptno=\"1\",syscall-number=\"1\",syscall-name=\"write\""
mi_expect -exec-continue 3 "${stopped}entry\",.*syscall-name=\"write\".*value=\"52\""
mi_expect '-exec-continue --reverse' 1 "${stopped}return\",.*syscall-name=\"write\".*value=\"17\""
mi_expect -stack-list-frames 1 'func="receive"'
mi_expect '-exec-continue --reverse' 2 "${stopped}entry\",.*syscall-name=\"write\".*value=\"17\""
gdb_finish
