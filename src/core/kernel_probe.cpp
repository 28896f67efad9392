#include "core/kernel_probe.h"

#include <cpuid.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <map>

#include "core/ptrace_task.h"

namespace rrx {

const char* skip_strategy_name(SkipStrategy s) {
  switch (s) {
    case SkipStrategy::SetInfoExit: return "set-info-exit";
    case SkipStrategy::SetInfo: return "set-info";
    case SkipStrategy::Sysemu: return "sysemu";
    case SkipStrategy::Regs: return "regs";
  }
  return "?";
}

std::vector<SkipStrategy> all_skip_strategies() {
  // Best first, by ptrace stops per emulated syscall (measured in bench/:
  // sysemu replays dd bs=512 about twice as fast as set-info, which needs an
  // entry and an exit stop; sysemu pays three stops only for the syscalls
  // that must run for real, a small minority).
  return {SkipStrategy::SetInfoExit, SkipStrategy::Sysemu, SkipStrategy::SetInfo, SkipStrategy::Regs};
}

std::optional<SkipStrategy> parse_skip_strategy(const std::string& name) {
  for (SkipStrategy s : all_skip_strategies()) {
    if (name == skip_strategy_name(s)) return s;
  }
  return std::nullopt;
}

namespace {

constexpr long kProbeResult = 4242;

// The child: traced, stops, then makes one getppid() and exits with 0 when
// it saw kProbeResult instead of its parent's pid.
[[noreturn]] void probe_child(bool with_seccomp) {
  ::ptrace(PTRACE_TRACEME, 0, nullptr, nullptr);
  if (with_seccomp) {
    struct sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {static_cast<unsigned short>(sizeof filter / sizeof filter[0]), filter};
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
        ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0) {
      _exit(3);
    }
  }
  ::raise(SIGSTOP);
  long r = ::syscall(SYS_getppid);
  _exit(r == kProbeResult ? 0 : 1);
}

bool run_probe(SkipStrategy s) {
  bool seccomp = s == SkipStrategy::SetInfoExit;
  pid_t pid = ::fork();
  if (pid < 0) return false;
  if (pid == 0) probe_child(seccomp);
  Task task(pid);
  bool ok = false;
  try {
    WaitStatus w = task.wait();
    if (w.kind != WaitStatus::Kind::SignalStop) return false;
    long opts = PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL | (seccomp ? PTRACE_O_TRACESECCOMP : 0);
    task.set_options(opts);
    // Run to the getppid syscall.
    for (;;) {
      if (seccomp) task.resume_cont();
      else if (s == SkipStrategy::Sysemu) task.resume_sysemu();
      else task.resume_syscall();
      w = task.wait();
      if (w.kind == WaitStatus::Kind::Exited || w.kind == WaitStatus::Kind::Killed) return false;
      if (w.kind == WaitStatus::Kind::EventStop && w.event == PTRACE_EVENT_SECCOMP) break;
      if (w.kind == WaitStatus::Kind::SyscallStop) {
        if (task.syscall_info().entry.nr == SYS_getppid) break;
        continue;
      }
    }
    switch (s) {
      case SkipStrategy::SetInfoExit: {
        KernelSyscallInfo info = task.syscall_info();
        if (info.op != KernelSyscallInfo::kSeccomp) break;
        KernelSyscallInfo set{};
        set.op = KernelSyscallInfo::kExit;
        set.arch = info.arch;
        set.instruction_pointer = info.instruction_pointer;
        set.stack_pointer = info.stack_pointer;
        set.exit.rval = kProbeResult;
        if (!task.set_syscall_info(set)) break;
        task.resume_cont();
        ok = true;
        break;
      }
      case SkipStrategy::SetInfo: {
        KernelSyscallInfo info = task.syscall_info();
        KernelSyscallInfo set = info;
        set.entry.nr = static_cast<uint64_t>(-1);
        if (!task.set_syscall_info(set)) break;
        task.resume_syscall();
        w = task.wait();
        if (w.kind != WaitStatus::Kind::SyscallStop) break;
        info = task.syscall_info();
        if (info.op != KernelSyscallInfo::kExit) break;
        set = info;
        set.exit.rval = kProbeResult;
        set.exit.is_error = 0;
        if (!task.set_syscall_info(set)) break;
        task.resume_cont();
        ok = true;
        break;
      }
      case SkipStrategy::Sysemu: {
        user_regs_struct r = task.regs();
        r.rax = kProbeResult;
        task.set_regs(r);
        task.resume_cont();
        ok = true;
        break;
      }
      case SkipStrategy::Regs: {
        user_regs_struct r = task.regs();
        r.orig_rax = static_cast<uint64_t>(-1);
        task.set_regs(r);
        task.resume_syscall();
        w = task.wait();
        if (w.kind != WaitStatus::Kind::SyscallStop) break;
        r = task.regs();
        r.rax = kProbeResult;
        task.set_regs(r);
        task.resume_cont();
        ok = true;
        break;
      }
    }
    if (ok) {
      w = task.wait();
      ok = w.kind == WaitStatus::Kind::Exited && w.exit_code == 0;
    }
  } catch (const std::exception&) {
    ok = false;
  }
  ::kill(pid, SIGKILL);
  int status;
  while (::waitpid(pid, &status, __WALL) > 0) {
  }
  return ok;
}

}  // namespace

bool skip_strategy_supported(SkipStrategy s) {
  static std::map<SkipStrategy, bool> cache;
  auto it = cache.find(s);
  if (it != cache.end()) return it->second;
  bool ok = run_probe(s);
  cache[s] = ok;
  return ok;
}

SkipStrategy best_skip_strategy() {
  for (SkipStrategy s : all_skip_strategies()) {
    if (skip_strategy_supported(s)) return s;
  }
  return SkipStrategy::Regs;
}

InheritedSignals current_signal_state() {
  InheritedSignals st;
  for (int sig = 1; sig <= 64; ++sig) {
    struct sigaction sa {};
    if (sig == SIGKILL || sig == SIGSTOP || ::sigaction(sig, nullptr, &sa) != 0) continue;
    if (sa.sa_handler == SIG_IGN) st.ignored |= 1ull << (sig - 1);
  }
  sigset_t mask;
  sigemptyset(&mask);
  ::sigprocmask(SIG_BLOCK, nullptr, &mask);
  for (int sig = 1; sig <= 64; ++sig) {
    if (sigismember(&mask, sig) == 1) st.blocked |= 1ull << (sig - 1);
  }
  return st;
}

void apply_signal_state(const InheritedSignals& st) {
  for (int sig = 1; sig <= 64; ++sig) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    // (glibc reserves 32 and 33; sigaction refuses them, which is fine.)
    struct sigaction sa {};
    sa.sa_handler = (st.ignored & (1ull << (sig - 1))) ? SIG_IGN : SIG_DFL;
    sigemptyset(&sa.sa_mask);
    ::sigaction(sig, &sa, nullptr);
  }
  sigset_t mask;
  sigemptyset(&mask);
  for (int sig = 1; sig <= 64; ++sig) {
    if (st.blocked & (1ull << (sig - 1))) sigaddset(&mask, sig);
  }
  ::sigprocmask(SIG_SETMASK, &mask, nullptr);
}

bool cpuid_faulting_supported() {
  static const bool supported = [] {
    pid_t pid = ::fork();
    if (pid < 0) return false;
    if (pid == 0) {
      // ARCH_SET_CPUID (0x1012) with 0: cpuid faults from now on (this child only).
      long r = ::syscall(SYS_arch_prctl, 0x1012, 0);
      _exit(r == 0 ? 0 : 1);
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
  }();
  return supported;
}

std::string kernel_release() {
  struct utsname u {};
  if (::uname(&u) != 0) return "unknown";
  return u.release;
}

std::string host_name() {
  struct utsname u {};
  if (::uname(&u) != 0) return "unknown";
  return u.nodename;
}

CpuIdentity cpu_identity() {
  CpuIdentity id;
  unsigned a, b, c, d;
  __cpuid_count(0, 0, a, b, c, d);
  char vendor[13];
  std::memcpy(vendor, &b, 4);
  std::memcpy(vendor + 4, &d, 4);
  std::memcpy(vendor + 8, &c, 4);
  vendor[12] = 0;
  id.vendor = vendor;
  unsigned max_leaf = a;
  auto add = [&](uint32_t leaf, uint32_t sub) {
    unsigned ea, eb, ec, ed;
    __cpuid_count(leaf, sub, ea, eb, ec, ed);
    id.leaves.push_back({leaf, sub, ea, eb, ec, ed});
  };
  // The leaves glibc's init_cpu_features reads.
  for (uint32_t leaf : {0u, 1u, 7u, 0xdu, 0x14u, 0x19u}) {
    if (leaf > max_leaf) continue;
    add(leaf, 0);
    if (leaf == 7 || leaf == 0xd) add(leaf, 1);
  }
  __cpuid(0x80000000u, a, b, c, d);
  unsigned max_ext = a;
  for (uint32_t leaf : {0x80000000u, 0x80000001u, 0x80000007u, 0x80000008u}) {
    if (leaf <= max_ext) add(leaf, 0);
  }
  __cpuid(1, a, b, c, d);
  uint32_t family = (a >> 8) & 0xf, model = (a >> 4) & 0xf;
  if (family == 0xf) family += (a >> 20) & 0xff;
  if (family == 0x6 || family >= 0xf) model += ((a >> 16) & 0xf) << 4;
  id.family = family;
  id.model = model;
  id.stepping = a & 0xf;
  return id;
}

}  // namespace rrx
