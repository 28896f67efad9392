#include "replay/timeline.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <sstream>

namespace rrx::replay {

namespace {

constexpr uint64_t kMaxSteps = 5'000'000;  // single-steps one reverse-step may take
constexpr size_t kRecentIntervals = 8;
// Automatic checkpoints are spread logarithmically within this many
// intervals (CheckpointPolicy::interval_seconds) of replay from the current
// position, evenly beyond.
constexpr double kNearIntervals = 16;
// Bytes after a mark's address that a position stub may patch (5 for the
// jmp, up to the end of the instruction it splits): gdb's int3 there sends
// the search the slow way.
constexpr uint64_t kPatchBytes = 20;

uint64_t env_u64(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  if (!v || !*v) return fallback;
  char* end = nullptr;
  unsigned long long n = std::strtoull(v, &end, 10);
  return end && *end == 0 ? n : fallback;
}

bool debug_timeline() {
  static bool on = std::getenv("RRX_DEBUG_TIMELINE") != nullptr;
  return on;
}

void debug(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void debug(const char* fmt, ...) {
  if (!debug_timeline()) return;
  va_list ap;
  va_start(ap, fmt);
  static const auto t0 = std::chrono::steady_clock::now();
  std::fprintf(stderr, "rrx-timeline: [%.3f] ",
               std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  std::vfprintf(stderr, fmt, ap);
  std::fputc('\n', stderr);
  va_end(ap);
}

bool terminal(ReplaySession::StopKind k) {
  using K = ReplaySession::StopKind;
  return k == K::Exited || k == K::TraceEnd || k == K::EventReached || k == K::ProcessEnding;
}

bool same_mark(const Mark& a, const Mark& b) {
  return a.interval == b.interval && a.tid == b.tid && a.process_ending == b.process_ending &&
         a.syscall_entry == b.syscall_entry && same_position_regs(a.regs, b.regs);
}

}  // namespace

double env_seconds(const char* name, double fallback) {
  const char* v = std::getenv(name);
  if (!v || !*v) return fallback;
  char* end = nullptr;
  double d = std::strtod(v, &end);
  return end && *end == 0 && d >= 0 ? d : fallback;
}

CheckpointPolicy CheckpointPolicy::from_environment() {
  CheckpointPolicy p;
  p.interval_seconds = env_seconds("RRX_CHECKPOINT_SECONDS", p.interval_seconds);
  p.interval_events = env_u64("RRX_CHECKPOINT_INTERVAL", p.interval_events);
  p.max_automatic = env_u64("RRX_CHECKPOINT_MAX", p.max_automatic);
  p.max_memory = env_u64("RRX_CHECKPOINT_MEMORY_MB", p.max_memory >> 20) << 20;
  return p;
}

Timeline::Timeline(ReplaySession& session, Breakpoints& breakpoints, CheckpointPolicy policy)
    : session_(session), bps_(breakpoints), policy_(policy) {}

Timeline::~Timeline() = default;

bool Timeline::on_start(std::string& why) {
  automatic_.clear();
  recent_.clear();
  user_.clear();
  cache_.valid = false;
  cost_at_.clear();
  start_ = session_.checkpoint(&why);
  if (!start_) return false;
  cost_at_[start_->event()] = 0;
  anchor_ = Anchor{start_->event(), session_.replay_seconds(), 0};
  return true;
}

double Timeline::cost_here() const { return anchor_.cost + (session_.replay_seconds() - anchor_.busy); }

void Timeline::anchor_at(uint64_t event) {
  double cost;
  auto known = cost_at_.find(event);
  if (known != cost_at_.end()) {
    cost = known->second;
  } else if (event >= anchor_.event) {
    cost = cost_here();
  } else {
    // (Every checkpoint gets a cost when taken; the nearest one before is a floor.)
    auto it = cost_at_.upper_bound(event);
    cost = it == cost_at_.begin() ? 0 : std::prev(it)->second;
  }
  cost_at_.emplace(event, cost);
  anchor_ = Anchor{event, session_.replay_seconds(), cost};
}

void Timeline::on_interval_start() {
  if (!start_) return;
  // Not while a software watchpoint single-steps the thread: its interval
  // starts fall inside the preload library's buffered calls (each replayed
  // with a stop), where a copy replayed on stop-free would not match them.
  if (bps_.single_steps(session_.current_tid())) return;
  uint64_t e = session_.next_event();
  bool at_checkpoint = automatic_.count(e) || recent_.count(e) || start_->event() == e;
  for (const auto& [id, u] : user_) at_checkpoint = at_checkpoint || u.checkpoint->event() == e;
  if (at_checkpoint) {
    anchor_at(e);
    return;
  }
  if (e <= anchor_.event) return;
  bool due = session_.replay_seconds() - anchor_.busy >= policy_.interval_seconds;
  if (!due && policy_.interval_events > 0) {
    // (From the anchor too: a checkpoint thinned away at once is not taken
    // again at the next event.)
    auto it = automatic_.upper_bound(e);
    due = e >= anchor_.event + policy_.interval_events &&
          !(it != automatic_.end() && it->first < e + policy_.interval_events);  // one just after exists
  }
  if (!due || policy_.max_automatic == 0) return;
  double cost = cost_here();
  if (auto cp = session_.checkpoint()) {
    cost_at_[e] = cost;
    anchor_ = Anchor{e, session_.replay_seconds(), cost};
    add_automatic(std::move(cp));
  }
}

void Timeline::add_automatic(std::shared_ptr<Checkpoint> cp) {
  automatic_[cp->event()] = std::move(cp);
  enforce_limits();
}

void Timeline::thin_one() {
  if (automatic_.size() <= 1) {
    automatic_.clear();
    return;
  }
  auto cost_of = [&](uint64_t e) {
    auto it = cost_at_.find(e);
    return it == cost_at_.end() ? 0.0 : it->second;
  };
  double here = cost_here();
  double floor = std::max(policy_.interval_seconds, 1e-3);
  // Distances beyond `near` count as `near`: the spread is logarithmic near
  // the current position and even beyond, so that no gap anywhere grows
  // with the length of the recording faster than the count allows.
  double near = floor * kNearIntervals;
  std::vector<std::pair<uint64_t, double>> cps;
  for (const auto& [e, cp] : automatic_) cps.emplace_back(e, cost_of(e));
  auto victim = automatic_.end();
  double best = 0;
  for (size_t i = 0; i < cps.size(); ++i) {
    double left = i == 0 ? 0.0 : cps[i - 1].second;
    double right = i + 1 < cps.size() ? cps[i + 1].second : std::max(here, cps[i].second);
    double score = std::max(0.0, right - left) / std::clamp(std::abs(here - cps[i].second), floor, near);
    if (victim == automatic_.end() || score < best) {
      best = score;
      victim = automatic_.find(cps[i].first);
    }
  }
  debug("thin: drop the checkpoint at event %llu (cost %.3f s; here %.3f s)", static_cast<unsigned long long>(victim->first),
        cost_of(victim->first), here);
  automatic_.erase(victim);
}

void Timeline::enforce_limits() {
  while (automatic_.size() > policy_.max_automatic) thin_one();
  uint64_t total = memory_bytes();
  if (total <= policy_.max_memory) return;
  // Copy-on-write: the older copies own more pages as the program goes on.
  for (auto& [e, cp] : automatic_) cp->measure();
  for (auto& [e, cp] : recent_) cp->measure();
  while (memory_bytes() > policy_.max_memory && (!recent_.empty() || !automatic_.empty())) {
    if (!recent_.empty()) recent_.erase(recent_.begin());
    else thin_one();
  }
}

uint64_t Timeline::memory_bytes() const {
  uint64_t total = start_ ? start_->memory_bytes() : 0;
  for (const auto& [e, cp] : automatic_) total += cp->memory_bytes();
  for (const auto& [e, cp] : recent_) total += cp->memory_bytes();
  for (const auto& [id, u] : user_) total += u.checkpoint->memory_bytes();
  return total;
}

Mark Timeline::mark_here(const ReplaySession::Stop& stop) {
  Mark m;
  m.tid = stop.tid > 0 && session_.has_task(stop.tid) ? stop.tid : session_.current_tid();
  m.interval = session_.next_event();
  // A recorded signal is consumed when the task stops with it, before the
  // faulting instruction runs: the position lies in that event's interval.
  if (stop.kind == ReplaySession::StopKind::Signal && m.interval > 0) --m.interval;
  m.process_ending = stop.kind == ReplaySession::StopKind::ProcessEnding;
  m.syscall_entry = stop.kind == ReplaySession::StopKind::SyscallEntry;
  if (session_.alive() && session_.has_task(m.tid)) m.regs = session_.task(m.tid).regs();
  return m;
}

bool Timeline::is_at(const Mark& m, const ReplaySession::Stop* stop) {
  if (m.process_ending) {
    return stop && stop->kind == ReplaySession::StopKind::ProcessEnding && stop->tid == m.tid;
  }
  if (m.syscall_entry) {
    return stop && stop->kind == ReplaySession::StopKind::SyscallEntry && stop->tid == m.tid &&
           session_.next_event() == m.interval;
  }
  if (!session_.alive() || !session_.has_task(m.tid) || session_.next_event() != m.interval) return false;
  return same_position_regs(session_.task(m.tid).regs(), m.regs);
}

// Runs on from a stop, first stepping over the int3 the last stop was at.
ReplaySession::Stop Timeline::forward() {
  if (step_over_tid_ != 0 && session_.has_task(step_over_tid_)) {
    int tid = step_over_tid_;
    step_over_tid_ = 0;
    if (bps_.has_int3_at(session_.pid_of(tid), session_.task(tid).regs().rip)) {
      ReplaySession::Stop s = checked(bps_.step_over(tid));
      if (s.kind != ReplaySession::StopKind::Stepped) return s;
    }
  }
  step_over_tid_ = 0;
  ReplaySession::Stop s = checked(bps_.cont());
  if (s.kind == ReplaySession::StopKind::Trap) step_over_tid_ = s.tid;
  return s;
}

ReplaySession::Stop Timeline::checked(const ReplaySession::Stop& s) {
  if (s.kind == ReplaySession::StopKind::Interrupted && interruptible_) {
    debug("interrupted at event %llu", static_cast<unsigned long long>(session_.next_event()));
    throw SearchInterrupted{s};
  }
  return s;
}

Timeline::Result Timeline::interrupted(const ReplaySession::Stop& stop) {
  Result r;
  r.interrupted = true;
  r.moved = true;
  r.at = mark_here(stop);
  return r;
}

std::shared_ptr<Checkpoint> Timeline::latest_checkpoint_until(uint64_t event, bool strictly_before) const {
  std::shared_ptr<Checkpoint> best = start_;
  auto consider = [&](const std::map<uint64_t, std::shared_ptr<Checkpoint>>& m) {
    for (const auto& [e, cp] : m) {
      bool ok = strictly_before ? e < event : e <= event;
      if (ok && (!best || e > best->event())) best = cp;
    }
  };
  consider(automatic_);
  consider(recent_);
  if (best && (strictly_before ? best->event() >= event : best->event() > event)) return nullptr;
  return best;
}

void Timeline::restore(const std::shared_ptr<Checkpoint>& cp) {
  debug("restore checkpoint at event %llu", static_cast<unsigned long long>(cp->event()));
  session_.restore(*cp);
  last_restored_ = std::make_pair(cp->event(), cp->thread_count());
  anchor_at(cp->event());
  step_over_tid_ = 0;
  bps_.after_restore();
}

// To the start of interval `event`, with gdb's breakpoints out of the way.
bool Timeline::goto_interval(uint64_t event) {
  bps_.clear_internal();
  bps_.set_user_enabled(false);
  if (session_.alive() && session_.next_event() == event && session_.at_interval_start()) return true;
  std::shared_ptr<Checkpoint> cp = latest_checkpoint_until(event, false);
  if (!cp) return false;
  bool from_here = session_.alive() && session_.next_event() < event && cp->event() <= session_.next_event();
  if (!from_here) restore(cp);
  if (session_.next_event() < event) {
    session_.set_stop_at_event(event);
    ReplaySession::Stop s;
    do {
      s = forward();
    } while (!terminal(s.kind));
    session_.set_stop_at_event(std::nullopt);
    if (s.kind != ReplaySession::StopKind::EventReached) return false;
  }
  remember_interval_start(event);
  return session_.next_event() == event;
}

void Timeline::remember_interval_start(uint64_t event) {
  if (automatic_.count(event) || recent_.count(event) || (start_ && start_->event() == event)) return;
  if (!session_.at_interval_start()) return;
  if (auto cp = session_.checkpoint()) {
    anchor_at(event);
    recent_[event] = std::move(cp);
    while (recent_.size() > kRecentIntervals) {
      // Keep the latest ones: reverse execution walks backwards from there.
      recent_.erase(recent_.begin());
    }
  }
}

bool Timeline::seek(const Mark& m) {
  debug("seek event %llu tid %d pc 0x%llx", static_cast<unsigned long long>(m.interval), m.tid,
        static_cast<unsigned long long>(m.regs.rip));
  if (!goto_interval(m.interval)) return false;
  if (is_at(m, nullptr)) return true;
  bool found = false;
  if (m.syscall_entry) bps_.catch_internal_entry(m.tid);
  uint64_t addr = m.process_ending || m.syscall_entry || aim(m) ? 0 : m.regs.rip;
  run_watching(m.tid, addr, m.interval + 1,
               [&](const ReplaySession::Stop& s, const Breakpoints::Hit&) { return found = is_at(m, &s); });
  return found;
}

void Timeline::run_watching(int tid, uint64_t addr, uint64_t last_event, const StopVisitor& visit) {
  if (addr != 0 && session_.has_task(tid)) bps_.add_internal(session_.pid_of(tid), addr);
  session_.set_stop_at_event(last_event);
  for (;;) {
    ReplaySession::Stop s = forward();
    Breakpoints::Hit hit;
    if (s.kind == ReplaySession::StopKind::Trap) {
      hit = bps_.classify_trap(s.tid);
    } else if (s.kind == ReplaySession::StopKind::MemoryWatch) {
      hit = bps_.classify_kernel_write(session_.has_task(s.tid) ? session_.pid_of(s.tid) : 0, s.watch_addr,
                                       s.watch_len);
    } else if (s.kind == ReplaySession::StopKind::SyscallEntry || s.kind == ReplaySession::StopKind::SyscallExit) {
      hit = bps_.classify_syscall(s);
    } else if (s.kind == ReplaySession::StopKind::Stepped) {
      hit = bps_.classify_step(s.tid);  // a software watchpoint (Breakpoints::cont)
    }
    if (visit(s, hit) || terminal(s.kind)) break;
  }
  session_.set_stop_at_event(std::nullopt);
  bps_.clear_internal();
  if (session_.has_position_target()) session_.clear_position_target();
}

// From the start of at.interval, where the replay stands, to the pass of
// at's address before `at`, with the position stub: it counts the passes of
// the address up to `at` (K), then, from the start of the interval again,
// traps at pass K-1. True: the replay stands there, or at the start of the
// interval again when `at` is the first pass (K = 1). False: the stub cannot
// tell (a site it cannot patch; `at` not found); the replay stands anywhere.
bool Timeline::to_pass_before(const Mark& at) {
  if (!aim(at, 0, true)) return false;
  uint64_t passes = 0;
  run_watching(at.tid, 0, at.interval + 1, [&](const ReplaySession::Stop& s, const Breakpoints::Hit&) {
    if (s.kind != ReplaySession::StopKind::PositionReached) return false;
    passes = session_.position_passes();
    return true;
  });
  debug("previous: %llu pass(es) of pc 0x%llx up to the mark", static_cast<unsigned long long>(passes),
        static_cast<unsigned long long>(at.regs.rip));
  if (passes == 0 || !goto_interval(at.interval)) return false;
  if (passes == 1) return true;
  if (!aim(at, passes - 1)) return false;
  bool reached = false;
  run_watching(at.tid, 0, at.interval + 1, [&](const ReplaySession::Stop& s, const Breakpoints::Hit&) {
    return reached = s.kind == ReplaySession::StopKind::PositionReached;
  });
  return reached;
}

// Has the session find `m` (in the interval the replay stands in, before
// m.tid ran there) with its position target, a stub at m's address that
// traps only there, instead of rrx's int3 stopping at every pass of that
// address (a hot loop: ~20 µs a pass). `trap_at_pass`: that pass of the
// address instead of m's registers; `count`: count the passes on the way.
// False: the slow way (nothing set).
bool Timeline::aim(const Mark& m, uint64_t trap_at_pass, bool count) {
  if (m.process_ending || m.syscall_entry || !session_.alive() || !session_.has_task(m.tid) ||
      session_.next_event() != m.interval) {
    return false;
  }
  // A thread single-stepped for a software watchpoint does not run into the
  // stub (ReplaySession::single_step_hook): rrx's int3 finds m.
  if (bps_.single_steps(m.tid)) return false;
  const int pid = session_.pid_of(m.tid);
  for (uint64_t a = m.regs.rip; a < m.regs.rip + kPatchBytes; ++a) {
    if (bps_.has_int3_at(pid, a)) return false;
  }
  ReplaySession::PositionTarget p;
  p.tid = m.tid;
  p.interval = m.interval;
  p.regs = m.regs;
  p.count = count;
  p.trap_at_pass = trap_at_pass;
  std::string why;
  if (!session_.set_position_target(p, &why)) {
    debug("no position stub at pc 0x%llx: %s", static_cast<unsigned long long>(m.regs.rip), why.c_str());
    return false;
  }
  return true;
}

// Replays from `from` to `end` (or to the start of interval end_event) with
// gdb's breakpoints in, and returns every hit on the way.
std::vector<Timeline::HitMark> Timeline::scan(const std::shared_ptr<Checkpoint>& from, uint64_t end_event,
                                              const Mark* end) {
  debug("scan from event %llu to %s %llu", static_cast<unsigned long long>(from->event()), end ? "mark in" : "event",
        static_cast<unsigned long long>(end ? end->interval : end_event));
  restore(from);
  return scan_on(end_event, end);
}

// scan() from wherever the replay stands now.
std::vector<Timeline::HitMark> Timeline::scan_on(uint64_t end_event, const Mark* end) {
  bps_.clear_internal();
  bps_.set_user_enabled(true);
  std::vector<HitMark> hits;
  if (end && is_at(*end, nullptr)) return hits;
  auto visit = [&](const ReplaySession::Stop& s, const Breakpoints::Hit& hit) {
    bool at_end = end && is_at(*end, &s);
    debug("  scan stop kind %d tid %d event %llu at_end %d user hit %d", static_cast<int>(s.kind), s.tid,
          static_cast<unsigned long long>(session_.next_event()), at_end, hit.user());
    // A breakpoint at the current position is where
    // reverse-continue starts, not a hit; a write just before it is.
    if (hit.user() && !(at_end && !hit.watch)) hits.push_back({mark_here(s), hit});
    return at_end;
  };
  uint64_t end_addr = 0;
  if (end && !end->process_ending && !end->syscall_entry) {
    // To the start of the end's interval first, without an int3 of rrx's:
    // the end's address may be passed many times before (a hot loop), and
    // the stretch replays stop-free where the trace allows.
    if (session_.next_event() < end->interval) {
      run_watching(end->tid, 0, end->interval, visit);
      if (!session_.alive() || session_.next_event() != end->interval || is_at(*end, nullptr)) return hits;
    }
    if (!aim(*end)) end_addr = end->regs.rip;
  }
  if (end && end->syscall_entry) bps_.catch_internal_entry(end->tid);
  run_watching(end ? end->tid : 0, end_addr, end ? end->interval + 1 : end_event, visit);
  return hits;
}

void Timeline::begin() {
  if (!moving_) echo_was_ = session_.echo_output();
  moving_ = true;
  session_.set_echo_output(false);
}

void Timeline::finish() {
  if (moving_) session_.set_echo_output(echo_was_);
  moving_ = false;
  bps_.clear_internal();
  bps_.set_user_enabled(true);
  step_over_tid_ = 0;
}

// A reverse search between begin() and finish(), which gdb's interrupt
// ends where it has got to (SearchInterrupted).
Timeline::Result Timeline::interruptible_search(Result (Timeline::*search)(const Mark&), const Mark& from) {
  begin();
  interruptible_ = true;
  Result r;
  try {
    r = (this->*search)(from);
  } catch (const SearchInterrupted& i) {
    r = interrupted(i.stop);
  } catch (...) {
    interruptible_ = false;
    finish();
    throw;
  }
  interruptible_ = false;
  finish();
  return r;
}

Timeline::Result Timeline::reverse_continue(const Mark& from, HistoryStart history) {
  history_ = history;
  return interruptible_search(&Timeline::reverse_continue_search, from);
}

Mark Timeline::history_start() {
  if (history_.event == 0 || !goto_interval(history_.event)) return goto_start();
  ReplaySession::Stop s;
  s.kind = ReplaySession::StopKind::EventReached;
  s.tid = session_.has_task(history_.tid) ? history_.tid : session_.current_tid();
  return mark_here(s);
}

Timeline::Result Timeline::reverse_continue_search(const Mark& from) {
  if (std::optional<HitMark> due = held_hit(from)) {
    cache_.valid = false;
    return go_to_hit(*due);
  }
  Result r;
  std::string set = bps_.describe_user_set();
  std::vector<HitMark> hits;
  uint64_t segment_start = 0;
  uint64_t end_event = from.interval;
  const Mark* end = &from;
  if (cache_.valid && cache_.breakpoint_set == set && same_mark(cache_.returned, from)) {
    // gdb goes on from the hit rrx found last time: the hits before it are known.
    hits = cache_.earlier;
    segment_start = cache_.segment_start;
    end_event = segment_start;
    end = nullptr;
  }
  cache_.valid = false;
  // Hits before the start of gdb's history do not count.
  auto in_history = [&](std::vector<HitMark>& v) {
    std::erase_if(v, [&](const HitMark& h) { return h.mark.interval < history_.event; });
  };
  in_history(hits);
  while (hits.empty() && (end != nullptr || end_event > history_.event)) {
    std::shared_ptr<Checkpoint> cp = latest_checkpoint_until(end_event, end == nullptr);
    if (!cp) break;
    hits = scan(cp, end_event, end);
    in_history(hits);
    segment_start = cp->event();
    if (!hits.empty() || cp == start_ || cp->event() <= history_.event) break;
    end_event = cp->event();
    end = nullptr;
  }
  if (hits.empty()) {
    r.at = history_start();
    r.at_begin = true;
    r.moved = true;
    return r;
  }
  HitMark target = hits.back();
  hits.pop_back();
  r = go_to_hit(target);
  if (r.moved) {
    cache_.valid = true;
    cache_.earlier = std::move(hits);
    cache_.segment_start = segment_start;
    cache_.returned = r.at;
    cache_.breakpoint_set = set;
  }
  return r;
}

Timeline::Result Timeline::go_to_hit(const HitMark& target) {
  Result r;
  Mark at = target.mark;
  if (target.hit.watch) {
    // The watchpoint fired after the write: stop at the instruction (or the
    // syscall) that wrote, where the old value is still there to compare.
    bool at_begin = false;
    if (std::optional<Mark> before = previous(target.mark, at_begin)) at = *before;
  }
  r.moved = seek(at);
  r.at = at;
  r.hit = target.hit;
  return r;
}

// Whether the program stands where a step left it at `m`: gdb's next
// command may be about another thread (`from` is its position) while the
// replay has not moved.
bool Timeline::still_at(const Mark& m, const Mark& from) {
  if (same_mark(m, from)) return true;
  return m.interval == from.interval && !m.syscall_entry && !m.process_ending && is_at(m, nullptr);
}

// A reverse step that cannot move goes back to where it started. With
// held stretches, that is where the last of them ends (`from`, another
// thread's registers there, names the same place less exactly: its seek
// stops where that thread first stands so), and they stay due.
bool Timeline::stay(const Mark& from, std::vector<HeldHits>& chain) {
  bool back = chain.empty() ? seek(from) : seek(chain.back().at);
  held_ = std::move(chain);
  return back;
}

std::optional<Timeline::HitMark> Timeline::held_hit(const Mark& from) {
  std::vector<HeldHits> held = std::move(held_);
  held_.clear();
  if (held.empty() || !still_at(held.back().at, from)) return std::nullopt;
  for (const HeldHits& stretch : held) {  // the latest in time first
    if (!stretch.crossed) continue;
    if (!seek(stretch.at)) return std::nullopt;
    std::vector<HitMark> hits = others_hits_until(stretch.until);
    std::erase_if(hits, [&](const HitMark& h) { return h.mark.interval < history_.event; });
    if (hits.empty()) continue;
    debug("%zu hit(s) held back by a step of thread %d alone: to the last", hits.size(), stretch.until.tid);
    return hits.back();
  }
  return std::nullopt;
}

Timeline::Result Timeline::reverse_step(const Mark& from, HistoryStart history, bool others_held) {
  history_ = history;
  others_held_ = others_held;
  return interruptible_search(&Timeline::reverse_step_search, from);
}

bool Timeline::back_to_hook_entry(Mark& at, uint64_t entry, HistoryStart history) {
  // (As a search: the program's output not shown again, gdb's breakpoints back in at the end.)
  begin();
  bool found = false;
  try {
    found = hook_entry_search(at, entry, history);
  } catch (...) {
    finish();
    throw;
  }
  finish();
  return found;
}

bool Timeline::hook_entry_search(Mark& at, uint64_t entry, HistoryStart history) {
  const Mark from = at;
  if (!session_.has_task(from.tid)) return false;
  // The call's event came before `from`, and the library's own buffered
  // calls for it (the stat before an open) before that: a few intervals
  // back, the first that holds a pass.
  std::optional<Mark> last;
  for (uint64_t k = 1; k <= 8 && !last && from.interval >= k && from.interval - k >= history.event; ++k) {
    if (!goto_interval(from.interval - k)) break;
    // (The hook entry is in the library: while rrx's breakpoint is there,
    // the threads make their buffered calls with a stop each.)
    run_watching(from.tid, entry, from.interval, [&](const ReplaySession::Stop& s, const Breakpoints::Hit&) {
      if (s.kind == ReplaySession::StopKind::Trap && s.tid == from.tid && session_.has_task(from.tid) &&
          session_.task(from.tid).regs().rip == entry) {
        last = mark_here(s);
      }
      return false;
    });
  }
  if (last && seek(*last)) {
    at = *last;
    return true;
  }
  seek(from);
  return false;
}

Timeline::Result Timeline::reverse_step_search(const Mark& from) {
  Result r;
  // Hits held back by an earlier step alone come first when the others run.
  if (!others_held_) {
    if (std::optional<HitMark> due = held_hit(from)) return go_to_hit(*due);
  }
  // A step alone right after steps alone (of this thread or others): the chain of held stretches grows.
  std::vector<HeldHits> chain;
  if (others_held_ && !held_.empty() && still_at(held_.back().at, from)) chain = std::move(held_);
  held_.clear();
  bool crossed_hits = false;
  const int pid = session_.has_task(from.tid) ? session_.pid_of(from.tid) : 0;
  Breakpoints::WatchedBytes after = bps_.watched_bytes(pid);
  bool at_begin = false;
  std::optional<Mark> before = previous(from, at_begin);
  if (before && before->interval < history_.event) {
    before.reset();  // before the start of gdb's history
    at_begin = true;
  }
  if (before && seek(*before)) {
    if (before->interval < from.interval) {
      // The step goes back over other threads' events (see timeline.h).
      std::vector<HitMark> crossed = others_hits_until(from);
      std::erase_if(crossed, [&](const HitMark& h) { return h.mark.interval < history_.event; });
      if (!crossed.empty() && !others_held_) {
        debug("reverse step of thread %d passes %zu hit(s) of other threads: to the last", from.tid,
              crossed.size());
        return go_to_hit(crossed.back());
      }
      if (!seek(*before)) {
        r.moved = stay(from, chain);
        r.at = from;
        return r;
      }
      if (!crossed.empty()) {
        debug("reverse step of thread %d alone passes %zu hit(s) of other threads: held back", from.tid,
              crossed.size());
        crossed_hits = true;
      }
    }
    if (others_held_ && (crossed_hits || !chain.empty())) {
      if (!chain.empty() && chain.back().until.tid == from.tid) {
        chain.back().at = *before;  // the same thread's stretch goes further back
        chain.back().crossed = chain.back().crossed || crossed_hits;
      } else {
        chain.push_back(HeldHits{*before, from, crossed_hits});
      }
      held_ = std::move(chain);
    }
    r.moved = true;
    r.at = *before;
    // Stepped back over a write to a watched location: gdb reports it (old
    // value: the later one), as reverse-continue does.
    r.hit = bps_.watch_changed_since(pid, after);
  } else if (at_begin) {
    r.at_begin = true;
    r.moved = stay(from, chain);
    r.at = from;
  } else {
    r.moved = stay(from, chain);
    r.at = from;
  }
  return r;
}

// From here (one step of end.tid before `end`, or a stretch that end.tid
// spent in a syscall) to `end`, the hits of gdb's breakpoints and
// watchpoints by threads other than end.tid. (end.tid's own are those of
// its step, which reverse_step_search reports as a forward step would.)
std::vector<Timeline::HitMark> Timeline::others_hits_until(const Mark& end) {
  std::vector<HitMark> hits = scan_on(end.interval + 1, &end);
  std::erase_if(hits, [&](const HitMark& h) { return h.mark.tid == end.tid; });
  return hits;
}

// The position of m.tid one instruction before m.
std::optional<Mark> Timeline::previous(const Mark& m, bool& at_begin) {
  at_begin = false;
  int tid = m.tid;
  if (!goto_interval(m.interval)) return std::nullopt;
  if (m.syscall_entry) {
    // Before a syscall's entry: its syscall instruction, the last pass of
    // that address in the interval.
    const uint64_t insn = m.regs.rip - 2;
    std::optional<Mark> at_insn;
    bps_.catch_internal_entry(tid);
    run_watching(tid, insn, m.interval + 1, [&](const ReplaySession::Stop& s, const Breakpoints::Hit&) {
      if (is_at(m, &s)) return true;
      if (s.kind == ReplaySession::StopKind::Trap && s.tid == tid && session_.has_task(tid) &&
          session_.task(tid).regs().rip == insn) {
        at_insn = mark_here(s);
      }
      return false;
    });
    return at_insn;
  }
  if (!is_at(m, nullptr) && session_.has_task(tid) && !session_.in_syscall(tid)) {
    // The last pass of m's address before m, if any, is a closer place to
    // single-step from than the start of the interval.
    bool there = !m.process_ending && to_pass_before(m);
    if (!there && !m.process_ending) {
      // The slow way: rrx's int3 at the address, a stop at every pass.
      std::optional<Mark> last_pass;
      if (!goto_interval(m.interval)) return std::nullopt;
      run_watching(m.tid, m.regs.rip, m.interval + 1, [&](const ReplaySession::Stop& s, const Breakpoints::Hit&) {
        if (is_at(m, &s)) return true;
        if (s.kind == ReplaySession::StopKind::Trap && s.tid == tid && session_.has_task(tid) &&
            session_.task(tid).regs().rip == m.regs.rip) {
          last_pass = mark_here(s);
        }
        return false;
      });
      there = last_pass ? seek(*last_pass) : goto_interval(m.interval);
    } else if (!there) {
      there = goto_interval(m.interval);
    }
    if (there) {
      if (auto before = step_until(m)) return before;
    }
  }
  // m is where tid's stretch of this interval begins: its previous
  // instruction ended one of its earlier intervals (a syscall, usually).
  int tries = 0;
  for (uint64_t e = m.interval; e-- > history_.event && tries < 16;) {
    if (session_.event_tid(e) != tid) continue;
    ++tries;
    if (!goto_interval(e)) return std::nullopt;
    if (!session_.has_task(tid) || session_.in_syscall(tid)) continue;
    // This stretch begins at m itself, before the patch moves it: the
    // previous instruction is further back (the syscall it came back from).
    if (at_patch_move_of(m)) continue;
    // tid runs from here to the end of this interval: m follows, or was
    // lost. Where the interval ends at a preemption point of tid (inside a
    // hot loop, typically), m stands there: the pass of its address before
    // it is a closer place to single-step from.
    if (!m.process_ending && !m.syscall_entry) {
      Mark at_end = m;
      at_end.interval = e;
      if (!to_pass_before(at_end) && !goto_interval(e)) return std::nullopt;
    }
    return step_until(m);
  }
  at_begin = tries < 16;
  return std::nullopt;
}

// Whether m.tid stands at m here but for the patch of a syscall site that
// the next event applies: the recording made it at the exit stop of the call
// the task has just come back from, and moved the task to the same place in
// the site's stub (SitePatch.newIp), where m is.
bool Timeline::at_patch_move_of(const Mark& m) {
  if (!session_.alive() || !session_.has_task(m.tid) || m.regs.rip == 0) return false;
  if (session_.next_event() + 1 != m.interval || session_.patch_moves_to(m.tid) != m.regs.rip) return false;
  user_regs_struct moved = session_.task(m.tid).regs();
  moved.rip = m.regs.rip;
  return same_position_regs(moved, m.regs);
}

// Single-steps m.tid from here until it stands at m; the position one step
// before.
std::optional<Mark> Timeline::step_until(const Mark& m) {
  debug("step from event %llu to event %llu pc 0x%llx", static_cast<unsigned long long>(session_.next_event()),
        static_cast<unsigned long long>(m.interval), static_cast<unsigned long long>(m.regs.rip));
  bps_.clear_internal();
  for (uint64_t n = 0; n < kMaxSteps; ++n) {
    if (!session_.has_task(m.tid)) return std::nullopt;
    Mark here;
    here.tid = m.tid;
    here.interval = session_.next_event();
    here.regs = session_.task(m.tid).regs();
    ReplaySession::Stop s = checked(session_.step(m.tid));
    if (m.process_ending) {
      if (is_at(m, &s)) return here;
    } else if (session_.alive() && session_.has_task(m.tid) && session_.next_event() <= m.interval &&
               same_position_regs(session_.task(m.tid).regs(), m.regs)) {
      // (A task's registers stay as they are while other tasks' events pass.)
      return here;
    } else if (at_patch_move_of(m)) {
      return here;
    }
    if (terminal(s.kind) || session_.next_event() > m.interval) return std::nullopt;
  }
  return std::nullopt;
}

bool Timeline::goto_event(uint64_t n, Mark& at, std::string& why) {
  held_.clear();  // the program moves elsewhere
  if (n == 0 || n > session_.event_count()) {
    why = "event " + std::to_string(n) + " is not in this recording (events 1.." +
          std::to_string(session_.event_count()) + ")";
    return false;
  }
  begin();
  bool ok = goto_interval(n);
  finish();
  if (!ok) {
    why = "the replay ends before event " + std::to_string(n);
    return false;
  }
  ReplaySession::Stop s;
  s.kind = ReplaySession::StopKind::EventReached;
  int tid = session_.event_tid(n);
  s.tid = session_.has_task(tid) ? tid : session_.current_tid();
  at = mark_here(s);
  return true;
}

Mark Timeline::goto_start() {
  held_.clear();  // the program moves elsewhere
  begin();
  restore(start_);
  finish();
  ReplaySession::Stop s;
  s.kind = ReplaySession::StopKind::EventReached;
  s.tid = session_.current_tid();
  return mark_here(s);
}

int Timeline::add_checkpoint(const Mark& at, std::string& why) {
  auto cp = session_.checkpoint(&why);
  if (!cp) return 0;
  if (at.interval >= anchor_.event) cost_at_.emplace(cp->event(), cost_here());
  int id = next_user_id_++;
  user_[id] = UserCheckpoint{std::move(cp), at};
  return id;
}

bool Timeline::restart_checkpoint(int id, Mark& at, std::string& why) {
  held_.clear();  // the program moves elsewhere
  auto it = user_.find(id);
  if (it == user_.end()) {
    why = "no checkpoint " + std::to_string(id) + " (see 'monitor info checkpoints')";
    return false;
  }
  begin();
  restore(it->second.checkpoint);
  finish();
  at = it->second.at;
  return true;
}

bool Timeline::delete_checkpoint(int id) { return user_.erase(id) != 0; }

std::string Timeline::describe() const {
  std::ostringstream out;
  char buf[64];
  if (user_.empty()) out << "No checkpoints of yours ('monitor checkpoint' takes one).\n";
  for (const auto& [id, u] : user_) {
    std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(u.at.regs.rip));
    out << "checkpoint " << id << ": event " << u.at.interval << ", thread " << u.at.tid << ", pc " << buf << ", "
        << u.checkpoint->thread_count() << (u.checkpoint->thread_count() == 1 ? " thread, " : " threads, ")
        << (u.checkpoint->memory_bytes() >> 10) << " KiB\n";
  }
  std::snprintf(buf, sizeof buf, "%.2f", policy_.interval_seconds);
  out << "automatic: " << automatic_.size() << " (every " << buf << " s of replay";
  if (policy_.interval_events > 0) out << " or " << policy_.interval_events << " events";
  out << ", at most " << policy_.max_automatic << ", thinned: logarithmic near here, even beyond)";
  if (!automatic_.empty()) {
    out << ", at events";
    size_t i = 0;
    for (const auto& [e, cp] : automatic_) {
      if (automatic_.size() > 12 && i == 6) out << " ...";
      if (automatic_.size() <= 12 || i < 6 || i >= automatic_.size() - 6) out << " " << e;
      ++i;
    }
  }
  size_t several = 0;
  for (const auto& [e, cp] : automatic_) several += cp->thread_count() > 1;
  out << "\nautomatic ones taken while several threads ran: " << several;
  out << "\nrecent interval starts: " << recent_.size() << "\n";
  if (last_restored_) {
    out << "last restored: the checkpoint at event " << last_restored_->first << ", " << last_restored_->second
        << (last_restored_->second == 1 ? " thread\n" : " threads\n");
  }
  out << "memory held by checkpoints: " << (memory_bytes() >> 10) << " KiB (limit " << (policy_.max_memory >> 20)
      << " MiB)\n";
  return out.str();
}

}  // namespace rrx::replay
