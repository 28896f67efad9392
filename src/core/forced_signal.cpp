// ForcedSignalUndo: see forced_signal.h.
#include "core/forced_signal.h"

#include <sys/syscall.h>

#include <cstring>

#include "core/error.h"
#include "core/ptrace_task.h"
#include "core/remote_syscall.h"

namespace rrx {

std::string ForcedSignalUndo::action_bytes() const {
  if (!action) return {};
  return std::string(reinterpret_cast<const char*>(&*action), sizeof *action);
}

std::optional<KernelSigaction> ForcedSignalUndo::action_from_bytes(const std::string& bytes) {
  if (bytes.size() != sizeof(KernelSigaction)) return std::nullopt;
  KernelSigaction a;
  std::memcpy(&a, bytes.data(), sizeof a);
  return a;
}

ForcedSignalUndo undo_for_forced(int sig, uint64_t blocked_before, const KernelSigaction& action_before) {
  ForcedSignalUndo undo;
  bool blocked = (blocked_before & sig_bit(sig)) != 0;
  bool ignored = action_before.handler == kSigIgn;
  if (blocked) undo.mask = blocked_before;
  if ((blocked || ignored) && action_before.handler != kSigDfl) undo.action = action_before;
  return undo;
}

void apply_forced_signal_undo(Task& t, uint64_t scratch, int sig, const ForcedSignalUndo& undo,
                              std::vector<siginfo_t>* signals) {
  if (undo.mask) t.set_blocked_signals(*undo.mask);
  if (undo.action) {
    StackScratch act(t, &*undo.action, sizeof *undo.action);
    int64_t r = remote_syscall(t, scratch, SYS_rt_sigaction, {static_cast<uint64_t>(sig), act.addr(), 0, 8}, nullptr,
                               signals);
    if (r != 0) {
      throw Error("cannot restore the action of signal " + std::to_string(sig) + " in thread " +
                  std::to_string(t.tid()) + " (rt_sigaction: " + std::strerror(static_cast<int>(-r)) + ")");
    }
  }
}

}  // namespace rrx
