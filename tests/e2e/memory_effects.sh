#!/usr/bin/env bash
# Syscalls that write user memory replay must redo (issue 11): capget's
# header, SysV semaphores (semop blocking across processes, GETALL, IPC_STAT)
# and message queues, futex WAKE_OP and PI futex words, madvise dropping
# pages of anonymous, private file and shared memfd mappings (MADV_FREE is
# refused with EINVAL), process_vm_readv/writev and /proc/PID/mem writes
# between a parent and its child, lengths written back by failing calls
# (getsockopt ERANGE, sched_setattr E2BIG). Each part is recorded and
# replayed (twice and with every skip strategy), byte for byte.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

P=$(prog memory_effects)
rr_check capget --stdout-has "version now 0x20080522" -- "$P" capget
rr_check sem --stdout-has "IPC_STAT: nsems 3 mode 600" -- "$P" sem
rr_check msg --stdout-has 'type 7 "hello, queue"' -- "$P" msg
rr_check futex --stdout-has "second word 8" -- "$P" futex
rr_check madvise --stdout-has 'after DONTNEED: "file page one"' -- "$P" madvise
rr_check lengths --stdout-has "size now 56" -- "$P" lengths
rr_check vm --stdout-has 'child: g_buf "from the parent", g_buf2 "via /proc/PID/mem"' -- "$P" vm

# The remote writes are stored as the child's memory effect.
if [[ -f $WORK/vm.trace/trace ]]; then
  rrx_run "$WORK/vm.dump" dump "$WORK/vm.trace"
  check "vm: the trace holds process_vm_writev" grep -q 'process_vm_writev' "$WORK/vm.dump.out"
fi
rr_finish
