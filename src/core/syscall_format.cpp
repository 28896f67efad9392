// strace-style rendering of recorded syscalls. Arguments are decoded by the
// kinds in the syscall table; output pointers are shown from the bytes the
// kernel wrote (the recorded memory writes), input buffers as pointers.
#include "core/syscall_format.h"

#include <arpa/inet.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cstring>
#include <optional>
#include <span>
#include <string_view>

#include <fmt/format.h>

namespace rrx::sys {

namespace {

// ---------------------------------------------------------------------------
// Small helpers.

std::string hex(uint64_t v) { return v == 0 ? std::string("0") : fmt::format("{:#x}", v); }
std::string ptr(uint64_t v) { return v == 0 ? std::string("NULL") : fmt::format("{:#x}", v); }

struct FlagName {
  uint64_t value;
  const char* name;
};

// Names of the set flags in table order (composites before their parts),
// leftover bits as hex, `zero` when nothing is set.
std::string flags_str(uint64_t v, std::span<const FlagName> names, std::string_view zero = "0") {
  std::string s;
  for (const FlagName& f : names) {
    if (f.value != 0 && (v & f.value) == f.value) {
      if (!s.empty()) s += '|';
      s += f.name;
      v &= ~f.value;
    }
  }
  if (v != 0) {
    if (!s.empty()) s += '|';
    s += fmt::format("{:#x}", v);
  }
  if (s.empty()) s = zero;
  return s;
}

struct ValueName {
  int64_t value;
  const char* name;
};

const char* value_name(int64_t v, std::span<const ValueName> names) {
  for (const ValueName& n : names)
    if (n.value == v) return n.name;
  return nullptr;
}

std::string value_or(int64_t v, std::span<const ValueName> names, bool as_hex = false) {
  if (const char* n = value_name(v, names)) return n;
  return as_hex ? hex(static_cast<uint64_t>(v)) : std::to_string(v);
}

// ---------------------------------------------------------------------------
// Flag and value tables (x86-64 kernel values).

constexpr FlagName kOpenFlags[] = {
    {04000000 | 010000, "O_SYNC"},  // __O_SYNC|O_DSYNC
    {020000000 | 0200000, "O_TMPFILE"},  // __O_TMPFILE|O_DIRECTORY
    {0100, "O_CREAT"},
    {0200, "O_EXCL"},
    {0400, "O_NOCTTY"},
    {01000, "O_TRUNC"},
    {02000, "O_APPEND"},
    {04000, "O_NONBLOCK"},
    {010000, "O_DSYNC"},
    {020000, "O_ASYNC"},
    {040000, "O_DIRECT"},
    {0100000, "O_LARGEFILE"},
    {0200000, "O_DIRECTORY"},
    {0400000, "O_NOFOLLOW"},
    {01000000, "O_NOATIME"},
    {02000000, "O_CLOEXEC"},
    {010000000, "O_PATH"},
};

std::string open_flags(uint64_t v, bool with_accmode) {
  std::string acc;
  const uint64_t mode = v & 3;
  if (with_accmode || mode != 0) {
    static constexpr const char* kAcc[] = {"O_RDONLY", "O_WRONLY", "O_RDWR", "O_ACCMODE"};
    acc = kAcc[mode];
  }
  const uint64_t rest = v & ~uint64_t{3};
  if (rest == 0) return acc.empty() ? "0" : acc;
  std::string r = flags_str(rest, kOpenFlags);
  return acc.empty() ? r : acc + "|" + r;
}

// printf's "%#03o": 0644, 022, 000.
std::string mode_str(uint64_t v) {
  std::string s = v == 0 ? std::string("0") : fmt::format("0{:o}", v);
  if (s.size() < 3) s.insert(0, 3 - s.size(), '0');
  return s;
}

std::string at_flags(uint64_t v, bool eaccess) {
  const FlagName names[] = {
      {0x100, "AT_SYMLINK_NOFOLLOW"}, {0x200, eaccess ? "AT_EACCESS" : "AT_REMOVEDIR"},
      {0x400, "AT_SYMLINK_FOLLOW"},   {0x800, "AT_NO_AUTOMOUNT"},
      {0x1000, "AT_EMPTY_PATH"},      {0x2000, "AT_STATX_FORCE_SYNC"},
      {0x4000, "AT_STATX_DONT_SYNC"}, {0x8000, "AT_RECURSIVE"},
  };
  return flags_str(v, names);
}

constexpr FlagName kAccess[] = {{4, "R_OK"}, {2, "W_OK"}, {1, "X_OK"}};

constexpr FlagName kProt[] = {
    {0x1, "PROT_READ"}, {0x2, "PROT_WRITE"}, {0x4, "PROT_EXEC"}, {0x8, "PROT_SEM"},
    {0x01000000, "PROT_GROWSDOWN"}, {0x02000000, "PROT_GROWSUP"},
};

constexpr FlagName kMapFlags[] = {
    {0x10, "MAP_FIXED"},         {0x20, "MAP_ANONYMOUS"},   {0x40, "MAP_32BIT"},
    {0x100, "MAP_GROWSDOWN"},    {0x800, "MAP_DENYWRITE"},  {0x1000, "MAP_EXECUTABLE"},
    {0x2000, "MAP_LOCKED"},      {0x4000, "MAP_NORESERVE"}, {0x8000, "MAP_POPULATE"},
    {0x10000, "MAP_NONBLOCK"},   {0x20000, "MAP_STACK"},    {0x40000, "MAP_HUGETLB"},
    {0x80000, "MAP_SYNC"},       {0x100000, "MAP_FIXED_NOREPLACE"},
};

std::string map_flags(uint64_t v) {
  static constexpr const char* kType[] = {"0", "MAP_SHARED", "MAP_PRIVATE", "MAP_SHARED_VALIDATE"};
  std::string s;
  const uint64_t type = v & 0xf;
  if (type <= 3 && type != 0) s = kType[type];
  else if (type != 0) s = fmt::format("{:#x}", type);
  const uint64_t rest = v & ~uint64_t{0xf};
  if (rest == 0) return s.empty() ? "0" : s;
  std::string r = flags_str(rest, kMapFlags);
  return s.empty() ? r : s + "|" + r;
}

constexpr ValueName kSigHow[] = {{0, "SIG_BLOCK"}, {1, "SIG_UNBLOCK"}, {2, "SIG_SETMASK"}};
constexpr ValueName kWhence[] = {
    {0, "SEEK_SET"}, {1, "SEEK_CUR"}, {2, "SEEK_END"}, {3, "SEEK_DATA"}, {4, "SEEK_HOLE"}};
constexpr ValueName kClocks[] = {
    {0, "CLOCK_REALTIME"},        {1, "CLOCK_MONOTONIC"},        {2, "CLOCK_PROCESS_CPUTIME_ID"},
    {3, "CLOCK_THREAD_CPUTIME_ID"}, {4, "CLOCK_MONOTONIC_RAW"},  {5, "CLOCK_REALTIME_COARSE"},
    {6, "CLOCK_MONOTONIC_COARSE"}, {7, "CLOCK_BOOTTIME"},        {8, "CLOCK_REALTIME_ALARM"},
    {9, "CLOCK_BOOTTIME_ALARM"},  {11, "CLOCK_TAI"},
};
constexpr ValueName kFutexCmds[] = {
    {0, "FUTEX_WAIT"},        {1, "FUTEX_WAKE"},         {2, "FUTEX_FD"},
    {3, "FUTEX_REQUEUE"},     {4, "FUTEX_CMP_REQUEUE"},  {5, "FUTEX_WAKE_OP"},
    {6, "FUTEX_LOCK_PI"},     {7, "FUTEX_UNLOCK_PI"},    {8, "FUTEX_TRYLOCK_PI"},
    {9, "FUTEX_WAIT_BITSET"}, {10, "FUTEX_WAKE_BITSET"}, {11, "FUTEX_WAIT_REQUEUE_PI"},
    {12, "FUTEX_CMP_REQUEUE_PI"}, {13, "FUTEX_LOCK_PI2"},
};

std::string futex_op(uint64_t v) {
  const uint64_t cmd = v & 127;
  std::string s;
  if (const char* n = value_name(static_cast<int64_t>(cmd), kFutexCmds)) {
    s = n;
    if (v & 128) s += "_PRIVATE";
  } else {
    s = fmt::format("{:#x}", cmd | (v & 128));
  }
  if (v & 256) s += "|FUTEX_CLOCK_REALTIME";
  if (const uint64_t rest = v & ~uint64_t{127 | 128 | 256}) s += fmt::format("|{:#x}", rest);
  return s;
}

constexpr ValueName kMadvise[] = {
    {0, "MADV_NORMAL"},        {1, "MADV_RANDOM"},        {2, "MADV_SEQUENTIAL"},
    {3, "MADV_WILLNEED"},      {4, "MADV_DONTNEED"},      {8, "MADV_FREE"},
    {9, "MADV_REMOVE"},        {10, "MADV_DONTFORK"},     {11, "MADV_DOFORK"},
    {12, "MADV_MERGEABLE"},    {13, "MADV_UNMERGEABLE"},  {14, "MADV_HUGEPAGE"},
    {15, "MADV_NOHUGEPAGE"},   {16, "MADV_DONTDUMP"},     {17, "MADV_DODUMP"},
    {18, "MADV_WIPEONFORK"},   {19, "MADV_KEEPONFORK"},   {20, "MADV_COLD"},
    {21, "MADV_PAGEOUT"},      {22, "MADV_POPULATE_READ"}, {23, "MADV_POPULATE_WRITE"},
    {24, "MADV_DONTNEED_LOCKED"}, {25, "MADV_COLLAPSE"},  {100, "MADV_HWPOISON"},
    {101, "MADV_SOFT_OFFLINE"}, {102, "MADV_GUARD_INSTALL"}, {103, "MADV_GUARD_REMOVE"},
};

constexpr ValueName kFcntlCmds[] = {
    {0, "F_DUPFD"},          {1, "F_GETFD"},           {2, "F_SETFD"},
    {3, "F_GETFL"},          {4, "F_SETFL"},           {5, "F_GETLK"},
    {6, "F_SETLK"},          {7, "F_SETLKW"},          {8, "F_SETOWN"},
    {9, "F_GETOWN"},         {10, "F_SETSIG"},         {11, "F_GETSIG"},
    {15, "F_SETOWN_EX"},     {16, "F_GETOWN_EX"},      {17, "F_GETOWNER_UIDS"},
    {36, "F_OFD_GETLK"},     {37, "F_OFD_SETLK"},      {38, "F_OFD_SETLKW"},
    {1024, "F_SETLEASE"},    {1025, "F_GETLEASE"},     {1026, "F_NOTIFY"},
    {1027, "F_DUPFD_QUERY"}, {1028, "F_CREATED_QUERY"}, {1030, "F_DUPFD_CLOEXEC"},
    {1031, "F_SETPIPE_SZ"},  {1032, "F_GETPIPE_SZ"},   {1033, "F_ADD_SEALS"},
    {1034, "F_GET_SEALS"},   {1035, "F_GET_RW_HINT"},  {1036, "F_SET_RW_HINT"},
    {1037, "F_GET_FILE_RW_HINT"}, {1038, "F_SET_FILE_RW_HINT"},
};

constexpr ValueName kIoctls[] = {
    {0x5401, "TCGETS"},        {0x5402, "TCSETS"},       {0x5403, "TCSETSW"},
    {0x5404, "TCSETSF"},       {0x5405, "TCGETA"},       {0x5406, "TCSETA"},
    {0x5407, "TCSETAW"},       {0x5408, "TCSETAF"},      {0x5409, "TCSBRK"},
    {0x540A, "TCXONC"},        {0x540B, "TCFLSH"},       {0x540C, "TIOCEXCL"},
    {0x540D, "TIOCNXCL"},      {0x540E, "TIOCSCTTY"},    {0x540F, "TIOCGPGRP"},
    {0x5410, "TIOCSPGRP"},     {0x5411, "TIOCOUTQ"},     {0x5412, "TIOCSTI"},
    {0x5413, "TIOCGWINSZ"},    {0x5414, "TIOCSWINSZ"},   {0x5415, "TIOCMGET"},
    {0x5416, "TIOCMBIS"},      {0x5417, "TIOCMBIC"},     {0x5418, "TIOCMSET"},
    {0x5419, "TIOCGSOFTCAR"},  {0x541A, "TIOCSSOFTCAR"}, {0x541B, "FIONREAD"},
    {0x541C, "TIOCLINUX"},     {0x541D, "TIOCCONS"},     {0x541E, "TIOCGSERIAL"},
    {0x541F, "TIOCSSERIAL"},   {0x5420, "TIOCPKT"},      {0x5421, "FIONBIO"},
    {0x5422, "TIOCNOTTY"},     {0x5423, "TIOCSETD"},     {0x5424, "TIOCGETD"},
    {0x5425, "TCSBRKP"},       {0x5427, "TIOCSBRK"},     {0x5428, "TIOCCBRK"},
    {0x5429, "TIOCGSID"},      {0x802c542a, "TCGETS2"},  {0x402c542b, "TCSETS2"},
    {0x402c542c, "TCSETSW2"},  {0x402c542d, "TCSETSF2"}, {0x80045430, "TIOCGPTN"},
    {0x40045431, "TIOCSPTLCK"}, {0x80045432, "TIOCGDEV"}, {0x80045438, "TIOCGPKT"},
    {0x80045439, "TIOCGPTLCK"}, {0x80045440, "TIOCGEXCL"}, {0x5441, "TIOCGPTPEER"},
    {0x5450, "FIONCLEX"},      {0x5451, "FIOCLEX"},      {0x5452, "FIOASYNC"},
    {0x5456, "TIOCGLCKTRMIOS"}, {0x5457, "TIOCSLCKTRMIOS"}, {0x5460, "FIOQSIZE"},
    {0x1, "FIBMAP"},           {0x2, "FIGETBSZ"},        {0x1260, "BLKGETSIZE"},
    {0x1268, "BLKSSZGET"},     {0x80081272, "BLKGETSIZE64"}, {0x40049409, "FICLONE"},
    {0x4020940d, "FICLONERANGE"}, {0xc0189436, "FIDEDUPERANGE"}, {0x80086601, "FS_IOC_GETFLAGS"},
    {0x40086602, "FS_IOC_SETFLAGS"}, {0x80087601, "FS_IOC_GETVERSION"}, {0xc020660b, "FS_IOC_FIEMAP"},
    {0x8905, "SIOCATMARK"},    {0x8904, "SIOCGPGRP"},    {0x8906, "SIOCGSTAMP"},
    {0x8907, "SIOCGSTAMPNS"},  {0x8910, "SIOCGIFNAME"},  {0x8912, "SIOCGIFCONF"},
    {0x8913, "SIOCGIFFLAGS"},  {0x8914, "SIOCSIFFLAGS"}, {0x8915, "SIOCGIFADDR"},
    {0x8917, "SIOCGIFDSTADDR"}, {0x8919, "SIOCGIFBRDADDR"}, {0x891b, "SIOCGIFNETMASK"},
    {0x891d, "SIOCGIFMETRIC"}, {0x8921, "SIOCGIFMTU"},   {0x8927, "SIOCGIFHWADDR"},
    {0x8933, "SIOCGIFINDEX"},  {0x8942, "SIOCGIFTXQLEN"}, {0x8946, "SIOCETHTOOL"},
    {0x8970, "SIOCGIFMAP"},
};

constexpr ValueName kPrctl[] = {
    {1, "PR_SET_PDEATHSIG"},   {2, "PR_GET_PDEATHSIG"},   {3, "PR_GET_DUMPABLE"},
    {4, "PR_SET_DUMPABLE"},    {5, "PR_GET_UNALIGN"},     {6, "PR_SET_UNALIGN"},
    {7, "PR_GET_KEEPCAPS"},    {8, "PR_SET_KEEPCAPS"},    {9, "PR_GET_FPEMU"},
    {10, "PR_SET_FPEMU"},      {11, "PR_GET_FPEXC"},      {12, "PR_SET_FPEXC"},
    {13, "PR_GET_TIMING"},     {14, "PR_SET_TIMING"},     {15, "PR_SET_NAME"},
    {16, "PR_GET_NAME"},       {19, "PR_GET_ENDIAN"},     {20, "PR_SET_ENDIAN"},
    {21, "PR_GET_SECCOMP"},    {22, "PR_SET_SECCOMP"},    {23, "PR_CAPBSET_READ"},
    {24, "PR_CAPBSET_DROP"},   {25, "PR_GET_TSC"},        {26, "PR_SET_TSC"},
    {27, "PR_GET_SECUREBITS"}, {28, "PR_SET_SECUREBITS"}, {29, "PR_SET_TIMERSLACK"},
    {30, "PR_GET_TIMERSLACK"}, {31, "PR_TASK_PERF_EVENTS_DISABLE"}, {32, "PR_TASK_PERF_EVENTS_ENABLE"},
    {33, "PR_MCE_KILL"},       {34, "PR_MCE_KILL_GET"},   {35, "PR_SET_MM"},
    {36, "PR_SET_CHILD_SUBREAPER"}, {37, "PR_GET_CHILD_SUBREAPER"}, {38, "PR_SET_NO_NEW_PRIVS"},
    {39, "PR_GET_NO_NEW_PRIVS"}, {40, "PR_GET_TID_ADDRESS"}, {41, "PR_SET_THP_DISABLE"},
    {42, "PR_GET_THP_DISABLE"}, {43, "PR_MPX_ENABLE_MANAGEMENT"}, {44, "PR_MPX_DISABLE_MANAGEMENT"},
    {45, "PR_SET_FP_MODE"},    {46, "PR_GET_FP_MODE"},    {47, "PR_CAP_AMBIENT"},
    {50, "PR_SVE_SET_VL"},     {51, "PR_SVE_GET_VL"},     {52, "PR_GET_SPECULATION_CTRL"},
    {53, "PR_SET_SPECULATION_CTRL"}, {54, "PR_PAC_RESET_KEYS"}, {55, "PR_SET_TAGGED_ADDR_CTRL"},
    {56, "PR_GET_TAGGED_ADDR_CTRL"}, {57, "PR_SET_IO_FLUSHER"}, {58, "PR_GET_IO_FLUSHER"},
    {59, "PR_SET_SYSCALL_USER_DISPATCH"}, {60, "PR_PAC_SET_ENABLED_KEYS"}, {61, "PR_PAC_GET_ENABLED_KEYS"},
    {62, "PR_SCHED_CORE"},     {63, "PR_SME_SET_VL"},     {64, "PR_SME_GET_VL"},
    {65, "PR_SET_MDWE"},       {66, "PR_GET_MDWE"},       {67, "PR_SET_MEMORY_MERGE"},
    {68, "PR_GET_MEMORY_MERGE"}, {74, "PR_GET_SHADOW_STACK_STATUS"}, {75, "PR_SET_SHADOW_STACK_STATUS"},
    {76, "PR_LOCK_SHADOW_STACK_STATUS"}, {77, "PR_TIMER_CREATE_RESTORE_IDS"}, {78, "PR_FUTEX_HASH"},
    {0x53564d41, "PR_SET_VMA"}, {0x41555856, "PR_GET_AUXV"},
};

constexpr ValueName kArchPrctl[] = {
    {0x1001, "ARCH_SET_GS"},        {0x1002, "ARCH_SET_FS"},          {0x1003, "ARCH_GET_FS"},
    {0x1004, "ARCH_GET_GS"},        {0x1011, "ARCH_GET_CPUID"},       {0x1012, "ARCH_SET_CPUID"},
    {0x1021, "ARCH_GET_XCOMP_SUPP"}, {0x1022, "ARCH_GET_XCOMP_PERM"}, {0x1023, "ARCH_REQ_XCOMP_PERM"},
    {0x1024, "ARCH_GET_XCOMP_GUEST_PERM"}, {0x1025, "ARCH_REQ_XCOMP_GUEST_PERM"},
    {0x1031, "ARCH_XCOMP_TILECFG"}, {0x1032, "ARCH_XCOMP_TILEDATA"},
    {0x2001, "ARCH_MAP_VDSO_X32"},  {0x2002, "ARCH_MAP_VDSO_32"},     {0x2003, "ARCH_MAP_VDSO_64"},
    {0x4001, "ARCH_GET_UNTAG_MASK"}, {0x4002, "ARCH_ENABLE_TAGGED_ADDR"},
    {0x4003, "ARCH_GET_MAX_TAG_BITS"}, {0x4004, "ARCH_FORCE_TAGGED_SVA"},
    {0x5001, "ARCH_SHSTK_ENABLE"},  {0x5002, "ARCH_SHSTK_DISABLE"},   {0x5003, "ARCH_SHSTK_LOCK"},
    {0x5004, "ARCH_SHSTK_UNLOCK"},  {0x5005, "ARCH_SHSTK_STATUS"},
};

constexpr ValueName kFamilies[] = {
    {0, "AF_UNSPEC"},   {1, "AF_UNIX"},      {2, "AF_INET"},      {3, "AF_AX25"},
    {4, "AF_IPX"},      {5, "AF_APPLETALK"}, {6, "AF_NETROM"},    {7, "AF_BRIDGE"},
    {8, "AF_ATMPVC"},   {9, "AF_X25"},       {10, "AF_INET6"},    {11, "AF_ROSE"},
    {12, "AF_DECnet"},  {13, "AF_NETBEUI"},  {14, "AF_SECURITY"}, {15, "AF_KEY"},
    {16, "AF_NETLINK"}, {17, "AF_PACKET"},   {21, "AF_RDS"},      {26, "AF_LLC"},
    {27, "AF_IB"},      {28, "AF_MPLS"},     {29, "AF_CAN"},      {30, "AF_TIPC"},
    {31, "AF_BLUETOOTH"}, {38, "AF_ALG"},    {40, "AF_VSOCK"},    {44, "AF_XDP"},
    {45, "AF_MCTP"},
};

std::string sock_type(uint64_t v) {
  static constexpr ValueName kTypes[] = {
      {1, "SOCK_STREAM"}, {2, "SOCK_DGRAM"},     {3, "SOCK_RAW"},  {4, "SOCK_RDM"},
      {5, "SOCK_SEQPACKET"}, {6, "SOCK_DCCP"},   {10, "SOCK_PACKET"},
  };
  static constexpr FlagName kFlags[] = {{04000, "SOCK_NONBLOCK"}, {02000000, "SOCK_CLOEXEC"}};
  const uint64_t type = v & 0xf;
  std::string s;
  if (type != 0) s = value_or(static_cast<int64_t>(type), kTypes, true);
  const uint64_t rest = v & ~uint64_t{0xf};
  if (rest == 0) return s.empty() ? "0" : s;
  std::string r = flags_str(rest, kFlags);
  return s.empty() ? r : s + "|" + r;
}

constexpr FlagName kCloneFlags[] = {
    {0x100, "CLONE_VM"},         {0x200, "CLONE_FS"},           {0x400, "CLONE_FILES"},
    {0x800, "CLONE_SIGHAND"},    {0x1000, "CLONE_PIDFD"},       {0x2000, "CLONE_PTRACE"},
    {0x4000, "CLONE_VFORK"},     {0x8000, "CLONE_PARENT"},      {0x10000, "CLONE_THREAD"},
    {0x20000, "CLONE_NEWNS"},    {0x40000, "CLONE_SYSVSEM"},    {0x80000, "CLONE_SETTLS"},
    {0x100000, "CLONE_PARENT_SETTID"}, {0x200000, "CLONE_CHILD_CLEARTID"}, {0x400000, "CLONE_DETACHED"},
    {0x800000, "CLONE_UNTRACED"}, {0x1000000, "CLONE_CHILD_SETTID"}, {0x2000000, "CLONE_NEWCGROUP"},
    {0x4000000, "CLONE_NEWUTS"}, {0x8000000, "CLONE_NEWIPC"},   {0x10000000, "CLONE_NEWUSER"},
    {0x20000000, "CLONE_NEWPID"}, {0x40000000, "CLONE_NEWNET"}, {0x80000000, "CLONE_IO"},
};

std::string clone_flags(uint64_t v) {
  std::string s;
  const uint64_t rest = v & ~uint64_t{0xff};
  if (rest != 0) s = flags_str(rest, kCloneFlags);
  if (const uint64_t sig = v & 0xff) {
    if (!s.empty()) s += '|';
    s += signal_name(static_cast<int>(sig));
  }
  return s.empty() ? "0" : s;
}

constexpr FlagName kWaitOptions[] = {
    {1, "WNOHANG"},        {2, "WSTOPPED"},      {4, "WEXITED"},    {8, "WCONTINUED"},
    {0x1000000, "WNOWAIT"}, {0x20000000, "__WNOTHREAD"}, {0x40000000, "__WALL"},
    {0x80000000, "__WCLONE"},
};

// ---------------------------------------------------------------------------
// errno and signal names.

struct ErrnoEntry {
  int err;
  const char* name;
};

constexpr ErrnoEntry kErrnos[] = {
    {1, "EPERM"}, {2, "ENOENT"}, {3, "ESRCH"}, {4, "EINTR"}, {5, "EIO"}, {6, "ENXIO"},
    {7, "E2BIG"}, {8, "ENOEXEC"}, {9, "EBADF"}, {10, "ECHILD"}, {11, "EAGAIN"}, {12, "ENOMEM"},
    {13, "EACCES"}, {14, "EFAULT"}, {15, "ENOTBLK"}, {16, "EBUSY"}, {17, "EEXIST"}, {18, "EXDEV"},
    {19, "ENODEV"}, {20, "ENOTDIR"}, {21, "EISDIR"}, {22, "EINVAL"}, {23, "ENFILE"}, {24, "EMFILE"},
    {25, "ENOTTY"}, {26, "ETXTBSY"}, {27, "EFBIG"}, {28, "ENOSPC"}, {29, "ESPIPE"}, {30, "EROFS"},
    {31, "EMLINK"}, {32, "EPIPE"}, {33, "EDOM"}, {34, "ERANGE"}, {35, "EDEADLK"},
    {36, "ENAMETOOLONG"}, {37, "ENOLCK"}, {38, "ENOSYS"}, {39, "ENOTEMPTY"}, {40, "ELOOP"},
    {42, "ENOMSG"}, {43, "EIDRM"}, {44, "ECHRNG"}, {45, "EL2NSYNC"}, {46, "EL3HLT"},
    {47, "EL3RST"}, {48, "ELNRNG"}, {49, "EUNATCH"}, {50, "ENOCSI"}, {51, "EL2HLT"}, {52, "EBADE"},
    {53, "EBADR"}, {54, "EXFULL"}, {55, "ENOANO"}, {56, "EBADRQC"}, {57, "EBADSLT"},
    {59, "EBFONT"}, {60, "ENOSTR"}, {61, "ENODATA"}, {62, "ETIME"}, {63, "ENOSR"},
    {64, "ENONET"}, {65, "ENOPKG"}, {66, "EREMOTE"}, {67, "ENOLINK"}, {68, "EADV"},
    {69, "ESRMNT"}, {70, "ECOMM"}, {71, "EPROTO"}, {72, "EMULTIHOP"}, {73, "EDOTDOT"},
    {74, "EBADMSG"}, {75, "EOVERFLOW"}, {76, "ENOTUNIQ"}, {77, "EBADFD"}, {78, "EREMCHG"},
    {79, "ELIBACC"}, {80, "ELIBBAD"}, {81, "ELIBSCN"}, {82, "ELIBMAX"}, {83, "ELIBEXEC"},
    {84, "EILSEQ"}, {85, "ERESTART"}, {86, "ESTRPIPE"}, {87, "EUSERS"}, {88, "ENOTSOCK"},
    {89, "EDESTADDRREQ"}, {90, "EMSGSIZE"}, {91, "EPROTOTYPE"}, {92, "ENOPROTOOPT"},
    {93, "EPROTONOSUPPORT"}, {94, "ESOCKTNOSUPPORT"}, {95, "EOPNOTSUPP"}, {96, "EPFNOSUPPORT"},
    {97, "EAFNOSUPPORT"}, {98, "EADDRINUSE"}, {99, "EADDRNOTAVAIL"}, {100, "ENETDOWN"},
    {101, "ENETUNREACH"}, {102, "ENETRESET"}, {103, "ECONNABORTED"}, {104, "ECONNRESET"},
    {105, "ENOBUFS"}, {106, "EISCONN"}, {107, "ENOTCONN"}, {108, "ESHUTDOWN"},
    {109, "ETOOMANYREFS"}, {110, "ETIMEDOUT"}, {111, "ECONNREFUSED"}, {112, "EHOSTDOWN"},
    {113, "EHOSTUNREACH"}, {114, "EALREADY"}, {115, "EINPROGRESS"}, {116, "ESTALE"},
    {117, "EUCLEAN"}, {118, "ENOTNAM"}, {119, "ENAVAIL"}, {120, "EISNAM"}, {121, "EREMOTEIO"},
    {122, "EDQUOT"}, {123, "ENOMEDIUM"}, {124, "EMEDIUMTYPE"}, {125, "ECANCELED"},
    {126, "ENOKEY"}, {127, "EKEYEXPIRED"}, {128, "EKEYREVOKED"}, {129, "EKEYREJECTED"},
    {130, "EOWNERDEAD"}, {131, "ENOTRECOVERABLE"}, {132, "ERFKILL"}, {133, "EHWPOISON"},
    // Kernel-internal codes a tracer sees at syscall exit (include/linux/errno.h).
    {512, "ERESTARTSYS"}, {513, "ERESTARTNOINTR"}, {514, "ERESTARTNOHAND"},
    {515, "ENOIOCTLCMD"}, {516, "ERESTART_RESTARTBLOCK"}, {517, "EPROBE_DEFER"},
    {518, "EOPENSTALE"}, {519, "ENOPARAM"}, {521, "EBADHANDLE"}, {522, "ENOTSYNC"},
    {523, "EBADCOOKIE"}, {524, "ENOTSUPP"}, {525, "ETOOSMALL"}, {526, "ESERVERFAULT"},
    {527, "EBADTYPE"}, {528, "EJUKEBOX"}, {529, "EIOCBQUEUED"}, {530, "ERECALLCONFLICT"},
    {531, "ENOGRACE"},
};

std::string errno_desc(int err) {
  switch (err) {
    case 512: return "To be restarted if SA_RESTART is set";
    case 513: return "To be restarted";
    case 514: return "To be restarted if no handler";
    case 515: return "No ioctl command";
    case 516: return "Interrupted by signal";
    case 517: return "Driver requests probe retry";
    case 518: return "Open found a stale dentry";
    case 519: return "Parameter not supported";
    case 521: return "Illegal NFS file handle";
    case 522: return "Update synchronization mismatch";
    case 523: return "Cookie is stale";
    case 524: return "Operation is not supported";
    case 525: return "Buffer or request is too small";
    case 526: return "An untranslatable error occurred";
    case 527: return "Type not supported by server";
    case 528: return "Request initiated, but will not complete before timeout";
    case 529: return "iocb queued, will get completion event";
    case 530: return "Conflict with recalled state";
    case 531: return "NFS file lock reclaim refused";
    default: break;
  }
  if (const char* d = strerrordesc_np(err)) return d;
  return fmt::format("Unknown error {}", err);
}

constexpr const char* kSignals[] = {
    nullptr,   "SIGHUP",  "SIGINT",    "SIGQUIT", "SIGILL",    "SIGTRAP", "SIGABRT",  "SIGBUS",
    "SIGFPE",  "SIGKILL", "SIGUSR1",   "SIGSEGV", "SIGUSR2",   "SIGPIPE", "SIGALRM",  "SIGTERM",
    "SIGSTKFLT", "SIGCHLD", "SIGCONT", "SIGSTOP", "SIGTSTP",   "SIGTTIN", "SIGTTOU",  "SIGURG",
    "SIGXCPU", "SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH",  "SIGIO",   "SIGPWR",   "SIGSYS",
};

// ---------------------------------------------------------------------------
// Structures decoded from recorded writes.

enum class Dec : uint8_t {
  Stat, Statx, Timespec, Timeval, IntPair, WaitStatus, Rlimit, Utsname, Itimerspec, CStr, Sockaddr,
  Sigaction,  // struct kernel_sigaction
  Sigset,     // a 64-bit signal mask
};

struct DecoderRow {
  const char* name;
  int arg;
  Dec dec;
};

// Display only: which recorded output is which structure.
constexpr DecoderRow kDecoders[] = {
    {"stat", 1, Dec::Stat},           {"fstat", 1, Dec::Stat},         {"lstat", 1, Dec::Stat},
    {"newfstatat", 2, Dec::Stat},     {"statx", 4, Dec::Statx},        {"clock_gettime", 1, Dec::Timespec},
    {"clock_getres", 1, Dec::Timespec}, {"nanosleep", 1, Dec::Timespec}, {"clock_nanosleep", 3, Dec::Timespec},
    {"sched_rr_get_interval", 1, Dec::Timespec}, {"gettimeofday", 0, Dec::Timeval},
    {"pipe", 0, Dec::IntPair},        {"pipe2", 0, Dec::IntPair},      {"socketpair", 3, Dec::IntPair},
    {"wait4", 1, Dec::WaitStatus},    {"getrlimit", 1, Dec::Rlimit},   {"prlimit64", 3, Dec::Rlimit},
    {"uname", 0, Dec::Utsname},       {"timerfd_gettime", 1, Dec::Itimerspec},
    {"timerfd_settime", 3, Dec::Itimerspec}, {"timer_gettime", 1, Dec::Itimerspec},
    {"timer_settime", 3, Dec::Itimerspec}, {"getcwd", 0, Dec::CStr},
    {"accept", 1, Dec::Sockaddr},     {"accept4", 1, Dec::Sockaddr},   {"getsockname", 1, Dec::Sockaddr},
    {"getpeername", 1, Dec::Sockaddr}, {"recvfrom", 4, Dec::Sockaddr},
    // (arguments 1: the input the syscall buffer records, core/syscallbuf_abi.h "Signal state")
    {"rt_sigaction", 1, Dec::Sigaction}, {"rt_sigaction", 2, Dec::Sigaction},
    {"rt_sigprocmask", 1, Dec::Sigset}, {"rt_sigprocmask", 2, Dec::Sigset}, {"rt_sigpending", 0, Dec::Sigset},
};

// [SIGINT SIGTERM], or ~[...] for the signals a mask lacks when it has most.
std::string sigset_str(uint64_t set) {
  const bool inverted = __builtin_popcountll(set) > 32;
  if (inverted) set = ~set;
  std::string s = inverted ? "~[" : "[";
  for (int sig = 1; sig <= 64; ++sig) {
    if (!(set & (uint64_t{1} << (sig - 1)))) continue;
    if (s.back() != '[') s += ' ';
    s += signal_name(sig);
  }
  return s + "]";
}

std::string sigaction_str(const uint64_t a[4]) {
  static constexpr FlagName kSaFlags[] = {
      {0x1, "SA_NOCLDSTOP"}, {0x2, "SA_NOCLDWAIT"}, {0x4, "SA_SIGINFO"}, {0x04000000, "SA_RESTORER"},
      {0x08000000, "SA_ONSTACK"}, {0x10000000, "SA_RESTART"}, {0x40000000, "SA_NODEFER"}, {0x80000000, "SA_RESETHAND"},
  };
  const std::string handler = a[0] == 0 ? "SIG_DFL" : a[0] == 1 ? "SIG_IGN" : fmt::format("{:#x}", a[0]);
  return fmt::format("{{sa_handler={}, sa_mask={}, sa_flags={}}}", handler, sigset_str(a[3]), flags_str(a[1], kSaFlags));
}

template <typename T>
bool load(std::string_view bytes, T& v) {
  if (bytes.size() < sizeof(T)) return false;
  std::memcpy(&v, bytes.data(), sizeof(T));
  return true;
}

std::string file_mode(uint32_t mode) {
  static constexpr ValueName kTypes[] = {
      {S_IFREG, "S_IFREG"}, {S_IFDIR, "S_IFDIR"}, {S_IFCHR, "S_IFCHR"}, {S_IFBLK, "S_IFBLK"},
      {S_IFIFO, "S_IFIFO"}, {S_IFLNK, "S_IFLNK"}, {S_IFSOCK, "S_IFSOCK"},
  };
  std::string s;
  if (const char* t = value_name(mode & S_IFMT, kTypes)) s = std::string(t) + "|";
  if (mode & S_ISUID) s += "S_ISUID|";
  if (mode & S_ISGID) s += "S_ISGID|";
  if (mode & S_ISVTX) s += "S_ISVTX|";
  s += mode_str(mode & 0777);
  return s;
}

std::string dev_str(uint64_t dev) {
  return fmt::format("makedev({}, {})", hex(major(dev)), hex(minor(dev)));
}

std::string mode_and_size(uint32_t mode, uint64_t size, uint64_t rdev, const char* prefix) {
  const uint32_t type = mode & S_IFMT;
  if (type == S_IFCHR || type == S_IFBLK)
    return fmt::format("{{{0}mode={1}, {0}rdev={2}, ...}}", prefix, file_mode(mode), dev_str(rdev));
  return fmt::format("{{{0}mode={1}, {0}size={2}, ...}}", prefix, file_mode(mode), size);
}

std::string quote_cstr(std::string_view bytes, size_t max) {
  const size_t nul = bytes.find('\0');
  return quote_bytes(std::string(bytes.substr(0, nul)), max);
}

// {sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr("127.0.0.1")} and friends.
std::string sockaddr_str(std::string_view b) {
  if (b.size() < 2) return quote_bytes(std::string(b));
  uint16_t family;
  std::memcpy(&family, b.data(), 2);
  std::string fam = value_or(family, kFamilies);
  const auto u8 = [&](size_t i) { return static_cast<unsigned>(static_cast<unsigned char>(b[i])); };
  if (family == 1 /* AF_UNIX */) {
    if (b.size() == 2) return fmt::format("{{sa_family={}}}", fam);
    if (b[2] == '\0')  // abstract
      return fmt::format("{{sa_family={}, sun_path=@{}}}", fam, quote_bytes(std::string(b.substr(3)), 108));
    return fmt::format("{{sa_family={}, sun_path={}}}", fam, quote_cstr(b.substr(2), 108));
  }
  if (family == 2 /* AF_INET */ && b.size() >= 8)
    return fmt::format("{{sa_family={}, sin_port=htons({}), sin_addr=inet_addr(\"{}.{}.{}.{}\")}}", fam,
                       u8(2) << 8 | u8(3), u8(4), u8(5), u8(6), u8(7));
  if (family == 10 /* AF_INET6 */ && b.size() >= 24) {
    char addr[INET6_ADDRSTRLEN] = "?";
    inet_ntop(AF_INET6, b.data() + 8, addr, sizeof addr);
    return fmt::format("{{sa_family={}, sin6_port=htons({}), sin6_addr=inet_pton(AF_INET6, \"{}\"), ...}}", fam,
                       u8(2) << 8 | u8(3), addr);
  }
  return fmt::format("{{sa_family={}, ...}}", fam);
}

std::optional<std::string> decode(Dec dec, std::string_view b) {
  switch (dec) {
    case Dec::Stat: {
      struct stat st;
      if (!load(b, st)) return std::nullopt;
      return mode_and_size(st.st_mode, st.st_size, st.st_rdev, "st_");
    }
    case Dec::Statx: {
      struct statx stx;
      if (!load(b, stx)) return std::nullopt;
      return mode_and_size(stx.stx_mode, stx.stx_size,
                           makedev(stx.stx_rdev_major, stx.stx_rdev_minor), "stx_");
    }
    case Dec::Timespec: {
      int64_t t[2];
      if (!load(b, t)) return std::nullopt;
      return fmt::format("{{tv_sec={}, tv_nsec={}}}", t[0], t[1]);
    }
    case Dec::Timeval: {
      int64_t t[2];
      if (!load(b, t)) return std::nullopt;
      return fmt::format("{{tv_sec={}, tv_usec={}}}", t[0], t[1]);
    }
    case Dec::Itimerspec: {
      int64_t t[4];
      if (!load(b, t)) return std::nullopt;
      return fmt::format("{{it_interval={{tv_sec={}, tv_nsec={}}}, it_value={{tv_sec={}, tv_nsec={}}}}}",
                         t[0], t[1], t[2], t[3]);
    }
    case Dec::IntPair: {
      int32_t fds[2];
      if (!load(b, fds)) return std::nullopt;
      return fmt::format("[{}, {}]", fds[0], fds[1]);
    }
    case Dec::WaitStatus: {
      int32_t s;
      if (!load(b, s)) return std::nullopt;
      if ((s & 0x7f) == 0) return fmt::format("[{{WIFEXITED(s) && WEXITSTATUS(s) == {}}}]", (s >> 8) & 0xff);
      if ((s & 0xff) == 0x7f) {
        std::string r = fmt::format("[{{WIFSTOPPED(s) && WSTOPSIG(s) == {}}}", signal_name((s >> 8) & 0xff));
        if (s >> 16) r += fmt::format(" | {:#x}", (s >> 16) << 16);
        return r + "]";
      }
      if (s == 0xffff) return std::string("[{WIFCONTINUED(s)}]");
      return fmt::format("[{{WIFSIGNALED(s) && WTERMSIG(s) == {}{}}}]", signal_name(s & 0x7f),
                         (s & 0x80) ? " && WCOREDUMP(s)" : "");
    }
    case Dec::Rlimit: {
      uint64_t r[2];
      if (!load(b, r)) return std::nullopt;
      auto lim = [](uint64_t v) { return v == ~uint64_t{0} ? std::string("RLIM64_INFINITY") : std::to_string(v); };
      return fmt::format("{{rlim_cur={}, rlim_max={}}}", lim(r[0]), lim(r[1]));
    }
    case Dec::CStr:
      return quote_cstr(b, 4096);
    case Dec::Sigaction: {
      uint64_t a[4];
      if (!load(b, a)) return std::nullopt;
      return sigaction_str(a);
    }
    case Dec::Sigset: {
      uint64_t set;
      if (!load(b, set)) return std::nullopt;
      return sigset_str(set);
    }
    case Dec::Sockaddr:
      return sockaddr_str(b);
    case Dec::Utsname: {
      if (b.size() < 390) return std::nullopt;
      return fmt::format("{{sysname={}, nodename={}, ...}}", quote_cstr(b.substr(0, 65), 65),
                         quote_cstr(b.substr(65, 65), 65));
    }
  }
  return std::nullopt;
}

// ---------------------------------------------------------------------------
// Arguments.

// Bytes the kernel wrote starting at `addr`, from the recorded writes.
std::optional<std::string_view> written_at(const RecordedCall& call, uint64_t addr) {
  for (const auto& [a, bytes] : call.writes) {
    if (addr >= a && addr - a < bytes.size()) return std::string_view(bytes).substr(addr - a);
  }
  return std::nullopt;
}

const std::string* string_arg(const RecordedCall& call, int index) {
  for (const auto& [i, s] : call.strings)
    if (i == index) return &s;
  return nullptr;
}

bool name_is(const SyscallDesc* d, std::string_view n) { return d && d->name && n == d->name; }

std::string out_ptr(const RecordedCall& call, const SyscallDesc& d, int index) {
  const uint64_t p = call.args[index];
  if (p == 0) return "NULL";
  const auto bytes = written_at(call, p);
  if (!bytes) {
    // A successful call that returned 0 bytes into a buffer wrote nothing: "".
    for (const OutMem& o : d.out)
      if (o.arg == index && o.size == SizeFrom::Ret && call.has_ret && call.ret == 0) return "\"\"";
    return ptr(p);
  }
  for (const DecoderRow& r : kDecoders) {
    if (r.arg == index && name_is(&d, r.name)) {
      if (auto s = decode(r.dec, *bytes)) return *s;
      return ptr(p);
    }
  }
  for (const OutMem& o : d.out) {
    if (o.arg != index) continue;
    switch (o.size) {
      case SizeFrom::Ret: {
        if (call.ret < 0) break;
        uint64_t len = std::min<uint64_t>(bytes->size(), static_cast<uint64_t>(call.ret));
        return quote_bytes(std::string(bytes->substr(0, len)));
      }
      case SizeFrom::Arg:
      case SizeFrom::ArgPtrU32:
        return quote_bytes(std::string(*bytes));
      case SizeFrom::Fixed:
        if (o.n == 4 && bytes->size() >= 4) {
          int32_t v;
          std::memcpy(&v, bytes->data(), 4);
          return fmt::format("[{}]", v);
        }
        if (o.n == 8 && bytes->size() >= 8) {
          uint64_t v;
          std::memcpy(&v, bytes->data(), 8);
          return fmt::format("[{}]", v);
        }
        break;
      default:
        break;
    }
  }
  return ptr(p);
}

std::string fcntl_third(int cmd, uint64_t v) {
  switch (cmd) {
    case 2:  // F_SETFD
      return v == 1 ? "FD_CLOEXEC" : hex(v);
    case 4:  // F_SETFL
      return open_flags(v, true);
    case 5: case 6: case 7: case 15: case 16: case 36: case 37: case 38:  // locks, owner_ex
    case 1035: case 1036: case 1037: case 1038:
      return ptr(v);
    case 10: case 11:  // F_SETSIG
      return v == 0 ? "0" : signal_name(static_cast<int>(v));
    default:
      return std::to_string(static_cast<int>(v));
  }
}

// How many arguments to show: strace leaves out those the call ignores.
int shown_args(const RecordedCall& call, const SyscallDesc& d) {
  int n = d.arg_count();
  for (int i = 1; i < n; ++i) {
    if (d.args[i] == Arg::Mode && d.args[i - 1] == Arg::OpenFlags &&
        !(call.args[i - 1] & (0100 /* O_CREAT */ | 020000000 /* __O_TMPFILE */)))
      return i;
    if (d.args[i - 1] == Arg::FcntlCmd) {
      switch (static_cast<int>(call.args[i - 1])) {
        case 1: case 3: case 9: case 11: case 1025: case 1032: case 1034:  // F_GET* without argument
          return i;
        default:
          break;
      }
    }
    if (d.args[i - 1] == Arg::FutexOp) {
      static constexpr int kFutexArgs[] = {4, 3, 3, 5, 6, 6, 4, 2, 2, 6, 6, 5, 6, 4};
      const uint64_t cmd = call.args[i - 1] & 127;
      if (cmd < std::size(kFutexArgs)) return std::min(n, kFutexArgs[cmd]);
    }
  }
  return n;
}

std::string ret_str(const RecordedCall& call, const SyscallDesc* d) {
  if (!call.has_ret) return "?";
  if (is_error_return(call.ret)) {
    const int err = static_cast<int>(-call.ret);
    const bool restart = err == 512 || err == 513 || err == 514 || err == 516;
    return fmt::format("{} {} ({})", restart ? "?" : "-1", errno_name(err), errno_desc(err));
  }
  if (name_is(d, "mmap") || name_is(d, "mremap") || name_is(d, "brk") || name_is(d, "shmat"))
    return fmt::format("{:#x}", static_cast<uint64_t>(call.ret));
  return std::to_string(call.ret);
}

}  // namespace

std::string errno_name(int err) {
  if (err < 0) err = -err;
  for (const ErrnoEntry& e : kErrnos)
    if (e.err == err) return e.name;
  return fmt::format("ERRNO_{}", err);
}

std::string signal_name(int signo) {
  if (signo > 0 && signo < static_cast<int>(std::size(kSignals))) return kSignals[signo];
  if (signo == 32) return "SIGRTMIN";
  if (signo > 32 && signo <= 64) return fmt::format("SIGRTMIN+{}", signo - 32);
  return std::to_string(signo);
}

std::string quote_bytes(const std::string& bytes, size_t max) {
  const size_t n = std::min(bytes.size(), max);
  std::string s = "\"";
  s.reserve(n * 2 + 6);
  for (size_t i = 0; i < n; ++i) {
    const unsigned char c = static_cast<unsigned char>(bytes[i]);
    switch (c) {
      case '"': s += "\\\""; break;
      case '\\': s += "\\\\"; break;
      case '\t': s += "\\t"; break;
      case '\n': s += "\\n"; break;
      case '\v': s += "\\v"; break;
      case '\f': s += "\\f"; break;
      case '\r': s += "\\r"; break;
      default:
        if (c >= ' ' && c <= 0x7e) {
          s += static_cast<char>(c);
        } else {
          // Octal, minimal unless the next shown byte is an octal digit.
          s += '\\';
          const bool next_digit = i + 1 < n && bytes[i + 1] >= '0' && bytes[i + 1] <= '7';
          if (next_digit || c >= 0100) s += static_cast<char>('0' + (c >> 6));
          if (next_digit || c >= 010) s += static_cast<char>('0' + ((c >> 3) & 7));
          s += static_cast<char>('0' + (c & 7));
        }
    }
  }
  s += '"';
  if (bytes.size() > max) s += "...";
  return s;
}

std::string format_arg(const RecordedCall& call, int index) {
  if (index < 0 || index > 5) return "";
  const uint64_t v = call.args[index];
  const SyscallDesc* d = lookup(call.nr);
  if (!d) return hex(v);
  if (index > 0 && d->args[index - 1] == Arg::FcntlCmd) return fcntl_third(static_cast<int>(call.args[index - 1]), v);
  switch (d->args[index]) {
    case Arg::None:
    case Arg::Hex:
    case Arg::Ignored:
      return hex(v);
    case Arg::Int:
      return std::to_string(static_cast<int64_t>(v));
    case Arg::UInt:
    case Arg::Size:
      return std::to_string(v);
    case Arg::Ptr:
      // An input the record holds (a buffered rt_sigaction's act), decoded where a decoder says how.
      if (const std::string* s = string_arg(call, index); s && v != 0) {
        for (const DecoderRow& r : kDecoders) {
          if (r.arg == index && name_is(d, r.name)) {
            if (auto text = decode(r.dec, *s)) return *text;
          }
        }
      }
      return ptr(v);
    case Arg::OutPtr:
      return out_ptr(call, *d, index);
    case Arg::Fd:
      return std::to_string(static_cast<int32_t>(v));
    case Arg::DirFd:
      return static_cast<int32_t>(v) == -100 ? std::string("AT_FDCWD") : std::to_string(static_cast<int32_t>(v));
    case Arg::Path:
    case Arg::Str:
      if (const std::string* s = string_arg(call, index)) return quote_bytes(*s, d->args[index] == Arg::Path ? s->size() : 4096);
      return ptr(v);
    case Arg::OpenFlags:
      return open_flags(v, name_is(d, "open") || name_is(d, "openat") || name_is(d, "mq_open") ||
                               name_is(d, "open_by_handle_at"));
    case Arg::Mode:
      return mode_str(v);
    case Arg::AtFlags:
      return at_flags(v, name_is(d, "faccessat2"));
    case Arg::AccessMode:
      return flags_str(v, kAccess, "F_OK");
    case Arg::ProtFlags:
      return flags_str(v, kProt, "PROT_NONE");
    case Arg::MapFlags:
      return map_flags(v);
    case Arg::Signal:
      return v == 0 ? std::string("0") : signal_name(static_cast<int32_t>(v));
    case Arg::SigHow:
      return value_or(static_cast<int64_t>(v), kSigHow);
    case Arg::Whence:
      return value_or(static_cast<int64_t>(v), kWhence);
    case Arg::ClockId:
      return value_or(static_cast<int32_t>(v), kClocks);
    case Arg::FutexOp:
      return futex_op(v);
    case Arg::Madvise:
      return value_or(static_cast<int64_t>(v), kMadvise);
    case Arg::FcntlCmd:
      return value_or(static_cast<int32_t>(v), kFcntlCmds);
    case Arg::IoctlReq:
      return value_or(static_cast<uint32_t>(v), kIoctls, true);
    case Arg::PrctlOption:
      return value_or(static_cast<int64_t>(v), kPrctl);
    case Arg::ArchPrctl:
      return value_or(static_cast<int64_t>(v), kArchPrctl, true);
    case Arg::SockFamily:
      return value_or(static_cast<int32_t>(v), kFamilies);
    case Arg::SockType:
      return sock_type(v);
    case Arg::CloneFlags:
      return clone_flags(v);
    case Arg::WaitOptions:
      return flags_str(v, kWaitOptions);
  }
  return hex(v);
}

std::string format_call(const RecordedCall& call) {
  // An i386 call (int $0x80) has no row: its number names another call in
  // the 64-bit table, so only its i386 name and raw arguments are shown.
  const SyscallDesc* d = call.i386 ? nullptr : lookup(call.nr);
  std::string s = call.i386 ? "int80:" + i386_syscall_name(call.nr) : syscall_name(call.nr);
  s += '(';
  if (d) {
    const int n = shown_args(call, *d);
    for (int i = 0; i < n; ++i) {
      if (i) s += ", ";
      s += format_arg(call, i);
    }
  } else {
    for (int i = 0; i < 6; ++i) {
      if (i) s += ", ";
      s += hex(call.args[i]);
    }
  }
  s += ") = ";
  s += ret_str(call, d);
  return s;
}

}  // namespace rrx::sys
