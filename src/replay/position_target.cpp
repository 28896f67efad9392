// Finding a position again without a stop per pass: the Timeline's marks
// (reverse execution, goto) are a pass of an address with given registers;
// a breakpoint there stops at every pass of a hot loop (~20 µs each). The
// session puts a PreemptStub at the address instead, which traps only at
// the wanted registers (or at a counted pass). See set_position_target in
// replay_session.h.
#include <signal.h>
#include <sys/user.h>

#include <cstring>
#include <utility>

#include "replay/replay_session.h"
#include "replay/skip_strategy.h"

namespace rrx::replay {


bool ReplaySession::set_position_target(const PositionTarget& p, std::string* why_not) {
  clear_position_target();
  auto refuse = [&](const std::string& why) {
    if (why_not) *why_not = why;
    return false;
  };
  if (preempt_stub_off_) return refuse("RRX_PREEMPT_STUB=0");
  if (!has_task(p.tid)) return refuse("no thread " + std::to_string(p.tid));
  RTask& t = rtask(p.tid);
  if (t.running || t.pending || t.exiting || t.sigkilled || next_number_ != p.interval) {
    return refuse("the thread is not stopped in that interval");
  }
  const int tid = p.tid;
  const uint64_t ip = p.regs.rip;
  auto inject_fn = [this, tid, ip](long nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
                                   uint64_t a5) { return inject(rtask(tid), ip, nr, {a0, a1, a2, a3, a4, a5}); };
  PreemptStub::Condition c;
  c.compare = p.trap_at_pass == 0;
  c.count = p.count || p.trap_at_pass != 0;
  c.trap_at_pass = p.trap_at_pass;
  auto made = PreemptStub::install(*t.task, t.task->tid(), ip, p.regs, t.task->regs(), inject_fn, c);
  if (auto* why = std::get_if<std::string>(&made)) return refuse(*why);
  position_stub_ = std::move(std::get<std::unique_ptr<PreemptStub>>(made));
  position_ = p;
  position_reached_ = false;
  position_pass_offset_ = 0;
  return true;
}

void ReplaySession::clear_position_target() {
  position_reached_ = false;
  if (!position_stub_) return;
  std::unique_ptr<PreemptStub> stub = std::move(position_stub_);
  try {
    stub->remove(has_task(position_.tid));
  } catch (const Error&) {
    // The process is dying: its memory goes with it.
  }
  stub->abandon();
}

uint64_t ReplaySession::position_passes() const {
  if (!position_stub_) return 0;
  try {
    return position_stub_->passes() + position_pass_offset_;
  } catch (const Error&) {
    return 0;
  }
}

bool ReplaySession::position_applies(const RTask& t) const {
  return position_stub_ && !position_reached_ && t.tid == position_.tid && next_number_ == position_.interval;
}

std::optional<WaitStatus> ReplaySession::position_step_out(RTask& t) {
  for (int i = 0; i < 64; ++i) {
    uint64_t pc = t.task->regs().rip;
    if (pc <= position_stub_->site() || pc >= position_stub_->patched_end()) return std::nullopt;
    skipper_->resume(*t.task, true, 0);
    t.running = true;
    WaitStatus w = take_stop(t);
    if (w.kind != WaitStatus::Kind::SignalStop || w.sig != SIGTRAP) return w;
    // (A step onto the site ends the loop: the stub counts and tests that pass.)
  }
  return std::nullopt;
}

void ReplaySession::position_arm(RTask&) { position_stub_->arm(); }

PreemptStub::Hit ReplaySession::position_after_stop(RTask& t, const WaitStatus& w) {
  if (!position_stub_ || !position_stub_->armed()) return PreemptStub::Hit::None;
  if (w.kind == WaitStatus::Kind::Exited || w.kind == WaitStatus::Kind::Killed) {
    position_stub_->abandon();
    position_stub_.reset();
    return PreemptStub::Hit::None;
  }
  try {
    PreemptStub::Hit hit = position_stub_->settle_stop(*t.task, w);
    return hit;
  } catch (const Error&) {
    // Gone while stopped (a sibling's exit_group): its death comes next.
    position_stub_->abandon();
    position_stub_.reset();
    return PreemptStub::Hit::None;
  }
}

ReplaySession::Stop ReplaySession::position_stop(RTask& t) {
  position_reached_ = true;
  current_tid_ = t.tid;
  Stop s;
  s.kind = StopKind::PositionReached;
  s.tid = t.tid;
  return s;
}

}  // namespace rrx::replay
