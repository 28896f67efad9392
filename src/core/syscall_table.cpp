// The x86-64 syscall table. One row per syscall, sorted by number, in the
// spirit of strace's syscallent: what each argument is, which memory the
// kernel writes, and what replay does with the call. Behaviour that depends
// on an argument's value (ioctl, fcntl, prctl...) lives in the small named
// OutputsFn handlers below, never in a per-syscall switch elsewhere.
#include "core/syscall_table.h"

#include "core/seccomp_filter.h"
#include "core/syscallbuf_abi.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <linux/dqblk_xfs.h>
#include <linux/fiemap.h>
#include <linux/kd.h>
#include <linux/serial.h>
#include <linux/vt.h>
#include <mqueue.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/quota.h>
#include <sys/resource.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysinfo.h>
#include <sys/time.h>
#include <sys/times.h>
#include <sys/timex.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <initializer_list>

namespace rrx::sys {

namespace {

// ---------------------------------------------------------------------------
// Kernel structure sizes. Where glibc has the type, its size is the kernel's
// on x86-64 (asserted); the others are mirrored here from the uapi headers.

constexpr uint32_t kStat = sizeof(struct stat);
static_assert(kStat == 144);
constexpr uint32_t kStatx = sizeof(struct statx);
static_assert(kStatx == 256);
constexpr uint32_t kStatfs = sizeof(struct statfs);
static_assert(kStatfs == 120);
constexpr uint32_t kUtsname = sizeof(struct utsname);
static_assert(kUtsname == 390);
constexpr uint32_t kSysinfo = sizeof(struct sysinfo);
static_assert(kSysinfo == 112);
constexpr uint32_t kTms = sizeof(struct tms);
static_assert(kTms == 32);
constexpr uint32_t kRusage = sizeof(struct rusage);
static_assert(kRusage == 144);
constexpr uint32_t kTimespec = sizeof(struct timespec);
static_assert(kTimespec == 16);
constexpr uint32_t kTimeval = sizeof(struct timeval);
static_assert(kTimeval == 16);
constexpr uint32_t kTimezone = sizeof(struct timezone);
static_assert(kTimezone == 8);
constexpr uint32_t kRlimit = sizeof(struct rlimit);
static_assert(kRlimit == 16);
constexpr uint32_t kStackT = sizeof(stack_t);
static_assert(kStackT == 24);
constexpr uint32_t kSiginfo = sizeof(siginfo_t);
static_assert(kSiginfo == 128);
constexpr uint32_t kPollfd = sizeof(struct pollfd);
static_assert(kPollfd == 8);
constexpr uint32_t kEpollEvent = sizeof(struct epoll_event);
static_assert(kEpollEvent == 12);
constexpr uint32_t kItimerval = sizeof(struct itimerval);
static_assert(kItimerval == 32);
constexpr uint32_t kItimerspec = sizeof(struct itimerspec);
static_assert(kItimerspec == 32);
constexpr uint32_t kCapData = sizeof(struct __user_cap_data_struct);
static_assert(kCapData == 12);
constexpr uint32_t kFlock = sizeof(struct flock);
static_assert(kFlock == 32);
constexpr uint32_t kFOwnerEx = sizeof(struct f_owner_ex);
static_assert(kFOwnerEx == 8);
constexpr uint32_t kMsghdr = sizeof(struct msghdr);
static_assert(kMsghdr == 56);
constexpr uint32_t kMmsghdr = sizeof(struct mmsghdr);
static_assert(kMmsghdr == 64);
constexpr uint32_t kIovec = sizeof(struct iovec);
static_assert(kIovec == 16);
constexpr uint32_t kSockaddrStorage = sizeof(struct sockaddr_storage);
static_assert(kSockaddrStorage == 128);
constexpr uint32_t kTimex = sizeof(struct timex);
static_assert(kTimex == 208);
constexpr uint32_t kMqAttr = sizeof(struct mq_attr);
static_assert(kMqAttr == 64);
constexpr uint32_t kMsqidDs = sizeof(struct msqid_ds);
static_assert(kMsqidDs == 120);
constexpr uint32_t kMsginfo = sizeof(struct msginfo);
static_assert(kMsginfo == 32);
constexpr uint32_t kSemidDs = sizeof(struct semid_ds);
static_assert(kSemidDs == 104);
constexpr uint32_t kSeminfo = sizeof(struct seminfo);
static_assert(kSeminfo == 40);
constexpr uint32_t kWinsize = sizeof(struct winsize);
static_assert(kWinsize == 8);
constexpr uint32_t kTermio = sizeof(struct termio);
static_assert(kTermio == 18);
constexpr uint32_t kIfreq = sizeof(struct ifreq);
static_assert(kIfreq == 40);
constexpr uint32_t kIfconf = sizeof(struct ifconf);
static_assert(kIfconf == 16);
constexpr uint32_t kFiemap = sizeof(struct fiemap);
static_assert(kFiemap == 32);
constexpr uint32_t kFiemapExtent = sizeof(struct fiemap_extent);
static_assert(kFiemapExtent == 56);
constexpr uint32_t kSerialIcounter = sizeof(struct serial_icounter_struct);
static_assert(kSerialIcounter == 80);
constexpr uint32_t kSerialStruct = sizeof(struct serial_struct);
static_assert(kSerialStruct == 72);
constexpr uint32_t kSerialRs485 = sizeof(struct serial_rs485);
static_assert(kSerialRs485 == 32);
constexpr uint32_t kVtMode = sizeof(struct vt_mode);
static_assert(kVtMode == 8);
constexpr uint32_t kVtStat = sizeof(struct vt_stat);
static_assert(kVtStat == 6);
constexpr uint32_t kKbentry = sizeof(struct kbentry);
static_assert(kKbentry == 4);
constexpr uint32_t kKbsentry = sizeof(struct kbsentry);
static_assert(kKbsentry == 513);
constexpr uint32_t kKbdiacrs = sizeof(struct kbdiacrs);
static_assert(kKbdiacrs == 772);
constexpr uint32_t kKbdiacrsuc = sizeof(struct kbdiacrsuc);
static_assert(kKbdiacrsuc == 3076);
constexpr uint32_t kKbkeycode = sizeof(struct kbkeycode);
static_assert(kKbkeycode == 8);
constexpr uint32_t kKbdRepeat = sizeof(struct kbd_repeat);
static_assert(kKbdRepeat == 8);
constexpr uint32_t kConsoleFontOp = sizeof(struct console_font_op);
static_assert(kConsoleFontOp == 32);
constexpr uint32_t kConsolefontdesc = sizeof(struct consolefontdesc);
static_assert(kConsolefontdesc == 16);
constexpr uint32_t kUnimapdesc = sizeof(struct unimapdesc);
static_assert(kUnimapdesc == 16);
// struct vt_consizecsrpos (linux/vt.h, newer than these headers): four unsigned shorts.
constexpr uint32_t kVtConsizecsrpos = 8;
// struct arpreq (net/if_arp.h): protocol, hardware and netmask sockaddrs, flags, device name.
constexpr uint32_t kArpreq = 68;
// struct file_handle (fcntl.h): handle_bytes, handle_type, then at most MAX_HANDLE_SZ bytes.
constexpr uint32_t kFileHandleHeader = 8, kMaxHandleSz = 128;
// struct keyctl_pkey_query (linux/keyctl.h): two u32, four u16, ten spare u32.
constexpr uint32_t kKeyctlPkeyQuery = 56;

// The kernel's struct termios (asm-generic/termbits.h): TCGETS writes this,
// not glibc's 60-byte struct termios.
struct KernelTermios {
  uint32_t c_iflag, c_oflag, c_cflag, c_lflag;
  uint8_t c_line;
  uint8_t c_cc[19];
};
constexpr uint32_t kKernelTermios = sizeof(KernelTermios);
static_assert(kKernelTermios == 36);

// struct kernel_sigaction as rt_sigaction copies it out: handler, flags,
// restorer, mask (sigsetsize must be 8, anything else is EINVAL).
struct KernelSigaction {
  uint64_t handler, flags, restorer, mask;
};
constexpr uint32_t kKernelSigaction = sizeof(KernelSigaction);
static_assert(kKernelSigaction == 32);

// struct user_desc (asm/ldt.h).
constexpr uint32_t kUserDesc = 16;
// struct ustat (linux/types.h): __kernel_daddr_t, __kernel_ino_t, char[6], char[6].
struct KernelUstat {
  int32_t f_tfree;
  uint64_t f_tinode;
  char f_fname[6];
  char f_fpack[6];
};
constexpr uint32_t kUstat = sizeof(KernelUstat);
static_assert(kUstat == 32);
// struct cachestat (linux/mman.h): five __u64.
constexpr uint32_t kCachestat = 40;
// struct clone_args (linux/sched.h) field offsets.
constexpr uint64_t kCloneArgsPidfd = 8, kCloneArgsChildTid = 16, kCloneArgsParentTid = 24;

// ---------------------------------------------------------------------------
// Every x86-64 syscall name (arch/x86/entry/syscalls/syscall_64.tbl, 64-bit
// and common entries), independent of the rows below.

struct NameEntry {
  int nr;
  const char* name;
};

constexpr NameEntry kNameList[] = {
    {0, "read"}, {1, "write"}, {2, "open"}, {3, "close"}, {4, "stat"}, {5, "fstat"}, {6, "lstat"},
    {7, "poll"}, {8, "lseek"}, {9, "mmap"}, {10, "mprotect"}, {11, "munmap"}, {12, "brk"},
    {13, "rt_sigaction"}, {14, "rt_sigprocmask"}, {15, "rt_sigreturn"}, {16, "ioctl"},
    {17, "pread64"}, {18, "pwrite64"}, {19, "readv"}, {20, "writev"}, {21, "access"},
    {22, "pipe"}, {23, "select"}, {24, "sched_yield"}, {25, "mremap"}, {26, "msync"},
    {27, "mincore"}, {28, "madvise"}, {29, "shmget"}, {30, "shmat"}, {31, "shmctl"}, {32, "dup"},
    {33, "dup2"}, {34, "pause"}, {35, "nanosleep"}, {36, "getitimer"}, {37, "alarm"},
    {38, "setitimer"}, {39, "getpid"}, {40, "sendfile"}, {41, "socket"}, {42, "connect"},
    {43, "accept"}, {44, "sendto"}, {45, "recvfrom"}, {46, "sendmsg"}, {47, "recvmsg"},
    {48, "shutdown"}, {49, "bind"}, {50, "listen"}, {51, "getsockname"}, {52, "getpeername"},
    {53, "socketpair"}, {54, "setsockopt"}, {55, "getsockopt"}, {56, "clone"}, {57, "fork"},
    {58, "vfork"}, {59, "execve"}, {60, "exit"}, {61, "wait4"}, {62, "kill"}, {63, "uname"},
    {64, "semget"}, {65, "semop"}, {66, "semctl"}, {67, "shmdt"}, {68, "msgget"}, {69, "msgsnd"},
    {70, "msgrcv"}, {71, "msgctl"}, {72, "fcntl"}, {73, "flock"}, {74, "fsync"},
    {75, "fdatasync"}, {76, "truncate"}, {77, "ftruncate"}, {78, "getdents"}, {79, "getcwd"},
    {80, "chdir"}, {81, "fchdir"}, {82, "rename"}, {83, "mkdir"}, {84, "rmdir"}, {85, "creat"},
    {86, "link"}, {87, "unlink"}, {88, "symlink"}, {89, "readlink"}, {90, "chmod"},
    {91, "fchmod"}, {92, "chown"}, {93, "fchown"}, {94, "lchown"}, {95, "umask"},
    {96, "gettimeofday"}, {97, "getrlimit"}, {98, "getrusage"}, {99, "sysinfo"}, {100, "times"},
    {101, "ptrace"}, {102, "getuid"}, {103, "syslog"}, {104, "getgid"}, {105, "setuid"},
    {106, "setgid"}, {107, "geteuid"}, {108, "getegid"}, {109, "setpgid"}, {110, "getppid"},
    {111, "getpgrp"}, {112, "setsid"}, {113, "setreuid"}, {114, "setregid"}, {115, "getgroups"},
    {116, "setgroups"}, {117, "setresuid"}, {118, "getresuid"}, {119, "setresgid"},
    {120, "getresgid"}, {121, "getpgid"}, {122, "setfsuid"}, {123, "setfsgid"}, {124, "getsid"},
    {125, "capget"}, {126, "capset"}, {127, "rt_sigpending"}, {128, "rt_sigtimedwait"},
    {129, "rt_sigqueueinfo"}, {130, "rt_sigsuspend"}, {131, "sigaltstack"}, {132, "utime"},
    {133, "mknod"}, {134, "uselib"}, {135, "personality"}, {136, "ustat"}, {137, "statfs"},
    {138, "fstatfs"}, {139, "sysfs"}, {140, "getpriority"}, {141, "setpriority"},
    {142, "sched_setparam"}, {143, "sched_getparam"}, {144, "sched_setscheduler"},
    {145, "sched_getscheduler"}, {146, "sched_get_priority_max"}, {147, "sched_get_priority_min"},
    {148, "sched_rr_get_interval"}, {149, "mlock"}, {150, "munlock"}, {151, "mlockall"},
    {152, "munlockall"}, {153, "vhangup"}, {154, "modify_ldt"}, {155, "pivot_root"},
    {156, "_sysctl"}, {157, "prctl"}, {158, "arch_prctl"}, {159, "adjtimex"}, {160, "setrlimit"},
    {161, "chroot"}, {162, "sync"}, {163, "acct"}, {164, "settimeofday"}, {165, "mount"},
    {166, "umount2"}, {167, "swapon"}, {168, "swapoff"}, {169, "reboot"}, {170, "sethostname"},
    {171, "setdomainname"}, {172, "iopl"}, {173, "ioperm"}, {174, "create_module"},
    {175, "init_module"}, {176, "delete_module"}, {177, "get_kernel_syms"}, {178, "query_module"},
    {179, "quotactl"}, {180, "nfsservctl"}, {181, "getpmsg"}, {182, "putpmsg"},
    {183, "afs_syscall"}, {184, "tuxcall"}, {185, "security"}, {186, "gettid"},
    {187, "readahead"}, {188, "setxattr"}, {189, "lsetxattr"}, {190, "fsetxattr"},
    {191, "getxattr"}, {192, "lgetxattr"}, {193, "fgetxattr"}, {194, "listxattr"},
    {195, "llistxattr"}, {196, "flistxattr"}, {197, "removexattr"}, {198, "lremovexattr"},
    {199, "fremovexattr"}, {200, "tkill"}, {201, "time"}, {202, "futex"},
    {203, "sched_setaffinity"}, {204, "sched_getaffinity"}, {205, "set_thread_area"},
    {206, "io_setup"}, {207, "io_destroy"}, {208, "io_getevents"}, {209, "io_submit"},
    {210, "io_cancel"}, {211, "get_thread_area"}, {212, "lookup_dcookie"}, {213, "epoll_create"},
    {214, "epoll_ctl_old"}, {215, "epoll_wait_old"}, {216, "remap_file_pages"},
    {217, "getdents64"}, {218, "set_tid_address"}, {219, "restart_syscall"}, {220, "semtimedop"},
    {221, "fadvise64"}, {222, "timer_create"}, {223, "timer_settime"}, {224, "timer_gettime"},
    {225, "timer_getoverrun"}, {226, "timer_delete"}, {227, "clock_settime"},
    {228, "clock_gettime"}, {229, "clock_getres"}, {230, "clock_nanosleep"}, {231, "exit_group"},
    {232, "epoll_wait"}, {233, "epoll_ctl"}, {234, "tgkill"}, {235, "utimes"}, {236, "vserver"},
    {237, "mbind"}, {238, "set_mempolicy"}, {239, "get_mempolicy"}, {240, "mq_open"},
    {241, "mq_unlink"}, {242, "mq_timedsend"}, {243, "mq_timedreceive"}, {244, "mq_notify"},
    {245, "mq_getsetattr"}, {246, "kexec_load"}, {247, "waitid"}, {248, "add_key"},
    {249, "request_key"}, {250, "keyctl"}, {251, "ioprio_set"}, {252, "ioprio_get"},
    {253, "inotify_init"}, {254, "inotify_add_watch"}, {255, "inotify_rm_watch"},
    {256, "migrate_pages"}, {257, "openat"}, {258, "mkdirat"}, {259, "mknodat"},
    {260, "fchownat"}, {261, "futimesat"}, {262, "newfstatat"}, {263, "unlinkat"},
    {264, "renameat"}, {265, "linkat"}, {266, "symlinkat"}, {267, "readlinkat"},
    {268, "fchmodat"}, {269, "faccessat"}, {270, "pselect6"}, {271, "ppoll"}, {272, "unshare"},
    {273, "set_robust_list"}, {274, "get_robust_list"}, {275, "splice"}, {276, "tee"},
    {277, "sync_file_range"}, {278, "vmsplice"}, {279, "move_pages"}, {280, "utimensat"},
    {281, "epoll_pwait"}, {282, "signalfd"}, {283, "timerfd_create"}, {284, "eventfd"},
    {285, "fallocate"}, {286, "timerfd_settime"}, {287, "timerfd_gettime"}, {288, "accept4"},
    {289, "signalfd4"}, {290, "eventfd2"}, {291, "epoll_create1"}, {292, "dup3"}, {293, "pipe2"},
    {294, "inotify_init1"}, {295, "preadv"}, {296, "pwritev"}, {297, "rt_tgsigqueueinfo"},
    {298, "perf_event_open"}, {299, "recvmmsg"}, {300, "fanotify_init"}, {301, "fanotify_mark"},
    {302, "prlimit64"}, {303, "name_to_handle_at"}, {304, "open_by_handle_at"},
    {305, "clock_adjtime"}, {306, "syncfs"}, {307, "sendmmsg"}, {308, "setns"}, {309, "getcpu"},
    {310, "process_vm_readv"}, {311, "process_vm_writev"}, {312, "kcmp"}, {313, "finit_module"},
    {314, "sched_setattr"}, {315, "sched_getattr"}, {316, "renameat2"}, {317, "seccomp"},
    {318, "getrandom"}, {319, "memfd_create"}, {320, "kexec_file_load"}, {321, "bpf"},
    {322, "execveat"}, {323, "userfaultfd"}, {324, "membarrier"}, {325, "mlock2"},
    {326, "copy_file_range"}, {327, "preadv2"}, {328, "pwritev2"}, {329, "pkey_mprotect"},
    {330, "pkey_alloc"}, {331, "pkey_free"}, {332, "statx"}, {333, "io_pgetevents"},
    {334, "rseq"},
    // 335..423 are unused on x86-64 (the 32-bit time64 calls have no 64-bit twins).
    {424, "pidfd_send_signal"}, {425, "io_uring_setup"}, {426, "io_uring_enter"},
    {427, "io_uring_register"}, {428, "open_tree"}, {429, "move_mount"}, {430, "fsopen"},
    {431, "fsconfig"}, {432, "fsmount"}, {433, "fspick"}, {434, "pidfd_open"}, {435, "clone3"},
    {436, "close_range"}, {437, "openat2"}, {438, "pidfd_getfd"}, {439, "faccessat2"},
    {440, "process_madvise"}, {441, "epoll_pwait2"}, {442, "mount_setattr"},
    {443, "quotactl_fd"}, {444, "landlock_create_ruleset"}, {445, "landlock_add_rule"},
    {446, "landlock_restrict_self"}, {447, "memfd_secret"}, {448, "process_mrelease"},
    {449, "futex_waitv"}, {450, "set_mempolicy_home_node"}, {451, "cachestat"},
    {452, "fchmodat2"}, {453, "map_shadow_stack"}, {454, "futex_wake"}, {455, "futex_wait"},
    {456, "futex_requeue"}, {457, "statmount"}, {458, "listmount"}, {459, "lsm_get_self_attr"},
    {460, "lsm_set_self_attr"}, {461, "lsm_list_modules"}, {462, "mseal"}, {463, "setxattrat"},
    {464, "getxattrat"}, {465, "listxattrat"}, {466, "removexattrat"}, {467, "open_tree_attr"},
    {468, "file_getattr"}, {469, "file_setattr"}, {470, "listns"},
    {RRX_CALL_INIT_BUFFER, "rrx_init_buffer"},  // rrx's own (core/syscallbuf_abi.h)
    {RRX_CALL_FD_INFO, "rrx_fd_info"},
    {RRX_CALL_RECORDING, "rrx_recording"},
    {RRX_CALL_DESCHED_FD, "rrx_desched_fd"},
};

constexpr int kMaxNr = RRX_CALL_DESCHED_FD;

constexpr std::array<const char*, kMaxNr + 1> make_names() {
  std::array<const char*, kMaxNr + 1> names{};
  for (const NameEntry& e : kNameList) names[e.nr] = e.name;
  return names;
}
constexpr auto kNames = make_names();

// ---------------------------------------------------------------------------
// Helpers for the handlers.

void add(std::vector<Range>& out, uint64_t addr, uint64_t len) {
  if (addr == 0 || len == 0) return;
  out.push_back({addr, std::min<uint64_t>(len, kMaxOutputBytes)});
}

constexpr uint64_t kPage = 4096;
uint64_t page_round_up(uint64_t len) { return len > UINT64_MAX - (kPage - 1) ? len : (len + kPage - 1) & ~(kPage - 1); }

bool failed(const CallView& c) { return is_error_return(c.ret); }

template <typename T>
bool read_val(MemReader& mem, uint64_t addr, T& v) {
  return addr != 0 && mem.read(addr, &v, sizeof v);
}

// Buffers of an iovec array filled in order up to `total` bytes.
void walk_iovec(MemReader& mem, uint64_t iov, uint64_t count, uint64_t total, std::vector<Range>& out) {
  count = std::min<uint64_t>(count, 1024);  // UIO_MAXIOV
  for (uint64_t i = 0; i < count && total > 0; ++i) {
    struct iovec v;
    if (!read_val(mem, iov + i * kIovec, v)) return;
    uint64_t take = std::min<uint64_t>(v.iov_len, total);
    add(out, reinterpret_cast<uint64_t>(v.iov_base), take);
    total -= take;
  }
}

// A struct msghdr the kernel filled (recvmsg, one recvmmsg entry): the header
// itself (msg_namelen, msg_controllen, msg_flags are written back), the name,
// the data up to `total`, the control data.
void walk_msghdr(MemReader& mem, uint64_t addr, uint64_t total, std::vector<Range>& out) {
  if (addr == 0) return;
  add(out, addr, kMsghdr);
  struct msghdr m;
  if (!read_val(mem, addr, m)) return;
  add(out, reinterpret_cast<uint64_t>(m.msg_name), std::min<uint64_t>(m.msg_namelen, kSockaddrStorage));
  walk_iovec(mem, reinterpret_cast<uint64_t>(m.msg_iov), m.msg_iovlen, total, out);
  add(out, reinterpret_cast<uint64_t>(m.msg_control), m.msg_controllen);
}

// ---------------------------------------------------------------------------
// Named output handlers (OutputsFn).

// ioctl: the request decides. Legacy tty/socket requests have no size in their
// number and are listed; others with _IOC_READ carry the size they write.
void ioctl_outputs(const CallView& c, MemReader& mem, std::vector<Range>& out) {
  const uint32_t req = static_cast<uint32_t>(c.args[1]);
  const uint64_t p = c.args[2];
  struct Known {
    uint32_t req;
    uint32_t size;
  };
  static constexpr Known kKnown[] = {
      {TCGETS, kKernelTermios},   {TCGETA, kTermio},     {TIOCGLCKTRMIOS, kKernelTermios},
      {TIOCGWINSZ, kWinsize},     {FIONREAD, 4},         {TIOCOUTQ, 4},
      {TIOCGPGRP, 4},             {TIOCGSID, 4},         {TIOCMGET, 4},
      {TIOCGETD, 4},              {TIOCGSOFTCAR, 4},     {FIOQSIZE, 8},
      {0x2 /* FIGETBSZ */, 4},    {0x1 /* FIBMAP */, 4}, {0x1268 /* BLKSSZGET */, 4},
      {0x1260 /* BLKGETSIZE */, 8},
      {0x80082407 /* PERF_EVENT_IOC_ID */, 8},
      {SIOCGIFNAME, kIfreq},      {SIOCGIFFLAGS, kIfreq}, {SIOCGIFADDR, kIfreq},
      {SIOCGIFDSTADDR, kIfreq},   {SIOCGIFBRDADDR, kIfreq}, {SIOCGIFNETMASK, kIfreq},
      {SIOCGIFMETRIC, kIfreq},    {SIOCGIFMTU, kIfreq},  {SIOCGIFHWADDR, kIfreq},
      {SIOCGIFMAP, kIfreq},       {SIOCGIFINDEX, kIfreq}, {SIOCGIFTXQLEN, kIfreq},
      {SIOCATMARK, 4},            {SIOCGPGRP, 4},        {0x8906 /* SIOCGSTAMP_OLD */, kTimeval},
      {0x8907 /* SIOCGSTAMPNS_OLD */, kTimespec},
      {FIOGETOWN, 4},             {0x894b /* SIOCOUTQNSD */, 4}, {SIOCGIFPFLAGS, kIfreq},
      {SIOCGIFSLAVE, kIfreq},     {SIOCGIFENCAP, kIfreq}, {0x8947 /* SIOCGMIIPHY */, kIfreq},
      {0x8948 /* SIOCGMIIREG */, kIfreq}, {SIOCGARP, kArpreq}, {SIOCGRARP, kArpreq},
      // Serial lines (linux/serial.h).
      {TIOCGICOUNT, kSerialIcounter}, {TIOCGSERIAL, kSerialStruct}, {TIOCGRS485, kSerialRs485},
      {TIOCSERGETLSR, 4},
      // TIOCLINUX: the subcode byte is replaced by the answer (GETSHIFTSTATE,
      // GETMOUSEREPORTING, GETKMSGREDIRECT); the others leave it as it was.
      {TIOCLINUX, 1},
      // Virtual terminals and the console keyboard (linux/vt.h, linux/kd.h).
      {VT_OPENQRY, 4},            {VT_GETMODE, kVtMode},  {VT_GETSTATE, kVtStat},
      {VT_GETHIFONTMASK, 2},      {KDGETMODE, 4},         {KDGKBTYPE, 1},
      {KDGKBMODE, 4},             {KDGKBMETA, 4},         {KDGETLED, 1},
      {KDGKBLED, 1},              {KDGKBENT, kKbentry},   {KDGKBSENT, kKbsentry},
      {KDGKBDIACR, kKbdiacrs},    {KDGKBDIACRUC, kKbdiacrsuc}, {KDGETKEYCODE, kKbkeycode},
      {KDKBDREP, kKbdRepeat},     {GIO_FONT, 256 * 32},   {GIO_SCRNMAP, E_TABSZ},
      {GIO_UNISCRNMAP, E_TABSZ * 2}, {GIO_CMAP, 48},      {0x5610 /* VT_GETCONSIZECSRPOS */, kVtConsizecsrpos},
  };
  for (const Known& k : kKnown) {
    if (k.req == req) {
      add(out, p, k.size);
      return;
    }
  }
  if (req == SIOCGIFCONF) {
    // struct ifconf { int ifc_len; char* ifc_buf; }: length written back, buffer filled.
    add(out, p, kIfconf);
    struct ifconf ic;
    if (read_val(mem, p, ic) && ic.ifc_len > 0) add(out, reinterpret_cast<uint64_t>(ic.ifc_buf), ic.ifc_len);
    return;
  }
  if (req == KDFONTOP) {
    // struct console_font_op: a GET writes width, height and charcount back,
    // and the glyphs: ceil(width / 8) bytes a row, 32 rows a glyph (the
    // height asked for with KD_FONT_OP_GET_TALL).
    struct console_font_op op;
    if (!read_val(mem, p, op) || (op.op != KD_FONT_OP_GET && op.op != 3 /* KD_FONT_OP_GET_TALL */)) return;
    add(out, p, kConsoleFontOp);
    const uint64_t pitch = op.op == KD_FONT_OP_GET ? 32 : op.height;
    add(out, reinterpret_cast<uint64_t>(op.data), uint64_t{(op.width + 7) / 8} * pitch * op.charcount);
    return;
  }
  if (req == GIO_FONTX) {
    // struct consolefontdesc: charcount and charheight written back, 32 bytes a glyph.
    struct consolefontdesc d;
    if (!read_val(mem, p, d)) return;
    add(out, p, kConsolefontdesc);
    add(out, reinterpret_cast<uint64_t>(d.chardata), uint64_t{d.charcount} * 32);
    return;
  }
  if (req == GIO_UNIMAP) {
    // struct unimapdesc: the entry count written back, then that many struct unipair.
    struct unimapdesc d;
    if (!read_val(mem, p, d)) return;
    add(out, p, kUnimapdesc);
    add(out, reinterpret_cast<uint64_t>(d.entries), uint64_t{d.entry_ct} * sizeof(struct unipair));
    return;
  }
  if (req == 0xc020660bu /* FS_IOC_FIEMAP */) {
    struct fiemap fm;
    if (!read_val(mem, p, fm)) return;
    add(out, p, kFiemap + uint64_t{fm.fm_extent_count} * kFiemapExtent);
    return;
  }
  if (req == 0xc0189436u /* FIDEDUPERANGE */) {
    // struct file_dedupe_range: 24-byte header (dest_count at 16), then 32 bytes per destination.
    uint16_t count = 0;
    if (!read_val(mem, p + 16, count)) return;
    add(out, p, 24 + uint64_t{count} * 32);
    return;
  }
  // Generic encoding: _IOC(dir, type, nr, size) with dir & _IOC_READ.
  const uint32_t dir = req >> 30;
  const uint32_t size = (req >> 16) & 0x3fff;
  if ((dir & 2u) && size > 0) add(out, p, size);
}

void fcntl_outputs(const CallView& c, MemReader&, std::vector<Range>& out) {
  const int cmd = static_cast<int>(c.args[1]);
  const uint64_t p = c.args[2];
  switch (cmd) {
    case F_GETLK:
    case F_OFD_GETLK:
      add(out, p, kFlock);
      break;
    case F_GETOWN_EX:
      add(out, p, kFOwnerEx);
      break;
    case 1035:  // F_GET_RW_HINT
    case 1037:  // F_GET_FILE_RW_HINT
      add(out, p, 8);
      break;
    default:
      break;
  }
}

void prctl_outputs(const CallView& c, MemReader&, std::vector<Range>& out) {
  const uint64_t opt = c.args[0];
  switch (opt) {
    case 2:   // PR_GET_PDEATHSIG
    case 5:   // PR_GET_UNALIGN
    case 9:   // PR_GET_FPEMU
    case 11:  // PR_GET_FPEXC
    case 19:  // PR_GET_ENDIAN
    case 25:  // PR_GET_TSC
    case 37:  // PR_GET_CHILD_SUBREAPER
      add(out, c.args[1], 4);
      break;
    case 16:  // PR_GET_NAME
      add(out, c.args[1], 16);
      break;
    case 40:  // PR_GET_TID_ADDRESS
    case 74:  // PR_GET_SHADOW_STACK_STATUS
      add(out, c.args[1], 8);
      break;
    case 35:  // PR_SET_MM
      if (c.args[1] == 14 /* PR_SET_MM_MAP_SIZE */) add(out, c.args[2], 4);
      break;
    case 62:  // PR_SCHED_CORE
      if (c.args[1] == 0 /* PR_SCHED_CORE_GET */) add(out, c.args[4], 8);
      break;
    case 0x41555856:  // PR_GET_AUXV: returns the full size, writes at most arg 2 bytes
      if (c.ret > 0) add(out, c.args[1], std::min<uint64_t>(c.ret, c.args[2]));
      break;
    default:
      break;
  }
}

void arch_prctl_outputs(const CallView& c, MemReader&, std::vector<Range>& out) {
  switch (c.args[0]) {
    case 0x1003:  // ARCH_GET_FS
    case 0x1004:  // ARCH_GET_GS
    case 0x1021:  // ARCH_GET_XCOMP_SUPP
    case 0x1022:  // ARCH_GET_XCOMP_PERM
    case 0x1024:  // ARCH_GET_XCOMP_GUEST_PERM
    case 0x4001:  // ARCH_GET_UNTAG_MASK
    case 0x4003:  // ARCH_GET_MAX_TAG_BITS
    case 0x5005:  // ARCH_SHSTK_STATUS
      add(out, c.args[1], 8);
      break;
    default:
      break;
  }
}

// select/pselect6: three fd_sets of ceil(nfds/64) words on success, and the
// timeout (timeval or timespec, 16 bytes either way), written back even when
// interrupted.
void select_outputs(const CallView& c, MemReader&, std::vector<Range>& out) {
  const int64_t nfds = static_cast<int32_t>(c.args[0]);
  if (!failed(c) && nfds > 0) {
    const uint64_t bytes = (static_cast<uint64_t>(nfds) + 63) / 64 * 8;
    for (int i = 1; i <= 3; ++i) add(out, c.args[i], bytes);
  }
  add(out, c.args[4], 16);
}

void mincore_outputs(const CallView& c, MemReader&, std::vector<Range>& out) {
  add(out, c.args[2], (c.args[1] + 4095) / 4096);
}

void getgroups_outputs(const CallView& c, MemReader&, std::vector<Range>& out) {
  if (static_cast<int32_t>(c.args[0]) > 0 && c.ret > 0) add(out, c.args[1], uint64_t(c.ret) * 4);
}

// capget: an unknown version in the header gets the kernel's preferred one
// written over it, with EINVAL, or with 0 when data is NULL (how libcap asks
// which version the kernel prefers); the header's version is recorded in
// every case. Data is 1 (v1) or 2 (v2, v3) structs.
void capget_outputs(const CallView& c, MemReader& mem, std::vector<Range>& out) {
  add(out, c.args[0], 4);
  uint32_t version = 0;
  if (failed(c) || !read_val(mem, c.args[0], version)) return;
  if (version == _LINUX_CAPABILITY_VERSION_1) add(out, c.args[1], kCapData);
  else if (version == _LINUX_CAPABILITY_VERSION_2 || version == _LINUX_CAPABILITY_VERSION_3)
    add(out, c.args[1], 2 * kCapData);
}

// futex: the ops that change user memory themselves: WAKE_OP's atomic
// operation on *uaddr2, and the PI ops, where the kernel stores the owner's
// tid and FUTEX_WAITERS into the futex word (also when a LOCK_PI times out
// or is interrupted: the row keeps outputs on error).
void futex_outputs(const CallView& c, MemReader&, std::vector<Range>& out) {
  switch (c.args[1] & 127) {
    case 5:   // FUTEX_WAKE_OP: atomic op on *uaddr2
    case 11:  // FUTEX_WAIT_REQUEUE_PI: the PI futex at uaddr2 may be taken
    case 12:  // FUTEX_CMP_REQUEUE_PI
      add(out, c.args[4], 4);
      if ((c.args[1] & 127) != 5) add(out, c.args[0], 4);
      break;
    case 6:   // FUTEX_LOCK_PI: owner tid / waiters bit in *uaddr
    case 7:   // FUTEX_UNLOCK_PI
    case 8:   // FUTEX_TRYLOCK_PI
    case 13:  // FUTEX_LOCK_PI2
      add(out, c.args[0], 4);
      break;
    default:
      break;
  }
}

void msgrcv_outputs(const CallView& c, MemReader&, std::vector<Range>& out) {
  if (c.ret >= 0) add(out, c.args[1], sizeof(long) + uint64_t(c.ret));
}

void msgctl_outputs(const CallView& c, MemReader&, std::vector<Range>& out) {
  switch (static_cast<int>(c.args[1]) & ~0x100 /* IPC_64 */) {
    case IPC_STAT:
    case MSG_STAT:
    case 13:  // MSG_STAT_ANY
      add(out, c.args[2], kMsqidDs);
      break;
    case IPC_INFO:
    case MSG_INFO:
      add(out, c.args[2], kMsginfo);
      break;
    default:
      break;
  }
}

// semctl(semid, semnum, cmd, arg): the struct or array that arg points to.
// GETALL's array holds one unsigned short per semaphore of the set, a count
// the call does not carry: the set's own sem_nsems. (GETVAL, GETPID,
// GETNCNT and GETZCNT answer through the result.)
void semctl_outputs(const CallView& c, MemReader& mem, std::vector<Range>& out) {
  switch (static_cast<int>(c.args[2]) & ~0x100 /* IPC_64 */) {
    case GETALL:
      if (std::optional<uint64_t> n = mem.semaphore_count(static_cast<int>(c.args[0])))
        add(out, c.args[3], *n * sizeof(unsigned short));
      break;
    case IPC_STAT:
    case SEM_STAT:
    case 20:  // SEM_STAT_ANY
      add(out, c.args[3], kSemidDs);
      break;
    case IPC_INFO:
    case SEM_INFO:
      add(out, c.args[3], kSeminfo);
      break;
    default:
      break;
  }
}

void shmctl_outputs(const CallView& c, MemReader&, std::vector<Range>& out) {
  switch (static_cast<int>(c.args[1]) & ~0x100 /* IPC_64 */) {
    case IPC_STAT:
    case SHM_STAT:
    case 15:  // SHM_STAT_ANY
      add(out, c.args[2], sizeof(struct shmid_ds));
      break;
    case IPC_INFO:
      add(out, c.args[2], sizeof(struct shminfo));
      break;
    case SHM_INFO:
      add(out, c.args[2], sizeof(struct shm_info));
      break;
    default:
      break;
  }
}

void syslog_outputs(const CallView& c, MemReader&, std::vector<Range>& out) {
  const int type = static_cast<int>(c.args[0]);
  if ((type == 2 || type == 3 || type == 4) && c.ret > 0)  // SYSLOG_ACTION_READ*
    add(out, c.args[1], std::min<uint64_t>(c.ret, c.args[2]));
}

// keyctl(op, arg2, arg3, arg4, arg5): the buffers of the ops that read.
void keyctl_outputs(const CallView& c, MemReader&, std::vector<Range>& out) {
  const int op = static_cast<int>(c.args[0]);
  if (op == 24 /* KEYCTL_PKEY_QUERY */) {
    if (c.ret == 0) add(out, c.args[4], kKeyctlPkeyQuery);
    return;
  }
  if (c.ret <= 0) return;
  switch (op) {
    case 6:   // KEYCTL_DESCRIBE
    case 11:  // KEYCTL_READ
    case 17:  // KEYCTL_GET_SECURITY
    case 23:  // KEYCTL_DH_COMPUTE: each returns the full size and writes at most buflen (arg 4)
      add(out, c.args[2], std::min<uint64_t>(c.ret, c.args[3]));
      break;
    case 25:  // KEYCTL_PKEY_ENCRYPT
    case 26:  // KEYCTL_PKEY_DECRYPT
    case 27:  // KEYCTL_PKEY_SIGN: the result's bytes in arg 5
      add(out, c.args[4], c.ret);
      break;
    case 31:  // KEYCTL_CAPABILITIES: returns its full size, writes at most buflen (arg 3)
      add(out, c.args[1], std::min<uint64_t>(c.ret, c.args[2]));
      break;
    default:
      break;
  }
}

void get_mempolicy_outputs(const CallView& c, MemReader&, std::vector<Range>& out) {
  add(out, c.args[1], (c.args[2] + 63) / 64 * 8);
}

// recvmmsg: each filled struct mmsghdr (msghdr + msg_len) and its buffers;
// the timeout is written back on success.
void recvmmsg_outputs(const CallView& c, MemReader& mem, std::vector<Range>& out) {
  if (c.ret <= 0) return;
  for (int64_t i = 0; i < c.ret && i < 1024; ++i) {
    const uint64_t entry = c.args[1] + uint64_t(i) * kMmsghdr;
    struct mmsghdr m;
    if (!read_val(mem, entry, m)) return;
    walk_msghdr(mem, entry, m.msg_len, out);
    add(out, entry + offsetof(struct mmsghdr, msg_len), sizeof m.msg_len);
  }
  add(out, c.args[4], kTimespec);
}

void sendmmsg_outputs(const CallView& c, MemReader&, std::vector<Range>& out) {
  for (int64_t i = 0; i < c.ret && i < 1024; ++i)
    add(out, c.args[1] + uint64_t(i) * kMmsghdr + offsetof(struct mmsghdr, msg_len), 4);
}

// ptrace(request, pid, addr, data), as the recorder's emulation answers it
// (the raw call: PEEK* store the word at `data`): the tracer's own memory,
// or the tracee's for POKETEXT/POKEDATA.
void ptrace_outputs(const CallView& c, MemReader& mem, std::vector<Range>& out) {
  const uint64_t addr = c.args[2], data = c.args[3];
  switch (static_cast<long>(c.args[0])) {
    case 1: case 2: case 3:  // PTRACE_PEEKTEXT, PEEKDATA, PEEKUSER
    case 0x4201:             // PTRACE_GETEVENTMSG
      add(out, data, 8);
      break;
    case 4: case 5:  // PTRACE_POKETEXT, POKEDATA: in the tracee
      out.push_back({addr, 8, static_cast<int32_t>(c.args[1])});
      break;
    case 12: add(out, data, 27 * 8); break;                  // PTRACE_GETREGS: user_regs_struct
    case 14: add(out, data, 512); break;                     // PTRACE_GETFPREGS: user_fpregs_struct
    case 0x4202: add(out, data, kSiginfo); break;            // PTRACE_GETSIGINFO
    case 0x420a: add(out, data, 8); break;                   // PTRACE_GETSIGMASK
    case 0x420e:                                             // PTRACE_GET_SYSCALL_INFO: min(size, ret) bytes
      add(out, data, std::min<uint64_t>(addr, static_cast<uint64_t>(c.ret)));
      break;
    case 0x4204: {  // PTRACE_GETREGSET: the iovec (its length updated) and what it points to
      uint64_t iov[2] = {};
      add(out, data, kIovec);
      if (read_val(mem, data, iov)) add(out, iov[0], iov[1]);
      break;
    }
    default:
      break;
  }
}

// clone: tids stored into the parent's memory (and the child's, with CLONE_VM).
void clone_outputs(const CallView& c, MemReader&, std::vector<Range>& out) {
  const uint64_t flags = c.args[0];
  if (flags & (CLONE_PARENT_SETTID | CLONE_PIDFD)) add(out, c.args[2], 4);
  if ((flags & CLONE_CHILD_SETTID) && (flags & CLONE_VM)) add(out, c.args[3], 4);
}

void clone3_outputs(const CallView& c, MemReader& mem, std::vector<Range>& out) {
  uint64_t flags = 0, pidfd = 0, child_tid = 0, parent_tid = 0;
  if (c.args[1] < 64 || !read_val(mem, c.args[0], flags)) return;
  read_val(mem, c.args[0] + kCloneArgsPidfd, pidfd);
  read_val(mem, c.args[0] + kCloneArgsChildTid, child_tid);
  read_val(mem, c.args[0] + kCloneArgsParentTid, parent_tid);
  if (flags & CLONE_PIDFD) add(out, pidfd, 4);
  if (flags & CLONE_PARENT_SETTID) add(out, parent_tid, 4);
  if ((flags & CLONE_CHILD_SETTID) && (flags & CLONE_VM)) add(out, child_tid, 4);
}

void seccomp_outputs(const CallView& c, MemReader&, std::vector<Range>& out) {
  if (c.args[0] == 3 /* SECCOMP_GET_NOTIF_SIZES */) add(out, c.args[2], 6);  // struct seccomp_notif_sizes
}

// getxattrat: struct xattr_args { __aligned_u64 value; __u32 size; __u32 flags; }.
void getxattrat_outputs(const CallView& c, MemReader& mem, std::vector<Range>& out) {
  struct {
    uint64_t value;
    uint32_t size;
    uint32_t flags;
  } xa;
  if (c.ret <= 0 || !read_val(mem, c.args[4], xa)) return;
  add(out, xa.value, std::min<uint64_t>(c.ret, xa.size));
}

// getsockopt(fd, level, name, optval, optlen): the value, as long as the
// length the kernel wrote back, and that length; with ERANGE (SO_PEERSEC,
// SO_PEERGROUPS on a short buffer) only the length, the size needed.
void getsockopt_outputs(const CallView& c, MemReader& mem, std::vector<Range>& out) {
  if (c.ret == -ERANGE) {
    add(out, c.args[4], 4);
    return;
  }
  if (failed(c)) return;
  uint32_t len = 0;
  if (read_val(mem, c.args[4], len)) add(out, c.args[3], len);
  add(out, c.args[4], 4);
}

// sched_setattr(pid, attr, flags): a struct larger than the kernel knows,
// with non-zero bytes past its end, fails with E2BIG and the kernel's size
// written into attr->size (perf_event_open shares the rule).
void sched_setattr_outputs(const CallView& c, MemReader&, std::vector<Range>& out) {
  if (c.ret == -E2BIG) add(out, c.args[1], 4);
}

// perf_event_open(attr, pid, cpu, group_fd, flags): an attr larger than the
// kernel knows, with non-zero bytes past its end, fails with E2BIG and the
// kernel's size written into attr->size (after the u32 type). The counts
// come later, by read() of the fd: recorded like any read.
void perf_event_open_outputs(const CallView& c, MemReader&, std::vector<Range>& out) {
  if (c.ret == -E2BIG) add(out, c.args[0] + 4, 4);
}

// quotactl(cmd, special, id, addr) and quotactl_fd(fd, cmd, id, addr): the
// struct the GET sub-commands fill (cmd is QCMD(subcmd, type): subcmd << 8 | type).
void quota_outputs(uint64_t cmd, uint64_t addr, std::vector<Range>& out) {
  switch (static_cast<uint32_t>(cmd) >> 8) {
    case Q_GETFMT: add(out, addr, 4); break;
    case Q_GETINFO: add(out, addr, sizeof(struct if_dqinfo)); break;
    case Q_GETQUOTA: add(out, addr, sizeof(struct if_dqblk)); break;
    case Q_GETNEXTQUOTA: add(out, addr, sizeof(struct if_nextdqblk)); break;
    case Q_XGETQUOTA:
    case Q_XGETNEXTQUOTA: add(out, addr, sizeof(struct fs_disk_quota)); break;
    case Q_XGETQSTAT: add(out, addr, sizeof(struct fs_quota_stat)); break;
    case Q_XGETQSTATV: add(out, addr, sizeof(struct fs_quota_statv)); break;
    default: break;
  }
}
void quotactl_outputs(const CallView& c, MemReader&, std::vector<Range>& out) { quota_outputs(c.args[0], c.args[3], out); }
void quotactl_fd_outputs(const CallView& c, MemReader&, std::vector<Range>& out) { quota_outputs(c.args[1], c.args[3], out); }

// name_to_handle_at(dirfd, path, handle, mount_id, flags): struct
// file_handle's header and handle (with EOVERFLOW only the header: the size
// needed), and the mount id (a u64 with AT_HANDLE_MNT_ID_UNIQUE).
void name_to_handle_at_outputs(const CallView& c, MemReader& mem, std::vector<Range>& out) {
  if (c.ret != 0 && c.ret != -EOVERFLOW) return;
  uint32_t bytes = 0;
  if (c.ret == 0) read_val(mem, c.args[2], bytes);
  add(out, c.args[2], kFileHandleHeader + std::min(bytes, kMaxHandleSz));
  add(out, c.args[3], (c.args[4] & 0x001 /* AT_HANDLE_MNT_ID_UNIQUE */) ? 8 : 4);
}

// process_vm_writev(pid, local, liovcnt, remote, riovcnt, flags): the bytes
// land in process `pid`, at the remote iovecs in order, up to the result.
void process_vm_writev_outputs(const CallView& c, MemReader& mem, std::vector<Range>& out) {
  if (c.ret <= 0) return;
  const auto pid = static_cast<int32_t>(c.args[0]);
  std::vector<Range> remote;
  walk_iovec(mem, c.args[3], c.args[4], static_cast<uint64_t>(c.ret), remote);
  for (Range r : remote) {
    r.pid = pid;
    out.push_back(r);
  }
}

// A write to /proc/P/mem changes process P's memory (a debugger, a JIT
// patching itself through /proc/self/mem): the bytes written, at the
// address the file offset names.
void write_to_mem_file(const CallView& c, MemReader& mem, std::vector<Range>& out, std::optional<uint64_t> offset) {
  if (c.ret <= 0) return;
  std::optional<MemReader::MemFile> f = mem.mem_file(static_cast<int>(c.args[0]));
  if (!f) return;
  const uint64_t n = static_cast<uint64_t>(c.ret);
  const uint64_t addr = offset ? *offset : f->pos - n;  // write, writev: the position moved past the bytes
  if (addr != 0) out.push_back({addr, std::min(n, kMaxOutputBytes), f->pid});
}
// write, writev: at the file position.
void positioned_write_outputs(const CallView& c, MemReader& mem, std::vector<Range>& out) {
  write_to_mem_file(c, mem, out, std::nullopt);
}
// pwrite64, pwritev: at the offset in argument 3.
void offset_write_outputs(const CallView& c, MemReader& mem, std::vector<Range>& out) {
  write_to_mem_file(c, mem, out, c.args[3]);
}
// pwritev2: offset -1 means the file position.
void pwritev2_outputs(const CallView& c, MemReader& mem, std::vector<Range>& out) {
  write_to_mem_file(c, mem, out, static_cast<int64_t>(c.args[3]) == -1 ? std::nullopt : std::optional(c.args[3]));
}

// madvise advice that changes what memory reads: DONTNEED (and its _LOCKED
// twin) drops the pages; private anonymous memory then reads as zeros, file
// and shared mappings as their backing; so does a range whose guard region
// is removed. REMOVE frees a shared mapping's backing: zeros.
bool advice_drops_pages(uint64_t advice) {
  return advice == MADV_DONTNEED || advice == 24 /* MADV_DONTNEED_LOCKED */ || advice == 103 /* MADV_GUARD_REMOVE */;
}
// madvise runs for real on replay (it shapes the address space), and the
// zeros it gives private anonymous memory are the same there. Replay maps
// files as anonymous memory, so what a dropped file or shared page reads
// again is recorded; REMOVE is emulated (a shared backing that replay does
// not have) with the whole range as it was after the call.
void madvise_outputs(const CallView& c, MemReader& mem, std::vector<Range>& out) {
  const uint64_t len = page_round_up(c.args[1]);
  if (advice_drops_pages(c.args[2])) {
    for (const Range& r : mem.backed_ranges(c.args[0], len)) add(out, r.addr, r.len);
  } else if (c.args[2] == MADV_REMOVE) {
    add(out, c.args[0], len);
  }
}
Replay madvise_replay(const uint64_t a[6]) { return a[2] == MADV_REMOVE ? Replay::Emulate : Replay::Execute; }
// MADV_FREE: the kernel frees the pages later, when memory is short, unless
// they are written first: what they read is decided at a time rrx cannot
// see. Refused with EINVAL (kernels before 4.5), as rr does: allocators fall
// back to MADV_DONTNEED.
int madvise_refuse(const uint64_t a[6]) { return a[2] == MADV_FREE ? EINVAL : 0; }

// process_madvise(pidfd, iovec, vlen, advice, flags): emulated; advice that
// drops pages (the calling process may give any) records the ranges it
// covered, up to the result, as they read after the call.
void process_madvise_outputs(const CallView& c, MemReader& mem, std::vector<Range>& out) {
  if (c.ret <= 0 || !(advice_drops_pages(c.args[3]) || c.args[3] == MADV_REMOVE)) return;
  walk_iovec(mem, c.args[1], c.args[2], static_cast<uint64_t>(c.ret), out);
}
int process_madvise_refuse(const uint64_t a[6]) { return a[3] == MADV_FREE ? EINVAL : 0; }

// ---------------------------------------------------------------------------
// Replay policies that depend on an argument.

// Resource limits the kernel applies to the replayed process as it did to the
// recorded one: how far its stack grows (and where exec places mmap_base),
// how much it may map or lock. Run for real on replay, with the recorded
// result (the old limits rrx's replay started with may differ). The others
// stay emulated: CPU time or process counts would only hurt the replay (it
// runs slower and forks checkpoints), CORE would write core files again, and
// file sizes or descriptors concern calls replay emulates.
bool limit_shapes_replay(uint64_t resource) {
  switch (resource) {
    case RLIMIT_STACK: case RLIMIT_AS: case RLIMIT_DATA: case RLIMIT_MEMLOCK:
      return true;
    default:
      return false;
  }
}
// setrlimit(resource, new)
Replay setrlimit_replay(const uint64_t a[6]) { return limit_shapes_replay(a[0]) ? Replay::ExecuteInject : Replay::Emulate; }
// rt_sigaction(sig, act, oldact, size): a query (act NULL) changes nothing:
// its recorded answer is the state the replay has too (buffered calls are emulated).
Replay sigaction_replay(const uint64_t a[6]) { return a[1] == 0 ? Replay::Emulate : Replay::Execute; }
// rt_sigprocmask(how, set, old, size): likewise, a query (set NULL) changes nothing.
Replay sigprocmask_replay(const uint64_t a[6]) { return a[1] == 0 ? Replay::Emulate : Replay::Execute; }
// prlimit64(pid, resource, new, old): only the caller's own limits (pid 0),
// only when it sets one.
Replay prlimit_replay(const uint64_t a[6]) {
  return a[0] == 0 && a[2] != 0 && limit_shapes_replay(a[1]) ? Replay::ExecuteInject : Replay::Emulate;
}
// seccomp: a filter with a user-notification listener is refused (its
// supervisor, in another process, decides calls and may let them run).
Replay seccomp_replay(const uint64_t a[6]) {
  return seccomp::refused_by_rrx(a) ? Replay::Unsupported : Replay::Emulate;
}

// ---------------------------------------------------------------------------
// Row builder: R(nr, "name", {args...}, policy) then chained outputs/flags.

constexpr Replay E = Replay::Emulate;
constexpr Replay X = Replay::Execute;
constexpr Replay XI = Replay::ExecuteInject;
constexpr Replay U = Replay::Unsupported;

struct R {
  SyscallDesc d{};

  constexpr R(int nr, const char* name, std::initializer_list<Arg> args, Replay policy) {
    d.nr = nr;
    d.name = name;
    int i = 0;
    for (Arg a : args) d.args[i++] = a;
    d.replay = policy;
  }
  constexpr R with_out(int arg, SizeFrom size, uint32_t n, uint32_t elem) const {
    R r = *this;
    for (OutMem& o : r.d.out) {
      if (o.size == SizeFrom::None) {
        o = OutMem{static_cast<int8_t>(arg), size, n, elem};
        return r;
      }
    }
    throw "more than 3 output ranges in a row";
  }
  // `bytes` at the pointer in argument `arg`.
  constexpr R fixed(int arg, uint32_t bytes) const { return with_out(arg, SizeFrom::Fixed, bytes, 0); }
  // As many bytes as argument `n` says.
  constexpr R argsz(int arg, int n) const { return with_out(arg, SizeFrom::Arg, n, 0); }
  // The return value, capped at argument `cap` when `cap` > 0.
  constexpr R ret(int arg, int cap = 0) const { return with_out(arg, SizeFrom::Ret, cap, 0); }
  constexpr R argtimes(int arg, int n, uint32_t elem) const { return with_out(arg, SizeFrom::ArgTimes, n, elem); }
  constexpr R rettimes(int arg, uint32_t elem, int cap = 0) const {
    return with_out(arg, SizeFrom::RetTimes, cap, elem);
  }
  constexpr R ptru32(int arg, int n, uint32_t cap = 0) const { return with_out(arg, SizeFrom::ArgPtrU32, n, cap); }
  constexpr R iov(int arg, int n) const { return with_out(arg, SizeFrom::Iovec, n, 0); }
  constexpr R msg(int arg) const { return with_out(arg, SizeFrom::Msghdr, 0, 0); }
  // The call sends the bytes described by `shape` at argument `arg` (count in argument `n`) to fd argument 0.
  constexpr R sends(Sends shape, int arg, int n = 0) const {
    R r = *this;
    r.d.sends = SendsFrom{static_cast<int8_t>(arg), shape, static_cast<uint8_t>(n)};
    return r;
  }
  // The call changes the file behind fd argument `fd` (see FileChange).
  constexpr R changes(FileChange kind, int fd, int off = -1) const {
    R r = *this;
    r.d.changes_file = FileChangeFrom{kind, static_cast<int8_t>(fd), static_cast<int8_t>(off)};
    return r;
  }
  constexpr R fn(OutputsFn f) const {
    R r = *this;
    r.d.outputs = f;
    return r;
  }
  constexpr R sp(Special s) const {
    R r = *this;
    r.d.special = s;
    return r;
  }
  constexpr R by_args(ReplayFn f) const {
    R r = *this;
    r.d.replay_by_args = f;
    return r;
  }
  // Waits with the signal mask at argument `arg` (directly, or through {sigset*, size}).
  constexpr R tmpmask(int arg, bool indirect = false) const {
    R r = *this;
    r.d.temp_sigmask = TempSigmask{static_cast<int8_t>(arg), indirect};
    return r;
  }
  constexpr R refuse(RefuseFn f) const {
    R r = *this;
    r.d.refuse_by_args = f;
    return r;
  }
  // kBuffered, buffered when `when` (RRX_BW_*) holds, with its argument test.
  constexpr R buf(uint8_t when, int8_t arg = -1, uint32_t mask = 0, uint32_t value = 0) const {
    R r = *this;
    r.d.flags |= kBuffered;
    r.d.buffered = BufferRule{when, arg, mask, value};
    return r;
  }
  // kBuffered, buffered when argument `arg` is one of `vs` (RRX_BW_ARG_IN).
  constexpr R buf_in(int8_t arg, std::initializer_list<uint32_t> vs) const {
    R r = buf(RRX_BW_ARG_IN, arg);
    for (uint32_t v : vs) r.d.buffered.values[r.d.buffered.value_count++] = v;
    return r;
  }
  // The record holds the `len` bytes argument `arg` points to (an input the
  // recorder's model of the thread's signal state applies).
  constexpr R buf_input(int8_t arg, uint16_t len) const {
    R r = *this;
    r.d.buffered.in_arg = arg;
    r.d.buffered.in_len = len;
    return r;
  }
  // Buffered also where `when` says it could block, when the thread has a
  // desched event (RRX_DS_*: core/syscallbuf_abi.h, "Desched").
  constexpr R desched(uint8_t how) const {
    R r = *this;
    r.d.buffered.desched = how;
    return r;
  }
  constexpr R fl(uint8_t f) const {
    R r = *this;
    r.d.flags |= f;
    return r;
  }
  constexpr operator SyscallDesc() const { return d; }
};

using enum Arg;
constexpr uint8_t kBlock = kMayBlock;
constexpr uint8_t kMaps = kMapsMemory;
constexpr uint32_t kSockaddrCap = kSockaddrStorage;

// clang-format off
constexpr SyscallDesc kRows[] = {
  R(0, "read", {Fd, OutPtr, Size}, E).ret(1, 2).fl(kBlock).buf(RRX_BW_FD_READ).desched(RRX_DS_YES),
  R(1, "write", {Fd, Ptr, Size}, E).sends(Sends::Buf, 1, 2).changes(FileChange::AtPosition, 0).fn(positioned_write_outputs).fl(kBlock).buf(RRX_BW_FD_WRITE).desched(RRX_DS_YES),
  R(2, "open", {Path, OpenFlags, Mode}, E).changes(FileChange::Opened, -1).fl(kBlock).buf(RRX_BW_OPEN, 0, 1),  // blocks on a FIFO
  R(3, "close", {Fd}, E).buf(RRX_BW_FD_BELOW, 0, 0, RRX_DESCHED_MIN_FD).fl(kFdEpoch),
  R(4, "stat", {Path, OutPtr}, E).fixed(1, kStat).buf(RRX_BW_ALWAYS),
  R(5, "fstat", {Fd, OutPtr}, E).fixed(1, kStat).buf(RRX_BW_ALWAYS),
  R(6, "lstat", {Path, OutPtr}, E).fixed(1, kStat).buf(RRX_BW_ALWAYS),
  R(7, "poll", {Ptr, UInt, Int}, E).argtimes(0, 1, kPollfd).fl(kBlock | kOutOnError).buf(RRX_BW_ZERO, 2).desched(RRX_DS_YES),
  R(8, "lseek", {Fd, Int, Whence}, E).buf(RRX_BW_ALWAYS),
  R(9, "mmap", {Ptr, Size, ProtFlags, MapFlags, Fd, Hex}, X).sp(Special::Mmap).fl(kMaps).buf(RRX_BW_MMAP_ANON, 3, MAP_ANONYMOUS | MAP_TYPE, MAP_ANONYMOUS | MAP_PRIVATE),
  R(10, "mprotect", {Ptr, Size, ProtFlags}, X).fl(kMaps).buf(RRX_BW_ARG_EQ, 2, PROT_EXEC, 0),
  R(11, "munmap", {Ptr, Size}, X).fl(kMaps).buf(RRX_BW_ALWAYS),
  R(12, "brk", {Ptr}, X).fl(kMaps).buf(RRX_BW_ALWAYS),
  R(13, "rt_sigaction", {Signal, Ptr, OutPtr, Size}, X).fixed(2, kKernelSigaction).fl(kSetsSigaction).by_args(sigaction_replay).buf_in(3, {8}).buf_input(1, kKernelSigaction),
  R(14, "rt_sigprocmask", {SigHow, Ptr, OutPtr, Size}, X).argsz(2, 3).fl(kSetsSigmask).by_args(sigprocmask_replay).buf(RRX_BW_SIGMASK, 3, 0, 8).buf_input(1, 8),
  R(15, "rt_sigreturn", {}, X).fl(kSetsSigmask),
  R(16, "ioctl", {Fd, IoctlReq, Hex}, E).fn(ioctl_outputs).fl(kBlock).buf_in(1, {FIONREAD, TCGETS, TIOCGWINSZ, FIONBIO, FIONCLEX, FIOCLEX}),
  R(17, "pread64", {Fd, OutPtr, Size, Int}, E).ret(1, 2).fl(kBlock).buf(RRX_BW_FD_READ),
  R(18, "pwrite64", {Fd, Ptr, Size, Int}, E).sends(Sends::Buf, 1, 2).changes(FileChange::AtOffset, 0, 3).fn(offset_write_outputs).buf(RRX_BW_FD_WRITE),
  R(19, "readv", {Fd, Ptr, Int}, E).iov(1, 2).fl(kBlock),
  R(20, "writev", {Fd, Ptr, Int}, E).sends(Sends::Iovec, 1, 2).changes(FileChange::AtPosition, 0).fn(positioned_write_outputs).fl(kBlock).buf(RRX_BW_FD_WRITE).desched(RRX_DS_YES),
  R(21, "access", {Path, AccessMode}, E).buf(RRX_BW_ALWAYS),
  R(22, "pipe", {OutPtr}, E).fixed(0, 8),
  R(23, "select", {Int, Ptr, Ptr, Ptr, Ptr}, E).fn(select_outputs).fl(kBlock | kOutOnError),
  R(24, "sched_yield", {}, X).fl(kGivesWay),
  R(25, "mremap", {Ptr, Size, Size, Hex, Ptr}, X).fl(kMaps),
  R(26, "msync", {Ptr, Size, Hex}, X),
  R(27, "mincore", {Ptr, Size, OutPtr}, E).fn(mincore_outputs),
  R(28, "madvise", {Ptr, Size, Madvise}, X).fn(madvise_outputs).by_args(madvise_replay).refuse(madvise_refuse).fl(kOutOnError | kMaps)
      .buf_in(2, {MADV_NORMAL, MADV_RANDOM, MADV_SEQUENTIAL, MADV_WILLNEED, MADV_DONTFORK, MADV_DOFORK, MADV_HUGEPAGE,
                  MADV_NOHUGEPAGE, MADV_DONTDUMP, MADV_DODUMP, MADV_WIPEONFORK, MADV_KEEPONFORK}),  // (no byte changes)
  R(29, "shmget", {Int, Size, Hex}, E),
  R(30, "shmat", {Int, Ptr, Hex}, E).sp(Special::ShmAttach).fl(kMaps),
  R(31, "shmctl", {Int, Int, Ptr}, E).fn(shmctl_outputs),
  R(32, "dup", {Fd}, E).buf(RRX_BW_ALWAYS),  // the lowest free number: one the library knows nothing of
  R(33, "dup2", {Fd, Fd}, E).fl(kFdEpoch).buf(RRX_BW_FD_BELOW, 1, 0, RRX_DESCHED_MIN_FD),  // the library forgets what it knew of the new number
  R(34, "pause", {}, E).fl(kBlock),
  R(35, "nanosleep", {Ptr, OutPtr}, E).fixed(1, kTimespec).fl(kBlock | kOutOnError),
  R(36, "getitimer", {Int, OutPtr}, E).fixed(1, kItimerval),
  R(37, "alarm", {UInt}, E),
  R(38, "setitimer", {Int, Ptr, OutPtr}, E).fixed(2, kItimerval),
  R(39, "getpid", {}, E).buf(RRX_BW_ALWAYS),
  R(40, "sendfile", {Fd, Fd, OutPtr, Size}, E).fixed(2, 8).changes(FileChange::AtPosition, 0).fl(kBlock),
  R(41, "socket", {SockFamily, SockType, Int}, E),
  R(42, "connect", {Fd, Ptr, UInt}, E).fl(kBlock),
  R(43, "accept", {Fd, OutPtr, OutPtr}, E).ptru32(1, 2, kSockaddrCap).fixed(2, 4).fl(kBlock),
  R(44, "sendto", {Fd, Ptr, Size, Hex, Ptr, UInt}, E).sends(Sends::Buf, 1, 2).fl(kBlock),
  R(45, "recvfrom", {Fd, OutPtr, Size, Hex, OutPtr, OutPtr}, E).ret(1, 2).ptru32(4, 5, kSockaddrCap).fixed(5, 4).fl(kBlock),
  R(46, "sendmsg", {Fd, Ptr, Hex}, E).sends(Sends::Msghdr, 1).fl(kBlock),
  R(47, "recvmsg", {Fd, Ptr, Hex}, E).msg(1).fl(kBlock),
  R(48, "shutdown", {Fd, Int}, E),
  R(49, "bind", {Fd, Ptr, UInt}, E),
  R(50, "listen", {Fd, Int}, E),
  R(51, "getsockname", {Fd, OutPtr, OutPtr}, E).ptru32(1, 2, kSockaddrCap).fixed(2, 4),
  R(52, "getpeername", {Fd, OutPtr, OutPtr}, E).ptru32(1, 2, kSockaddrCap).fixed(2, 4),
  R(53, "socketpair", {SockFamily, SockType, Int, OutPtr}, E).fixed(3, 8),
  R(54, "setsockopt", {Fd, Int, Int, Ptr, UInt}, E),
  R(55, "getsockopt", {Fd, Int, Int, OutPtr, OutPtr}, E).fn(getsockopt_outputs).fl(kOutOnError),
  R(56, "clone", {CloneFlags, Ptr, Ptr, Ptr, Hex}, X).sp(Special::Clone).fn(clone_outputs).fl(kFdEpoch),
  R(57, "fork", {}, X).sp(Special::Clone),
  R(58, "vfork", {}, X).sp(Special::Clone).fl(kBlock).fl(kFdEpoch),  // the parent waits for the child's exec/exit
  R(59, "execve", {Path, Ptr, Ptr}, X).sp(Special::Execve).fl(kMaps),
  R(60, "exit", {Int}, X).sp(Special::Exit),
  R(61, "wait4", {Int, OutPtr, WaitOptions, OutPtr}, E).fixed(1, 4).fixed(3, kRusage).sp(Special::Wait).fl(kBlock),
  R(62, "kill", {Int, Signal}, E),
  R(63, "uname", {OutPtr}, E).fixed(0, kUtsname).buf(RRX_BW_ALWAYS),
  R(64, "semget", {Int, Int, Hex}, E),
  R(65, "semop", {Int, Ptr, UInt}, E).fl(kBlock),
  R(66, "semctl", {Int, Int, Int, Hex}, E).fn(semctl_outputs),
  R(67, "shmdt", {Ptr}, E).sp(Special::ShmDetach).fl(kMaps),
  R(68, "msgget", {Int, Hex}, E),
  R(69, "msgsnd", {Int, Ptr, Size, Hex}, E).fl(kBlock),
  R(70, "msgrcv", {Int, OutPtr, Size, Int, Hex}, E).fn(msgrcv_outputs).fl(kBlock),
  R(71, "msgctl", {Int, Int, OutPtr}, E).fn(msgctl_outputs),
  R(72, "fcntl", {Fd, FcntlCmd, Hex}, E).fn(fcntl_outputs).fl(kBlock).buf_in(1, {F_DUPFD, F_GETFD, F_SETFD, F_GETFL, F_SETFL, F_GETLK, F_SETLK, F_OFD_GETLK, F_OFD_SETLK, F_DUPFD_CLOEXEC}),  // blocks: F_SETLKW, F_OFD_SETLKW
  R(73, "flock", {Fd, Int}, E).fl(kBlock),
  R(74, "fsync", {Fd}, E),
  R(75, "fdatasync", {Fd}, E),
  R(76, "truncate", {Path, Int}, E).changes(FileChange::ResizePath, 0, 1),
  R(77, "ftruncate", {Fd, Int}, E).changes(FileChange::Resize, 0, 1),
  R(78, "getdents", {Fd, OutPtr, Size}, E).ret(1, 2),
  R(79, "getcwd", {OutPtr, Size}, E).ret(0, 1).buf(RRX_BW_ALWAYS),
  R(80, "chdir", {Path}, E).buf(RRX_BW_ALWAYS),
  R(81, "fchdir", {Fd}, E).buf(RRX_BW_ALWAYS),
  R(82, "rename", {Path, Path}, E).buf(RRX_BW_ALWAYS),
  R(83, "mkdir", {Path, Mode}, E).buf(RRX_BW_ALWAYS),
  R(84, "rmdir", {Path}, E).buf(RRX_BW_ALWAYS),
  R(85, "creat", {Path, Mode}, E).changes(FileChange::Opened, -1).fl(kBlock),
  R(86, "link", {Path, Path}, E).buf(RRX_BW_ALWAYS),
  R(87, "unlink", {Path}, E).buf(RRX_BW_ALWAYS),
  R(88, "symlink", {Path, Path}, E).buf(RRX_BW_ALWAYS),
  R(89, "readlink", {Path, OutPtr, Size}, E).ret(1, 2).buf(RRX_BW_ALWAYS),
  R(90, "chmod", {Path, Mode}, E).buf(RRX_BW_ALWAYS),
  R(91, "fchmod", {Fd, Mode}, E).buf(RRX_BW_ALWAYS),
  R(92, "chown", {Path, Int, Int}, E).buf(RRX_BW_ALWAYS),
  R(93, "fchown", {Fd, Int, Int}, E).buf(RRX_BW_ALWAYS),
  R(94, "lchown", {Path, Int, Int}, E).buf(RRX_BW_ALWAYS),
  R(95, "umask", {Mode}, E).buf(RRX_BW_ALWAYS),
  R(96, "gettimeofday", {OutPtr, OutPtr}, E).fixed(0, kTimeval).fixed(1, kTimezone).buf(RRX_BW_ALWAYS),
  R(97, "getrlimit", {Int, OutPtr}, E).fixed(1, kRlimit),
  R(98, "getrusage", {Int, OutPtr}, E).fixed(1, kRusage).buf(RRX_BW_ALWAYS),
  R(99, "sysinfo", {OutPtr}, E).fixed(0, kSysinfo).buf(RRX_BW_ALWAYS),
  R(100, "times", {OutPtr}, E).fixed(0, kTms),
  R(101, "ptrace", {Int, Int, Hex, Hex}, E).fn(ptrace_outputs).sp(Special::Ptrace),
  R(102, "getuid", {}, E).buf(RRX_BW_ALWAYS),
  R(103, "syslog", {Int, OutPtr, Int}, E).fn(syslog_outputs),
  R(104, "getgid", {}, E).buf(RRX_BW_ALWAYS),
  R(105, "setuid", {Int}, E),
  R(106, "setgid", {Int}, E),
  R(107, "geteuid", {}, E).buf(RRX_BW_ALWAYS),
  R(108, "getegid", {}, E).buf(RRX_BW_ALWAYS),
  R(109, "setpgid", {Int, Int}, E),
  R(110, "getppid", {}, E).buf(RRX_BW_ALWAYS),
  R(111, "getpgrp", {}, E),
  R(112, "setsid", {}, E),
  R(113, "setreuid", {Int, Int}, E),
  R(114, "setregid", {Int, Int}, E),
  R(115, "getgroups", {Int, OutPtr}, E).fn(getgroups_outputs),
  R(116, "setgroups", {Int, Ptr}, E),
  R(117, "setresuid", {Int, Int, Int}, E),
  R(118, "getresuid", {OutPtr, OutPtr, OutPtr}, E).fixed(0, 4).fixed(1, 4).fixed(2, 4),
  R(119, "setresgid", {Int, Int, Int}, E),
  R(120, "getresgid", {OutPtr, OutPtr, OutPtr}, E).fixed(0, 4).fixed(1, 4).fixed(2, 4),
  R(121, "getpgid", {Int}, E),
  R(122, "setfsuid", {Int}, E),
  R(123, "setfsgid", {Int}, E),
  R(124, "getsid", {Int}, E),
  R(125, "capget", {Ptr, OutPtr}, E).fn(capget_outputs).fl(kOutOnError),
  R(126, "capset", {Ptr, Ptr}, E),
  R(127, "rt_sigpending", {OutPtr, Size}, E).argsz(0, 1).buf(RRX_BW_ALWAYS),
  R(128, "rt_sigtimedwait", {Ptr, OutPtr, Ptr, Size}, E).fixed(1, kSiginfo).fl(kBlock),
  R(129, "rt_sigqueueinfo", {Int, Signal, Ptr}, E),
  R(130, "rt_sigsuspend", {Ptr, Size}, E).fl(kBlock).tmpmask(0),
  R(131, "sigaltstack", {Ptr, OutPtr}, X).fixed(1, kStackT),
  R(132, "utime", {Path, Ptr}, E),
  R(133, "mknod", {Path, Mode, Hex}, E),
  R(134, "uselib", {Path}, U),
  R(135, "personality", {Hex}, E),
  R(136, "ustat", {Hex, OutPtr}, E).fixed(1, kUstat),
  R(137, "statfs", {Path, OutPtr}, E).fixed(1, kStatfs).buf(RRX_BW_ALWAYS),
  R(138, "fstatfs", {Fd, OutPtr}, E).fixed(1, kStatfs).buf(RRX_BW_ALWAYS),
  R(139, "sysfs", {Int, Hex, Hex}, U),
  R(140, "getpriority", {Int, Int}, E),
  R(141, "setpriority", {Int, Int, Int}, E),
  R(142, "sched_setparam", {Int, Ptr}, E),
  R(143, "sched_getparam", {Int, OutPtr}, E).fixed(1, 4),
  R(144, "sched_setscheduler", {Int, Int, Ptr}, E),
  R(145, "sched_getscheduler", {Int}, E),
  R(146, "sched_get_priority_max", {Int}, E),
  R(147, "sched_get_priority_min", {Int}, E),
  R(148, "sched_rr_get_interval", {Int, OutPtr}, E).fixed(1, kTimespec),
  R(149, "mlock", {Ptr, Size}, X),
  R(150, "munlock", {Ptr, Size}, X),
  R(151, "mlockall", {Hex}, X),
  R(152, "munlockall", {}, X),
  R(153, "vhangup", {}, E),
  R(154, "modify_ldt", {Int, Ptr, Size}, X).ret(1, 2),
  R(155, "pivot_root", {Path, Path}, E),
  R(156, "_sysctl", {Ptr}, U),
  R(157, "prctl", {PrctlOption, Hex, Hex, Hex, Hex}, E).fn(prctl_outputs).sp(Special::Prctl),
  R(158, "arch_prctl", {ArchPrctl, Hex}, X).fn(arch_prctl_outputs),
  R(159, "adjtimex", {OutPtr}, E).fixed(0, kTimex),
  R(160, "setrlimit", {Int, Ptr}, E).by_args(setrlimit_replay),
  R(161, "chroot", {Path}, E),
  R(162, "sync", {}, E),
  R(163, "acct", {Path}, E),
  R(164, "settimeofday", {Ptr, Ptr}, E),
  R(165, "mount", {Str, Path, Str, Hex, Ptr}, E),
  R(166, "umount2", {Path, Hex}, E),
  R(167, "swapon", {Path, Hex}, E),
  R(168, "swapoff", {Path}, E),
  R(169, "reboot", {Hex, Hex, Hex, Ptr}, E),
  R(170, "sethostname", {Ptr, Size}, E),
  R(171, "setdomainname", {Ptr, Size}, E),
  R(172, "iopl", {Int}, U),
  R(173, "ioperm", {Hex, Hex, Int}, U),
  R(174, "create_module", {}, U),
  R(175, "init_module", {Ptr, Size, Str}, U),
  R(176, "delete_module", {Str, Hex}, U),
  R(177, "get_kernel_syms", {}, U),
  R(178, "query_module", {}, U),
  R(179, "quotactl", {Hex, Path, Int, OutPtr}, E).fn(quotactl_outputs),
  R(180, "nfsservctl", {}, U),
  R(181, "getpmsg", {}, U),
  R(182, "putpmsg", {}, U),
  R(183, "afs_syscall", {}, U),
  R(184, "tuxcall", {}, U),
  R(185, "security", {}, U),
  R(186, "gettid", {}, E).buf(RRX_BW_ALWAYS),
  R(187, "readahead", {Fd, Int, Size}, E),
  R(188, "setxattr", {Path, Str, Ptr, Size, Hex}, E),
  R(189, "lsetxattr", {Path, Str, Ptr, Size, Hex}, E),
  R(190, "fsetxattr", {Fd, Str, Ptr, Size, Hex}, E),
  R(191, "getxattr", {Path, Str, OutPtr, Size}, E).ret(2, 3),
  R(192, "lgetxattr", {Path, Str, OutPtr, Size}, E).ret(2, 3),
  R(193, "fgetxattr", {Fd, Str, OutPtr, Size}, E).ret(2, 3),
  R(194, "listxattr", {Path, OutPtr, Size}, E).ret(1, 2),
  R(195, "llistxattr", {Path, OutPtr, Size}, E).ret(1, 2),
  R(196, "flistxattr", {Fd, OutPtr, Size}, E).ret(1, 2),
  R(197, "removexattr", {Path, Str}, E),
  R(198, "lremovexattr", {Path, Str}, E),
  R(199, "fremovexattr", {Fd, Str}, E),
  R(200, "tkill", {Int, Signal}, E),
  R(201, "time", {OutPtr}, E).fixed(0, 8).buf(RRX_BW_ALWAYS),
  R(202, "futex", {Ptr, FutexOp, UInt, Ptr, Ptr, UInt}, E).fn(futex_outputs).fl(kBlock | kOutOnError).buf(RRX_BW_ARG_EQ, 1, 0x7fu, 1 /* FUTEX_WAKE */).desched(RRX_DS_FUTEX_WAIT),
  R(203, "sched_setaffinity", {Int, Size, Ptr}, E).sp(Special::Affinity),
  R(204, "sched_getaffinity", {Int, Size, OutPtr}, E).ret(2, 1).sp(Special::Affinity),
  R(205, "set_thread_area", {Ptr}, X).fixed(0, kUserDesc),  // writes back entry_number
  R(206, "io_setup", {UInt, Ptr}, U),  // the AIO ring is written by the kernel asynchronously
  R(207, "io_destroy", {Hex}, U),
  R(208, "io_getevents", {Hex, Int, Int, Ptr, Ptr}, U),
  R(209, "io_submit", {Hex, Int, Ptr}, U),
  R(210, "io_cancel", {Hex, Ptr, Ptr}, U),
  R(211, "get_thread_area", {OutPtr}, X).fixed(0, kUserDesc),
  R(212, "lookup_dcookie", {Hex, OutPtr, Size}, E).ret(1, 2),
  R(213, "epoll_create", {Int}, E),
  R(214, "epoll_ctl_old", {}, U),
  R(215, "epoll_wait_old", {}, U),
  R(216, "remap_file_pages", {Ptr, Size, Hex, Size, Hex}, X).fl(kMaps),
  R(217, "getdents64", {Fd, OutPtr, Size}, E).ret(1, 2).buf(RRX_BW_ALWAYS),
  R(218, "set_tid_address", {Ptr}, XI),
  R(219, "restart_syscall", {}, E).fl(kBlock),
  R(220, "semtimedop", {Int, Ptr, UInt, Ptr}, E).fl(kBlock),
  R(221, "fadvise64", {Fd, Int, Size, Int}, E),
  R(222, "timer_create", {ClockId, Ptr, OutPtr}, E).fixed(2, 4),
  R(223, "timer_settime", {Int, Hex, Ptr, OutPtr}, E).fixed(3, kItimerspec),
  R(224, "timer_gettime", {Int, OutPtr}, E).fixed(1, kItimerspec),
  R(225, "timer_getoverrun", {Int}, E),
  R(226, "timer_delete", {Int}, E),
  R(227, "clock_settime", {ClockId, Ptr}, E),
  R(228, "clock_gettime", {ClockId, OutPtr}, E).fixed(1, kTimespec).buf(RRX_BW_ALWAYS),
  R(229, "clock_getres", {ClockId, OutPtr}, E).fixed(1, kTimespec).buf(RRX_BW_ALWAYS),
  R(230, "clock_nanosleep", {ClockId, Hex, Ptr, OutPtr}, E).fixed(3, kTimespec).fl(kBlock | kOutOnError),
  R(231, "exit_group", {Int}, X).sp(Special::Exit),
  R(232, "epoll_wait", {Fd, OutPtr, Int, Int}, E).rettimes(1, kEpollEvent, 2).fl(kBlock).buf(RRX_BW_ZERO, 3).desched(RRX_DS_YES),
  R(233, "epoll_ctl", {Fd, Int, Fd, Ptr}, E),
  R(234, "tgkill", {Int, Int, Signal}, E),
  R(235, "utimes", {Path, Ptr}, E),
  R(236, "vserver", {}, U),
  R(237, "mbind", {Ptr, Size, Int, Ptr, UInt, Hex}, E),
  R(238, "set_mempolicy", {Int, Ptr, UInt}, E),
  R(239, "get_mempolicy", {OutPtr, OutPtr, UInt, Ptr, Hex}, E).fixed(0, 4).fn(get_mempolicy_outputs),
  R(240, "mq_open", {Str, OpenFlags, Mode, Ptr}, E),
  R(241, "mq_unlink", {Str}, E),
  R(242, "mq_timedsend", {Int, Ptr, Size, UInt, Ptr}, E).fl(kBlock),
  R(243, "mq_timedreceive", {Int, OutPtr, Size, OutPtr, Ptr}, E).ret(1, 2).fixed(3, 4).fl(kBlock),
  R(244, "mq_notify", {Int, Ptr}, E),
  R(245, "mq_getsetattr", {Int, Ptr, OutPtr}, E).fixed(2, kMqAttr),
  R(246, "kexec_load", {Hex, Hex, Ptr, Hex}, U),
  R(247, "waitid", {Int, Int, OutPtr, WaitOptions, OutPtr}, E).fixed(2, kSiginfo).fixed(4, kRusage).sp(Special::Wait).fl(kBlock),
  R(248, "add_key", {Str, Str, Ptr, Size, Int}, E),
  R(249, "request_key", {Str, Str, Str, Int}, E),
  R(250, "keyctl", {Int, Hex, Hex, Hex, Hex}, E).fn(keyctl_outputs),
  R(251, "ioprio_set", {Int, Int, Int}, E),
  R(252, "ioprio_get", {Int, Int}, E),
  R(253, "inotify_init", {}, E),
  R(254, "inotify_add_watch", {Fd, Path, Hex}, E),
  R(255, "inotify_rm_watch", {Fd, Int}, E),
  R(256, "migrate_pages", {Int, UInt, Ptr, Ptr}, E),
  R(257, "openat", {DirFd, Path, OpenFlags, Mode}, E).changes(FileChange::Opened, -1).fl(kBlock).buf(RRX_BW_OPEN, 1, 2),
  R(258, "mkdirat", {DirFd, Path, Mode}, E).buf(RRX_BW_ALWAYS),
  R(259, "mknodat", {DirFd, Path, Mode, Hex}, E),
  R(260, "fchownat", {DirFd, Path, Int, Int, AtFlags}, E).buf(RRX_BW_ALWAYS),
  R(261, "futimesat", {DirFd, Path, Ptr}, E),
  R(262, "newfstatat", {DirFd, Path, OutPtr, AtFlags}, E).fixed(2, kStat).buf(RRX_BW_ALWAYS),
  R(263, "unlinkat", {DirFd, Path, AtFlags}, E).buf(RRX_BW_ALWAYS),
  R(264, "renameat", {DirFd, Path, DirFd, Path}, E).buf(RRX_BW_ALWAYS),
  R(265, "linkat", {DirFd, Path, DirFd, Path, AtFlags}, E).buf(RRX_BW_ALWAYS),
  R(266, "symlinkat", {Path, DirFd, Path}, E).buf(RRX_BW_ALWAYS),
  R(267, "readlinkat", {DirFd, Path, OutPtr, Size}, E).ret(2, 3).buf(RRX_BW_ALWAYS),
  R(268, "fchmodat", {DirFd, Path, Mode}, E).buf(RRX_BW_ALWAYS),
  R(269, "faccessat", {DirFd, Path, AccessMode}, E).buf(RRX_BW_ALWAYS),
  R(270, "pselect6", {Int, Ptr, Ptr, Ptr, Ptr, Ptr}, E).fn(select_outputs).fl(kBlock | kOutOnError).tmpmask(5, true),
  R(271, "ppoll", {Ptr, UInt, Ptr, Ptr, Size}, E).argtimes(0, 1, kPollfd).fixed(2, kTimespec).fl(kBlock | kOutOnError).tmpmask(3),
  R(272, "unshare", {CloneFlags}, E),  // replay creates no namespaces (replay/namespaces_replay.h)
  R(273, "set_robust_list", {Ptr, Size}, X),
  R(274, "get_robust_list", {Int, OutPtr, OutPtr}, E).fixed(1, 8).fixed(2, 8),
  R(275, "splice", {Fd, OutPtr, Fd, OutPtr, Size, Hex}, E).fixed(1, 8).fixed(3, 8).changes(FileChange::AtOffsetPtr, 2, 3).fl(kBlock),
  R(276, "tee", {Fd, Fd, Size, Hex}, E).fl(kBlock),
  R(277, "sync_file_range", {Fd, Int, Int, Hex}, E),
  R(278, "vmsplice", {Fd, Ptr, UInt, Hex}, E).iov(1, 2).fl(kBlock),  // from a pipe's read end it fills the iovecs
  R(279, "move_pages", {Int, UInt, Ptr, Ptr, OutPtr, Hex}, E).argtimes(4, 1, 4),
  R(280, "utimensat", {DirFd, Path, Ptr, AtFlags}, E).buf(RRX_BW_ALWAYS),
  R(281, "epoll_pwait", {Fd, OutPtr, Int, Int, Ptr, Size}, E).rettimes(1, kEpollEvent, 2).fl(kBlock).tmpmask(4),
  R(282, "signalfd", {Fd, Ptr, Size}, E),
  R(283, "timerfd_create", {ClockId, Hex}, E),
  R(284, "eventfd", {UInt}, E),
  R(285, "fallocate", {Fd, Hex, Int, Int}, E).changes(FileChange::Allocate, 0),
  R(286, "timerfd_settime", {Fd, Hex, Ptr, OutPtr}, E).fixed(3, kItimerspec),
  R(287, "timerfd_gettime", {Fd, OutPtr}, E).fixed(1, kItimerspec),
  R(288, "accept4", {Fd, OutPtr, OutPtr, SockType}, E).ptru32(1, 2, kSockaddrCap).fixed(2, 4).fl(kBlock),
  R(289, "signalfd4", {Fd, Ptr, Size, Hex}, E),
  R(290, "eventfd2", {UInt, Hex}, E),
  R(291, "epoll_create1", {Hex}, E),
  R(292, "dup3", {Fd, Fd, OpenFlags}, E).fl(kFdEpoch).buf(RRX_BW_FD_BELOW, 1, 0, RRX_DESCHED_MIN_FD),
  R(293, "pipe2", {OutPtr, OpenFlags}, E).fixed(0, 8),
  R(294, "inotify_init1", {OpenFlags}, E),
  R(295, "preadv", {Fd, Ptr, Int, Int, Int}, E).iov(1, 2).fl(kBlock),
  R(296, "pwritev", {Fd, Ptr, Int, Int, Int}, E).sends(Sends::Iovec, 1, 2).changes(FileChange::AtOffset, 0, 3).fn(offset_write_outputs),
  R(297, "rt_tgsigqueueinfo", {Int, Int, Signal, Ptr}, E),
  R(298, "perf_event_open", {Ptr, Int, Int, Fd, Hex}, E).fn(perf_event_open_outputs).fl(kOutOnError),
  R(299, "recvmmsg", {Fd, Ptr, UInt, Hex, Ptr}, E).fn(recvmmsg_outputs).fl(kBlock),
  R(300, "fanotify_init", {Hex, Hex}, E),
  R(301, "fanotify_mark", {Fd, Hex, Hex, DirFd, Path}, E),
  R(302, "prlimit64", {Int, Int, Ptr, OutPtr}, E).fixed(3, kRlimit).by_args(prlimit_replay).buf(RRX_BW_ZERO, 2),  // a query: buffered
  R(303, "name_to_handle_at", {DirFd, Path, OutPtr, OutPtr, AtFlags}, E).fn(name_to_handle_at_outputs).fl(kOutOnError),
  R(304, "open_by_handle_at", {Fd, Ptr, OpenFlags}, E).fl(kBlock),
  R(305, "clock_adjtime", {ClockId, OutPtr}, E).fixed(1, kTimex),
  R(306, "syncfs", {Fd}, E),
  R(307, "sendmmsg", {Fd, Ptr, UInt, Hex}, E).fn(sendmmsg_outputs).sends(Sends::Mmsghdr, 1, 2).fl(kBlock),
  R(308, "setns", {Fd, CloneFlags}, E),
  R(309, "getcpu", {OutPtr, OutPtr, Ignored}, E).fixed(0, 4).fixed(1, 4),
  R(310, "process_vm_readv", {Int, Ptr, UInt, Ptr, UInt, Hex}, E).iov(1, 2),
  R(311, "process_vm_writev", {Int, Ptr, UInt, Ptr, UInt, Hex}, E).fn(process_vm_writev_outputs),
  R(312, "kcmp", {Int, Int, Int, Hex, Hex}, E),
  R(313, "finit_module", {Fd, Str, Hex}, U),
  R(314, "sched_setattr", {Int, Ptr, Hex}, E).fn(sched_setattr_outputs).fl(kOutOnError),
  R(315, "sched_getattr", {Int, OutPtr, UInt, Hex}, E).argsz(1, 2),
  R(316, "renameat2", {DirFd, Path, DirFd, Path, Hex}, E).buf(RRX_BW_ALWAYS),
  // Emulated: a tracee filter is not installed on replay (results are injected); executed calls it
  // denied while recording would diverge, which the lead was told about.
  R(317, "seccomp", {Int, Hex, Ptr}, E).fn(seccomp_outputs).by_args(seccomp_replay),
  R(318, "getrandom", {OutPtr, Size, Hex}, E).ret(0, 1).buf(RRX_BW_ALWAYS),
  R(319, "memfd_create", {Str, Hex}, E),
  R(320, "kexec_file_load", {Fd, Fd, Size, Str, Hex}, U),
  R(321, "bpf", {Int, Ptr, UInt}, U),
  R(322, "execveat", {DirFd, Path, Ptr, Ptr, AtFlags}, X).sp(Special::Execve).fl(kMaps),
  R(323, "userfaultfd", {Hex}, U),
  R(324, "membarrier", {Int, Hex, Int}, E),
  R(325, "mlock2", {Ptr, Size, Hex}, X),
  R(326, "copy_file_range", {Fd, OutPtr, Fd, OutPtr, Size, Hex}, E).fixed(1, 8).fixed(3, 8).changes(FileChange::AtOffsetPtr, 2, 3),
  R(327, "preadv2", {Fd, Ptr, Int, Int, Int, Hex}, E).iov(1, 2).fl(kBlock),
  R(328, "pwritev2", {Fd, Ptr, Int, Int, Int, Hex}, E).sends(Sends::Iovec, 1, 2).changes(FileChange::AtOffset, 0, 3).fn(pwritev2_outputs).fl(kBlock),
  R(329, "pkey_mprotect", {Ptr, Size, ProtFlags, Int}, X).fl(kMaps),
  R(330, "pkey_alloc", {Hex, Hex}, X),
  R(331, "pkey_free", {Int}, X),
  R(332, "statx", {DirFd, Path, AtFlags, Hex, OutPtr}, E).fixed(4, kStatx).buf(RRX_BW_ALWAYS),
  R(333, "io_pgetevents", {Hex, Int, Int, Ptr, Ptr, Ptr}, U),
  R(334, "rseq", {Ptr, UInt, Hex, Hex}, E).sp(Special::Rseq),
  R(424, "pidfd_send_signal", {Fd, Signal, Ptr, Hex}, E),
  R(425, "io_uring_setup", {UInt, Ptr}, U),
  R(426, "io_uring_enter", {Fd, UInt, UInt, Hex, Ptr, Size}, U),
  R(427, "io_uring_register", {Fd, UInt, Ptr, UInt}, U),
  R(428, "open_tree", {DirFd, Path, Hex}, E),
  R(429, "move_mount", {DirFd, Path, DirFd, Path, Hex}, E),
  R(430, "fsopen", {Str, Hex}, E),
  R(431, "fsconfig", {Fd, UInt, Str, Ptr, Int}, E),
  R(432, "fsmount", {Fd, Hex, Hex}, E),
  R(433, "fspick", {DirFd, Path, Hex}, E),
  R(434, "pidfd_open", {Int, Hex}, E),
  R(435, "clone3", {Ptr, Size}, X).sp(Special::Clone).fn(clone3_outputs).fl(kFdEpoch),
  R(436, "close_range", {UInt, UInt, Hex}, E).fl(kFdEpoch),
  R(437, "openat2", {DirFd, Path, Ptr, Size}, E).changes(FileChange::Opened, -1).fl(kBlock),
  R(438, "pidfd_getfd", {Fd, Int, Hex}, E),
  R(439, "faccessat2", {DirFd, Path, AccessMode, AtFlags}, E).buf(RRX_BW_ALWAYS),
  R(440, "process_madvise", {Fd, Ptr, Size, Madvise, Hex}, E).fn(process_madvise_outputs).refuse(process_madvise_refuse),
  R(441, "epoll_pwait2", {Fd, OutPtr, Int, Ptr, Ptr, Size}, E).rettimes(1, kEpollEvent, 2).fl(kBlock).tmpmask(4),
  R(442, "mount_setattr", {DirFd, Path, AtFlags, Ptr, Size}, E),
  R(443, "quotactl_fd", {Fd, Hex, Int, OutPtr}, E).fn(quotactl_fd_outputs),
  R(444, "landlock_create_ruleset", {Ptr, Size, Hex}, E),
  R(445, "landlock_add_rule", {Fd, Int, Ptr, Hex}, E),
  R(446, "landlock_restrict_self", {Fd, Hex}, E),
  R(447, "memfd_secret", {Hex}, U),
  R(448, "process_mrelease", {Fd, Hex}, E),
  R(449, "futex_waitv", {Ptr, UInt, Hex, Ptr, ClockId}, E).fl(kBlock),
  R(450, "set_mempolicy_home_node", {Ptr, Size, UInt, Hex}, E),
  R(451, "cachestat", {Fd, Ptr, OutPtr, Hex}, E).fixed(2, kCachestat),
  R(452, "fchmodat2", {DirFd, Path, Mode, AtFlags}, E).buf(RRX_BW_ALWAYS),
  R(453, "map_shadow_stack", {Ptr, Size, Hex}, X),
  R(454, "futex_wake", {Ptr, Hex, Int, Hex}, E),
  R(455, "futex_wait", {Ptr, Hex, Hex, Hex, Ptr, ClockId}, E).fl(kBlock),
  R(456, "futex_requeue", {Ptr, Hex, Int, Int}, E),
  R(457, "statmount", {Ptr, OutPtr, Size, Hex}, E).argsz(1, 2),
  R(458, "listmount", {Ptr, OutPtr, Size, Hex}, E).rettimes(1, 8, 2),
  R(459, "lsm_get_self_attr", {UInt, OutPtr, OutPtr, Hex}, E).ptru32(1, 2).fixed(2, 4),
  R(460, "lsm_set_self_attr", {UInt, Ptr, UInt, Hex}, E),
  R(461, "lsm_list_modules", {OutPtr, OutPtr, Hex}, E).ptru32(0, 1).fixed(1, 4),
  R(462, "mseal", {Ptr, Size, Hex}, X),
  R(463, "setxattrat", {DirFd, Path, AtFlags, Str, Ptr, Size}, E),
  R(464, "getxattrat", {DirFd, Path, AtFlags, Str, Ptr, Size}, E).fn(getxattrat_outputs),
  R(465, "listxattrat", {DirFd, Path, AtFlags, OutPtr, Size}, E).ret(3, 4),
  R(466, "removexattrat", {DirFd, Path, AtFlags, Str}, E),
  R(467, "open_tree_attr", {DirFd, Path, Hex, Ptr, Size}, E),
  R(468, "file_getattr", {DirFd, Path, OutPtr, Size, AtFlags}, E).argsz(2, 3),
  R(469, "file_setattr", {DirFd, Path, Ptr, Size, AtFlags}, E),
  R(470, "listns", {Ptr, OutPtr, Size, Hex}, E).rettimes(1, 8, 2),
  // rrx's own call (core/syscallbuf_abi.h): the preload library registers a thread's buffer; the
  // recorder answers it, replay injects the answer.
  R(RRX_CALL_INIT_BUFFER, "rrx_init_buffer", {Ptr, Size, UInt}, E),
  // rrx's own call: the library asks whether writes to an fd must stay traced; answered likewise.
  R(RRX_CALL_FD_INFO, "rrx_fd_info", {Fd}, E),
  // rrx's own call: rrx record asks whether it is recorded itself (record/own_tracer.h).
  R(RRX_CALL_RECORDING, "rrx_recording", {}, E),
  // rrx's own call: the library asks for its thread's desched event; answered likewise.
  R(RRX_CALL_DESCHED_FD, "rrx_desched_fd", {}, E),
};
// clang-format on

constexpr bool same_name(const char* a, const char* b) {
  return a && b && std::string_view(a) == std::string_view(b);
}

constexpr bool rows_valid() {
  for (size_t i = 0; i < std::size(kRows); ++i) {
    const SyscallDesc& d = kRows[i];
    if (d.nr < 0 || d.nr > kMaxNr) return false;
    if (i > 0 && kRows[i - 1].nr >= d.nr) return false;  // sorted, unique
    if (!same_name(d.name, kNames[d.nr])) return false;
    for (const OutMem& o : d.out) {
      if (o.size == SizeFrom::None) continue;
      if (o.arg < 0 || o.arg > 5) return false;
      if (d.args[o.arg] == Arg::None) return false;
    }
  }
  return true;
}
static_assert(rows_valid(), "syscall rows must be sorted by number, unique, and named as the kernel names them");

constexpr std::array<int16_t, kMaxNr + 1> make_index() {
  std::array<int16_t, kMaxNr + 1> index{};
  for (auto& i : index) i = -1;
  for (size_t i = 0; i < std::size(kRows); ++i) index[kRows[i].nr] = static_cast<int16_t>(i);
  return index;
}
constexpr auto kIndex = make_index();

}  // namespace

int SyscallDesc::arg_count() const {
  int n = 0;
  while (n < 6 && args[n] != Arg::None) ++n;
  return n;
}

const SyscallDesc* lookup(int64_t nr) {
  if (nr < 0 || nr > kMaxNr) return nullptr;
  const int16_t i = kIndex[nr];
  return i < 0 ? nullptr : &kRows[i];
}

std::span<const SyscallDesc> table() { return kRows; }

bool BufferRule::arg_test_holds(const uint64_t args[6]) const {
  switch (when) {
    case RRX_BW_ZERO: return args[arg] == 0;
    case RRX_BW_ARG_EQ: return (args[arg] & mask) == value;
    case RRX_BW_SIGMASK: return args[arg] == value;  // (and no pending signal it unblocks: the library's check)
    case RRX_BW_MMAP_ANON: return (args[arg] & mask) == value && !(args[2] & PROT_EXEC);
    case RRX_BW_FD_BELOW: return args[arg] < value;
    case RRX_BW_ARG_IN:
      return std::find(values.begin(), values.begin() + value_count, static_cast<uint32_t>(args[arg])) !=
             values.begin() + value_count;
    default: return true;
  }
}

std::string syscall_name(int64_t nr) {
  if (nr >= 0 && nr <= kMaxNr && kNames[nr]) return kNames[nr];
  return "syscall_" + std::to_string(nr);
}

namespace {
constexpr NameEntry kI386Names[] = {
#include "core/syscall_names_i386.inc"
};
}  // namespace

std::string i386_syscall_name(int64_t nr) {
  for (const NameEntry& e : kI386Names)
    if (e.nr == nr) return e.name;
  return "syscall_" + std::to_string(nr);
}

int64_t syscall_number(std::string_view name) {
  for (const NameEntry& e : kNameList)
    if (name == e.name) return e.nr;
  if (name.starts_with("syscall_")) {
    int64_t v = 0;
    std::string_view digits = name.substr(8);
    if (digits.empty() || digits.size() > 9) return -1;
    for (char ch : digits) {
      if (ch < '0' || ch > '9') return -1;
      v = v * 10 + (ch - '0');
    }
    return v;
  }
  return -1;
}

std::vector<Range> output_ranges(const SyscallDesc& desc, const CallView& call, MemReader& mem) {
  std::vector<Range> out;
  output_ranges(desc, call, mem, out);
  return out;
}

void output_ranges(const SyscallDesc& desc, const CallView& call, MemReader& mem, std::vector<Range>& out) {
  out.clear();
  const bool failed_call = is_error_return(call.ret);
  if (failed_call && !(desc.flags & kOutOnError)) return;
  const uint64_t ret = failed_call || call.ret < 0 ? 0 : static_cast<uint64_t>(call.ret);

  for (const OutMem& o : desc.out) {
    if (o.size == SizeFrom::None || o.arg < 0 || o.arg > 5) continue;
    const uint64_t p = call.args[o.arg];
    if (p == 0) continue;
    switch (o.size) {
      case SizeFrom::None:
        break;
      case SizeFrom::Fixed:
        add(out, p, o.n);
        break;
      case SizeFrom::Arg:
        if (o.n < 6) add(out, p, call.args[o.n]);
        break;
      case SizeFrom::Ret: {
        uint64_t len = ret;
        if (o.n > 0 && o.n < 6) len = std::min(len, call.args[o.n]);
        add(out, p, len);
        break;
      }
      case SizeFrom::ArgTimes: {
        if (o.n >= 6) break;
        const uint64_t count = call.args[o.n];
        const uint64_t len = o.elem && count > kMaxOutputBytes / o.elem ? kMaxOutputBytes : count * o.elem;
        add(out, p, len);
        break;
      }
      case SizeFrom::RetTimes: {
        uint64_t count = ret;
        if (o.n > 0 && o.n < 6) count = std::min(count, call.args[o.n]);
        const uint64_t len = o.elem && count > kMaxOutputBytes / o.elem ? kMaxOutputBytes : count * o.elem;
        add(out, p, len);
        break;
      }
      case SizeFrom::ArgPtrU32: {
        if (o.n >= 6) break;
        uint32_t len = 0;
        if (!read_val(mem, call.args[o.n], len)) break;
        add(out, p, o.elem ? std::min<uint32_t>(len, o.elem) : len);
        break;
      }
      case SizeFrom::Iovec:
        if (o.n < 6) walk_iovec(mem, p, call.args[o.n], ret, out);
        break;
      case SizeFrom::Msghdr:
        if (!failed_call) walk_msghdr(mem, p, ret, out);
        break;
    }
  }
  if (desc.outputs) desc.outputs(call, mem, out);
  std::erase_if(out, [](const Range& r) { return r.len == 0 || r.addr == 0; });
  for (Range& r : out) r.len = std::min(r.len, kMaxOutputBytes);
}

}  // namespace rrx::sys
