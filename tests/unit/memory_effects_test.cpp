// The memory effects of syscalls, one test per family (issue 11): which user
// memory each call writes according to the syscall table's output ranges,
// with a fake tracee where a handler reads memory or asks the kernel.
#include <catch2/catch.hpp>

#include <errno.h>
#include <linux/capability.h>
#include <linux/futex.h>
#include <linux/kd.h>
#include <linux/serial.h>
#include <linux/vt.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#include "syscall_test_util.h"

namespace {

Replay policy(int64_t nr, std::initializer_list<uint64_t> args) {
  uint64_t a[6] = {};
  int i = 0;
  for (uint64_t v : args) a[i++] = v;
  return lookup(nr)->replay_policy(a);
}

int refusal(int64_t nr, std::initializer_list<uint64_t> args) {
  uint64_t a[6] = {};
  int i = 0;
  for (uint64_t v : args) a[i++] = v;
  const SyscallDesc* d = lookup(nr);
  return d->refuse_by_args ? d->refuse_by_args(a) : 0;
}

}  // namespace

TEST_CASE("memory effects: capget writes the header's version back") {
  FakeMem mem;
  // libcap's probe: an unknown version, NULL data: 0, and the kernel's preferred version in the header.
  uint32_t probe[2] = {_LINUX_CAPABILITY_VERSION_3, 0};  // as the header reads after the call
  mem.put(0x1000, probe, sizeof probe);
  CHECK(ranges(SYS_capget, {0x1000, 0}, 0, mem) == Ranges{{0x1000, 4}});
  CHECK(ranges(SYS_capget, {0x1000, 0x2000}, 0, mem) == Ranges{{0x1000, 4}, {0x2000, 2 * 12}});
  CHECK(ranges(SYS_capget, {0x1000, 0x2000}, -EINVAL, mem) == Ranges{{0x1000, 4}});
  uint32_t v1[2] = {_LINUX_CAPABILITY_VERSION_1, 0};
  mem.put(0x1000, v1, sizeof v1);
  CHECK(ranges(SYS_capget, {0x1000, 0x2000}, 0, mem) == Ranges{{0x1000, 4}, {0x2000, 12}});
  CHECK(ranges(SYS_capset, {0x1000, 0x2000}, 0, mem).empty());
}

TEST_CASE("memory effects: SysV semaphores and message queues") {
  for (int64_t nr : {SYS_semget, SYS_semop, SYS_semtimedop, SYS_semctl, SYS_msgget, SYS_msgsnd, SYS_msgrcv,
                     SYS_msgctl}) {
    INFO(syscall_name(nr));
    CHECK(lookup(nr)->replay == Replay::Emulate);
  }
  FakeMem mem;
  mem.semaphores[7] = 5;
  // GETALL: one unsigned short per semaphore of the set.
  CHECK(ranges(SYS_semctl, {7, 0, GETALL, 0x2000}, 0, mem) == Ranges{{0x2000, 10}});
  CHECK(ranges(SYS_semctl, {7, 0, GETALL | 0x100 /* IPC_64 */, 0x2000}, 0, mem) == Ranges{{0x2000, 10}});
  CHECK(ranges(SYS_semctl, {8, 0, GETALL, 0x2000}, 0, mem).empty());  // the set's size unknown: nothing
  CHECK(ranges(SYS_semctl, {7, 0, GETALL, 0x2000}, -EACCES, mem).empty());
  CHECK(ranges(SYS_semctl, {7, 0, IPC_STAT, 0x2000}, 0, mem) == Ranges{{0x2000, sizeof(struct semid_ds)}});
  CHECK(ranges(SYS_semctl, {0, 0, SEM_STAT, 0x2000}, 7, mem) == Ranges{{0x2000, sizeof(struct semid_ds)}});
  CHECK(ranges(SYS_semctl, {0, 0, 20 /* SEM_STAT_ANY */, 0x2000}, 7, mem) == Ranges{{0x2000, 104}});
  CHECK(ranges(SYS_semctl, {0, 0, IPC_INFO, 0x2000}, 3, mem) == Ranges{{0x2000, sizeof(struct seminfo)}});
  CHECK(ranges(SYS_semctl, {0, 0, SEM_INFO, 0x2000}, 3, mem) == Ranges{{0x2000, 40}});
  // Answers in the result, inputs: no memory.
  for (int cmd : {GETVAL, GETPID, GETNCNT, GETZCNT, SETVAL, SETALL, IPC_SET, IPC_RMID}) {
    INFO(cmd);
    CHECK(ranges(SYS_semctl, {7, 0, uint64_t(cmd), 0x2000}, 1, mem).empty());
  }
  CHECK(ranges(SYS_semop, {7, 0x1000, 2}, 0, mem).empty());
  CHECK(ranges(SYS_semtimedop, {7, 0x1000, 2, 0x3000}, 0, mem).empty());

  // msgrcv: the mtype and the text, as long as the result.
  CHECK(ranges(SYS_msgrcv, {3, 0x2000, 100, 0, 0}, 12, mem) == Ranges{{0x2000, 8 + 12}});
  CHECK(ranges(SYS_msgrcv, {3, 0x2000, 100, 0, 0}, -ENOMSG, mem).empty());
  CHECK(ranges(SYS_msgctl, {3, IPC_STAT, 0x2000}, 0, mem) == Ranges{{0x2000, sizeof(struct msqid_ds)}});
  CHECK(ranges(SYS_msgctl, {3, MSG_INFO, 0x2000}, 1, mem) == Ranges{{0x2000, sizeof(struct msginfo)}});
  CHECK(ranges(SYS_msgctl, {3, IPC_RMID, 0}, 0, mem).empty());
  CHECK(ranges(SYS_msgsnd, {3, 0x2000, 12, 0}, 0, mem).empty());
}

TEST_CASE("memory effects: futex ops that write the futex words") {
  CHECK(ranges(SYS_futex, {0x1000, FUTEX_WAIT_PRIVATE, 2, 0, 0, 0}, 0).empty());
  CHECK(ranges(SYS_futex, {0x1000, FUTEX_WAKE_PRIVATE, 1, 0, 0, 0}, 1).empty());
  CHECK(ranges(SYS_futex, {0x1000, FUTEX_REQUEUE_PRIVATE, 1, 1, 0x3000, 0}, 1).empty());
  CHECK(ranges(SYS_futex, {0x1000, FUTEX_CMP_REQUEUE_PRIVATE, 1, 1, 0x3000, 0}, 1).empty());
  // WAKE_OP: the atomic operation on the second word.
  CHECK(ranges(SYS_futex, {0x1000, FUTEX_WAKE_OP, 1, 1, 0x3000, 0}, 0) == Ranges{{0x3000, 4}});
  CHECK(ranges(SYS_futex, {0x1000, FUTEX_WAKE_OP_PRIVATE, 1, 1, 0x3000, 0}, 1) == Ranges{{0x3000, 4}});
  // PI futexes: the owner's tid and FUTEX_WAITERS in the word.
  for (uint64_t op : {FUTEX_LOCK_PI, FUTEX_UNLOCK_PI, FUTEX_TRYLOCK_PI, 13 /* FUTEX_LOCK_PI2 */}) {
    INFO(op);
    CHECK(ranges(SYS_futex, {0x1000, op | FUTEX_PRIVATE_FLAG, 0, 0, 0, 0}, 0) == Ranges{{0x1000, 4}});
  }
  // Written also when a LOCK_PI times out or is interrupted: FUTEX_WAITERS stays set.
  CHECK(ranges(SYS_futex, {0x1000, FUTEX_LOCK_PI_PRIVATE, 0, 0x5000, 0, 0}, -ETIMEDOUT) == Ranges{{0x1000, 4}});
  CHECK(ranges(SYS_futex, {0x1000, FUTEX_LOCK_PI, 0, 0, 0, 0}, -EINTR) == Ranges{{0x1000, 4}});
  // Requeue to a PI futex: the kernel may take the lock at uaddr2 for a waiter.
  CHECK(ranges(SYS_futex, {0x1000, FUTEX_CMP_REQUEUE_PI, 1, 1, 0x3000, 0}, 1) ==
        Ranges{{0x3000, 4}, {0x1000, 4}});
  CHECK(ranges(SYS_futex, {0x1000, FUTEX_WAIT_REQUEUE_PI, 0, 0, 0x3000, 0}, 0) ==
        Ranges{{0x3000, 4}, {0x1000, 4}});
  // futex2: no PI, no writes.
  CHECK(ranges(454 /* futex_wake */, {0x1000, ~0ull, 1, 2}, 1).empty());
}

TEST_CASE("memory effects: ioctl serial and virtual terminal requests") {
  // Old-style request numbers carry no size: listed.
  CHECK(ranges(SYS_ioctl, {3, TIOCGICOUNT, 0x2000}, 0) == Ranges{{0x2000, sizeof(struct serial_icounter_struct)}});
  CHECK(ranges(SYS_ioctl, {3, TIOCGSERIAL, 0x2000}, 0) == Ranges{{0x2000, sizeof(struct serial_struct)}});
  CHECK(ranges(SYS_ioctl, {3, TIOCGRS485, 0x2000}, 0) == Ranges{{0x2000, 32}});
  CHECK(ranges(SYS_ioctl, {3, TIOCSERGETLSR, 0x2000}, 0) == Ranges{{0x2000, 4}});
  CHECK(ranges(SYS_ioctl, {3, TIOCLINUX, 0x2000}, 0) == Ranges{{0x2000, 1}});
  CHECK(ranges(SYS_ioctl, {3, VT_GETMODE, 0x2000}, 0) == Ranges{{0x2000, sizeof(struct vt_mode)}});
  CHECK(ranges(SYS_ioctl, {3, VT_GETSTATE, 0x2000}, 0) == Ranges{{0x2000, sizeof(struct vt_stat)}});
  CHECK(ranges(SYS_ioctl, {3, VT_OPENQRY, 0x2000}, 0) == Ranges{{0x2000, 4}});
  CHECK(ranges(SYS_ioctl, {3, KDGETMODE, 0x2000}, 0) == Ranges{{0x2000, 4}});
  CHECK(ranges(SYS_ioctl, {3, KDGKBTYPE, 0x2000}, 0) == Ranges{{0x2000, 1}});
  CHECK(ranges(SYS_ioctl, {3, KDGKBMODE, 0x2000}, 0) == Ranges{{0x2000, 4}});
  CHECK(ranges(SYS_ioctl, {3, KDGKBENT, 0x2000}, 0) == Ranges{{0x2000, sizeof(struct kbentry)}});
  CHECK(ranges(SYS_ioctl, {3, KDGKBSENT, 0x2000}, 0) == Ranges{{0x2000, sizeof(struct kbsentry)}});
  CHECK(ranges(SYS_ioctl, {3, KDGKBDIACR, 0x2000}, 0) == Ranges{{0x2000, sizeof(struct kbdiacrs)}});
  CHECK(ranges(SYS_ioctl, {3, GIO_FONT, 0x2000}, 0) == Ranges{{0x2000, 8192}});
  CHECK(ranges(SYS_ioctl, {3, GIO_SCRNMAP, 0x2000}, 0) == Ranges{{0x2000, E_TABSZ}});
  CHECK(ranges(SYS_ioctl, {3, GIO_CMAP, 0x2000}, 0) == Ranges{{0x2000, 48}});
  // Failed: nothing written (no tty, ENOTTY; no console, EINVAL).
  CHECK(ranges(SYS_ioctl, {3, VT_GETMODE, 0x2000}, -ENOTTY).empty());
  // The requests that set: nothing written.
  for (uint64_t req : {VT_SETMODE, VT_ACTIVATE, VT_WAITACTIVE, KDSETMODE, KDSKBMODE, PIO_FONT, TIOCSSERIAL}) {
    INFO(req);
    CHECK(ranges(SYS_ioctl, {3, req, 0x2000}, 0).empty());
  }

  // KDFONTOP GET: the struct written back, and charcount glyphs of 32 rows.
  FakeMem mem;
  struct console_font_op op {};
  op.op = KD_FONT_OP_GET;
  op.width = 8;
  op.height = 16;
  op.charcount = 256;
  op.data = reinterpret_cast<unsigned char*>(0x10000);
  mem.put_value(0x2000, op);
  CHECK(ranges(SYS_ioctl, {3, KDFONTOP, 0x2000}, 0, mem) == Ranges{{0x2000, 32}, {0x10000, 256 * 32}});
  op.op = KD_FONT_OP_SET;
  mem.put_value(0x2000, op);
  CHECK(ranges(SYS_ioctl, {3, KDFONTOP, 0x2000}, 0, mem).empty());
  // GIO_UNIMAP: the count written back and that many unipairs.
  struct unimapdesc ud {};
  ud.entry_ct = 3;
  ud.entries = reinterpret_cast<struct unipair*>(0x30000);
  mem.put_value(0x4000, ud);
  CHECK(ranges(SYS_ioctl, {3, GIO_UNIMAP, 0x4000}, 0, mem) == Ranges{{0x4000, 16}, {0x30000, 12}});
}

TEST_CASE("memory effects: madvise and process_madvise") {
  // Executed on replay, except REMOVE (a shared backing replay does not have).
  CHECK(policy(SYS_madvise, {0x10000, 4096, MADV_DONTNEED}) == Replay::Execute);
  CHECK(policy(SYS_madvise, {0x10000, 4096, MADV_WIPEONFORK}) == Replay::Execute);
  CHECK(policy(SYS_madvise, {0x10000, 4096, MADV_DONTFORK}) == Replay::Execute);
  CHECK(policy(SYS_madvise, {0x10000, 4096, MADV_REMOVE}) == Replay::Emulate);
  // MADV_FREE frees pages at a time rrx cannot see: refused with EINVAL.
  CHECK(refusal(SYS_madvise, {0x10000, 4096, MADV_FREE}) == EINVAL);
  CHECK(refusal(SYS_madvise, {0x10000, 4096, MADV_DONTNEED}) == 0);
  CHECK(refusal(SYS_process_madvise, {3, 0x1000, 1, MADV_FREE, 0}) == EINVAL);
  CHECK(refusal(SYS_process_madvise, {3, 0x1000, 1, MADV_COLD, 0}) == 0);
  CHECK(lookup(SYS_read)->refuse_by_args == nullptr);

  FakeMem mem;
  // Private anonymous memory: zeros on replay too, nothing recorded.
  CHECK(ranges(SYS_madvise, {0x10000, 3 * 4096, MADV_DONTNEED}, 0, mem).empty());
  // A file mapping in the range: what it reads again after the call.
  mem.backed = {{0x11000, 0x1000}, {0x20000, 0x5000}};
  CHECK(ranges(SYS_madvise, {0x10000, 3 * 4096, MADV_DONTNEED}, 0, mem) == Ranges{{0x11000, 0x1000}});
  CHECK(ranges(SYS_madvise, {0x10000, 0x11000, 24 /* MADV_DONTNEED_LOCKED */}, 0, mem) ==
        Ranges{{0x11000, 0x1000}, {0x20000, 0x1000}});
  // The length is rounded up to pages, as the kernel does.
  CHECK(ranges(SYS_madvise, {0x10000, 0x1001, MADV_DONTNEED}, 0, mem) == Ranges{{0x11000, 0x1000}});
  // Hints change no contents.
  for (uint64_t advice : {MADV_NORMAL, MADV_WILLNEED, MADV_COLD, MADV_PAGEOUT, MADV_HUGEPAGE, MADV_WIPEONFORK}) {
    INFO(advice);
    CHECK(ranges(SYS_madvise, {0x10000, 0x20000, advice}, 0, mem).empty());
  }
  // REMOVE: the whole range as it reads after the call.
  CHECK(ranges(SYS_madvise, {0x20000, 0x1800, MADV_REMOVE}, 0, mem) == Ranges{{0x20000, 0x2000}});

  // process_madvise: emulated; advice that drops pages records the ranges it covered.
  struct iovec iov[2] = {{reinterpret_cast<void*>(0x40000), 0x2000}, {reinterpret_cast<void*>(0x50000), 0x1000}};
  mem.put(0x1000, iov, sizeof iov);
  CHECK(lookup(SYS_process_madvise)->replay == Replay::Emulate);
  CHECK(ranges(SYS_process_madvise, {3, 0x1000, 2, MADV_DONTNEED, 0}, 0x3000, mem) ==
        Ranges{{0x40000, 0x2000}, {0x50000, 0x1000}});
  CHECK(ranges(SYS_process_madvise, {3, 0x1000, 2, MADV_COLD, 0}, 0x3000, mem).empty());
}

TEST_CASE("memory effects: process_vm_readv/writev and /proc/PID/mem writes") {
  CHECK(lookup(SYS_process_vm_readv)->replay == Replay::Emulate);
  CHECK(lookup(SYS_process_vm_writev)->replay == Replay::Emulate);
  FakeMem mem;
  struct iovec local[2] = {{reinterpret_cast<void*>(0x2000), 8}, {reinterpret_cast<void*>(0x3000), 8}};
  struct iovec remote[2] = {{reinterpret_cast<void*>(0x7000), 4}, {reinterpret_cast<void*>(0x8000), 20}};
  mem.put(0x1000, local, sizeof local);
  mem.put(0x1100, remote, sizeof remote);
  // readv: the local iovecs, filled up to the result, in the caller's memory.
  CHECK(ranges(SYS_process_vm_readv, {4321, 0x1000, 2, 0x1100, 2, 0}, 12, mem) ==
        Ranges{{0x2000, 8}, {0x3000, 4}});
  // writev: the remote iovecs, up to the result, in process 4321.
  CHECK(ranges(SYS_process_vm_writev, {4321, 0x1000, 2, 0x1100, 2, 0}, 16, mem) ==
        Ranges{{0x7000, 4, 4321}, {0x8000, 12, 4321}});
  CHECK(ranges(SYS_process_vm_writev, {4321, 0x1000, 2, 0x1100, 2, 0}, -ESRCH, mem).empty());

  // write/pwrite64/writev/pwritev2 to /proc/4321/mem on fd 5: the bytes at the address the offset names.
  mem.mem_files[5] = {4321, 0x9010};  // the position after the write
  CHECK(ranges(SYS_write, {5, 0x2000, 16}, 16, mem) == Ranges{{0x9000, 16, 4321}});
  CHECK(ranges(SYS_writev, {5, 0x1000, 2}, 16, mem) == Ranges{{0x9000, 16, 4321}});
  CHECK(ranges(SYS_pwrite64, {5, 0x2000, 16, 0xa000}, 10, mem) == Ranges{{0xa000, 10, 4321}});
  CHECK(ranges(SYS_pwritev, {5, 0x1000, 2, 0xa000, 0}, 10, mem) == Ranges{{0xa000, 10, 4321}});
  CHECK(ranges(SYS_pwritev2, {5, 0x1000, 2, 0xa000, 0, 0}, 10, mem) == Ranges{{0xa000, 10, 4321}});
  CHECK(ranges(SYS_pwritev2, {5, 0x1000, 2, ~0ull, 0, 0}, 16, mem) == Ranges{{0x9000, 16, 4321}});
  CHECK(ranges(SYS_write, {5, 0x2000, 16}, -EIO, mem).empty());
  // Any other file: nothing written in memory.
  CHECK(ranges(SYS_write, {1, 0x2000, 16}, 16, mem).empty());
  CHECK(ranges(SYS_pwrite64, {6, 0x2000, 16, 0}, 16, mem).empty());
}

TEST_CASE("memory effects: file handles and keys") {
  FakeMem mem;
  uint32_t handle_bytes = 12;
  mem.put_value(0x2000, handle_bytes);
  CHECK(lookup(SYS_name_to_handle_at)->replay == Replay::Emulate);
  CHECK(ranges(SYS_name_to_handle_at, {uint64_t(-100), 0x1000, 0x2000, 0x3000, 0}, 0, mem) ==
        Ranges{{0x2000, 8 + 12}, {0x3000, 4}});
  CHECK(ranges(SYS_name_to_handle_at, {uint64_t(-100), 0x1000, 0x2000, 0x3000, 1 /* AT_HANDLE_MNT_ID_UNIQUE */}, 0,
               mem) == Ranges{{0x2000, 20}, {0x3000, 8}});
  // EOVERFLOW: the size needed, in the header.
  CHECK(ranges(SYS_name_to_handle_at, {uint64_t(-100), 0x1000, 0x2000, 0x3000, 0}, -EOVERFLOW, mem) ==
        Ranges{{0x2000, 8}, {0x3000, 4}});
  CHECK(ranges(SYS_name_to_handle_at, {uint64_t(-100), 0x1000, 0x2000, 0x3000, 0}, -ENOENT, mem).empty());

  CHECK(ranges(SYS_keyctl, {11 /* KEYCTL_READ */, 5, 0x2000, 64, 0}, 100) == Ranges{{0x2000, 64}});
  CHECK(ranges(SYS_keyctl, {24 /* KEYCTL_PKEY_QUERY */, 5, 0, 0x1000, 0x2000}, 0) == Ranges{{0x2000, 56}});
  CHECK(ranges(SYS_keyctl, {27 /* KEYCTL_PKEY_SIGN */, 0x1000, 0x1100, 0x1200, 0x2000}, 256) ==
        Ranges{{0x2000, 256}});
  CHECK(ranges(SYS_keyctl, {31 /* KEYCTL_CAPABILITIES */, 0x2000, 1}, 2) == Ranges{{0x2000, 1}});
}

TEST_CASE("memory effects: lengths written back on failure, quotas") {
  FakeMem mem;
  // getsockopt: the value up to the length written back; with ERANGE only the size needed.
  mem.put_value<uint32_t>(0x1800, 12);
  CHECK(ranges(SYS_getsockopt, {3, 1 /* SOL_SOCKET */, 59 /* SO_PEERGROUPS */, 0x1000, 0x1800}, 0, mem) ==
        Ranges{{0x1000, 12}, {0x1800, 4}});
  CHECK(ranges(SYS_getsockopt, {3, 1, 59, 0x1000, 0x1800}, -ERANGE, mem) == Ranges{{0x1800, 4}});
  CHECK(ranges(SYS_getsockopt, {3, 1, 59, 0x1000, 0x1800}, -EBADF, mem).empty());
  // sched_setattr: E2BIG writes the kernel's struct size into attr->size.
  CHECK(ranges(SYS_sched_setattr, {0, 0x2000, 0}, -E2BIG) == Ranges{{0x2000, 4}});
  CHECK(ranges(SYS_sched_setattr, {0, 0x2000, 0}, 0).empty());
  CHECK(ranges(SYS_sched_getattr, {0, 0x2000, 56, 0}, 0) == Ranges{{0x2000, 56}});
  // perf_event_open: E2BIG writes the kernel's size into attr->size, after the u32 type.
  CHECK(ranges(SYS_perf_event_open, {0x2000, 0, static_cast<uint64_t>(-1), static_cast<uint64_t>(-1), 0}, -E2BIG) ==
        Ranges{{0x2004, 4}});
  CHECK(ranges(SYS_perf_event_open, {0x2000, 0, static_cast<uint64_t>(-1), static_cast<uint64_t>(-1), 0}, 3).empty());
  CHECK(ranges(SYS_ioctl, {3, 0x80082407 /* PERF_EVENT_IOC_ID */, 0x3000}, 0) == Ranges{{0x3000, 8}});
  // quotactl: the GET sub-commands' structs (cmd = subcmd << 8 | type).
  CHECK(lookup(SYS_quotactl)->replay == Replay::Emulate);
  CHECK(ranges(SYS_quotactl, {0x80000700u /* QCMD(Q_GETQUOTA, USRQUOTA) */, 0x1000, 1000, 0x2000}, 0) ==
        Ranges{{0x2000, 72}});
  CHECK(ranges(SYS_quotactl, {0x80000501u /* QCMD(Q_GETINFO, GRPQUOTA) */, 0x1000, 0, 0x2000}, 0) ==
        Ranges{{0x2000, 24}});
  CHECK(ranges(SYS_quotactl, {0x80000400u /* Q_GETFMT */, 0x1000, 0, 0x2000}, 0) == Ranges{{0x2000, 4}});
  CHECK(ranges(SYS_quotactl, {0x80000800u /* Q_SETQUOTA */, 0x1000, 0, 0x2000}, 0).empty());
  CHECK(ranges(SYS_quotactl_fd, {3, 0x580302u /* QCMD(Q_XGETQUOTA, PRJQUOTA) */, 0, 0x2000}, 0) == Ranges{{0x2000, 112}});
}
