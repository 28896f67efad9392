// Tests of the x86-64 syscall table (rows, policies, output ranges) and of
// its strace-style formatter.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <linux/futex.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <time.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#include <cstring>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/syscall_format.h"
#include "core/syscall_table.h"
#include "syscall_test_util.h"

using namespace rrx::sys;

TEST_CASE("syscall_table: rows are sorted, unique and named by the kernel's numbers") {
  auto rows = table();
  REQUIRE(rows.size() > 300);
  std::set<std::string> names;
  for (size_t i = 0; i < rows.size(); ++i) {
    const SyscallDesc& d = rows[i];
    if (i > 0) CHECK(rows[i - 1].nr < d.nr);
    CHECK(d.name == syscall_name(d.nr));
    CHECK(syscall_number(d.name) == d.nr);
    CHECK(names.insert(d.name).second);
    CHECK(lookup(d.nr) == &d);
    for (const OutMem& o : d.out) {
      if (o.size == SizeFrom::None) continue;
      INFO(d.name);
      CHECK(o.arg >= 0);
      CHECK(o.arg < d.arg_count());
    }
  }
  CHECK(lookup(-1) == nullptr);
  CHECK(lookup(100000) == nullptr);
}

TEST_CASE("syscall_table: names and numbers match <sys/syscall.h>") {
  int checked = 0;
#define S(n)                                  \
  CHECK(syscall_name(SYS_##n) == #n);         \
  CHECK(syscall_number(#n) == SYS_##n);       \
  CHECK(lookup(SYS_##n) != nullptr);          \
  if (lookup(SYS_##n)) CHECK(std::string(lookup(SYS_##n)->name) == #n); \
  ++checked;
    S(read) S(write) S(open) S(close) S(stat) S(fstat) S(lstat) S(poll) S(lseek) S(mmap) S(mprotect) S(munmap) 
    S(brk) S(rt_sigaction) S(rt_sigprocmask) S(rt_sigreturn) S(ioctl) S(pread64) S(pwrite64) S(readv) S(writev) 
    S(access) S(pipe) S(select) S(sched_yield) S(mremap) S(msync) S(mincore) S(madvise) S(shmget) S(shmat) 
    S(shmctl) S(dup) S(dup2) S(pause) S(nanosleep) S(getitimer) S(alarm) S(setitimer) S(getpid) S(sendfile) 
    S(socket) S(connect) S(accept) S(sendto) S(recvfrom) S(sendmsg) S(recvmsg) S(shutdown) S(bind) S(listen) 
    S(getsockname) S(getpeername) S(socketpair) S(setsockopt) S(getsockopt) S(clone) S(fork) S(vfork) S(execve) 
    S(exit) S(wait4) S(kill) S(uname) S(semget) S(semop) S(semctl) S(shmdt) S(msgget) S(msgsnd) S(msgrcv) 
    S(msgctl) S(fcntl) S(flock) S(fsync) S(fdatasync) S(truncate) S(ftruncate) S(getdents) S(getcwd) S(chdir) 
    S(fchdir) S(rename) S(mkdir) S(rmdir) S(creat) S(link) S(unlink) S(symlink) S(readlink) S(chmod) S(fchmod) 
    S(chown) S(fchown) S(lchown) S(umask) S(gettimeofday) S(getrlimit) S(getrusage) S(sysinfo) S(times) S(ptrace) 
    S(getuid) S(syslog) S(getgid) S(setuid) S(setgid) S(geteuid) S(getegid) S(setpgid) S(getppid) S(getpgrp) 
    S(setsid) S(setreuid) S(setregid) S(getgroups) S(setgroups) S(setresuid) S(getresuid) S(setresgid) 
    S(getresgid) S(getpgid) S(setfsuid) S(setfsgid) S(getsid) S(capget) S(capset) S(rt_sigpending) 
    S(rt_sigtimedwait) S(rt_sigqueueinfo) S(rt_sigsuspend) S(sigaltstack) S(utime) S(mknod) S(uselib) 
    S(personality) S(ustat) S(statfs) S(fstatfs) S(sysfs) S(getpriority) S(setpriority) S(sched_setparam) 
    S(sched_getparam) S(sched_setscheduler) S(sched_getscheduler) S(sched_get_priority_max) 
    S(sched_get_priority_min) S(sched_rr_get_interval) S(mlock) S(munlock) S(mlockall) S(munlockall) S(vhangup) 
    S(modify_ldt) S(pivot_root) S(_sysctl) S(prctl) S(arch_prctl) S(adjtimex) S(setrlimit) S(chroot) S(sync) 
    S(acct) S(settimeofday) S(mount) S(umount2) S(swapon) S(swapoff) S(reboot) S(sethostname) S(setdomainname) 
    S(iopl) S(ioperm) S(create_module) S(init_module) S(delete_module) S(get_kernel_syms) S(query_module) 
    S(quotactl) S(nfsservctl) S(getpmsg) S(putpmsg) S(afs_syscall) S(tuxcall) S(security) S(gettid) S(readahead) 
    S(setxattr) S(lsetxattr) S(fsetxattr) S(getxattr) S(lgetxattr) S(fgetxattr) S(listxattr) S(llistxattr) 
    S(flistxattr) S(removexattr) S(lremovexattr) S(fremovexattr) S(tkill) S(time) S(futex) S(sched_setaffinity) 
    S(sched_getaffinity) S(set_thread_area) S(io_setup) S(io_destroy) S(io_getevents) S(io_submit) S(io_cancel) 
    S(get_thread_area) S(lookup_dcookie) S(epoll_create) S(epoll_ctl_old) S(epoll_wait_old) S(remap_file_pages) 
    S(getdents64) S(set_tid_address) S(restart_syscall) S(semtimedop) S(fadvise64) S(timer_create) 
    S(timer_settime) S(timer_gettime) S(timer_getoverrun) S(timer_delete) S(clock_settime) S(clock_gettime) 
    S(clock_getres) S(clock_nanosleep) S(exit_group) S(epoll_wait) S(epoll_ctl) S(tgkill) S(utimes) S(vserver) 
    S(mbind) S(set_mempolicy) S(get_mempolicy) S(mq_open) S(mq_unlink) S(mq_timedsend) S(mq_timedreceive) 
    S(mq_notify) S(mq_getsetattr) S(kexec_load) S(waitid) S(add_key) S(request_key) S(keyctl) S(ioprio_set) 
    S(ioprio_get) S(inotify_init) S(inotify_add_watch) S(inotify_rm_watch) S(migrate_pages) S(openat) S(mkdirat) 
    S(mknodat) S(fchownat) S(futimesat) S(newfstatat) S(unlinkat) S(renameat) S(linkat) S(symlinkat) 
    S(readlinkat) S(fchmodat) S(faccessat) S(pselect6) S(ppoll) S(unshare) S(set_robust_list) S(get_robust_list) 
    S(splice) S(tee) S(sync_file_range) S(vmsplice) S(move_pages) S(utimensat) S(epoll_pwait) S(signalfd) 
    S(timerfd_create) S(eventfd) S(fallocate) S(timerfd_settime) S(timerfd_gettime) S(accept4) S(signalfd4) 
    S(eventfd2) S(epoll_create1) S(dup3) S(pipe2) S(inotify_init1) S(preadv) S(pwritev) S(rt_tgsigqueueinfo) 
    S(perf_event_open) S(recvmmsg) S(fanotify_init) S(fanotify_mark) S(prlimit64) S(name_to_handle_at) 
    S(open_by_handle_at) S(clock_adjtime) S(syncfs) S(sendmmsg) S(setns) S(getcpu) S(process_vm_readv) 
    S(process_vm_writev) S(kcmp) S(finit_module) S(sched_setattr) S(sched_getattr) S(renameat2) S(seccomp) 
    S(getrandom) S(memfd_create) S(kexec_file_load) S(bpf) S(execveat) S(userfaultfd) S(membarrier) S(mlock2) 
    S(copy_file_range) S(preadv2) S(pwritev2) S(pkey_mprotect) S(pkey_alloc) S(pkey_free) S(statx) 
    S(io_pgetevents) S(rseq) S(pidfd_send_signal) S(io_uring_setup) S(io_uring_enter) S(io_uring_register) 
    S(open_tree) S(move_mount) S(fsopen) S(fsconfig) S(fsmount) S(fspick) S(pidfd_open) S(clone3) S(close_range) 
    S(openat2) S(pidfd_getfd) S(faccessat2) S(process_madvise) S(epoll_pwait2) S(mount_setattr) S(quotactl_fd) 
    S(landlock_create_ruleset) S(landlock_add_rule) S(landlock_restrict_self) S(memfd_secret) S(process_mrelease) 
    S(futex_waitv) S(set_mempolicy_home_node)
#undef S
  CHECK(checked > 350);
  // Newer than these headers.
  CHECK(syscall_name(451) == "cachestat");
  CHECK(syscall_name(462) == "mseal");
  CHECK(syscall_name(466) == "removexattrat");
  CHECK(syscall_number("file_setattr") == 469);
  // Unused numbers.
  CHECK(syscall_name(335) == "syscall_335");
  CHECK(syscall_name(423) == "syscall_423");
  CHECK(syscall_name(-5) == "syscall_-5");
  CHECK(syscall_number("syscall_335") == 335);
  CHECK(syscall_number("no_such_call") == -1);
  CHECK(lookup(335) == nullptr);
  CHECK(lookup(400) == nullptr);
  CHECK(lookup(423) == nullptr);
}

TEST_CASE("syscall_table: replay policies") {
  auto policy = [](int64_t nr) { return lookup(nr)->replay; };
  auto special = [](int64_t nr) { return lookup(nr)->special; };
  auto flags = [](int64_t nr) { return lookup(nr)->flags; };

  for (int64_t nr : {SYS_read, SYS_write, SYS_openat, SYS_close, SYS_fstat, SYS_newfstatat, SYS_statx,
                     SYS_ioctl, SYS_fcntl, SYS_poll, SYS_epoll_wait, SYS_nanosleep, SYS_clock_nanosleep,
                     SYS_getrandom, SYS_uname, SYS_prlimit64, SYS_getpid, SYS_gettid, SYS_kill, SYS_tgkill,
                     SYS_futex, SYS_umask, SYS_chdir, SYS_getcwd, SYS_pipe2,
                     SYS_socketpair, SYS_eventfd2, SYS_memfd_create, SYS_personality, SYS_capget,
                     SYS_setitimer, SYS_alarm, SYS_membarrier, SYS_pause, SYS_rt_sigsuspend,
                     SYS_rt_sigtimedwait, SYS_clock_gettime, SYS_socket, SYS_mincore}) {
    INFO(syscall_name(nr));
    CHECK(policy(nr) == Replay::Emulate);
    CHECK(special(nr) == Special::None);
  }
  for (int64_t nr : {SYS_mmap, SYS_munmap, SYS_mprotect, SYS_mremap, SYS_brk, SYS_madvise, SYS_mlock,
                     SYS_munlock, SYS_mlockall, SYS_munlockall, SYS_msync, SYS_arch_prctl, SYS_rt_sigaction,
                     SYS_rt_sigprocmask, SYS_sigaltstack, SYS_rt_sigreturn, SYS_set_robust_list,
                     SYS_sched_yield, SYS_clone, SYS_clone3, SYS_fork, SYS_vfork, SYS_execve, SYS_execveat,
                     SYS_exit, SYS_exit_group}) {
    INFO(syscall_name(nr));
    CHECK(policy(nr) == Replay::Execute);
  }
  // wait4/waitid are emulated, and answered by the ptrace emulation for a tracer (ptrace_row_test.cpp).
  CHECK(policy(SYS_wait4) == Replay::Emulate);
  CHECK(special(SYS_wait4) == Special::Wait);
  // prctl is emulated; PR_GET_TSC/PR_SET_TSC answer the recorder's emulated TSC mode.
  CHECK(policy(SYS_prctl) == Replay::Emulate);
  CHECK(special(SYS_prctl) == Special::Prctl);
  // What the recorder's signal-state tracking reads (record/signal_state.h).
  CHECK((flags(SYS_rt_sigaction) & kSetsSigaction) != 0);
  CHECK((flags(SYS_rt_sigprocmask) & kSetsSigmask) != 0);
  CHECK((flags(SYS_rt_sigreturn) & kSetsSigmask) != 0);
  CHECK(lookup(SYS_rt_sigsuspend)->temp_sigmask.arg == 0);
  CHECK(lookup(SYS_ppoll)->temp_sigmask.arg == 3);
  CHECK(lookup(SYS_pselect6)->temp_sigmask.arg == 5);
  CHECK(lookup(SYS_pselect6)->temp_sigmask.indirect);
  CHECK(lookup(SYS_epoll_pwait)->temp_sigmask.arg == 4);
  CHECK(lookup(SYS_epoll_pwait2)->temp_sigmask.arg == 4);
  CHECK(lookup(SYS_read)->temp_sigmask.arg == -1);
  CHECK(special(SYS_mmap) == Special::Mmap);
  for (int64_t nr : {SYS_clone, SYS_clone3, SYS_fork, SYS_vfork}) CHECK(special(nr) == Special::Clone);
  CHECK(special(SYS_execve) == Special::Execve);
  CHECK(special(SYS_execveat) == Special::Execve);
  CHECK(special(SYS_exit) == Special::Exit);
  CHECK(special(SYS_exit_group) == Special::Exit);
  CHECK(policy(SYS_set_tid_address) == Replay::ExecuteInject);
  CHECK(policy(SYS_rseq) == Replay::Emulate);
  CHECK(special(SYS_rseq) == Special::Rseq);
  CHECK(special(SYS_shmat) == Special::ShmAttach);
  CHECK(special(SYS_shmdt) == Special::ShmDetach);
  for (int64_t nr : {SYS_shmget, SYS_shmat, SYS_shmdt, SYS_shmctl}) {
    INFO(syscall_name(nr));
    CHECK(policy(nr) == Replay::Emulate);
  }
  for (int64_t nr : {SYS_io_uring_setup, SYS_io_uring_enter, SYS_io_uring_register, SYS_userfaultfd,
                     SYS_bpf, SYS_kexec_load,
                     SYS_init_module, SYS_io_setup, SYS_io_submit}) {
    INFO(syscall_name(nr));
    CHECK(policy(nr) == Replay::Unsupported);
  }
  // Namespaces are recorded, never made on replay (replay/namespaces_replay.h);
  // perf counters are read with read(), recorded like any input.
  for (int64_t nr : {SYS_unshare, SYS_setns, SYS_perf_event_open}) {
    INFO(syscall_name(nr));
    CHECK(policy(nr) == Replay::Emulate);
  }
  for (int64_t nr : {SYS_read, SYS_readv, SYS_pread64, SYS_recvfrom, SYS_recvmsg, SYS_accept, SYS_accept4,
                     SYS_connect, SYS_futex, SYS_wait4, SYS_waitid, SYS_poll, SYS_ppoll, SYS_select,
                     SYS_pselect6, SYS_epoll_wait, SYS_epoll_pwait, SYS_epoll_pwait2, SYS_nanosleep,
                     SYS_clock_nanosleep, SYS_pause, SYS_rt_sigsuspend, SYS_rt_sigtimedwait, SYS_flock,
                     SYS_fcntl, SYS_msgrcv, SYS_write, SYS_sendto, SYS_sendmsg}) {
    INFO(syscall_name(nr));
    CHECK((flags(nr) & kMayBlock) != 0);
  }
  CHECK((flags(SYS_getpid) & kMayBlock) == 0);
  CHECK((flags(SYS_mmap) & kMayBlock) == 0);
  CHECK((flags(SYS_nanosleep) & kOutOnError) != 0);
  CHECK((flags(SYS_clock_nanosleep) & kOutOnError) != 0);
  CHECK((flags(SYS_read) & kOutOnError) == 0);
  // What changes the mappings (the replay's breakpoints follow it): every
  // call that maps, unmaps, moves or replaces pages, and no other.
  for (int64_t nr : {SYS_mmap, SYS_munmap, SYS_mremap, SYS_mprotect, SYS_pkey_mprotect, SYS_madvise, SYS_brk,
                     SYS_shmat, SYS_shmdt, SYS_execve, SYS_execveat, SYS_remap_file_pages}) {
    INFO(syscall_name(nr));
    CHECK((flags(nr) & kMapsMemory) != 0);
  }
  size_t mapping_rows = 0;
  for (const SyscallDesc& d : table()) mapping_rows += (d.flags & kMapsMemory) != 0;
  CHECK(mapping_rows == 12);

  // Argument kinds used for display and comparison.
  const SyscallDesc* openat = lookup(SYS_openat);
  CHECK(openat->arg_count() == 4);
  CHECK(openat->args[0] == Arg::DirFd);
  CHECK(openat->args[1] == Arg::Path);
  CHECK(openat->args[2] == Arg::OpenFlags);
  CHECK(openat->args[3] == Arg::Mode);
  CHECK(lookup(SYS_mmap)->args[2] == Arg::ProtFlags);
  CHECK(lookup(SYS_mmap)->args[3] == Arg::MapFlags);
  CHECK(lookup(SYS_getcpu)->args[2] == Arg::Ignored);
  CHECK(lookup(SYS_getpid)->arg_count() == 0);
}

TEST_CASE("syscall_table: output ranges of read and stat-like calls") {
  CHECK(ranges(SYS_read, {3, 0x1000, 832}, 832) == Ranges{{0x1000, 832}});
  CHECK(ranges(SYS_read, {3, 0x1000, 832}, 10) == Ranges{{0x1000, 10}});
  CHECK(ranges(SYS_read, {3, 0x1000, 832}, 0).empty());
  CHECK(ranges(SYS_read, {3, 0x1000, 832}, -2).empty());    // ENOENT
  CHECK(ranges(SYS_read, {3, 0x1000, 832}, -512).empty());  // ERESTARTSYS
  CHECK(ranges(SYS_pread64, {3, 0x1000, 64, 0}, 64) == Ranges{{0x1000, 64}});
  // recvfrom with MSG_TRUNC returns the datagram's length: capped at the buffer.
  CHECK(ranges(SYS_recvfrom, {3, 0x1000, 16, MSG_TRUNC, 0, 0}, 100) == Ranges{{0x1000, 16}});
  CHECK(ranges(SYS_fstat, {3, 0x2000}, 0) == Ranges{{0x2000, sizeof(struct stat)}});
  CHECK(ranges(SYS_fstat, {3, 0x2000}, -9).empty());
  CHECK(ranges(SYS_newfstatat, {uint64_t(-100), 0x3000, 0x2000, 0}, 0) == Ranges{{0x2000, 144}});
  CHECK(ranges(SYS_statx, {uint64_t(-100), 0x3000, 0, 0xfff, 0x2000}, 0) == Ranges{{0x2000, 256}});
  CHECK(ranges(SYS_uname, {0x2000}, 0) == Ranges{{0x2000, 390}});
  CHECK(ranges(SYS_pipe2, {0x2000, O_CLOEXEC}, 0) == Ranges{{0x2000, 8}});
  CHECK(ranges(SYS_getcwd, {0x2000, 4096}, 6) == Ranges{{0x2000, 6}});
  CHECK(ranges(SYS_getrandom, {0x2000, 16, 0}, 16) == Ranges{{0x2000, 16}});
  CHECK(ranges(SYS_clock_gettime, {1, 0x2000}, 0) == Ranges{{0x2000, 16}});
  CHECK(ranges(SYS_gettimeofday, {0x2000, 0}, 0) == Ranges{{0x2000, 16}});  // NULL tz skipped
  CHECK(ranges(SYS_time, {0}, 1700000000).empty());
  CHECK(ranges(SYS_rt_sigaction, {SIGINT, 0x1000, 0x2000, 8}, 0) == Ranges{{0x2000, 32}});
  CHECK(ranges(SYS_rt_sigprocmask, {SIG_BLOCK, 0x1000, 0x2000, 8}, 0) == Ranges{{0x2000, 8}});
  CHECK(ranges(SYS_prlimit64, {0, RLIMIT_NOFILE, 0, 0x2000}, 0) == Ranges{{0x2000, 16}});
  CHECK(ranges(SYS_epoll_wait, {5, 0x2000, 8, 100}, 3) == Ranges{{0x2000, 36}});
  CHECK(ranges(SYS_wait4, {uint64_t(-1), 0x2000, 0, 0}, 1234) == Ranges{{0x2000, 4}});
  CHECK(ranges(SYS_getgroups, {0, 0}, 5).empty());
  CHECK(ranges(SYS_getgroups, {32, 0x2000}, 5) == Ranges{{0x2000, 20}});
  CHECK(ranges(SYS_mincore, {0x10000, 3 * 4096 + 1, 0x2000}, 0) == Ranges{{0x2000, 4}});
  // nanosleep writes the remaining time only when interrupted.
  CHECK(ranges(SYS_nanosleep, {0x1000, 0x2000}, -4) == Ranges{{0x2000, 16}});
  CHECK(ranges(SYS_clock_nanosleep, {1, 0, 0x1000, 0x2000}, -516) == Ranges{{0x2000, 16}});
}

TEST_CASE("syscall_table: iovec walk") {
  FakeMem mem;
  struct iovec iov[3] = {{reinterpret_cast<void*>(0x2000), 10},
                         {reinterpret_cast<void*>(0x3000), 20},
                         {reinterpret_cast<void*>(0x4000), 30}};
  mem.put(0x1000, iov, sizeof iov);
  CHECK(ranges(SYS_readv, {3, 0x1000, 3}, 25, mem) == Ranges{{0x2000, 10}, {0x3000, 15}});
  CHECK(ranges(SYS_readv, {3, 0x1000, 3}, 60, mem) == Ranges{{0x2000, 10}, {0x3000, 20}, {0x4000, 30}});
  CHECK(ranges(SYS_readv, {3, 0x1000, 3}, 0, mem).empty());
  CHECK(ranges(SYS_readv, {3, 0x1000, 3}, -11, mem).empty());
  CHECK(ranges(SYS_preadv, {3, 0x1000, 3, 0, 0}, 12, mem) == Ranges{{0x2000, 10}, {0x3000, 2}});
  CHECK(ranges(SYS_preadv2, {3, 0x1000, 2, 0, 0, 0}, 100, mem) == Ranges{{0x2000, 10}, {0x3000, 20}});
  // A count beyond the readable array: what is known, no throw.
  CHECK(ranges(SYS_readv, {3, 0x1000, 5}, 1000, mem) == Ranges{{0x2000, 10}, {0x3000, 20}, {0x4000, 30}});
  CHECK(ranges(SYS_readv, {3, 0x9000, 2}, 10, mem).empty());
}

TEST_CASE("syscall_table: recvmsg msghdr walk") {
  FakeMem mem;
  struct iovec iov[2] = {{reinterpret_cast<void*>(0x2000), 8}, {reinterpret_cast<void*>(0x3000), 100}};
  mem.put(0x1100, iov, sizeof iov);
  struct msghdr m {};
  m.msg_name = reinterpret_cast<void*>(0x5000);
  m.msg_namelen = 16;  // as written back by the kernel
  m.msg_iov = reinterpret_cast<struct iovec*>(0x1100);
  m.msg_iovlen = 2;
  m.msg_control = reinterpret_cast<void*>(0x6000);
  m.msg_controllen = 24;
  mem.put_value(0x1000, m);
  CHECK(ranges(SYS_recvmsg, {3, 0x1000, 0}, 50, mem) ==
        Ranges{{0x1000, sizeof(struct msghdr)}, {0x5000, 16}, {0x2000, 8}, {0x3000, 42}, {0x6000, 24}});
  CHECK(ranges(SYS_recvmsg, {3, 0x1000, 0}, -11, mem).empty());

  // No name, no control: only the header and the data.
  m.msg_name = nullptr;
  m.msg_namelen = 0;
  m.msg_control = nullptr;
  m.msg_controllen = 0;
  mem.put_value(0x1000, m);
  CHECK(ranges(SYS_recvmsg, {3, 0x1000, 0}, 4, mem) == Ranges{{0x1000, 56}, {0x2000, 4}});

  // An unreadable msghdr: the header range is known, nothing else.
  CHECK(ranges(SYS_recvmsg, {3, 0x8000, 0}, 4, mem) == Ranges{{0x8000, 56}});

  // recvmmsg: each entry with msg_len, its buffers, and the msg_len field.
  struct mmsghdr mm[2] {};
  mm[0].msg_hdr.msg_iov = reinterpret_cast<struct iovec*>(0x1100);
  mm[0].msg_hdr.msg_iovlen = 1;
  mm[0].msg_len = 5;
  mm[1].msg_hdr.msg_iov = reinterpret_cast<struct iovec*>(0x1100);
  mm[1].msg_hdr.msg_iovlen = 2;
  mm[1].msg_len = 9;
  mem.put(0x7000, mm, sizeof mm);
  CHECK(ranges(SYS_recvmmsg, {3, 0x7000, 2, 0, 0}, 2, mem) ==
        Ranges{{0x7000, 56}, {0x2000, 5}, {0x7038, 4}, {0x7040, 56}, {0x2000, 8}, {0x3000, 1}, {0x7078, 4}});
}

TEST_CASE("syscall_table: socket address outputs") {
  FakeMem mem;
  mem.put_value<uint32_t>(0x1800, 16);
  CHECK(ranges(SYS_accept4, {3, 0x1000, 0x1800, SOCK_CLOEXEC}, 5, mem) == Ranges{{0x1000, 16}, {0x1800, 4}});
  CHECK(ranges(SYS_accept, {3, 0, 0}, 5, mem).empty());
  CHECK(ranges(SYS_getsockname, {3, 0x1000, 0x1800}, 0, mem) == Ranges{{0x1000, 16}, {0x1800, 4}});
  CHECK(ranges(SYS_recvfrom, {3, 0x2000, 100, 0, 0x1000, 0x1800}, 7, mem) ==
        Ranges{{0x2000, 7}, {0x1000, 16}, {0x1800, 4}});
  // The kernel writes back the full length even when it truncated: capped at sockaddr_storage.
  mem.put_value<uint32_t>(0x1800, 1000);
  CHECK(ranges(SYS_getpeername, {3, 0x1000, 0x1800}, 0, mem) == Ranges{{0x1000, 128}, {0x1800, 4}});
  mem.put_value<uint32_t>(0x1800, 4);
  CHECK(ranges(SYS_getsockopt, {3, SOL_SOCKET, SO_ERROR, 0x1000, 0x1800}, 0, mem) ==
        Ranges{{0x1000, 4}, {0x1800, 4}});
  CHECK(ranges(SYS_socketpair, {AF_UNIX, SOCK_STREAM, 0, 0x1000}, 0, mem) == Ranges{{0x1000, 8}});
}

TEST_CASE("syscall_table: ioctl, fcntl, prctl, arch_prctl handlers") {
  CHECK(ranges(SYS_ioctl, {1, TCGETS, 0x2000}, 0) == Ranges{{0x2000, 36}});  // kernel termios
  CHECK(ranges(SYS_ioctl, {1, TCGETS, 0x2000}, -25).empty());               // ENOTTY
  CHECK(ranges(SYS_ioctl, {1, TIOCGWINSZ, 0x2000}, 0) == Ranges{{0x2000, 8}});
  CHECK(ranges(SYS_ioctl, {3, FIONREAD, 0x2000}, 0) == Ranges{{0x2000, 4}});
  CHECK(ranges(SYS_ioctl, {1, TIOCGPGRP, 0x2000}, 0) == Ranges{{0x2000, 4}});
  CHECK(ranges(SYS_ioctl, {1, TIOCGSID, 0x2000}, 0) == Ranges{{0x2000, 4}});
  CHECK(ranges(SYS_ioctl, {1, TCSETS, 0x2000}, 0).empty());
  CHECK(ranges(SYS_ioctl, {3, FIOCLEX, 0}, 0).empty());
  CHECK(ranges(SYS_ioctl, {3, TIOCGPTN, 0x2000}, 0) == Ranges{{0x2000, 4}});  // generic _IOR
  CHECK(ranges(SYS_ioctl, {3, 0x80081272 /* BLKGETSIZE64 */, 0x2000}, 0) == Ranges{{0x2000, 8}});

  struct flock fl {};
  CHECK(ranges(SYS_fcntl, {3, F_GETLK, 0x2000}, 0) == Ranges{{0x2000, sizeof fl}});
  CHECK(ranges(SYS_fcntl, {3, F_OFD_GETLK, 0x2000}, 0) == Ranges{{0x2000, 32}});
  CHECK(ranges(SYS_fcntl, {3, F_SETLK, 0x2000}, 0).empty());
  CHECK(ranges(SYS_fcntl, {3, F_GETFL, 0}, 2).empty());
  CHECK(ranges(SYS_fcntl, {3, F_GETLK, 0x2000}, -9).empty());

  CHECK(ranges(SYS_prctl, {16 /* PR_GET_NAME */, 0x2000, 0, 0, 0}, 0) == Ranges{{0x2000, 16}});
  CHECK(ranges(SYS_prctl, {2 /* PR_GET_PDEATHSIG */, 0x2000, 0, 0, 0}, 0) == Ranges{{0x2000, 4}});
  CHECK(ranges(SYS_prctl, {40 /* PR_GET_TID_ADDRESS */, 0x2000, 0, 0, 0}, 0) == Ranges{{0x2000, 8}});
  CHECK(ranges(SYS_prctl, {15 /* PR_SET_NAME */, 0x2000, 0, 0, 0}, 0).empty());
  CHECK(ranges(SYS_prctl, {23 /* PR_CAPBSET_READ */, 0, 0, 0, 0}, 1).empty());

  CHECK(ranges(SYS_arch_prctl, {0x1003 /* ARCH_GET_FS */, 0x2000}, 0) == Ranges{{0x2000, 8}});
  CHECK(ranges(SYS_arch_prctl, {0x1002 /* ARCH_SET_FS */, 0x7ffff7d8a740}, 0).empty());

  // capget: two structs for version 3, the header's version on EINVAL.
  FakeMem mem;
  uint32_t hdr[2] = {0x20080522, 0};
  mem.put(0x1000, hdr, sizeof hdr);
  CHECK(ranges(SYS_capget, {0x1000, 0x2000}, 0, mem) == Ranges{{0x1000, 4}, {0x2000, 24}});
  CHECK(ranges(SYS_capget, {0x1000, 0x2000}, -22, mem) == Ranges{{0x1000, 4}});

  // futex: WAIT writes nothing, WAKE_OP changes *uaddr2.
  CHECK(ranges(SYS_futex, {0x1000, FUTEX_WAIT_PRIVATE, 2, 0, 0, 0}, 0).empty());
  CHECK(ranges(SYS_futex, {0x1000, FUTEX_WAKE_OP_PRIVATE, 1, 1, 0x3000, 0}, 1) == Ranges{{0x3000, 4}});

  // clone with CLONE_PARENT_SETTID.
  CHECK(ranges(SYS_clone, {CLONE_VM | CLONE_PARENT_SETTID | SIGCHLD, 0, 0x1000, 0, 0}, 123) ==
        Ranges{{0x1000, 4}});
}

TEST_CASE("syscall_table: poll and select") {
  CHECK(ranges(SYS_poll, {0x1000, 3, 100}, 1) == Ranges{{0x1000, 3 * sizeof(struct pollfd)}});
  CHECK(ranges(SYS_poll, {0x1000, 3, 100}, -4) == Ranges{{0x1000, 24}});  // revents written on EINTR
  CHECK(ranges(SYS_poll, {0x1000, 0, 100}, 0).empty());
  CHECK(ranges(SYS_ppoll, {0x1000, 2, 0x2000, 0, 8}, 1) == Ranges{{0x1000, 16}, {0x2000, 16}});

  // select(70, &readfds, NULL, NULL, &tv): two words per set, NULL sets skipped, the timeout written back.
  CHECK(ranges(SYS_select, {70, 0x1000, 0, 0, 0x2000}, 1) == Ranges{{0x1000, 16}, {0x2000, 16}});
  CHECK(ranges(SYS_select, {1, 0x1000, 0x1100, 0x1200, 0}, 0) ==
        Ranges{{0x1000, 8}, {0x1100, 8}, {0x1200, 8}});
  CHECK(ranges(SYS_select, {0, 0, 0, 0, 0x2000}, 0) == Ranges{{0x2000, 16}});
  // Interrupted: only the timeout.
  CHECK(ranges(SYS_select, {70, 0x1000, 0, 0, 0x2000}, -4) == Ranges{{0x2000, 16}});
  CHECK(ranges(SYS_pselect6, {3, 0x1000, 0x1100, 0, 0x2000, 0x3000}, 2) ==
        Ranges{{0x1000, 8}, {0x1100, 8}, {0x2000, 16}});
}

TEST_CASE("syscall_table: ranges are capped") {
  auto r = ranges(SYS_read, {3, 0x1000, ~uint64_t{0} >> 2}, int64_t{1} << 40);
  REQUIRE(r.size() == 1);
  CHECK(r[0].len == kMaxOutputBytes);
  auto p = ranges(SYS_poll, {0x1000, ~uint64_t{0} >> 1, 0}, 0);
  REQUIRE(p.size() == 1);
  CHECK(p[0].len == kMaxOutputBytes);
}

// ---------------------------------------------------------------------------
// Formatting.

namespace {

RecordedCall rec(int64_t nr, std::initializer_list<uint64_t> args, int64_t ret) {
  RecordedCall c;
  c.nr = nr;
  int i = 0;
  for (uint64_t a : args) c.args[i++] = a;
  c.ret = ret;
  return c;
}

}  // namespace

TEST_CASE("syscall_table: format_call golden strings") {
  {
    auto c = rec(SYS_openat, {uint64_t(-100), 0x1000, O_RDONLY | O_CLOEXEC, 0x7ffd1234}, 3);
    c.strings = {{1, "/etc/ld.so.cache"}};
    CHECK(format_call(c) == "openat(AT_FDCWD, \"/etc/ld.so.cache\", O_RDONLY|O_CLOEXEC) = 3");
  }
  {
    auto c = rec(SYS_openat, {uint64_t(-100), 0x1000, O_RDONLY, 0}, -2);
    c.strings = {{1, "/nope"}};
    CHECK(format_call(c) == "openat(AT_FDCWD, \"/nope\", O_RDONLY) = -1 ENOENT (No such file or directory)");
  }
  {
    auto c = rec(SYS_openat, {5, 0x1000, O_WRONLY | O_CREAT | O_TRUNC, 0644}, 4);
    c.strings = {{1, "out.txt"}};
    CHECK(format_call(c) == "openat(5, \"out.txt\", O_WRONLY|O_CREAT|O_TRUNC, 0644) = 4");
  }
  {
    const char elf[] =
        "\177ELF\2\1\1\3\0\0\0\0\0\0\0\0\3\0>\0\1\0\0\0P\237\2\0\0\0\0\0"
        "@\0\0\0\0\0\0\0";
    auto c = rec(SYS_read, {3, 0x7ffd0000, 832}, 832);
    c.writes = {{0x7ffd0000, std::string(elf, sizeof elf - 1) + std::string(832 - (sizeof elf - 1), 'x')}};
    CHECK(format_call(c) ==
          "read(3, \"\\177ELF\\2\\1\\1\\3\\0\\0\\0\\0\\0\\0\\0\\0\\3\\0>\\0\\1\\0\\0\\0P\\237\\2\\0\\0\\0\\0\\0\"..., "
          "832) = 832");
  }
  {
    // Short read: the whole buffer, escapes, no "...".
    auto c = rec(SYS_read, {0, 0x5000, 4096}, 10);
    c.writes = {{0x5000, std::string("a\"b\\c\n\t\0017x", 10)}};
    CHECK(format_call(c) == "read(0, \"a\\\"b\\\\c\\n\\t\\0017x\", 4096) = 10");
  }
  {
    // Failed read: the buffer as a pointer.
    auto c = rec(SYS_read, {3, 0x5000, 4096}, -11);
    CHECK(format_call(c) == "read(3, 0x5000, 4096) = -1 EAGAIN (Resource temporarily unavailable)");
  }
  {
    auto c = rec(SYS_write, {1, 0x55550000, 6}, 6);
    CHECK(format_call(c) == "write(1, 0x55550000, 6) = 6");
  }
  {
    // A buffered rt_sigaction's act (its record's input) and the oldact it wrote, decoded.
    const uint64_t act[4] = {1 /* SIG_IGN */, 0x14000000 /* SA_RESTORER|SA_RESTART */, 0x7f, (1u << 9) | (1u << 14)};
    const uint64_t old[4] = {0x401000, 0x4, 0, 0};
    auto c = rec(SYS_rt_sigaction, {10, 0x1000, 0x2000, 8}, 0);
    c.strings = {{1, std::string(reinterpret_cast<const char*>(act), sizeof act)}};
    c.writes = {{0x2000, std::string(reinterpret_cast<const char*>(old), sizeof old)}};
    CHECK(format_call(c) ==
          "rt_sigaction(SIGUSR1, {sa_handler=SIG_IGN, sa_mask=[SIGUSR1 SIGTERM], sa_flags=SA_RESTORER|SA_RESTART}, "
          "{sa_handler=0x401000, sa_mask=[], sa_flags=SA_SIGINFO}, 8) = 0");
    // Traced: no input recorded, the pointer.
    c.strings.clear();
    CHECK(format_call(c).starts_with("rt_sigaction(SIGUSR1, 0x1000, {sa_handler=0x401000"));
    const uint64_t all_but = ~((uint64_t{1} << 8) | (uint64_t{1} << 18));  // not SIGKILL, SIGSTOP
    auto m = rec(SYS_rt_sigprocmask, {SIG_SETMASK, 0x1000, 0, 8}, 0);
    m.strings = {{1, std::string(reinterpret_cast<const char*>(&all_but), 8)}};
    CHECK(format_call(m) == "rt_sigprocmask(SIG_SETMASK, ~[SIGKILL SIGSTOP], NULL, 8) = 0");
  }
  {
    struct stat st {};
    st.st_mode = S_IFREG | 0644;
    st.st_size = 12345;
    auto c = rec(SYS_fstat, {3, 0x7ffd0100}, 0);
    c.writes = {{0x7ffd0100, std::string(reinterpret_cast<const char*>(&st), sizeof st)}};
    CHECK(format_call(c) == "fstat(3, {st_mode=S_IFREG|0644, st_size=12345, ...}) = 0");
  }
  {
    struct stat st {};
    st.st_mode = S_IFDIR | S_ISVTX | 0777;
    st.st_size = 4096;
    auto c = rec(SYS_newfstatat, {uint64_t(-100), 0x1000, 0x7ffd0100, AT_SYMLINK_NOFOLLOW}, 0);
    c.strings = {{1, "/tmp"}};
    c.writes = {{0x7ffd0100, std::string(reinterpret_cast<const char*>(&st), sizeof st)}};
    CHECK(format_call(c) ==
          "newfstatat(AT_FDCWD, \"/tmp\", {st_mode=S_IFDIR|S_ISVTX|0777, st_size=4096, ...}, AT_SYMLINK_NOFOLLOW) = 0");
  }
  CHECK(format_call(rec(SYS_mmap, {0, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, uint64_t(-1), 0},
                        0x7ffff7fc1000)) ==
        "mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7ffff7fc1000");
  CHECK(format_call(rec(SYS_mprotect, {0x7ffff7fc1000, 4096, PROT_NONE}, 0)) ==
        "mprotect(0x7ffff7fc1000, 4096, PROT_NONE) = 0");
  CHECK(format_call(rec(SYS_brk, {0}, 0x555555559000)) == "brk(NULL) = 0x555555559000");
  {
    auto c = rec(SYS_exit_group, {0}, 0);
    c.has_ret = false;
    CHECK(format_call(c) == "exit_group(0) = ?");
  }
  CHECK(format_call(rec(335, {1, 2, 0, 0, 0, 0}, -38)) ==
        "syscall_335(0x1, 0x2, 0, 0, 0, 0) = -1 ENOSYS (Function not implemented)");
  CHECK(format_call(rec(SYS_kill, {1234, SIGTERM}, 0)) == "kill(1234, SIGTERM) = 0");
  CHECK(format_call(rec(SYS_futex, {0x7f0000001000, FUTEX_WAIT_PRIVATE, 2, 0, 0x99, 0x98}, -11)) ==
        "futex(0x7f0000001000, FUTEX_WAIT_PRIVATE, 2, NULL) = -1 EAGAIN (Resource temporarily unavailable)");
  CHECK(format_call(rec(SYS_futex, {0x7f0000001000, FUTEX_WAKE_PRIVATE, 1, 0, 0, 0}, 0)) ==
        "futex(0x7f0000001000, FUTEX_WAKE_PRIVATE, 1) = 0");
  CHECK(format_call(rec(SYS_fcntl, {3, F_GETFL, 0x1234}, 0x8002)) == "fcntl(3, F_GETFL) = 32770");
  CHECK(format_call(rec(SYS_fcntl, {3, F_SETFD, FD_CLOEXEC}, 0)) == "fcntl(3, F_SETFD, FD_CLOEXEC) = 0");
  CHECK(format_call(rec(SYS_fcntl, {3, F_SETFL, O_RDWR | O_NONBLOCK}, 0)) == "fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0");
  CHECK(format_call(rec(SYS_ioctl, {1, TCGETS, 0x7ffd0000}, -25)) ==
        "ioctl(1, TCGETS, 0x7ffd0000) = -1 ENOTTY (Inappropriate ioctl for device)");
  {
    auto c = rec(SYS_pipe2, {0x7ffd0000, O_CLOEXEC}, 0);
    c.writes = {{0x7ffd0000, std::string("\3\0\0\0\4\0\0\0", 8)}};
    CHECK(format_call(c) == "pipe2([3, 4], O_CLOEXEC) = 0");
  }
  {
    int64_t ts[2] = {1, 500};
    auto c = rec(SYS_clock_gettime, {CLOCK_MONOTONIC, 0x7ffd0000}, 0);
    c.writes = {{0x7ffd0000, std::string(reinterpret_cast<const char*>(ts), sizeof ts)}};
    CHECK(format_call(c) == "clock_gettime(CLOCK_MONOTONIC, {tv_sec=1, tv_nsec=500}) = 0");
  }
  CHECK(format_call(rec(SYS_clock_nanosleep, {CLOCK_REALTIME, 0, 0x1000, 0x2000}, -516)) ==
        "clock_nanosleep(CLOCK_REALTIME, 0, 0x1000, 0x2000) = ? ERESTART_RESTARTBLOCK (Interrupted by signal)");
  CHECK(format_call(rec(SYS_rt_sigsuspend, {0x1000, 8}, -514)) ==
        "rt_sigsuspend(0x1000, 8) = ? ERESTARTNOHAND (To be restarted if no handler)");
  {
    auto c = rec(SYS_wait4, {uint64_t(-1), 0x7ffd0000, 0, 0}, 1234);
    c.writes = {{0x7ffd0000, std::string("\0\3\0\0", 4)}};
    CHECK(format_call(c) == "wait4(-1, [{WIFEXITED(s) && WEXITSTATUS(s) == 3}], 0, NULL) = 1234");
    c.writes = {{0x7ffd0000, std::string("\x89\0\0\0", 4)}};
    CHECK(format_call(c) == "wait4(-1, [{WIFSIGNALED(s) && WTERMSIG(s) == SIGKILL && WCOREDUMP(s)}], 0, NULL) = 1234");
  }
  CHECK(format_call(rec(SYS_clone, {CLONE_CHILD_CLEARTID | CLONE_CHILD_SETTID | SIGCHLD, 0, 0, 0x7f00000a10, 0},
                        4321)) ==
        "clone(CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, NULL, NULL, 0x7f00000a10, 0) = 4321");
  {
    auto c = rec(SYS_access, {0x1000, R_OK}, -2);
    c.strings = {{0, "/etc/ld.so.preload"}};
    CHECK(format_call(c) == "access(\"/etc/ld.so.preload\", R_OK) = -1 ENOENT (No such file or directory)");
  }
  CHECK(format_call(rec(SYS_access, {0x1000, F_OK}, 0)) == "access(0x1000, F_OK) = 0");  // no string captured
  {
    auto c = rec(SYS_unlinkat, {4, 0x1000, AT_REMOVEDIR}, 0);
    c.strings = {{1, "dir"}};
    CHECK(format_call(c) == "unlinkat(4, \"dir\", AT_REMOVEDIR) = 0");
  }
  CHECK(format_call(rec(SYS_socket, {AF_INET6, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0}, 3)) ==
        "socket(AF_INET6, SOCK_STREAM|SOCK_NONBLOCK|SOCK_CLOEXEC, 0) = 3");
  CHECK(format_call(rec(SYS_rt_sigprocmask, {SIG_SETMASK, 0x1000, 0, 8}, 0)) ==
        "rt_sigprocmask(SIG_SETMASK, 0x1000, NULL, 8) = 0");
  CHECK(format_call(rec(SYS_lseek, {3, 0, SEEK_END}, 12345)) == "lseek(3, 0, SEEK_END) = 12345");
  CHECK(format_call(rec(SYS_arch_prctl, {0x1002, 0x7ffff7d8a740}, 0)) == "arch_prctl(ARCH_SET_FS, 0x7ffff7d8a740) = 0");
  CHECK(format_call(rec(SYS_madvise, {0x7f0000000000, 4096, MADV_DONTNEED}, 0)) ==
        "madvise(0x7f0000000000, 4096, MADV_DONTNEED) = 0");
  CHECK(format_call(rec(SYS_getpid, {}, 42)) == "getpid() = 42");
  {
    // A truncated buffer: 32 bytes then "...".
    auto c = rec(SYS_getrandom, {0x7000, 40, 1}, 40);
    c.writes = {{0x7000, std::string(40, 'A')}};
    CHECK(format_call(c) == "getrandom(\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"..., 40, 0x1) = 40");
  }
  {
    auto c = rec(SYS_read, {3, 0x5000, 4096}, 0);
    CHECK(format_call(c) == "read(3, \"\", 4096) = 0");
  }
  {
    auto c = rec(SYS_getcwd, {0x5000, 4096}, 8);
    c.writes = {{0x5000, std::string("/tmp/vt\0", 8)}};
    CHECK(format_call(c) == "getcwd(\"/tmp/vt\", 4096) = 8");
  }
  {
    auto c = rec(SYS_accept4, {8, 0x5000, 0x5100, SOCK_CLOEXEC}, 11);
    c.writes = {{0x5000, std::string("\2\0\0\120\177\0\0\1\0\0\0\0\0\0\0\0", 16)}, {0x5100, std::string("\20\0\0\0", 4)}};
    CHECK(format_call(c) ==
          "accept4(8, {sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr(\"127.0.0.1\")}, [16], SOCK_CLOEXEC) = 11");
  }
  {
    auto c = rec(SYS_getsockname, {3, 0x5000, 0x5100}, 0);
    c.writes = {{0x5000, std::string("\1\0/run/x.sock\0", 14)}, {0x5100, std::string("\16\0\0\0", 4)}};
    CHECK(format_call(c) == "getsockname(3, {sa_family=AF_UNIX, sun_path=\"/run/x.sock\"}, [14]) = 0");
  }
  {
    auto c = rec(SYS_getresuid, {0x7000, 0x7004, 0x7008}, 0);
    c.writes = {{0x7000, std::string("\xe8\x03\0\0\xe8\x03\0\0\0\0\0\0", 12)}};
    CHECK(format_call(c) == "getresuid([1000], [1000], [0]) = 0");
  }
}

TEST_CASE("syscall_table: format_arg flag decoders") {
  auto arg = [](int64_t nr, std::initializer_list<uint64_t> args, int i) { return format_arg(rec(nr, args, 0), i); };
  CHECK(arg(SYS_openat, {0, 0, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_DIRECTORY, 0}, 2) ==
        "O_RDWR|O_CREAT|O_EXCL|O_DIRECTORY|O_NOFOLLOW");
  CHECK(arg(SYS_openat, {0, 0, O_RDONLY | 0x80000000u, 0}, 2) == "O_RDONLY|0x80000000");
  CHECK(arg(SYS_openat, {0, 0, O_WRONLY | O_SYNC, 0}, 2) == "O_WRONLY|O_SYNC");
  CHECK(arg(SYS_openat, {0, 0, O_RDWR | O_TMPFILE, 0600}, 2) == "O_RDWR|O_TMPFILE");
  CHECK(arg(SYS_mmap, {0, 0, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_FIXED | MAP_DENYWRITE, 3, 0}, 3) ==
        "MAP_PRIVATE|MAP_FIXED|MAP_DENYWRITE");
  CHECK(arg(SYS_mmap, {0, 0, PROT_READ | PROT_EXEC, 0, 3, 0}, 2) == "PROT_READ|PROT_EXEC");
  CHECK(arg(SYS_mmap, {0, 0, 0x10000, 0, 3, 0}, 2) == "0x10000");
  CHECK(arg(SYS_faccessat2, {0, 0, R_OK | X_OK, AT_EACCESS}, 3) == "AT_EACCESS");
  CHECK(arg(SYS_faccessat2, {0, 0, R_OK | X_OK, AT_EACCESS}, 2) == "R_OK|X_OK");
  CHECK(arg(SYS_statx, {0, 0, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, 0, 0}, 2) == "AT_SYMLINK_NOFOLLOW|AT_EMPTY_PATH");
  CHECK(arg(SYS_statx, {0, 0, 0, 0, 0}, 2) == "0");
  CHECK(arg(SYS_kill, {0, 34}, 1) == "SIGRTMIN+2");
  CHECK(arg(SYS_clock_gettime, {7, 0}, 0) == "CLOCK_BOOTTIME");
  CHECK(arg(SYS_clock_gettime, {uint64_t(-6), 0}, 0) == "-6");
  CHECK(arg(SYS_futex, {0, FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME}, 1) ==
        "FUTEX_WAIT_BITSET_PRIVATE|FUTEX_CLOCK_REALTIME");
  CHECK(arg(SYS_prctl, {15, 0, 0, 0, 0}, 0) == "PR_SET_NAME");
  CHECK(arg(SYS_ioctl, {1, TIOCGWINSZ, 0}, 1) == "TIOCGWINSZ");
  CHECK(arg(SYS_ioctl, {1, 0xdead, 0}, 1) == "0xdead");
  CHECK(arg(SYS_socket, {AF_UNIX, SOCK_DGRAM, 0}, 0) == "AF_UNIX");
  CHECK(arg(SYS_accept4, {3, 0, 0, SOCK_CLOEXEC}, 3) == "SOCK_CLOEXEC");
  CHECK(arg(SYS_wait4, {0, 0, WNOHANG | __WALL, 0}, 2) == "WNOHANG|__WALL");
  CHECK(arg(SYS_wait4, {0, 0, 0, 0}, 2) == "0");
  CHECK(arg(SYS_mkdir, {0, 0755}, 1) == "0755");
  CHECK(arg(SYS_umask, {022}, 0) == "022");
  CHECK(arg(SYS_umask, {0}, 0) == "000");
  CHECK(arg(SYS_pipe2, {0, O_CLOEXEC | O_NONBLOCK}, 1) == "O_NONBLOCK|O_CLOEXEC");
  CHECK(arg(SYS_dup3, {3, 4, 0}, 2) == "0");
  CHECK(arg(SYS_rt_sigaction, {SIGSEGV, 0, 0, 8}, 0) == "SIGSEGV");
  CHECK(arg(SYS_clone, {CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM |
                            CLONE_SETTLS | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID, 0, 0, 0, 0}, 0) ==
        "CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|CLONE_SETTLS|CLONE_PARENT_SETTID|"
        "CLONE_CHILD_CLEARTID");
  CHECK(arg(SYS_madvise, {0, 0, 999}, 2) == "999");
  CHECK(arg(SYS_fcntl, {3, 1030, 3}, 1) == "F_DUPFD_CLOEXEC");
}

TEST_CASE("syscall_table: errno, signal names, quoting") {
  CHECK(errno_name(2) == "ENOENT");
  CHECK(errno_name(11) == "EAGAIN");
  CHECK(errno_name(38) == "ENOSYS");
  CHECK(errno_name(133) == "EHWPOISON");
  CHECK(errno_name(-13) == "EACCES");
  CHECK(errno_name(512) == "ERESTARTSYS");
  CHECK(errno_name(513) == "ERESTARTNOINTR");
  CHECK(errno_name(514) == "ERESTARTNOHAND");
  CHECK(errno_name(516) == "ERESTART_RESTARTBLOCK");
  CHECK(errno_name(41) == "ERRNO_41");
  CHECK(signal_name(SIGSEGV) == "SIGSEGV");
  CHECK(signal_name(SIGCHLD) == "SIGCHLD");
  CHECK(signal_name(SIGSYS) == "SIGSYS");
  CHECK(signal_name(32) == "SIGRTMIN");
  CHECK(signal_name(SIGRTMIN) == "SIGRTMIN+" + std::to_string(SIGRTMIN - 32));
  CHECK(signal_name(64) == "SIGRTMIN+32");
  CHECK(signal_name(0) == "0");
  CHECK(signal_name(99) == "99");
  CHECK(quote_bytes("") == "\"\"");
  CHECK(quote_bytes("abc", 2) == "\"ab\"...");
  CHECK(quote_bytes(std::string("\0" "1", 2)) == "\"\\0001\"");
  CHECK(quote_bytes(std::string("\0" "8", 2)) == "\"\\08\"");
  CHECK(quote_bytes("\x7f\xff\x1b") == "\"\\177\\377\\33\"");
  CHECK(quote_bytes("\r\v\f") == "\"\\r\\v\\f\"");
}

TEST_CASE("syscall table: resource limits that shape the replay run for real, the others are emulated") {
  using rrx::sys::lookup;
  using rrx::sys::Replay;
  auto policy = [](long nr, std::initializer_list<uint64_t> a) {
    uint64_t args[6] = {};
    size_t i = 0;
    for (uint64_t v : a) args[i++] = v;
    return lookup(nr)->replay_policy(args);
  };
  CHECK(policy(SYS_setrlimit, {RLIMIT_STACK, 0x1000}) == Replay::ExecuteInject);
  CHECK(policy(SYS_setrlimit, {RLIMIT_AS, 0x1000}) == Replay::ExecuteInject);
  CHECK(policy(SYS_setrlimit, {RLIMIT_CPU, 0x1000}) == Replay::Emulate);
  CHECK(policy(SYS_setrlimit, {RLIMIT_CORE, 0x1000}) == Replay::Emulate);
  CHECK(policy(SYS_setrlimit, {RLIMIT_NPROC, 0x1000}) == Replay::Emulate);
  CHECK(policy(SYS_prlimit64, {0, RLIMIT_STACK, 0x1000, 0}) == Replay::ExecuteInject);
  CHECK(policy(SYS_prlimit64, {0, RLIMIT_STACK, 0, 0x1000}) == Replay::Emulate);     // only reads
  CHECK(policy(SYS_prlimit64, {1234, RLIMIT_STACK, 0x1000, 0}) == Replay::Emulate);  // another process
  CHECK(policy(SYS_getrlimit, {RLIMIT_STACK, 0x1000}) == Replay::Emulate);
}

// Which calls change a file's bytes or size through a descriptor, and where
// the row says the fd and the offset are: what the recorder captures for a
// shared object (record/shared_objects.cpp).
TEST_CASE("syscall_table: file changes") {
  auto change = [](int64_t nr) { return lookup(nr)->changes_file; };
  struct Want {
    int64_t nr;
    FileChange kind;
    int fd;
    int off;
  };
  for (const Want& w : {Want{SYS_write, FileChange::AtPosition, 0, -1}, Want{SYS_writev, FileChange::AtPosition, 0, -1},
                        Want{SYS_sendfile, FileChange::AtPosition, 0, -1},
                        Want{SYS_pwrite64, FileChange::AtOffset, 0, 3}, Want{SYS_pwritev, FileChange::AtOffset, 0, 3},
                        Want{SYS_pwritev2, FileChange::AtOffset, 0, 3},
                        Want{SYS_copy_file_range, FileChange::AtOffsetPtr, 2, 3},
                        Want{SYS_splice, FileChange::AtOffsetPtr, 2, 3}, Want{SYS_ftruncate, FileChange::Resize, 0, 1},
                        Want{SYS_truncate, FileChange::ResizePath, 0, 1}, Want{SYS_fallocate, FileChange::Allocate, 0, -1},
                        Want{SYS_open, FileChange::Opened, -1, -1}, Want{SYS_openat, FileChange::Opened, -1, -1},
                        Want{SYS_creat, FileChange::Opened, -1, -1}, Want{SYS_openat2, FileChange::Opened, -1, -1}}) {
    INFO(syscall_name(w.nr));
    CHECK(change(w.nr).kind == w.kind);
    CHECK(change(w.nr).fd == w.fd);
    CHECK(change(w.nr).off == w.off);
  }
  for (int64_t nr : {SYS_read, SYS_pread64, SYS_sendto, SYS_mmap, SYS_close, SYS_lseek}) {
    INFO(syscall_name(nr));
    CHECK(change(nr).kind == FileChange::None);
  }
}
