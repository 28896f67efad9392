// ThreadSignals: see signal_state.h.
#include "record/signal_state.h"

#include <signal.h>
#include <cerrno>
#include <sys/prctl.h>

#include <cstring>
#include <string>

#include "core/proc_status_file.h"
#include "core/ptrace_task.h"
#include "core/syscall_table.h"

namespace rrx::record {

namespace {

constexpr uint64_t kCloneClearSighand = 0x100000000ull;  // CLONE_CLEAR_SIGHAND (clone3)
constexpr uint64_t kCloneSighand = 0x800;                // CLONE_SIGHAND

bool is_handler(const KernelSigaction& a) { return a.handler != kSigDfl && a.handler != kSigIgn; }

// The kernel's flush_signal_handlers(force_default = 0): exec and CLONE_CLEAR_SIGHAND.
void flush_handlers(SignalActions& actions) {
  for (KernelSigaction& a : actions.action) {
    a = KernelSigaction{a.handler == kSigIgn ? kSigIgn : kSigDfl, 0, 0, 0};
  }
}

}  // namespace

void ThreadSignals::start(Task& t) {
  // After an exec the kernel's state is plain: the mask as it was, every
  // action SIG_DFL or SIG_IGN.
  actions_ = std::make_shared<SignalActions>();
  uint64_t ignored = ProcStatusFile::of(t.tid()).hex_field("SigIgn").value_or(0);
  for (int sig = 1; sig <= 64; ++sig) {
    if (ignored & sig_bit(sig)) actions_->action[sig - 1].handler = kSigIgn;
  }
  blocked_ = t.blocked_signals();
}

ThreadSignals ThreadSignals::child_of(const ThreadSignals& parent, uint64_t clone_flags, bool thread) {
  ThreadSignals child = parent;  // the mask and the TSC mode are inherited
  if (!thread || !(clone_flags & kCloneSighand)) {
    child.actions_ = std::make_shared<SignalActions>(*parent.actions_);
    if (clone_flags & kCloneClearSighand) flush_handlers(*child.actions_);
  }
  return child;
}

void ThreadSignals::at_entry(Task& t, const sys::SyscallDesc& desc, const uint64_t args[6]) {
  temp_mask_.reset();
  entry_temp_mask_.reset();
  if (desc.temp_sigmask.arg < 0) return;
  uint64_t ptr = args[desc.temp_sigmask.arg];
  uint64_t len = args[desc.temp_sigmask.arg + 1];
  if (desc.temp_sigmask.indirect) {
    uint64_t pair[2];
    if (ptr == 0 || !t.read_exact(ptr, pair, sizeof pair)) return;
    ptr = pair[0];
    len = pair[1];
  }
  uint64_t mask;
  if (ptr == 0 || len != 8 || !t.read_exact(ptr, &mask, sizeof mask)) return;  // none, or the call fails
  entry_temp_mask_ = mask & ~kUnblockable;
}

void ThreadSignals::after_syscall(Task& t, const sys::SyscallDesc& desc, const uint64_t args[6], int64_t ret) {
  // Interrupted, the call leaves its mask in place (TIF_RESTORE_SIGMASK)
  // for the handler of the interrupting signal; PTRACE_GETSIGMASK reports
  // the saved one, so this is the only way to know it.
  constexpr int64_t kErestartnohand = -514;
  if (entry_temp_mask_ && (ret == -EINTR || ret == kErestartnohand)) temp_mask_ = entry_temp_mask_;
  entry_temp_mask_.reset();
  const uint8_t row_flags = desc.flags;
  // EFAULT with an act that rrx can read: the kernel read it too, installed
  // it, then failed to write oldact.
  constexpr int64_t kEfault = -EFAULT;
  if ((row_flags & sys::kSetsSigaction) && (ret == 0 || (ret == kEfault && args[1] != 0)) && args[3] == 8) {
    // The act installed, or a query's answer: the action in effect (the
    // syscall buffer's query after an EFAULT may come here traced).
    const int sig = static_cast<int>(args[0]);
    const uint64_t from = args[1] != 0 ? args[1] : args[2];
    KernelSigaction a;
    if (sig >= 1 && sig <= 64 && from != 0 && t.read_exact(from, &a, sizeof a)) set_action(sig, a);
  }
  if (row_flags & sys::kSetsSigmask) blocked_ = t.blocked_signals();
}

void ThreadSignals::set_action(int sig, KernelSigaction a) {
  a.mask &= ~kUnblockable;  // (as the kernel stores it)
  actions_->action[sig - 1] = a;
}

void ThreadSignals::after_buffered(const sys::SyscallDesc& desc, const uint64_t args[6], int64_t ret,
                                   std::span<const uint8_t> input, std::span<const uint8_t> output) {
  // A failure changed nothing, but an EFAULT in the copy of the output,
  // after the change: the library's query that follows it says what is in
  // effect.
  if (ret != 0 || args[3] != 8) return;
  // What the call set (its input), or for a query (no input pointer) what it
  // answered.
  const std::span<const uint8_t> known = args[1] != 0 ? input : output;
  if (desc.flags & sys::kSetsSigaction) {
    const int sig = static_cast<int>(args[0]);
    KernelSigaction a;
    if (sig < 1 || sig > 64 || known.size() != sizeof a) return;
    std::memcpy(&a, known.data(), sizeof a);
    set_action(sig, a);
  }
  if (desc.flags & sys::kSetsSigmask) {
    uint64_t set;
    if (known.size() != sizeof set) return;
    std::memcpy(&set, known.data(), sizeof set);
    blocked_ = args[1] == 0 ? set & ~kUnblockable : blocked_after_sigprocmask(blocked_, args[0], set);
  }
}

void ThreadSignals::before_delivery(int sig, bool forced) {
  if (sig < 1 || sig > 64) return;
  KernelSigaction& a = actions_->action[sig - 1];
  if (forced && ((blocked_ & sig_bit(sig)) || a.handler == kSigIgn)) {
    // force_sig has already unblocked it and reset its action.
    a.handler = kSigDfl;
    blocked_ &= ~sig_bit(sig);
  }
  if (!is_handler(a)) return;
  // The kernel's signal_delivered(): the handler runs with the current mask
  // (a call's temporary mask when it interrupted rt_sigsuspend, ppoll...)
  // plus sa_mask plus the signal itself unless SA_NODEFER. rt_sigreturn
  // puts the saved one back (after_syscall reads it). No ptrace call: the
  // mask is known.
  uint64_t mask = (temp_mask_ ? *temp_mask_ : blocked_) | a.mask;
  temp_mask_.reset();  // the frame saved it; the handler's mask replaces it
  if (!(a.flags & SA_NODEFER)) mask |= sig_bit(sig);
  blocked_ = mask & ~kUnblockable;
  if (a.flags & SA_RESETHAND) a.handler = kSigDfl;
}

std::optional<int64_t> ThreadSignals::skipped_prctl_result(const uint64_t args[6]) {
  if (args[0] == PR_SET_TSC && (args[1] == PR_TSC_ENABLE || args[1] == PR_TSC_SIGSEGV)) return 0;
  return std::nullopt;  // an invalid mode fails in the kernel (EINVAL), as it would untraced
}

void ThreadSignals::after_prctl(Task& t, const uint64_t args[6], int64_t ret) {
  if (ret != 0) return;
  if (args[0] == PR_SET_TSC) {
    tsc_mode_ = static_cast<int>(args[1]);
  } else if (args[0] == PR_GET_TSC) {
    int mode = tsc_mode_;  // the kernel wrote PR_TSC_SIGSEGV, rrx's own setting
    t.write_mem(args[1], &mode, sizeof mode);
  }
}

ForcedSignalUndo ThreadSignals::undo_trap_sigsegv() const {
  return undo_for_forced(SIGSEGV, blocked_, action(SIGSEGV));
}

bool ThreadSignals::ignores(int sig) const {
  if (sig < 1 || sig > 64 || sig == SIGKILL || sig == SIGSTOP) return false;
  const uint64_t handler = action(sig).handler;
  if (handler == kSigIgn) return true;
  return handler == kSigDfl && default_signal_action(sig) == SignalAction::Ignore;
}

}  // namespace rrx::record
