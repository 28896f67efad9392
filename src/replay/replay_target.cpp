#include "replay/replay_target.h"
#include "replay/site_view.h"

#include <sys/user.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include "core/proc_maps.h"
#include "trace_format/trace_dir.h"

namespace rrx::replay {

namespace {

const char* kMemoryWriteRefusal =
    "rrx: a replay cannot change the program's memory (set var, print x=1, call f()): "
    "it would no longer be the recorded execution";
const char* kRegisterWriteRefusal =
    "rrx: a replay cannot change the program's registers (setting a register, jump, call f()): "
    "it would no longer be the recorded execution";

std::string hex(uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

}  // namespace

ReplayTarget::ReplayTarget(ReplayOptions options, Focus focus)
    : options_(std::move(options)), focus_(focus) {
  start_session();
}

int ReplayTarget::focus() const { return focus_.pid != 0 ? focus_.pid : session_->recorded_pid(); }

int ReplayTarget::current_pid() {
  if (cur_pid_ != 0 && !session_->tids_of(cur_pid_).empty()) return cur_pid_;
  if (attached(focus()) || attached_.empty()) return focus();
  for (int pid : attached_) {
    if (!session_->tids_of(pid).empty()) return pid;
  }
  return focus();
}

int ReplayTarget::focus_tid() {
  const int pid = current_pid();
  int cur = session_->current_tid();
  if (session_->has_task(cur) && session_->pid_of(cur) == pid) return cur;
  auto tids = session_->tids_of(pid);
  return tids.empty() ? cur : tids.front();
}

ReplayTarget::~ReplayTarget() {
  // The checkpoints' frozen processes go before the session's live ones.
  timeline_.reset();
}

void ReplayTarget::start_session() {
  timeline_.reset();
  session_ = std::make_unique<ReplaySession>(options_);
  bps_ = std::make_unique<Breakpoints>(*session_);
  timeline_ = std::make_unique<Timeline>(*session_, *bps_, CheckpointPolicy::from_environment());
  session_->memory_write_hook = [this](int tid, uint64_t addr, uint64_t len) {
    return session_->has_task(tid) && bps_->watches_writes_to(session_->pid_of(tid), addr, len);
  };
  session_->new_task_hook = [this](int tid) { bps_->on_new_task(tid); };
  session_->address_space_hook = [this](int tid, bool exec) { bps_->on_address_space_change(tid, exec); };
  session_->hide_debugger_bytes = [this](int pid, uint64_t addr, void* buf, size_t len) { bps_->hide_in(pid, addr, buf, len); };
  session_->checkpoint_fixup = [this](int pid, Task& frozen) { bps_->hide_in_copy(pid, frozen); };
  session_->syscall_hook = [this](int tid, int64_t nr, bool entry) { return bps_->catches_syscall(tid, nr, entry); };
  session_->stop_free_hook = [this](int tid) { return bps_->allows_stop_free(tid); };
  // Watchpoints by single-steps where the debug registers do not fire.
  if (!bps_->debug_registers()) session_->single_step_hook = [this](int tid) { return bps_->single_steps(tid); };
  bps_->catch_syscalls(catch_on_, caught_);
  bps_->set_debugged([this](int pid) { return attached(pid); });
  session_->start();
  replay_to_focus();
  first_event_ = session_->next_event();
  attached_ = {focus()};
  cur_pid_ = focus();
  history_.clear();
  forks_seen_.clear();
  // What gdb is told of while it runs the program forwards (not while rrx
  // moves through the timeline): forks and execs of the processes it
  // debugs, when it asked for them.
  session_->fork_hook = [this](int parent, int child, bool vfork) { return on_fork(parent, child, vfork); };
  session_->vfork_done_hook = [this](int tid) {
    return reporting_ && report_vforks_ && attached(session_->pid_of(tid));
  };
  session_->exec_hook = [this](int tid) { return reporting_ && report_execs_ && attached(session_->pid_of(tid)); };
  // A debugged process that ends while gdb debugs others is reported at
  // once; the end of the last one when the replay stops next, as before
  // (the rest of the tree replays on meanwhile).
  session_->process_exit_hook = [this](int pid) { return reporting_ && attached(pid) && attached_.size() > 1; };
  // The end of the debugged process is the end of the recording for gdb:
  // it stays there (and reverse execution can start from it).
  session_->exit_hook = [this](int tid) {
    return !release_exit_ && session_->pid_of(tid) == focus() && attached(focus());
  };
  session_->set_current_tid(focus_tid());
  std::string why;
  if (timeline_->on_start(why)) {
    session_->interval_start_hook = [this] { timeline_->on_interval_start(); };
  } else {
    std::cerr << "rrx: warning: reverse execution is not available in this replay: " << why << "\n";
  }
  exited_ = false;
  last_stop_ = gdb::StopReason{};
  last_stop_.kind = gdb::StopReason::Kind::Signal;
  last_stop_.signo = SIGTRAP;
  last_stop_.tid = session_->current_tid();
  last_stop_.pid = focus();
  ReplaySession::Stop here;
  here.kind = ReplaySession::StopKind::EventReached;
  here.tid = session_->current_tid();
  here_ = timeline_->mark_here(here);
}

// Replays without the debugger until the chosen process is there: right
// after the event that forked it (-f), or once it has exec'd its program (-p).
void ReplayTarget::replay_to_focus() {
  if (focus_.from_event) {
    session_->set_stop_at_event(*focus_.from_event);
    for (;;) {
      ReplaySession::Stop s = session_->cont();
      if (s.kind == ReplaySession::StopKind::EventReached) break;
      if (s.kind == ReplaySession::StopKind::Exited || s.kind == ReplaySession::StopKind::TraceEnd) break;
    }
    session_->set_stop_at_event(std::nullopt);
    if (!session_->has_task(focus_.pid)) {
      throw Error("the replay did not get to the fork of process " + std::to_string(focus_.pid) + " (event " +
                  std::to_string(*focus_.from_event) + ")");
    }
    // The new process's first stop, taken now: nothing keeps the start
    // checkpoint (reverse execution) from being taken here.
    session_->settle_new_tasks();
    return;
  }
  if (focus_.pid == 0 || focus_.pid == session_->recorded_pid()) return;
  session_->exec_hook = [this](int tid) { return session_->pid_of(tid) == focus_.pid; };
  for (;;) {
    ReplaySession::Stop s = session_->cont();
    if (s.kind == ReplaySession::StopKind::Exec) break;
    if (s.kind == ReplaySession::StopKind::Exited || s.kind == ReplaySession::StopKind::TraceEnd) {
      throw Error("process " + std::to_string(focus_.pid) + " never ran a program in this recording");
    }
  }
  session_->exec_hook = nullptr;
}

int ReplayTarget::pid() { return current_pid(); }
std::vector<int> ReplayTarget::threads() {
  if (exited_) return {};
  std::vector<int> out = attached(focus()) ? session_->tids_of(focus()) : std::vector<int>();
  for (int pid : attached_) {
    if (pid == focus()) continue;
    for (int tid : session_->tids_of(pid)) out.push_back(tid);
  }
  return out;
}
int ReplayTarget::current_thread() { return focus_tid(); }
bool ReplayTarget::set_current_thread(int tid) {
  if (tid <= 0) return true;
  if (!session_->has_task(tid)) return false;
  session_->set_current_tid(tid);
  cur_pid_ = session_->pid_of(tid);
  return true;
}

std::vector<int> ReplayTarget::processes() {
  if (exited_) return {};
  return {attached_.begin(), attached_.end()};
}

int ReplayTarget::process_of(int tid) { return session_->has_task(tid) ? session_->pid_of(tid) : current_pid(); }

void ReplayTarget::set_event_reporting(bool forks, bool vforks, bool execs) {
  report_forks_ = forks;
  report_vforks_ = vforks;
  report_execs_ = execs;
}

bool ReplayTarget::detach(int pid) {
  if (exited_ || !attached(pid)) return false;
  attached_.erase(pid);
  history_.erase(pid);
  bps_->clear_process(pid);  // it replays on without gdb's breakpoints
  return true;
}

std::string ReplayTarget::exec_file_of(int pid) {
  auto tids = session_->tids_of(pid);
  return tids.empty() ? exec_file() : session_->exe_of(tids.front());
}

// A fork of a debugged process, the first time the replay makes it while
// gdb runs the program: with fork events, the child is debugged too, and
// its history for gdb begins here (gdb detaches from it if it does not want
// it). Its breakpoints start as a copy of its parent's (its memory is a
// copy). A fork gdb is not told of leaves the child without any.
bool ReplayTarget::on_fork(int parent_tid, int child_tid, bool vfork) {
  const int parent = session_->pid_of(parent_tid);
  const int child = session_->pid_of(child_tid);
  const bool report = reporting_ && (vfork ? report_vforks_ : report_forks_) && attached(parent) &&
                      !forks_seen_.count(child);
  if (report) {
    attached_.insert(child);
    forks_seen_.insert(child);
    history_[child] = Timeline::HistoryStart{session_->next_event(), child_tid};
  }
  bps_->on_fork(parent_tid, child_tid, vfork, report);
  return report;
}

// Reverse execution goes back to where the history of every process gdb
// debugs has begun: the latest fork (or exec) among them.
Timeline::HistoryStart ReplayTarget::history_start() const {
  Timeline::HistoryStart h;
  for (int pid : attached_) {
    auto it = history_.find(pid);
    if (it != history_.end() && it->second.event > h.event) h = it->second;
  }
  return h;
}

std::optional<ReplaySession::Stop> ReplayTarget::attached_process_ended(int& pid) {
  for (int p : attached_) {
    if (!session_->tids_of(p).empty()) continue;
    pid = p;
    attached_.erase(p);
    history_.erase(p);
    if (auto e = session_->process_exit(p)) return e;
    ReplaySession::Stop s;
    s.kind = ReplaySession::StopKind::TraceEnd;
    return s;
  }
  return std::nullopt;
}
std::string ReplayTarget::thread_name(int tid) {
  std::string exe = session_->exe_of(tid);
  size_t slash = exe.rfind('/');
  std::string name = slash == std::string::npos ? exe : exe.substr(slash + 1);
  return name.substr(0, 15);
}

bool ReplayTarget::read_registers(int tid, gdb::ThreadRegisters& out) {
  if (exited_ || !session_->alive()) return false;
  if (!session_->has_task(tid > 0 ? tid : focus_tid())) return false;
  const int rtid = tid > 0 && session_->has_task(tid) ? tid : focus_tid();
  Task& t = session_->task(rtid);
  out.gpr = t.regs();
  // Inside the fast path's code for a call of a patched site: the program's
  // registers at that site's syscall instruction (replay/site_view.h).
  if (auto site = site_registers(t, out.gpr)) out.gpr = *site;
  // In a patched cpuid site's stub, at its lookup's start or end: the
  // program's pc at the cpuid or after it.
  if (auto pc = session_->cpuid_site_pc(session_->pid_of(rtid), out.gpr.rip)) out.gpr.rip = *pc;
  out.fpr = t.fpregs();
  out.has_avx = t.ymm_high(out.ymmh);
  return true;
}

size_t ReplayTarget::read_memory(uint64_t addr, void* buf, size_t len) {
  if (exited_ || !session_->alive()) return 0;
  const int tid = focus_tid();
  if (!session_->has_task(tid)) return 0;
  size_t n = session_->task(tid).read_mem(addr, buf, len);
  bps_->hide_in(session_->pid_of(tid), addr, buf, n);  // the program's bytes, not the breakpoints
  session_->hide_patches(session_->pid_of(tid), addr, buf, n);  // nor the fast path's jumps
  return n;
}

bool ReplayTarget::write_registers_allowed(std::string& why) {
  why = kRegisterWriteRefusal;
  return false;
}

bool ReplayTarget::write_memory_allowed(std::string& why) {
  why = kMemoryWriteRefusal;
  return false;
}

bool ReplayTarget::insert_breakpoint(gdb::BreakpointKind kind, uint64_t addr, uint64_t len) {
  if (exited_ || !session_->alive()) return false;
  // Breakpoints apply to the process gdb chose with Hg. With exec events
  // they belong to the image gdb has the symbols of: a replay from before
  // the process's exec does not put them into the old image.
  const int tid = focus_tid();
  if (!session_->has_task(tid)) return false;
  return bps_->insert(session_->pid_of(tid), kind, addr, len, report_execs_ ? session_->image_of(tid) : 0);
}

bool ReplayTarget::remove_breakpoint(gdb::BreakpointKind kind, uint64_t addr, uint64_t len) {
  if (exited_ || !session_->alive()) return true;
  return bps_->remove(current_pid(), kind, addr, len);
}

gdb::StopReason ReplayTarget::translate(const ReplaySession::Stop& stop) {
  gdb::StopReason r;
  r.tid = stop.tid > 0 && session_->has_task(stop.tid) ? stop.tid : session_->current_tid();
  r.pid = session_->has_task(r.tid) ? session_->pid_of(r.tid) : focus();
  if (r.tid > 0 && session_->has_task(r.tid)) {
    session_->set_current_tid(r.tid);
    cur_pid_ = r.pid;
  }
  switch (stop.kind) {
    case ReplaySession::StopKind::Stepped: {
      r.kind = gdb::StopReason::Kind::Signal;
      r.signo = SIGTRAP;
      // A step over an instruction that wrote a watched range reports the
      // watchpoint, as gdbserver does (gdb's next and stepi then show it).
      Breakpoints::Hit hit = bps_->classify_step(r.tid);
      r.watchpoint = hit.watch;
      r.watch_kind = hit.watch_kind;
      r.watch_addr = hit.watch_addr;
      break;
    }
    case ReplaySession::StopKind::EventReached:
    case ReplaySession::StopKind::PositionReached:  // (the Timeline's own: not seen here)
      r.kind = gdb::StopReason::Kind::Signal;
      r.signo = SIGTRAP;
      break;
    case ReplaySession::StopKind::Exec:
      r.kind = gdb::StopReason::Kind::Signal;
      r.signo = SIGTRAP;
      if (report_execs_) {
        // A new image: gdb loads its symbols (the trace's copy, over vFile) and puts
        // its breakpoints in again; its history for gdb begins here.
        r.kind = gdb::StopReason::Kind::Execd;
        r.exec_path = session_->exe_of(r.tid);  // read through vFile: the trace's copy
        history_[r.pid] = Timeline::HistoryStart{session_->next_event(), r.tid};
        bps_->clear_process(r.pid);
      }
      break;
    case ReplaySession::StopKind::Forked:
      r.kind = stop.vfork ? gdb::StopReason::Kind::VForked : gdb::StopReason::Kind::Forked;
      r.child_tid = stop.child_tid;
      r.child_pid = session_->has_task(stop.child_tid) ? session_->pid_of(stop.child_tid) : stop.child_tid;
      break;
    case ReplaySession::StopKind::VforkDone:
      r.kind = gdb::StopReason::Kind::VForkDone;
      break;
    case ReplaySession::StopKind::ProcessExited:
      // A debugged process ended; the others go on.
      r.pid = stop.tid;
      r.kind = stop.killed ? gdb::StopReason::Kind::Terminated : gdb::StopReason::Kind::Exited;
      r.signo = stop.exit_code;
      r.code = stop.exit_code;
      attached_.erase(r.pid);
      history_.erase(r.pid);
      exited_ = attached_.empty();
      break;
    case ReplaySession::StopKind::Trap: {
      r.kind = gdb::StopReason::Kind::Signal;
      r.signo = SIGTRAP;
      Breakpoints::Hit hit = bps_->classify_trap(r.tid);
      r.hardware_breakpoint = hit.hardware;
      r.software_breakpoint = hit.software;
      r.watchpoint = hit.watch;
      r.watch_kind = hit.watch_kind;
      r.watch_addr = hit.watch_addr;
      break;
    }
    case ReplaySession::StopKind::Signal:
    case ReplaySession::StopKind::Killing:
      r.kind = gdb::StopReason::Kind::Signal;
      r.signo = stop.sig;
      break;
    case ReplaySession::StopKind::Interrupted:
      r.kind = gdb::StopReason::Kind::Signal;
      r.signo = SIGINT;
      break;
    case ReplaySession::StopKind::SyscallEntry:
    case ReplaySession::StopKind::SyscallExit:
      r.kind = gdb::StopReason::Kind::Signal;
      r.signo = SIGTRAP;
      r.syscall = stop.kind == ReplaySession::StopKind::SyscallEntry ? gdb::StopReason::Syscall::Entry
                                                                     : gdb::StopReason::Syscall::Return;
      r.syscall_nr = stop.syscall_nr;
      break;
    case ReplaySession::StopKind::MemoryWatch: {
      r.kind = gdb::StopReason::Kind::Signal;
      r.signo = SIGTRAP;
      Breakpoints::Hit hit = bps_->classify_kernel_write(r.pid, stop.watch_addr, stop.watch_len);
      r.watchpoint = true;
      r.watch_kind = hit.watch_kind;
      r.watch_addr = hit.watch ? hit.watch_addr : stop.watch_addr;
      break;
    }
    case ReplaySession::StopKind::ProcessEnding:
      r.kind = gdb::StopReason::Kind::ReplayEnd;
      std::fprintf(stderr,
                   "rrx: the end of the recording: process %d exits with status %d next ('continue' lets it "
                   "exit; reverse execution works from here)\n",
                   r.pid, static_cast<int>(session_->task(r.tid).regs().rdi & 0xff));
      break;
    case ReplaySession::StopKind::Exited:
    case ReplaySession::StopKind::TraceEnd:
      // The whole replay, or the last process gdb debugs, is over.
      exited_ = attached_.empty() || !session_->alive();
      if (exited_) attached_.clear();
      if (stop.kind == ReplaySession::StopKind::Exited && stop.killed) {
        r.kind = gdb::StopReason::Kind::Terminated;
        r.signo = stop.exit_code;
      } else {
        r.kind = gdb::StopReason::Kind::Exited;
        r.code = stop.kind == ReplaySession::StopKind::Exited ? stop.exit_code
                                                              : session_->recorded_exit_status();
      }
      break;
  }
  return r;
}

gdb::StopReason ReplayTarget::resume(gdb::ResumeKind kind, int tid, bool others_held) {
  if (exited_) return last_stop_;
  if (kind == gdb::ResumeKind::ReverseContinue || kind == gdb::ResumeKind::ReverseStep) {
    return reverse(kind, tid, others_held);
  }
  timeline_->forget_held_hits();
  ReplaySession::Stop stop;
  // Held at the end: going on lets the process exit (gdb then reports its
  // exit status, and reverse execution is over).
  release_exit_ = here_.process_ending;
  int ended = 0;  // a process gdb debugs that ended
  reporting_ = true;
  try {
    // One that ended while the replay stopped elsewhere: its end first.
    if (auto e = attached_process_ended(ended)) stop = *e;
    for (; ended == 0;) {
      if (kind == gdb::ResumeKind::Continue) {
        stop = bps_->cont();
      } else {
        bps_->soft_snapshot();
        stop = step_program_insn(tid > 0 && session_->has_task(tid) ? tid : focus_tid());
      }
      if (stop.kind == ReplaySession::StopKind::Exited || stop.kind == ReplaySession::StopKind::TraceEnd) {
        // Everything ended: report a debugged process's end.
        for (int pid : attached_) {
          if (auto e = session_->process_exit(pid)) {
            stop = *e;
            ended = pid;
            break;
          }
        }
        break;
      }
      const bool known = stop.tid != 0 && session_->has_task(stop.tid);
      const int pid = known ? session_->pid_of(stop.tid) : 0;
      bool ours = !known || attached(pid);
      // (A debugged process that ended meanwhile is reported by the next resume.)
      if (ours && (stop.kind != ReplaySession::StopKind::Exec || report_execs_)) break;
      if (auto e = attached_process_ended(ended)) {
        // A debugged process is gone; the others replay along.
        stop = *e;
        break;
      }
      // A stop in another process of the tree: not the debugger's business.
      // An int3 it ran into is one of a process whose memory it shares
      // (a vfork child): it steps over it.
      if (known && stop.kind == ReplaySession::StopKind::Trap) {
        bps_->classify_trap(stop.tid);
        if (bps_->has_int3_at(pid, session_->task(stop.tid).regs().rip)) {
          ReplaySession::Stop s = bps_->step_over(stop.tid);
          if (s.kind == ReplaySession::StopKind::Exited || s.kind == ReplaySession::StopKind::TraceEnd) {
            stop = s;
            break;
          }
        }
      }
    }
  } catch (const Divergence& d) {
    reporting_ = false;
    release_exit_ = false;
    std::fprintf(stderr, "rrx: %s\n", d.what());
    session_->kill();
    exited_ = true;
    last_stop_ = gdb::StopReason{};
    last_stop_.kind = gdb::StopReason::Kind::Terminated;
    last_stop_.signo = SIGKILL;
    return last_stop_;
  }
  reporting_ = false;
  release_exit_ = false;
  last_stop_ = translate(stop);
  if (ended != 0) last_stop_.pid = ended;
  last_siginfo_.clear();
  if (stop.kind == ReplaySession::StopKind::Signal || stop.kind == ReplaySession::StopKind::Trap ||
      stop.kind == ReplaySession::StopKind::Killing) {
    last_siginfo_.assign(reinterpret_cast<const char*>(&stop.siginfo), sizeof stop.siginfo);
  }
  if (!exited_) here_ = timeline_->mark_here(stop);
  return last_stop_;
}

bool ReplayTarget::in_stub_code(const Mark& at) {
  if (!session_->has_task(at.tid) || !session_->in_patch_stub(session_->pid_of(at.tid), at.regs.rip)) return false;
  if (session_->cpuid_site_pc(session_->pid_of(at.tid), at.regs.rip)) return false;
  return inside_site_call(session_->task(at.tid), at.regs, true);
}

// One instruction of the program: a patched site's syscall instruction (with
// the displaced instructions its stub runs) is one, however many the stub,
// the preload library and the rrx page execute for it; a step stops at the
// next point that is an instruction boundary of the program (site_view.h),
// or at any other stop on the way.
ReplaySession::Stop ReplayTarget::step_program_insn(int tid) {
  if (!session_->has_task(tid)) return session_->step(tid);
  const int pid = session_->pid_of(tid);
  auto inside = [&](Task& t, const user_regs_struct& r) {
    if (session_->cpuid_site_pc(pid, r.rip)) return false;
    return inside_site_call(t, r, session_->in_patch_stub(pid, r.rip));
  };
  auto view_pc = [&](Task& t, const user_regs_struct& r) -> uint64_t {
    if (auto pc = session_->cpuid_site_pc(pid, r.rip)) return *pc;
    auto site = site_registers(t, r);
    return site ? site->rip : r.rip;
  };
  Task& t0 = session_->task(tid);
  const user_regs_struct r0 = t0.regs();
  // Stepping in the library's own code (a breakpoint there): its instructions.
  if (inside(t0, r0) && !site_registers(t0, r0)) return session_->step(tid);
  const uint64_t from = view_pc(t0, r0);
  ReplaySession::Stop stop = session_->step(tid);
  bool through_hook = false;
  for (int n = 0; n < kMaxStepsInsideSiteCall && stop.kind == ReplaySession::StopKind::Stepped && stop.tid == tid &&
                  session_->has_task(tid);
       ++n) {
    Task& t = session_->task(tid);
    const user_regs_struct r = t.regs();
    // At the site's syscall instruction again (the rrx page's, reached through
    // the stub from the site's jump): not done until the syscall is.
    const bool same_syscall = site_syscall_insn(r.rip) && view_pc(t, r) == from;
    // A patched cpuid's jump lands at its stub's lookup: still at the cpuid.
    const bool same_cpuid = session_->cpuid_site_pc(pid, r.rip) == from;
    if (!same_syscall && !same_cpuid && !inside(t, r)) break;
    stop = session_->step(tid);
    through_hook = true;
  }
  // The hook entry saved the flags with pushfq and its popfq put them back:
  // single-stepped there, they hold the trap flag of the step, which would
  // stay set in the program after it (a SIGTRAP at its next instruction).
  // The program's own flags have it clear: it never stepped itself there.
  if (through_hook && stop.kind == ReplaySession::StopKind::Stepped && stop.tid == tid && session_->has_task(tid)) {
    Task& t = session_->task(tid);
    user_regs_struct r = t.regs();
    if (r.eflags & 0x100) {
      r.eflags &= ~uint64_t{0x100};
      t.set_regs(r);
    }
  }
  return stop;
}

gdb::StopReason ReplayTarget::stop_at(const Mark& at, gdb::StopReason::Kind kind) {
  here_ = at;
  if (session_->has_task(at.tid)) session_->set_current_tid(at.tid);
  last_siginfo_.clear();
  last_stop_ = gdb::StopReason{};
  last_stop_.kind = kind;
  last_stop_.signo = SIGTRAP;
  last_stop_.tid = session_->has_task(at.tid) ? at.tid : focus_tid();
  last_stop_.pid = session_->has_task(last_stop_.tid) ? session_->pid_of(last_stop_.tid) : focus();
  cur_pid_ = last_stop_.pid;
  return last_stop_;
}

gdb::StopReason ReplayTarget::reverse(gdb::ResumeKind kind, int tid, bool others_held) {
  if (!timeline_->has_start()) {
    std::fprintf(stderr, "rrx: reverse execution is not available in this replay\n");
    return stop_at(here_, gdb::StopReason::Kind::Signal);
  }
  try {
    Timeline::Result r;
    if (kind == gdb::ResumeKind::ReverseContinue) {
      r = timeline_->reverse_continue(here_, history_start());
    } else {
      Mark from = here_;
      if (tid > 0 && tid != from.tid && session_->has_task(tid)) {
        from.tid = tid;  // another thread's previous instruction, from here
        from.regs = session_->task(tid).regs();
        from.process_ending = false;
      }
      r = timeline_->reverse_step(from, history_start(), others_held);
      // A patched site's stub runs the instructions it displaced after the
      // program's syscall: back over them to the syscall (site_view.h).
      for (int n = 0; n < kMaxStepsBackInsideStub && r.moved && !r.at_begin && !r.interrupted && !r.hit.user() && in_stub_code(r.at);
           ++n) {
        r = timeline_->reverse_step(r.at, history_start(), others_held);
      }
      // Back from after a buffered call (its hook entry's return path: the
      // library's own instructions): to where the call entered the hook,
      // which gdb sees as the program's syscall instruction (site_view.h).
      if (r.moved && !r.at_begin && !r.interrupted && !r.hit.user() && session_->has_task(r.at.tid)) {
        if (auto entry = hook_return_path(session_->task(r.at.tid), r.at.regs)) {
          timeline_->back_to_hook_entry(r.at, *entry, history_start());
        }
      }
    }
    if (r.interrupted) {
      // Like a forward continue that gdb interrupts: SIGINT, where the replay had got to.
      stop_at(r.at, gdb::StopReason::Kind::Signal);
      last_stop_.signo = SIGINT;
      return last_stop_;
    }
    if (!r.moved) std::fprintf(stderr, "rrx: cannot find that position again; staying here\n");
    gdb::StopReason s = stop_at(r.at, r.at_begin ? gdb::StopReason::Kind::ReplayBegin : gdb::StopReason::Kind::Signal);
    if (!r.at_begin) {
      last_stop_.software_breakpoint = r.hit.software;
      last_stop_.hardware_breakpoint = r.hit.hardware;
      last_stop_.watchpoint = r.hit.watch;
      last_stop_.watch_kind = r.hit.watch_kind;
      last_stop_.watch_addr = r.hit.watch_addr;
      if (r.hit.syscall) {
        last_stop_.syscall = r.hit.syscall_entry ? gdb::StopReason::Syscall::Entry : gdb::StopReason::Syscall::Return;
        last_stop_.syscall_nr = r.hit.syscall_nr;
      }
      s = last_stop_;
    }
    return s;
  } catch (const Divergence& d) {
    std::fprintf(stderr, "rrx: %s\n", d.what());
  } catch (const Error& e) {
    std::fprintf(stderr, "rrx: reverse execution failed: %s\n", e.what());
  }
  // Back to a known place: the start.
  return stop_at(timeline_->goto_start(), gdb::StopReason::Kind::ReplayBegin);
}

void ReplayTarget::request_interrupt() { session_->request_interrupt(); }

bool ReplayTarget::catch_syscalls(bool on, const std::vector<int64_t>& numbers) {
  catch_on_ = on;
  caught_ = numbers;
  bps_->catch_syscalls(on, numbers);
  return true;
}

std::string ReplayTarget::auxv() { return session_->auxv_of(focus_tid()); }

// The path the program ran as: the debugger reads it through file_for (the
// trace's copy), and shows the name the program had.
std::string ReplayTarget::exec_file() { return session_->exe_of(focus_tid()); }

const trace::RecordedFiles& ReplayTarget::recorded_files() {
  if (!files_) files_ = std::make_unique<trace::RecordedFiles>(options_.trace_dir);
  files_->read_until(session_->next_event());
  return *files_;
}

// /proc/PID[/task/TID]/... of a replayed process, as gdb names it (the
// recorded ids): the same file of the live process that plays that part
// (its maps are the recorded layout, its files the trace's copies). Empty
// when the path names no live replayed process.
std::string ReplayTarget::live_proc_path(const std::string& path) {
  unsigned long pid = 0, tid = 0;
  int after_pid = 0, after_tid = 0;
  if (std::sscanf(path.c_str(), "/proc/%lu%n/task/%lu%n", &pid, &after_pid, &tid, &after_tid) < 1 ||
      after_pid == 0 || exited_ || !session_->alive()) {
    return {};
  }
  auto live = [this](unsigned long id) -> long {
    return id <= INT32_MAX && session_->has_task(static_cast<int>(id)) ? session_->task(static_cast<int>(id)).tid() : -1;
  };
  const long live_pid = live(pid);
  if (live_pid < 0) return {};
  if (after_tid > 0) {
    const long live_tid = live(tid);
    if (live_tid < 0) return {};
    return "/proc/" + std::to_string(live_pid) + "/task/" + std::to_string(live_tid) + path.substr(static_cast<size_t>(after_tid));
  }
  return "/proc/" + std::to_string(live_pid) + path.substr(static_cast<size_t>(after_pid));
}

std::string ReplayTarget::file_for(int pid, const std::string& path, int& error) {
  if (std::string live = live_proc_path(path); !live.empty()) return live;
  try {
    const trace::RecordedFiles& files = recorded_files();
    auto v = files.find(path, pid != 0 ? pid : focus(), session_->next_event());
    if (!v) return path;
    if (!verified_files_.count(v->hash)) {
      trace::verified_stored_file(options_.trace_dir, v->hash, files.hash_kind());
      verified_files_.insert(v->hash);
    }
    return trace::stored_file_path(options_.trace_dir, v->hash).string();
  } catch (const std::exception& e) {
    std::cerr << "rrx: the debugger asked for " << path << ": " << e.what() << "\n";
    error = EIO;
    return {};
  }
}

int ReplayTarget::readlink_for(int pid, const std::string& path, std::string& out) {
  try {
    const trace::RecordedFiles& files = recorded_files();
    const int who = pid != 0 ? pid : focus();
    std::optional<std::string> exe = files.proc_exe(path, who, session_->next_event());
    if (exe) {
      out = *exe;
      return 0;
    }
    // A file the recording used is served as the regular file it mapped.
    if (files.recorded(path)) return EINVAL;
  } catch (const std::exception& e) {
    std::cerr << "rrx: the debugger asked for " << path << ": " << e.what() << "\n";
    return EIO;
  }
  return gdb::Target::readlink_for(pid, path, out);
}

std::string ReplayTarget::siginfo(int) { return last_siginfo_; }

std::vector<gdb::MemoryRegion> ReplayTarget::memory_map() {
  // The replayed process has the recorded layout (its mappings are made at
  // the recorded addresses), so its own maps are the recorded ones; file
  // mappings are the trace's copies, so their paths are left out.
  std::vector<gdb::MemoryRegion> map;
  if (exited_ || !session_->alive()) return map;
  for (const ProcMapping& m : read_proc_maps(session_->task(focus_tid()).tid())) {
    gdb::MemoryRegion r;
    r.start = m.start;
    r.end = m.end;
    r.readable = m.readable();
    r.writable = m.writable();
    r.executable = m.executable();
    if (!m.path.empty() && m.path[0] == '[') r.name = m.path;
    map.push_back(std::move(r));
  }
  return map;
}

std::string ReplayTarget::moved_to(const Mark& at) {
  stop_at(at, gdb::StopReason::Kind::Signal);
  return "Now at event " + std::to_string(at.interval) + ", thread " + std::to_string(at.tid) + ", pc " +
         hex(at.regs.rip) + ".\n";
}

std::string ReplayTarget::monitor(const std::string& command, bool& ok) {
  ok = true;
  std::istringstream in(command);
  std::string verb, arg;
  in >> verb >> arg;
  if (verb == "info" && (arg == "checkpoints" || arg == "checkpoint")) verb = "info-checkpoints";
  if (verb == "delete" && arg == "checkpoint") {
    verb = "delete-checkpoint";
    in >> arg;
  }
  std::string extra;
  in >> extra;
  // A decimal number and nothing after it: strtoull alone would take "-5"
  // as 2^64-5 and ignore what follows.
  auto number = [&](uint64_t& n) {
    if (arg.empty() || !extra.empty() || arg.size() > 19) return false;
    for (char c : arg) {
      if (c < '0' || c > '9') return false;
    }
    n = std::strtoull(arg.c_str(), nullptr, 10);
    return true;
  };
  if (verb == "when") {
    return "Current event: " + std::to_string(here_.interval) + " (of " + std::to_string(session_->event_count()) +
           " in the trace)\n";
  }
  if (verb == "info-trace") {
    auto h = session_->reader().header();
    std::ostringstream out;
    out << "trace: " << session_->reader().dir().string() << "\n";
    out << "command:";
    for (auto a : h.getArgv()) out << " " << a.cStr();
    out << "\nrecorded on Linux " << h.getKernelRelease().cStr() << ", " << h.getCpu().getVendor().cStr() << "\n";
    out << "events: " << session_->event_count() << ", next: " << session_->next_event() << "\n";
    out << "skip strategy: " << skip_strategy_name(session_->strategy()) << "\n";
    out << (session_->reader().complete() ? "complete" : "incomplete: " + session_->reader().incomplete_reason())
        << "\n";
    return out.str();
  }
  bool needs_timeline = verb == "goto" || verb == "checkpoint" || verb == "restart" ||
                        verb == "info-checkpoints" || verb == "delete-checkpoint";
  if (needs_timeline && (exited_ || !timeline_->has_start())) {
    ok = false;
    return "rrx: not available: " + std::string(exited_ ? "the replay has ended; 'run' starts it again"
                                                        : "this replay has no checkpoints");
  }
  std::string why;
  uint64_t n = 0;
  // Whether goto EVENT / restart N can be made, without making it: "ok" or
  // why not (the gdb commands ask before gdb's starti drops its process).
  if (verb == "can-goto" || verb == "can-restart") {
    if (!number(n)) {
      return verb == "can-goto" ? "usage: goto EVENT (an event number from " + std::to_string(std::max<uint64_t>(1, first_event_)) +
                                      " to " + std::to_string(session_->event_count()) + ", as rrx dump numbers them)"
                                : "usage: restart CHECKPOINT (a checkpoint number, see info checkpoints)";
    }
    std::string no = verb == "can-goto" ? cannot_goto(n)
                     : !timeline_->has_start() ? "this replay has no checkpoints"
                     : timeline_->has_checkpoint(n > INT32_MAX ? 0 : static_cast<int>(n))
                         ? ""
                         : "no checkpoint " + arg + " (see info checkpoints)";
    return no.empty() ? "ok\n" : "rrx: " + no + "\n";
  }
  if (verb == "goto") {
    Mark at;
    if (!number(n)) {
      ok = false;
      return "usage: monitor goto EVENT (an event number from " + std::to_string(std::max<uint64_t>(1, first_event_)) +
             " to " + std::to_string(session_->event_count()) + ", as rrx dump numbers them)";
    }
    if (std::string no = cannot_goto(n); !no.empty()) {
      ok = false;
      return "rrx: " + no;
    }
    if (!timeline_->goto_event(n, at, why)) {
      ok = false;
      return "rrx: " + why;
    }
    return moved_to(at);
  }
  if (verb == "checkpoint") {
    int id = timeline_->add_checkpoint(here_, why);
    if (id == 0) {
      ok = false;
      return "rrx: cannot take a checkpoint here: " + why;
    }
    return "Checkpoint " + std::to_string(id) + " at event " + std::to_string(here_.interval) + ", pc " +
           hex(here_.regs.rip) + ".\n";
  }
  if (verb == "restart") {
    Mark at;
    if (!number(n) || n > INT32_MAX) {
      ok = false;
      return "usage: monitor restart CHECKPOINT (a checkpoint number, see monitor info checkpoints)";
    }
    if (!timeline_->restart_checkpoint(static_cast<int>(n), at, why)) {
      ok = false;
      return "rrx: " + why;
    }
    return moved_to(at);
  }
  if (verb == "info-checkpoints") return timeline_->describe();
  if (verb == "delete-checkpoint") {
    if (!number(n) || n > INT32_MAX || !timeline_->delete_checkpoint(static_cast<int>(n))) {
      ok = false;
      return "rrx: no checkpoint '" + arg + "'";
    }
    return "Deleted checkpoint " + arg + ".\n";
  }
  if (verb == "help" || verb.empty()) {
    return "rrx monitor commands:\n"
           "  when                      the current event number\n"
           "  goto EVENT                go to the start of EVENT's stretch of execution\n"
           "  checkpoint                keep the current position as a checkpoint\n"
           "  restart CHECKPOINT        go back to a checkpoint\n"
           "  info checkpoints          list checkpoints and the memory they hold\n"
           "  delete checkpoint N       drop a checkpoint\n"
           "  info-trace                what the trace holds\n"
           "  can-goto EVENT            'ok', or why goto EVENT cannot be made (moves nothing)\n"
           "  can-restart CHECKPOINT    'ok', or why restart CHECKPOINT cannot be made\n"
           "gdb's reverse-continue, reverse-step, reverse-next, reverse-finish and reverse-stepi\n"
           "work on the replay; 'run' goes back to the start.\n";
  }
  ok = false;
  return "unknown monitor command '" + verb + "'; try 'monitor help'";
}

// `run [EVENT | cN]`, `starti [EVENT | cN]`: back to the start, to the start
// of event EVENT's interval (as monitor goto), or to checkpoint N (as
// monitor restart). gdb treats the reply as a new run of the program and
// re-reads everything, which it does not after a monitor command.
bool ReplayTarget::restart(const std::vector<std::string>& args, std::string& why) {
  if (args.empty()) return restart_at_start();
  const std::string usage =
      "rrx: usage: run [EVENT | cCHECKPOINT] (or starti): EVENT from 1 to " +
      std::to_string(session_->event_count()) + " goes to that event, cN to checkpoint N";
  std::string arg = args[0];
  bool checkpoint = !arg.empty() && arg[0] == 'c';
  if (checkpoint) arg.erase(0, 1);
  if (args.size() != 1 || arg.empty() || arg.size() > 9 ||
      arg.find_first_not_of("0123456789") != std::string::npos) {
    why = usage;
    return false;
  }
  uint64_t n = std::strtoull(arg.c_str(), nullptr, 10);
  if (!timeline_->has_start()) {
    why = "rrx: this replay has no checkpoints: it can only start again from the beginning ('run' with no arguments)";
    return false;
  }
  if (!checkpoint) {
    why = cannot_goto(n);
    if (!why.empty()) {
      why = "rrx: " + why;
      return false;
    }
  }
  Mark at;
  bool ok = checkpoint ? timeline_->restart_checkpoint(static_cast<int>(n), at, why)
                       : timeline_->goto_event(n, at, why);
  if (!ok) {
    why = "rrx: " + why;
    return false;
  }
  bps_->clear();  // gdb inserts its breakpoints again
  exited_ = false;
  attached_ = {focus()};
  history_.clear();
  forks_seen_.clear();
  stop_at(at, gdb::StopReason::Kind::Signal);
  std::fprintf(stderr, "rrx: now at event %llu, thread %d\n", static_cast<unsigned long long>(at.interval), at.tid);
  return true;
}

std::string ReplayTarget::event_out_of_range(uint64_t n) {
  const uint64_t first = std::max<uint64_t>(1, first_event_);
  const std::string range = " (events " + std::to_string(first) + ".." + std::to_string(session_->event_count()) + ")";
  if (n == 0 || n > session_->event_count()) return "event " + std::to_string(n) + " is not in this recording" + range;
  if (n < first) {
    return "event " + std::to_string(n) + " comes before process " + std::to_string(focus()) +
           " is debugged from" + range;
  }
  return "";
}

std::string ReplayTarget::cannot_goto(uint64_t n) {
  std::string why = event_out_of_range(n);
  if (why.empty() && !timeline_->has_start()) why = "this replay has no checkpoints: it cannot go to an event";
  return why;
}

// rrx replay -g: with checkpoints, as `starti EVENT`; without (a process of
// the tree was inside a syscall where the replay starts), forwards only.
bool ReplayTarget::start_at(uint64_t n, std::string& why) {
  why = event_out_of_range(n);
  if (!why.empty()) return false;
  if (timeline_->has_start()) {
    if (restart({std::to_string(n)}, why)) return true;
    if (why.rfind("rrx: ", 0) == 0) why.erase(0, 5);
    return false;
  }
  ReplaySession::Stop s;
  session_->set_stop_at_event(n);
  do {
    s = session_->cont();
  } while (s.kind != ReplaySession::StopKind::EventReached && s.kind != ReplaySession::StopKind::Exited &&
           s.kind != ReplaySession::StopKind::TraceEnd && s.kind != ReplaySession::StopKind::ProcessEnding);
  session_->set_stop_at_event(std::nullopt);
  if (s.kind != ReplaySession::StopKind::EventReached || session_->tids_of(focus()).empty()) {
    why = "process " + std::to_string(focus()) + " ends before event " + std::to_string(n);
    return false;
  }
  int tid = session_->event_tid(n);
  s.tid = session_->has_task(tid) && session_->pid_of(tid) == focus() ? tid : focus_tid();
  stop_at(timeline_->mark_here(s), gdb::StopReason::Kind::Signal);
  std::fprintf(stderr, "rrx: now at event %llu, thread %d (reverse execution is not available)\n",
               static_cast<unsigned long long>(n), here_.tid);
  return true;
}

bool ReplayTarget::restart_at_start() {
  bps_->clear();  // gdb inserts its breakpoints again
  if (timeline_->has_start()) {
    try {
      here_ = timeline_->goto_start();
      exited_ = false;
      attached_ = {focus()};
      cur_pid_ = focus();
      history_.clear();
      forks_seen_.clear();
      last_siginfo_.clear();
      last_stop_ = gdb::StopReason{};
      last_stop_.kind = gdb::StopReason::Kind::Signal;
      last_stop_.signo = SIGTRAP;
      last_stop_.tid = here_.tid;
      last_stop_.pid = focus();
      return true;
    } catch (const Error& e) {
      std::fprintf(stderr, "rrx: restoring the start failed (%s); replaying from scratch\n", e.what());
    }
  }
  timeline_.reset();
  session_.reset();
  start_session();
  return true;
}

}  // namespace rrx::replay
