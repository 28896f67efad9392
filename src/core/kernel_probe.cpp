#include "core/kernel_probe.h"

#include <cpuid.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <map>

#include "core/line_cache.h"
#include "core/ptrace_task.h"
#include "core/unique_fd.h"

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

// What a probe found: Unknown when it could not get as far as the syscall
// to skip (no fork, ptrace or seccomp refused, the child killed...): a
// fact of the moment, not of the kernel.
enum class Probe { Supported, Unsupported, Unknown };

Probe run_probe(SkipStrategy s) {
  bool seccomp = s == SkipStrategy::SetInfoExit;
  pid_t pid = ::fork();
  if (pid < 0) return Probe::Unknown;
  if (pid == 0) probe_child(seccomp);
  Task task(pid);
  bool ok = false;
  bool reached = false;  // stopped at the getppid, where the strategy is tried
  try {
    WaitStatus w = task.wait();
    if (w.kind != WaitStatus::Kind::SignalStop) {
      ::kill(pid, SIGKILL);
      while (::waitpid(pid, nullptr, __WALL) > 0) {
      }
      return Probe::Unknown;
    }
    long opts = PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL | (seccomp ? PTRACE_O_TRACESECCOMP : 0);
    task.set_options(opts);
    // Run to the getppid syscall.
    for (;;) {
      if (seccomp) task.resume_cont();
      else if (s == SkipStrategy::Sysemu) task.resume_sysemu();
      else task.resume_syscall();
      w = task.wait();
      if (w.kind == WaitStatus::Kind::Exited || w.kind == WaitStatus::Kind::Killed) break;
      if (w.kind == WaitStatus::Kind::EventStop && w.event == PTRACE_EVENT_SECCOMP) {
        reached = true;
        break;
      }
      if (w.kind == WaitStatus::Kind::SyscallStop) {
        if (task.syscall_info().entry.nr == SYS_getppid) {
          reached = true;
          break;
        }
        continue;
      }
    }
    // PTRACE_SET_SYSCALL_INFO; a failure because the child was killed
    // (ESRCH) says nothing of the kernel.
    auto set_info = [&](const KernelSyscallInfo& set) {
      if (task.set_syscall_info(set)) return true;
      if (errno == ESRCH) reached = false;
      return false;
    };
    if (reached) {
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
          if (!set_info(set)) break;
          task.resume_cont();
          ok = true;
          break;
        }
        case SkipStrategy::SetInfo: {
          KernelSyscallInfo info = task.syscall_info();
          KernelSyscallInfo set = info;
          set.entry.nr = static_cast<uint64_t>(-1);
          if (!set_info(set)) break;
          task.resume_syscall();
          w = task.wait();
          if (w.kind != WaitStatus::Kind::SyscallStop || (info = task.syscall_info()).op != KernelSyscallInfo::kExit) {
            reached = false;  // not the exit stop that follows: nothing said about the kernel
            break;
          }
          set = info;
          set.exit.rval = kProbeResult;
          set.exit.is_error = 0;
          if (!set_info(set)) break;
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
          if (w.kind != WaitStatus::Kind::SyscallStop) {
            reached = false;
            break;
          }
          r = task.regs();
          r.rax = kProbeResult;
          task.set_regs(r);
          task.resume_cont();
          ok = true;
          break;
        }
      }
    }
    if (ok) {
      w = task.wait();
      // Exit status 1: the child's getppid ran after all.
      if (w.kind != WaitStatus::Kind::Exited || w.exit_code > 1) reached = false;
      ok = w.kind == WaitStatus::Kind::Exited && w.exit_code == 0;
    }
  } catch (const std::exception&) {
    ok = false;
    reached = false;
  }
  ::kill(pid, SIGKILL);
  int status;
  while (::waitpid(pid, &status, __WALL) > 0) {
  }
  if (ok) return Probe::Supported;
  return reached ? Probe::Unsupported : Probe::Unknown;
}

std::string read_line(const char* path) {
  UniqueFd fd(::open(path, O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return {};
  char buf[128];
  ssize_t n = ::read(fd.get(), buf, sizeof buf - 1);
  if (n <= 0) return {};
  std::string line(buf, static_cast<size_t>(n));
  return line.substr(0, line.find('\n'));
}

bool one_field(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') return false;
  }
  return true;
}

}  // namespace

KernelFactCache::KernelFactCache(std::filesystem::path path, std::string boot)
    : boot_(std::move(boot)), lines_(boot_.empty() ? std::filesystem::path() : std::move(path), "rrx-probe-1", 4,
                                     64 << 10) {}

std::string KernelFactCache::key(const std::string& fact) const {
  return (boot_.empty() ? std::string("- - -") : boot_) + " " + fact;
}

std::optional<bool> KernelFactCache::lookup(const std::string& fact) {
  std::optional<std::string> v = lines_.lookup(key(fact));
  if (!v || (*v != "0" && *v != "1")) return std::nullopt;
  return *v == "1";
}

void KernelFactCache::add(const std::string& fact, bool value) { lines_.add(key(fact), value ? "1" : "0"); }

std::string this_boot_key() {
  std::string boot = read_line("/proc/sys/kernel/random/boot_id");
  std::string release = kernel_release();
  struct stat st {};
  if (::stat("/proc/self/exe", &st) != 0) return {};
  std::string build = file_identity_key(st);
  std::replace(build.begin(), build.end(), ' ', ':');
  if (!one_field(boot) || !one_field(release) || release == "unknown") return {};
  return boot + " " + release + " " + build;
}

bool skip_strategy_supported(SkipStrategy s) {
  static std::map<SkipStrategy, bool> known;
  static KernelFactCache facts(user_cache_file("kernel-probes"), this_boot_key());
  auto it = known.find(s);
  if (it != known.end()) return it->second;
  const std::string fact = std::string("skip-") + skip_strategy_name(s);
  std::optional<bool> ok = facts.lookup(fact);
  if (!ok) {
    Probe p = run_probe(s);
    ok = p == Probe::Supported;
    if (p != Probe::Unknown) facts.add(fact, *ok);
  }
  known[s] = *ok;
  return *ok;
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
    // (glibc reserves 32 and 33: its sigaction refuses them. Skipped, so
    // that no call here fails: a child started by PreExecChild shares
    // rrx's errno.)
    if (sig == SIGKILL || sig == SIGSTOP || sig == 32 || sig == 33) continue;
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
    // ARCH_GET_CPUID (0x1011): 0 when this thread faults on cpuid already
    // (rrx itself recorded by a recorder that traps cpuid): the CPU can.
    long enabled = ::syscall(SYS_arch_prctl, 0x1011, 0);
    if (enabled == 0) return true;
    if (enabled < 0) return false;  // a kernel without it (before 4.12)
    // ARCH_SET_CPUID (0x1012) with 1, "cpuid does not fault": what this
    // thread has already, so nothing changes; the kernel checks the CPU's
    // support first and says ENODEV without it, for either setting.
    return ::syscall(SYS_arch_prctl, 0x1012, 1) == 0;
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
