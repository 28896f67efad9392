// Stops at syscall entries and returns for gdb's `catch syscall`
// (ReplaySession::syscall_hook). An entry is reported before the replay
// handles it: the task's stop goes back into `pending` and is handled
// when the replay goes on, so the syscall then runs (or is emulated) as
// without the stop. A return is reported once the syscall is complete,
// its result and recorded memory in place, before the task runs on.
#include "replay/replay_session.h"

namespace rrx::replay {

std::optional<ReplaySession::Stop> ReplaySession::report_syscall_entry(RTask& t, const WaitStatus& w, int64_t nr,
                                                                      bool step) {
  if (t.entry_reported) {
    // Reported last time: handled now. A step from the report ends once
    // the syscall has returned, as a step over the syscall instruction.
    t.entry_reported = false;
    if (step) step_over_syscall_tid_ = t.tid;
    return std::nullopt;
  }
  // sysemu re-issues a skipped syscall that must run for real: the same call.
  if (step || t.cur.rerun_pending || !syscall_hook || !syscall_hook(t.tid, nr, true)) return std::nullopt;
  t.entry_reported = true;
  t.pending = w;
  Stop s;
  s.kind = StopKind::SyscallEntry;
  s.tid = t.tid;
  s.syscall_nr = nr;
  return s;
}

void ReplaySession::note_syscall_exit(RTask& t) {
  if (!syscall_hook || step_over_syscall_tid_ == t.tid || !syscall_hook(t.tid, t.cur.nr, false)) return;
  Stop s;
  s.kind = StopKind::SyscallExit;
  s.tid = t.tid;
  s.syscall_nr = t.cur.nr;
  syscall_exit_ = s;
}

std::optional<ReplaySession::Stop> ReplaySession::syscall_exit_to_report(RTask& t) {
  if (!syscall_exit_ || syscall_exit_->tid != t.tid || t.next_resume != NextResume::Normal ||
      t.cur.action != Action::None) {
    return std::nullopt;
  }
  Stop s = *syscall_exit_;
  syscall_exit_.reset();
  return s;
}

}  // namespace rrx::replay
