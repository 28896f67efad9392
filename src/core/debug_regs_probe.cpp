#include "core/debug_regs_probe.h"

#include <signal.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>

namespace rrx {

namespace {

// The word the child writes; DR0 watches it (8 bytes, aligned).
alignas(8) volatile long probe_word = 0;

size_t debugreg_offset(int i) { return offsetof(struct user, u_debugreg) + static_cast<size_t>(i) * 8; }

bool wait_for(pid_t pid, int& status) {
  for (;;) {
    if (::waitpid(pid, &status, __WALL) == pid) return true;
    if (errno != EINTR) return false;
  }
}

DebugRegsProbe run_probe() {
  const char* env = std::getenv("RRX_DEBUG_REGS");
  if (env && std::strcmp(env, "0") == 0) return DebugRegsProbe::ForcedOff;
  pid_t pid = ::fork();
  if (pid < 0) return DebugRegsProbe::Failed;
  if (pid == 0) {
    // Only async-signal-safe calls: the parent may have threads.
    if (::ptrace(PTRACE_TRACEME, 0, nullptr, nullptr) != 0) _exit(2);
    ::raise(SIGSTOP);
    probe_word = 5;
    probe_word = 6;
    _exit(0);
  }
  auto finish = [pid](DebugRegsProbe p) {
    ::kill(pid, SIGKILL);
    int st;
    wait_for(pid, st);
    return p;
  };
  int status = 0;
  if (!wait_for(pid, status)) return finish(DebugRegsProbe::Failed);
  if (!WIFSTOPPED(status) || WSTOPSIG(status) != SIGSTOP) {
    if (WIFEXITED(status) || WIFSIGNALED(status)) return DebugRegsProbe::Failed;
    return finish(DebugRegsProbe::Failed);
  }
  const uint64_t dr7 = 1 | (1ull << 16) | (2ull << 18);  // L0, RW=01 (writes), LEN=10 (8 bytes)
  if (::ptrace(PTRACE_POKEUSER, pid, debugreg_offset(0), const_cast<long*>(&probe_word)) != 0 ||
      ::ptrace(PTRACE_POKEUSER, pid, debugreg_offset(7), dr7) != 0) {
    return finish(DebugRegsProbe::Refused);
  }
  if (::ptrace(PTRACE_CONT, pid, nullptr, nullptr) != 0) return finish(DebugRegsProbe::Failed);
  if (!wait_for(pid, status)) return finish(DebugRegsProbe::Failed);
  if (WIFEXITED(status) || WIFSIGNALED(status)) return DebugRegsProbe::Silent;
  if (WIFSTOPPED(status) && WSTOPSIG(status) == SIGTRAP) {
    errno = 0;
    long dr6 = ::ptrace(PTRACE_PEEKUSER, pid, debugreg_offset(6), nullptr);
    if (errno == 0 && (dr6 & 1)) return finish(DebugRegsProbe::Fire);
  }
  return finish(DebugRegsProbe::Failed);
}

}  // namespace

DebugRegsProbe probe_debug_registers() {
  static const DebugRegsProbe answer = run_probe();
  return answer;
}

bool debug_registers_fire() { return probe_debug_registers() == DebugRegsProbe::Fire; }

const char* describe(DebugRegsProbe p) {
  switch (p) {
    case DebugRegsProbe::Fire: return "they fire (a write watchpoint stopped the probe's write)";
    case DebugRegsProbe::Silent:
      return "they do not fire: accepted by ptrace, but the probe's write ran without a trap (a virtual machine "
             "that does not deliver them)";
    case DebugRegsProbe::Refused: return "they cannot be set: ptrace refused DR0/DR7";
    case DebugRegsProbe::Failed: return "unknown: the probe could not run (taken as not firing)";
    case DebugRegsProbe::ForcedOff: return "not used: RRX_DEBUG_REGS=0";
  }
  return "?";
}

}  // namespace rrx
