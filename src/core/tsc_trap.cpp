// The rdtsc trap probe: see tsc_trap.h.
#include "core/tsc_trap.h"

#include <cpuid.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <x86intrin.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "core/kernel_probe.h"
#include "core/line_cache.h"

namespace rrx {

namespace {

thread_local sigjmp_buf* t_probe_jump = nullptr;
struct sigaction g_old_action {};

void on_probe_segv(int sig, siginfo_t* si, void* uc) {
  if (t_probe_jump && si->si_code == SI_KERNEL) siglongjmp(*t_probe_jump, 1);
  // Not the probe's: what the old action would have done.
  if (g_old_action.sa_flags & SA_SIGINFO) {
    if (g_old_action.sa_sigaction) {
      g_old_action.sa_sigaction(sig, si, uc);
      return;
    }
  } else if (g_old_action.sa_handler != SIG_DFL && g_old_action.sa_handler != SIG_IGN) {
    g_old_action.sa_handler(sig);
    return;
  }
  ::signal(SIGSEGV, SIG_DFL);  // the fault comes again, and kills
}

bool has_rdtscp() {
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid(0x80000001, &a, &b, &c, &d)) return false;
  return (d >> 27) & 1;
}

// Whether `insn` faults with the mode set (each probe runs on its own
// jump buffer; the volatile keeps the compiler from moving the read).
template <typename F>
bool faults(F insn) {
  sigjmp_buf jump;
  if (sigsetjmp(jump, 1) != 0) {
    t_probe_jump = nullptr;
    return true;
  }
  t_probe_jump = &jump;
  insn();
  t_probe_jump = nullptr;
  return false;
}

}  // namespace

bool probe_tsc_trap() {
  static std::mutex m;  // one probe at a time: g_old_action is shared
  std::lock_guard<std::mutex> lock(m);
  int mode = 0;
  if (::prctl(PR_GET_TSC, &mode, 0, 0, 0) != 0) return false;
  struct sigaction sa {};
  sa.sa_sigaction = on_probe_segv;
  sa.sa_flags = SA_SIGINFO | SA_NODEFER;
  sigemptyset(&sa.sa_mask);
  if (::sigaction(SIGSEGV, &sa, &g_old_action) != 0) return false;
  // SIGSEGV must not be blocked for the handler to run (a blocked forced
  // signal would be unblocked by the kernel anyway, but say it here).
  sigset_t segv, old_mask;
  sigemptyset(&segv);
  sigaddset(&segv, SIGSEGV);
  ::pthread_sigmask(SIG_UNBLOCK, &segv, &old_mask);
  bool trapped = false;
  if (::prctl(PR_SET_TSC, PR_TSC_SIGSEGV, 0, 0, 0) == 0) {
    volatile unsigned long long sink = 0;
    trapped = faults([&] { sink = __rdtsc(); });
    if (trapped && has_rdtscp()) {
      unsigned aux = 0;
      trapped = faults([&] { sink = __rdtscp(&aux); });
    }
    (void)sink;
    ::prctl(PR_SET_TSC, mode == PR_TSC_SIGSEGV ? PR_TSC_SIGSEGV : PR_TSC_ENABLE, 0, 0, 0);
  }
  ::pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  ::sigaction(SIGSEGV, &g_old_action, nullptr);
  return trapped;
}

bool probe_tsc_trap_in_child() {
  pid_t child = ::fork();
  if (child == 0) _exit(probe_tsc_trap() ? 1 : 0);
  if (child < 0) return probe_tsc_trap();
  int status = 0;
  while (::waitpid(child, &status, 0) < 0) {
    if (errno != EINTR) return probe_tsc_trap();
  }
  if (!WIFEXITED(status)) return probe_tsc_trap();
  return WEXITSTATUS(status) == 1;
}

bool tsc_trap_works() {
  static const bool works = [] {
    const char* force = std::getenv("RRX_TSC_PATCH");
    if (force && *force && std::strcmp(force, "0") != 0) return false;
    static KernelFactCache facts(user_cache_file("kernel-probes"), this_boot_key());
    if (std::optional<bool> known = facts.lookup("tsc-trap")) return *known;
    bool traps = probe_tsc_trap_in_child();
    facts.add("tsc-trap", traps);
    return traps;
  }();
  return works;
}

}  // namespace rrx
