// The replay's side of emulated ptrace (record/ptrace_emulation.h): a tracee
// that stopped for its tracer inside the recorded tree is run to the same
// stop (TracerStop) and held there, so that the tracer's replayed memory
// writes meet it at the same point; what the tracer changed before letting
// it go (TracerResume: registers, the XSAVE area, the signal mask, the
// signal it delivered or suppressed) is applied to it there.
#include <elf.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cstring>

#include "replay/event_text.h"
#include "replay/replay_session.h"
#include "trace_format/regs_codec.h"

namespace rrx::replay {

namespace {

constexpr long kSetSigmask = 0x420b;

bool is_entry_stop(Task& task, const WaitStatus& w) {
  if (w.kind == WaitStatus::Kind::EventStop) return w.event == PTRACE_EVENT_SECCOMP;
  return w.kind == WaitStatus::Kind::SyscallStop && task.syscall_info().op == KernelSyscallInfo::kEntry;
}

}  // namespace

std::optional<ReplaySession::Stop> ReplaySession::reach_tracer_stop(RTask& t, schema::Event::Reader ev) {
  auto s = ev.getTracerStop();
  const auto kind = s.getKind();
  WaitStatus w{WaitStatus::Kind::SignalStop};
  if (kind == schema::TracerStop::Kind::STEP) {
    // The tracer's PTRACE_SINGLESTEP: one instruction, from where the
    // tracee's last event (or its resume) left it.
    if (t.running || t.pending) diverge(describe_event(ev), "thread " + std::to_string(t.tid) + " not stopped");
    t.task->resume_singlestep(t.deliver_on_resume);
    t.deliver_on_resume = 0;
    t.running = true;
    w = wait_for(t);
    if (w.kind != WaitStatus::Kind::SignalStop || w.sig != SIGTRAP) diverge(describe_event(ev), w.describe());
  } else {
    bool fed = false;
    if (!t.pending && !t.running) {
      if (kind == schema::TracerStop::Kind::SIGNAL && !s.getSynchronous()) {
        // Raised by rrx at a syscall boundary when recording: raised here
        // too. It is delivered first: a call it cut short (a restart code)
        // is not restarted before its delivery stop (restart_if_no_signal).
        t.injecting_signal = s.getSigno();
        ::syscall(SYS_tgkill, t.live_pid, t.task->tid(), s.getSigno());
      }
      fed = feed_buffer(t, false);
      resume(t, false);
    }
    w = take_stop(t);
    if (fed) w = take_buffer(t, w);
    const bool there = kind == schema::TracerStop::Kind::SYSCALL_ENTRY
                           ? is_entry_stop(*t.task, w)
                           : w.kind == WaitStatus::Kind::SignalStop && w.sig == s.getSigno() && t.started;
    if (there && kind == schema::TracerStop::Kind::SIGNAL) t.injecting_signal = 0;
    if (!there) {
      // A stop that comes first: one no event marks (a new task's first
      // SIGSTOP, a signal the live kernel made), handled as any other, or
      // one that diverges there. The tracer stop is reached next time.
      return dispatch(t, w, false);
    }
    t.pending = w;  // handled when the tracer lets it go: its next event
  }
  const uint64_t ip = t.task->regs().rip;
  if (ip != s.getIp()) diverge(describe_event(ev), "thread " + std::to_string(t.tid) + " at 0x" + fmt_hex(ip));
  consume();
  return std::nullopt;
}

void ReplaySession::apply_tracer_resume(RTask& t, schema::Event::Reader ev) {
  auto r = ev.getTracerResume();
  if (t.running) diverge(describe_event(ev), "thread " + std::to_string(t.tid) + " running");
  if (const uint32_t changed = r.getChangedRegs()) {
    constexpr size_t kFields = sizeof(user_regs_struct) / 8;
    user_regs_struct live = t.task->regs();
    const user_regs_struct rec = trace::regs_from_schema(ev.getRegs());
    uint64_t to[kFields], from[kFields];
    std::memcpy(to, &live, sizeof to);
    std::memcpy(from, &rec, sizeof from);
    for (size_t i = 0; i < kFields; ++i) {
      if (changed & (1u << i)) to[i] = from[i];
    }
    std::memcpy(&live, to, sizeof live);
    t.task->set_regs(live);
  }
  if (r.getXstate().size() != 0) {
    auto x = r.getXstate();
    std::string buf(reinterpret_cast<const char*>(x.begin()), x.size());
    struct iovec iov {buf.data(), buf.size()};
    if (::ptrace(PTRACE_SETREGSET, t.task->tid(), NT_X86_XSTATE, &iov) != 0) {
      diverge(describe_event(ev), std::string("PTRACE_SETREGSET NT_X86_XSTATE failed: ") + std::strerror(errno));
    }
  }
  if (r.getHasSigmask()) {
    uint64_t mask = r.getSigmask();
    if (::ptrace(static_cast<__ptrace_request>(kSetSigmask), t.task->tid(), 8, &mask) != 0) {
      diverge(describe_event(ev), std::string("PTRACE_SETSIGMASK failed: ") + std::strerror(errno));
    }
  }
  if (r.getSignalStop()) {
    if (!t.pending || t.pending->kind != WaitStatus::Kind::SignalStop) {
      diverge(describe_event(ev), "thread " + std::to_string(t.tid) + " not at a signal-delivery stop");
    }
    if (r.getSig() == 0) {
      // Suppressed: the task leaves its delivery stop without it when its
      // next event resumes it.
      t.pending.reset();
    } else {
      t.pending->sig = r.getSig();  // the Signal event that follows delivers it
    }
  }
  consume();
}

}  // namespace rrx::replay
