// The recorder's side of desched: see desched.h.
#include "record/desched.h"

#include <fcntl.h>
#include <linux/perf_event.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "core/error.h"
#include "core/remote_syscall.h"
#include "core/syscallbuf_abi.h"
#include "core/syscall_table.h"

namespace rrx::record {

namespace {

perf_event_attr desched_attr() {
  perf_event_attr attr{};
  attr.size = sizeof attr;
  attr.type = PERF_TYPE_SOFTWARE;
  attr.config = PERF_COUNT_SW_CONTEXT_SWITCHES;
  attr.sample_period = 1;  // every switch overflows: a signal
  attr.disabled = 1;       // armed by the library around a call that may block (PERF_EVENT_IOC_REFRESH 1)
  return attr;
}

// O_ASYNC, the signal and its owner thread, on the event's file (shared by
// every descriptor of it: rrx sets them on its own copy, so si_fd is rrx's number).
bool set_signal_owner(int fd, pid_t tid) {
  f_owner_ex owner{F_OWNER_TID, tid};
  return ::fcntl(fd, F_SETFL, O_ASYNC) == 0 && ::fcntl(fd, F_SETSIG, RRX_DESCHED_SIGNAL) == 0 &&
         ::fcntl(fd, F_SETOWN_EX, &owner) == 0;
}

DeschedProbe probe_in_this_thread() {
  sigset_t sig;
  sigemptyset(&sig);
  sigaddset(&sig, RRX_DESCHED_SIGNAL);
  // (Blocked in this thread only: it stays pending for sigtimedwait below.)
  if (::pthread_sigmask(SIG_BLOCK, &sig, nullptr) != 0) return DeschedProbe::Refused;
  perf_event_attr attr = desched_attr();
  int fd = static_cast<int>(::syscall(SYS_perf_event_open, &attr, 0, -1, -1, PERF_FLAG_FD_CLOEXEC));
  if (fd < 0) return DeschedProbe::Refused;
  UniqueFd owned(fd);
  if (!set_signal_owner(fd, static_cast<pid_t>(::syscall(SYS_gettid)))) return DeschedProbe::Refused;
  // Armed as the library arms it: until the first overflow, which disables it.
  if (::ioctl(fd, PERF_EVENT_IOC_REFRESH, 1) != 0) return DeschedProbe::Refused;
  timespec nap{0, 1000000};  // 1 ms: the thread sleeps, a context switch
  ::nanosleep(&nap, nullptr);
  ::ioctl(fd, PERF_EVENT_IOC_DISABLE, 0);
  uint64_t count = 0;
  if (::read(fd, &count, sizeof count) != static_cast<ssize_t>(sizeof count) || count == 0) {
    return DeschedProbe::NeverCounts;
  }
  siginfo_t si{};
  timespec none{0, 0};
  for (int tries = 0; tries < 100; ++tries) {  // the signal comes from the kernel's irq work, soon after
    if (::sigtimedwait(&sig, &si, &none) == RRX_DESCHED_SIGNAL) return DeschedProbe::Counts;
    timespec tick{0, 100000};
    ::nanosleep(&tick, nullptr);
  }
  return DeschedProbe::NeverCounts;
}

// The lowest number the event may take in the thread's fd table: high, out of
// the program's way, below its soft RLIMIT_NOFILE.
uint64_t lowest_fd(pid_t tgid) {
  std::ifstream in("/proc/" + std::to_string(tgid) + "/limits");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("Max open files", 0) != 0) continue;
    std::istringstream words(line.substr(14));
    std::string soft;
    words >> soft;
    if (soft == "unlimited") return RRX_DESCHED_MIN_FD;
    uint64_t n = std::strtoull(soft.c_str(), nullptr, 10);
    return std::min<uint64_t>(RRX_DESCHED_MIN_FD, std::max<uint64_t>(3, n * 3 / 4));
  }
  return RRX_DESCHED_MIN_FD;
}

}  // namespace

DeschedProbe probe_desched_event() {
  DeschedProbe got = DeschedProbe::Refused;
  // A thread of its own: the signal mask and the event stay out of rrx's other threads.
  std::thread([&got] { got = probe_in_this_thread(); }).join();
  return got;
}

bool desched_wanted() {
  const char* env = std::getenv("RRX_DESCHED");
  return env && std::string(env) == "1";
}

DeschedProbe probe_desched() {
  if (!desched_wanted()) return DeschedProbe::TurnedOff;
  const DeschedProbe got = probe_desched_event();
  if (got != DeschedProbe::Counts) {
    throw Error(std::string("RRX_DESCHED=1, but the desched event cannot be used here: ") + describe(got));
  }
  return got;
}

const char* describe(DeschedProbe p) {
  switch (p) {
    case DeschedProbe::Counts: return "a context-switch perf event counts and signals";
    case DeschedProbe::Refused:
      return "perf_event_open refused the context-switch event (perf_event_paranoid > 1 without CAP_PERFMON?)";
    case DeschedProbe::NeverCounts: return "the context-switch perf event opens but does not count or signal";
    case DeschedProbe::TurnedOff: return "not asked for (the checked mode is the default; RRX_DESCHED=1 asks)";
  }
  return "?";
}

int open_desched_event(Task& t, pid_t tgid, int at_fd, DeschedEvent& ev, std::vector<siginfo_t>* signals) {
  // The remote calls run from a spare spot of the rrx page (remote_syscall restores it).
  const uint64_t scratch = RRX_PAGE_ADDR + 48;
  perf_event_attr attr = desched_attr();
  int64_t first = 0;
  {
    StackScratch a(t, &attr, sizeof attr);
    first = remote_syscall(t, scratch, SYS_perf_event_open,
                           {a.addr(), 0, static_cast<uint64_t>(-1), static_cast<uint64_t>(-1), PERF_FLAG_FD_CLOEXEC},
                           nullptr, signals);
  }
  if (first < 0) return static_cast<int>(first);
  int64_t fd = at_fd >= 0 ? remote_syscall(t, scratch, SYS_dup3, {static_cast<uint64_t>(first),
                                                                   static_cast<uint64_t>(at_fd), O_CLOEXEC},
                                           nullptr, signals)
                          : remote_syscall(t, scratch, SYS_fcntl,
                                           {static_cast<uint64_t>(first), F_DUPFD_CLOEXEC, lowest_fd(tgid)}, nullptr,
                                           signals);
  if (fd != first) remote_syscall(t, scratch, SYS_close, {static_cast<uint64_t>(first)}, nullptr, signals);
  if (fd < 0) return static_cast<int>(fd);
  int err = 0;
  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, tgid, 0));
  int ctl = pidfd < 0 ? -1 : static_cast<int>(::syscall(SYS_pidfd_getfd, pidfd, static_cast<int>(fd), 0));
  if (ctl < 0) err = errno;
  if (pidfd >= 0) ::close(pidfd);
  if (ctl >= 0 && !set_signal_owner(ctl, t.tid())) {
    err = errno;
    ::close(ctl);
    ctl = -1;
  }
  if (ctl >= 0) {
    static const uint8_t kSyscallRet[3] = RRX_SYSCALL_RET_BYTES;
    if (!t.write_mem(RRX_PAGE_ADDR + RRX_RECORDING_ONLY_INSN_OFFSET, kSyscallRet, sizeof kSyscallRet)) {
      err = EFAULT;
      ::close(ctl);
      ctl = -1;
    }
  }
  if (ctl < 0) {
    remote_syscall(t, scratch, SYS_close, {static_cast<uint64_t>(fd)}, nullptr, signals);
    return -(err ? err : EBADF);
  }
  ::fcntl(ctl, F_SETFD, FD_CLOEXEC);
  ev.fd = static_cast<int>(fd);
  ev.ctl = std::make_shared<UniqueFd>(ctl);
  return ev.fd;
}

void disarm(const DeschedEvent& ev) {
  if (ev.ctl && ev.ctl->get() >= 0) ::ioctl(ev.ctl->get(), PERF_EVENT_IOC_DISABLE, 0);
}

bool is_desched_signal(const siginfo_t& si, const DeschedEvent& ev) {
  return si.si_signo == RRX_DESCHED_SIGNAL && (si.si_code == POLL_HUP || si.si_code == POLL_IN) && ev.ctl &&
         si.si_fd == ev.ctl->get();
}

bool interrupted_at_untraced(const user_regs_struct& r) {
  if (r.rip != RRX_UNTRACED_IP) return false;
  return sys::is_interrupted_return(static_cast<int64_t>(r.rax));
}

int64_t fd_closed_by(int64_t nr, const uint64_t args[6]) {
  switch (nr) {
    case SYS_close: return static_cast<int64_t>(args[0]);
    case SYS_dup2:
    case SYS_dup3: return static_cast<int64_t>(args[1]);
    default: return -1;
  }
}

}  // namespace rrx::record
