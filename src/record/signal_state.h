// The recorder's model of each thread's signal state and emulated TSC mode,
// kept from the stops it sees anyway: the blocked mask (PTRACE_GETSIGMASK
// after the calls that change it, computed at handler delivery), the
// actions of its process's signal handlers (rt_sigaction's `act`), and the
// PR_SET_TSC mode the program asked for. Used to make rdtsc trapping
// invisible: prctl(PR_GET_TSC) answers the emulated mode, and the side
// effects of the suppressed SIGSEGV (force_sig) are undone.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>

#include "core/forced_signal.h"

namespace rrx {
class Task;
namespace sys {
struct SyscallDesc;
}
}

namespace rrx::record {

// Signal actions of a process (shared by CLONE_SIGHAND threads, copied by fork).
struct SignalActions {
  KernelSigaction action[64];
};

class ThreadSignals {
 public:
  // At each exec (the first one too): the mask stays, the process gets
  // actions of its own, each SIG_DFL unless it was SIG_IGN (read from /proc);
  // the TSC mode stays, as the kernel keeps its TIF_NOTSC flag.
  void start(Task& t);
  // A new thread or process made by `parent` with these clone flags.
  static ThreadSignals child_of(const ThreadSignals& parent, uint64_t clone_flags, bool thread);
  // At the entry stop of a call with a temporary mask (its row's temp_sigmask).
  void at_entry(Task& t, const sys::SyscallDesc& desc, const uint64_t args[6]);
  // At every exit stop: a call whose row says it changes the mask or an
  // action; a temporary mask that stays in effect because the call was
  // interrupted (for the handler delivered next).
  void after_syscall(Task& t, const sys::SyscallDesc& desc, const uint64_t args[6], int64_t ret);
  // A call the syscall buffer made (rt_sigaction, rt_sigprocmask: a row
  // with kSetsSigaction or kSetsSigmask), applied at the flush that takes
  // its record, in order: `input` is the record's copy of what argument 1
  // pointed to (the act, the new mask; empty without one), `output` what
  // the call wrote at argument 2 (empty without). Core/syscallbuf_abi.h,
  // "Signal state".
  void after_buffered(const sys::SyscallDesc& desc, const uint64_t args[6], int64_t ret,
                      std::span<const uint8_t> input, std::span<const uint8_t> output);
  // Any stop but a signal-delivery one: the task is back in user code, or
  // in a new call, and an interrupted call's temporary mask is over.
  void left_kernel() { temp_mask_.reset(); }
  // Right before rrx resumes a signal-delivery stop with `sig` (the kernel
  // then runs its action). `forced`: a fault the kernel raised with force_sig.
  void before_delivery(int sig, bool forced);
  // A SIGSEGV the kernel forced for a trapped rdtsc, which rrx suppresses:
  // what to put back (the caller applies and records it).
  ForcedSignalUndo undo_trap_sigsegv() const;

  // prctl(PR_SET_TSC/PR_GET_TSC) as the program sees it: PR_TSC_ENABLE or
  // PR_TSC_SIGSEGV. The real trap stays on whatever it says.
  int tsc_mode() const { return tsc_mode_; }
  void set_tsc_mode(int mode) { tsc_mode_ = mode; }

  // prctl(PR_SET_TSC, ENABLE or SIGSEGV) is answered without the kernel
  // (which would turn the trap off): the result to inject, the call being
  // skipped. nullopt for any other prctl.
  static std::optional<int64_t> skipped_prctl_result(const uint64_t args[6]);
  // At the prctl's exit stop (skipped or not): PR_SET_TSC takes effect,
  // PR_GET_TSC's answer is replaced by the emulated mode.
  void after_prctl(Task& t, const uint64_t args[6], int64_t ret);

  uint64_t blocked() const { return blocked_; }
  // Set from outside the task's own calls (its tracer's PTRACE_SETSIGMASK).
  void set_blocked(uint64_t mask) { blocked_ = mask; }
  const KernelSigaction& action(int sig) const { return actions_->action[sig - 1]; }
  // Whether delivering `sig` runs no code and leaves the process as it was:
  // SIG_IGN, or SIG_DFL where the default ignores it (SIGCHLD, SIGCONT,
  // SIGURG, SIGWINCH). From the model, as signal_action (core/ptrace_task.h)
  // says from /proc, without the read.
  bool ignores(int sig) const;

 private:
  // Signal `sig` (1-64) gets action `a`, from a call that installed it.
  void set_action(int sig, KernelSigaction a);
  uint64_t blocked_ = 0;                // the mask its user code runs with
  std::optional<uint64_t> entry_temp_mask_;  // the current call's temporary mask (from its entry)
  std::optional<uint64_t> temp_mask_;   // an interrupted call's temporary mask, still the kernel's
  std::shared_ptr<SignalActions> actions_ = std::make_shared<SignalActions>();
  int tsc_mode_ = 1;  // PR_TSC_ENABLE
};

}  // namespace rrx::record
