// Undoing the side effects of the kernel's force_sig for a SIGSEGV that rrx
// suppresses (a trapped rdtsc): the kernel unblocked SIGSEGV and reset its
// action to SIG_DFL when the program had it blocked or ignored. The recorder
// decides what to put back and records it; the replay puts back the same.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <signal.h>

namespace rrx {

class Task;

// struct kernel_sigaction as rt_sigaction takes it (sigsetsize 8).
struct KernelSigaction {
  uint64_t handler = 0;  // SIG_DFL 0, SIG_IGN 1, or the handler's address
  uint64_t flags = 0;
  uint64_t restorer = 0;
  uint64_t mask = 0;
};
static_assert(sizeof(KernelSigaction) == 32);

inline constexpr uint64_t kSigDfl = 0;
inline constexpr uint64_t kSigIgn = 1;
inline constexpr uint64_t sig_bit(int sig) { return uint64_t{1} << (sig - 1); }
// The signals no mask blocks (the kernel drops them from every mask it sets).
inline constexpr uint64_t kUnblockable = sig_bit(SIGKILL) | sig_bit(SIGSTOP);

// The kernel's rule for rt_sigprocmask(how, set) that succeeded: the blocked
// mask after it, from `blocked` before it (the recorder's model of a thread,
// the replay's mask of one that took buffered calls without a stop).
inline uint64_t blocked_after_sigprocmask(uint64_t blocked, uint64_t how, uint64_t set) {
  switch (how) {
    case SIG_BLOCK: blocked |= set; break;
    case SIG_UNBLOCK: blocked &= ~set; break;
    case SIG_SETMASK: blocked = set; break;
    default: break;  // (EINVAL: nothing changed)
  }
  return blocked & ~kUnblockable;
}

struct ForcedSignalUndo {
  std::optional<uint64_t> mask;              // the blocked mask to set again
  std::optional<KernelSigaction> action;     // the signal's action to install again

  bool empty() const { return !mask && !action; }
  std::string action_bytes() const;          // 32 bytes, or "" without an action
  static std::optional<KernelSigaction> action_from_bytes(const std::string& bytes);
};

// What force_sig(sig) changed, given the thread's mask and the signal's
// action just before it (kernel/signal.c force_sig_info_to_task: a blocked
// or ignored signal is unblocked and its handler reset to SIG_DFL).
ForcedSignalUndo undo_for_forced(int sig, uint64_t blocked_before, const KernelSigaction& action_before);

// Applies `undo` to a thread stopped at the signal-delivery stop of the
// forced signal (suppressed): PTRACE_SETSIGMASK, and an rt_sigaction run in
// the thread with `scratch` (an executable address of the program) for the
// syscall instruction. The thread ends in a syscall-exit stop with its
// registers unchanged. Signals that arrive meanwhile are suppressed and, with
// `signals`, handed back there. Throws rrx::Error.
void apply_forced_signal_undo(Task& t, uint64_t scratch, int sig, const ForcedSignalUndo& undo,
                              std::vector<siginfo_t>* signals = nullptr);

}  // namespace rrx
