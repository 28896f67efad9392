// Replaying a preemption event: the recorder interrupted a thread in user
// code and recorded its instruction address and registers (no counters);
// the replay runs the thread until it is there with the same registers. A
// hot loop passes the address many times: a PreemptStub makes each pass
// cost nanoseconds (branches into its patch that come again are routed);
// where the site cannot take one, a debug-register
// breakpoint stops at every pass (the old way, ~20 µs a pass), or an int3
// where the debug registers do not fire (core/debug_regs_probe.h).
#include <signal.h>
#include <sys/syscall.h>
#include <sys/user.h>

#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <utility>
#include <variant>

#include "core/debug_regs_probe.h"
#include "replay/event_text.h"
#include "replay/replay_session.h"
#include "replay/skip_strategy.h"
#include "trace_format/regs_codec.h"

namespace rrx::replay {

namespace {
// Branches into the patched bytes tolerated in one run to a preemption
// point (each costs a trap and a few single-steps, about one slow pass).
constexpr uint64_t kMaxJumpsIn = 20000;
// Starts inside the patch that a stub routes at most.
constexpr size_t kMaxRoutes = 4;
}  // namespace

bool ReplaySession::at_preemption_point(RTask& t, schema::Event::Reader ev) {
  if (!same_position_regs(t.task->regs(), trace::regs_from_schema(ev.getRegs()))) return false;
  drop_preempt_stub(true);
  consume();
  t.next_resume = NextResume::Normal;
  return true;
}

void ReplaySession::drop_preempt_stub(bool unmap) {
  if (!preempt_stub_) return;
  std::unique_ptr<PreemptStub> stub = std::move(preempt_stub_);
  try {
    stub->remove(unmap && has_task(preempt_stub_tid_));
  } catch (const Error&) {
    // The process is dying: its memory goes with it.
  }
}

std::optional<WaitStatus> ReplaySession::run_to_preemption(RTask& t, schema::Event::Reader ev) {
  const user_regs_struct want = trace::regs_from_schema(ev.getRegs());
  const uint64_t ip = ev.getPreemption().getIp();
  const uint64_t n = next_number_;
  int sig = std::exchange(t.deliver_on_resume, 0);
  at_interval_start_ = false;
  if (preempt_stub_ && (preempt_stub_event_ != n || preempt_stub_tid_ != t.tid)) drop_preempt_stub(true);

  // A signal to deliver first runs its handler, which may pass the point:
  // the injected mmap would have to come before it, at a stop that can no
  // longer deliver it. Rare: the slow way.
  if (preempt_stub_off_ || preempt_slow_event_ == n || sig != 0) return run_to_preemption_slowly(t, ev, sig);
  // Branches into the patched bytes: a start they reach more than once is
  // routed by the next stub (its own jmp, no trap); the others trap, a few
  // single-steps take the thread past the patch. A loop whose branches
  // still trap at every pass is left to the slow way.
  if (preempt_routes_event_ != n) {
    preempt_routes_event_ = n;
    preempt_routes_.clear();
    preempt_jumped_in_.clear();
    preempt_routes_refused_ = false;
  }
  for (uint64_t jumped_in = 0;; ++jumped_in) {
    if (jumped_in == kMaxJumpsIn) {
      if (debug_log_) std::fprintf(stderr, "rrx-debug: event %llu: branches into the preemption patch at 0x%llx\n",
                                   static_cast<unsigned long long>(n), static_cast<unsigned long long>(ip));
      drop_preempt_stub(true);
      preempt_slow_event_ = n;
      return run_to_preemption_slowly(t, ev, 0);
    }
    if (!preempt_stub_) {
      const int tid = t.tid;
      auto inject_fn = [this, tid, ip](long nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
                                       uint64_t a5) { return inject(rtask(tid), ip, nr, {a0, a1, a2, a3, a4, a5}); };
      auto made = PreemptStub::install(*t.task, t.task->tid(), ip, want, t.task->regs(), inject_fn,
                                       PreemptStub::Condition{}, preempt_routes_);
      if (std::holds_alternative<std::string>(made) && !preempt_routes_.empty()) {
        if (debug_log_) std::fprintf(stderr, "rrx-debug: event %llu: branches into the patch not routed: %s\n",
                                     static_cast<unsigned long long>(n), std::get<std::string>(made).c_str());
        preempt_routes_.clear();
        preempt_routes_refused_ = true;
        made = PreemptStub::install(*t.task, t.task->tid(), ip, want, t.task->regs(), inject_fn);
      }
      if (auto* why = std::get_if<std::string>(&made)) {
        if (debug_log_) std::fprintf(stderr, "rrx-debug: event %llu: no preemption stub: %s\n",
                                     static_cast<unsigned long long>(n), why->c_str());
        preempt_slow_event_ = n;
        return run_to_preemption_slowly(t, ev, 0);
      }
      preempt_stub_ = std::move(std::get<std::unique_ptr<PreemptStub>>(made));
      preempt_stub_event_ = n;
      preempt_stub_tid_ = t.tid;
    }
    // The thread may stand inside the bytes the patch covers (its last
    // preemption was there, or it branched there): single-steps take it out.
    for (int i = 0; i < 64; ++i) {
      uint64_t pc = t.task->regs().rip;
      if (pc <= ip || pc >= preempt_stub_->patched_end()) break;
      skipper_->resume(*t.task, true, 0);
      t.running = true;
      WaitStatus w = take_stop(t);
      if (w.kind != WaitStatus::Kind::SignalStop || w.sig != SIGTRAP) return w;
      if (same_position_regs(t.task->regs(), want)) {
        drop_preempt_stub(true);
        consume();
        t.next_resume = NextResume::Normal;
        return std::nullopt;
      }
    }
    preempt_stub_->arm();

    skipper_->resume(*t.task, false, 0);
    t.running = true;
    WaitStatus w = take_stop(t);
    if (w.kind == WaitStatus::Kind::Exited || w.kind == WaitStatus::Kind::Killed) {
      drop_preempt_stub(false);
      return w;
    }
    PreemptStub::Hit hit = preempt_stub_->settle_stop(*t.task, w);
    if (hit == PreemptStub::Hit::JumpedIn) {
      // The second branch to the same start: route it (a stub made again).
      const uint64_t at = t.task->regs().rip;
      if (!preempt_routes_refused_ && preempt_routes_.size() < kMaxRoutes &&
          preempt_jumped_in_.count(at) != 0 &&
          std::find(preempt_routes_.begin(), preempt_routes_.end(), at) == preempt_routes_.end()) {
        preempt_routes_.push_back(at);
        drop_preempt_stub(true);
      }
      preempt_jumped_in_.insert(at);
      continue;
    }
    if (hit == PreemptStub::Hit::Matched) {
      if (!same_position_regs(t.task->regs(), want)) {
        diverge(describe_event(ev), "the preemption stub stopped at other registers");
      }
      drop_preempt_stub(true);  // at our own SIGTRAP: nothing to deliver
      consume();
      t.next_resume = NextResume::Normal;
      return std::nullopt;
    }
    // Another stop on the way (gdb's breakpoint or watchpoint, an
    // interrupt, a signal): reported with the program's registers and
    // bytes; the stub page stays until the event is consumed or a
    // checkpoint is taken.
    return w;
  }
}

// One stop per pass: an execution breakpoint in debug register 3 stops the
// task before the instruction at ip each time it gets there; the kernel sets
// RF so that a resume executes it instead of trapping again.
std::optional<WaitStatus> ReplaySession::run_to_preemption_slowly(RTask& t, schema::Event::Reader ev, int sig) {
  if (!debug_registers_fire()) return run_to_preemption_by_int3(t, ev, sig);
  const user_regs_struct want = trace::regs_from_schema(ev.getRegs());
  const uint64_t ip = ev.getPreemption().getIp();
  auto dr = [](int i) { return offsetof(struct user, u_debugreg) + static_cast<size_t>(i) * 8; };
  uint64_t saved_dr3 = t.task->peek_user(dr(3));
  uint64_t saved_dr7 = t.task->peek_user(dr(7));
  t.task->poke_user(dr(3), ip);
  t.task->poke_user(dr(7), (saved_dr7 & ~(0xfull << 28)) | (1ull << 6));
  auto restore = [&]() {
    try {
      t.task->poke_user(dr(7), saved_dr7);
      t.task->poke_user(dr(3), saved_dr3);
      // DR6 keeps what gdb's breakpoints and watchpoints reported.
      t.task->poke_user(dr(6), t.task->peek_user(dr(6)) & ~uint64_t{1 << 3});
    } catch (const Error&) {
    }
  };
  for (;;) {
    skipper_->resume(*t.task, false, sig);
    sig = 0;
    t.running = true;
    WaitStatus w = take_stop(t);
    if (w.kind == WaitStatus::Kind::Exited || w.kind == WaitStatus::Kind::Killed) return w;
    if (w.kind == WaitStatus::Kind::SignalStop && w.sig == SIGTRAP && t.task->regs().rip == ip &&
        (t.task->peek_user(dr(6)) & (1 << 3))) {
      t.task->poke_user(dr(6), t.task->peek_user(dr(6)) & ~uint64_t{1 << 3});
      if (same_position_regs(t.task->regs(), want)) {
        restore();
        consume();
        t.next_resume = NextResume::Normal;
        return std::nullopt;
      }
      continue;
    }
    restore();
    return w;
  }
}

// One stop per pass without debug registers: an int3 at ip traps each time
// the thread gets there. The registers are compared with the pc put back on
// ip; at another pass the original instruction is single-stepped and the
// int3 goes in again. An int3 that is already there (gdb's breakpoint)
// stays: a pass that is not the point is then gdb's stop, as it is after
// the debug-register breakpoint's. The int3 is out again whenever the
// thread stops for anything else (nothing else sees it: only this thread
// runs meanwhile).
std::optional<WaitStatus> ReplaySession::run_to_preemption_by_int3(RTask& t, schema::Event::Reader ev, int sig) {
  const user_regs_struct want = trace::regs_from_schema(ev.getRegs());
  const uint64_t ip = ev.getPreemption().getIp();
  constexpr uint8_t kInt3 = 0xcc;
  uint8_t orig = 0;
  if (!t.task->read_exact(ip, &orig, 1)) diverge(describe_event(ev), "the preemption point is not mapped");
  const bool ours = orig != kInt3;
  bool in = false;
  auto put = [&](bool on) {
    if (!ours || in == on) return;
    if (!t.task->write_mem(ip, on ? &kInt3 : &orig, 1)) {
      diverge(describe_event(ev), "cannot write an int3 at the preemption point");
    }
    in = on;
  };
  size_t insn_len = 0;
  // A syscall instruction at the point is not stepped over (a step would run
  // it untraced): the thread runs on to its stop.
  const bool syscall_at = special_instruction_at(*t.task, ip, &insn_len) == SpecialInsn::Syscall;
  auto take = [&](WaitStatus w) {
    try {
      put(false);
    } catch (const Error&) {
      // The process is dying: its memory goes with it.
    }
    return w;
  };
  for (bool armed = true;;) {
    if (armed) put(true);
    skipper_->resume(*t.task, false, sig);
    sig = 0;
    t.running = true;
    WaitStatus w = take_stop(t);
    if (w.kind == WaitStatus::Kind::Exited || w.kind == WaitStatus::Kind::Killed) return w;
    if (!(w.kind == WaitStatus::Kind::SignalStop && w.sig == SIGTRAP && armed)) return take(w);
    user_regs_struct r = t.task->regs();
    if (r.rip != ip + 1) return take(w);
    siginfo_t si{};
    try {
      si = t.task->siginfo();
    } catch (const Error&) {
      return take(w);
    }
    if (si.si_code != SI_KERNEL) return take(w);  // a trap of another kind
    r.rip = ip;
    if (same_position_regs(r, want)) {
      put(false);
      t.task->set_regs(r);
      consume();
      t.next_resume = NextResume::Normal;
      return std::nullopt;
    }
    if (!ours) return w;  // gdb's breakpoint, not the point: its stop (pc after the int3, as it trapped)
    put(false);
    t.task->set_regs(r);
    if (syscall_at) {
      armed = false;  // on to the syscall's stop
      continue;
    }
    skipper_->resume(*t.task, true, 0);
    t.running = true;
    WaitStatus s = take_stop(t);
    if (s.kind == WaitStatus::Kind::Exited || s.kind == WaitStatus::Kind::Killed) return s;
    if (s.kind != WaitStatus::Kind::SignalStop || s.sig != SIGTRAP) return s;
    // (The step's own SIGTRAP: nothing to deliver.)
  }
}

}  // namespace rrx::replay
