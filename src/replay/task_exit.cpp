// The end of replayed tasks: a recorded death is reached by letting the
// kill that the recording saw (an exit, a fatal signal, its process's end)
// happen, never by running the task's code on.
#include <sys/ptrace.h>

#include <chrono>

#include "core/syscall_format.h"
#include "replay/event_text.h"
#include "replay/replay_session.h"
#include "replay/skip_strategy.h"

namespace rrx::replay {

// The recorded death of `t` is next. In the recording no user code of t ran
// between its last event and its death: it made its own exit, or a fatal
// signal reached it, or its process ended around it (a sibling's
// exit_group, a fatal signal to the process, an exec, SIGKILL), which the
// kernel does by killing t wherever it is, in user code or inside a
// syscall. So t is never resumed into its code here. The tasks of its
// process that are on their way out (an exit syscall already entered, a
// fatal signal to be delivered) go on, the kill they cause reaches t, and
// t's stops until its death (the exit event stop) are only passed through.
std::optional<ReplaySession::Stop> ReplaySession::await_death(RTask& t, schema::Event::Reader ev) {
  at_interval_start_ = false;
  for (auto& [tid, u] : tasks_) {
    if (u.pid != t.pid || u.running || u.pending) continue;
    bool exit_call = u.cur.action == Action::Exit && !u.cur.exit_held;
    bool fatal = signal_terminates(u.task->tid(), u.deliver_on_resume);
    if (exit_call || fatal) resume(u, false);
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  for (;;) {
    if (t.exiting && !t.running && !t.pending) {
      try {
        t.task->resume_cont(0);
      } catch (const Error&) {
      }
      t.running = true;
    }
    std::optional<WaitStatus> w;
    if (t.pending) {
      w = t.pending;
      t.pending.reset();
    } else {
      w = wait_until(t, deadline);
    }
    if (!w) {
      diverge(describe_event(ev), "thread " + std::to_string(t.tid) +
                                      " still alive: nothing in the replay ended it");
    }
    if (w->kind == WaitStatus::Kind::Exited || w->kind == WaitStatus::Kind::Killed) {
      current_tid_ = t.tid;
      return on_death(t, *w);
    }
    if (w->kind == WaitStatus::Kind::EventStop && w->event == PTRACE_EVENT_EXIT) {
      t.exiting = true;
      continue;
    }
    bool call_stop = w->kind == WaitStatus::Kind::SyscallStop ||
                     (w->kind == WaitStatus::Kind::EventStop && w->event == PTRACE_EVENT_SECCOMP);
    if (call_stop && t.cur.action == Action::Exit) {
      // Its own exit going in (sysemu: the stale exit stop, then the
      // re-issued entry and, with seccomp entries, its seccomp stop).
      t.cur.rerun_pending = false;
      t.task->resume_syscall(0);
      t.running = true;
      continue;
    }
    // A stop from before the kill reached it (a syscall it runs for real):
    // it stays stopped; the kill wakes it from there.
    t.running = false;
  }
}

std::optional<ReplaySession::Stop> ReplaySession::on_death(RTask& t, const WaitStatus& w) {
  bool killed = w.kind == WaitStatus::Kind::Killed;
  auto ev = peek();
  std::string live = killed ? "death by " + sys::signal_name(w.sig) : "exit with status " + std::to_string(w.exit_code);
  if (ev.which() != schema::Event::EXIT || ev.getTid() != t.tid) diverge(describe_event(ev), live + " of thread " + std::to_string(t.tid));
  auto e = ev.getExit();
  bool same = killed ? e.getSigno() == w.sig : (e.getSigno() == 0 && e.getStatus() == w.exit_code);
  if (!same) diverge(describe_event(ev), live);
  consume();
  if (t.tid == t.pid) {
    Stop s;
    s.kind = StopKind::Exited;
    s.tid = t.tid;
    s.killed = killed;
    s.exit_code = killed ? w.sig : w.exit_code;
    process_exits_[t.pid] = s;
  }
  if (t.tid == first_pid_) {
    Stop s;
    s.kind = StopKind::Exited;
    s.tid = t.tid;
    s.killed = killed;
    s.exit_code = killed ? w.sig : w.exit_code;
    first_exit_ = s;
  }
  const int pid = t.pid;
  const bool process_ended = t.tid == t.pid;
  remove_task(t);
  if (tasks_.empty()) {
    Stop s;
    s.kind = StopKind::Exited;
    if (first_exit_) s = *first_exit_;
    return s;
  }
  if (process_ended && process_exit_hook && process_exit_hook(pid)) {
    Stop s = process_exits_[pid];
    s.kind = StopKind::ProcessExited;
    return s;
  }
  return std::nullopt;
}

}  // namespace rrx::replay

namespace rrx::replay {

bool ReplaySession::process_killed_first_at(const RTask& t) const {
  for (const auto& [tid, other] : tasks_) {
    if (other.pid != t.pid) continue;
    if (other.sigkilled || other.kill_reported || other.cur.action == Action::Exec) return false;
  }
  return true;
}

}  // namespace rrx::replay
