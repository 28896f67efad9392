// Checkpoints of a replay: a frozen fork of each replayed process, made by
// injecting clone() into it, plus the replay's own bookkeeping; restoring
// forks the frozen copies again (ReplaySession::checkpoint/restore).
#include <sys/ptrace.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sched.h>
#include <signal.h>
#include <linux/futex.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "core/remote_syscall.h"
#include "core/syscall_format.h"
#include "replay/event_text.h"
#include "replay/replay_session.h"
#include "replay/shared_memory.h"
#include "replay/skip_strategy.h"

namespace rrx::replay {

namespace {

uint64_t proportional_set_size(pid_t pid) {
  FILE* f = std::fopen(("/proc/" + std::to_string(pid) + "/smaps_rollup").c_str(), "r");
  if (!f) return 0;
  char line[256];
  uint64_t kb = 0;
  while (std::fgets(line, sizeof line, f)) {
    unsigned long long v;
    if (std::sscanf(line, "Pss: %llu kB", &v) == 1) {
      kb = v;
      break;
    }
  }
  std::fclose(f);
  return kb * 1024;
}

}  // namespace

// One thread of a frozen process, as restore() recreates it.
struct Checkpoint::Thread {
  int tid = 0;  // recorded
  user_regs_struct regs{};  // fs_base and gs_base (the TLS pointers) included
  std::string xstate;       // FP/SSE/AVX
  uint64_t sigmask = 0;
  stack_t altstack{};       // threads other than the forked one (fork keeps the leader's)
  uint64_t clear_child_tid = 0;
  uint64_t robust_head = 0;
  uint64_t robust_len = 0;
  std::string comm;
  // Sits at the entry stop of an emulated syscall whose result comes with
  // a later event (a futex wait), with a two-stop skip strategy: restore()
  // makes the copy enter that syscall again and skips it as before.
  int64_t reenter_nr = -1;
};

struct Checkpoint::Data {
  struct Process {
    int pid = 0;  // recorded
    std::unique_ptr<Task> frozen;
    uint64_t scratch = 0;
    // threads[0] is the thread the frozen copy was forked from (the
    // recorded main thread while it lives); restore() forks it again and
    // clones the others into the copy.
    std::vector<Thread> threads;
  };
  std::vector<Process> processes;
  std::map<int, ReplaySession::RTask> tasks;  // without their Task objects
  uint64_t next_number = 0;
  bool interval_start = false;
  int current_tid = 0;
  std::optional<ReplaySession::Stop> first_exit;
  std::map<int, ReplaySession::Stop> process_exits;
  std::filesystem::path exe_copy;
  std::shared_ptr<const SharedMemory::Snapshot> shared;
  std::string exe_path;
  std::string auxv;
  uint64_t memory = 0;
};

Checkpoint::Checkpoint() : d_(std::make_unique<Data>()) {}
Checkpoint::~Checkpoint() {
  for (auto& p : d_->processes) {
    if (p.frozen) kill_and_reap(p.frozen->tid());
  }
}
uint64_t Checkpoint::event() const { return d_->next_number; }
bool Checkpoint::at_interval_start() const { return d_->interval_start; }
uint64_t Checkpoint::memory_bytes() const { return d_->memory; }
size_t Checkpoint::thread_count() const { return d_->tasks.size(); }
void Checkpoint::measure() {
  d_->memory = 0;
  for (auto& p : d_->processes) d_->memory += proportional_set_size(p.frozen->tid());
}

ReplaySession::RTask ReplaySession::copy_state(const RTask& t) {
  RTask c;
  c.tid = t.tid;
  c.pid = t.pid;
  c.live_pid = 0;
  c.started = t.started;
  c.cur = t.cur;
  c.next_resume = t.next_resume;
  c.deliver_on_resume = t.deliver_on_resume;
  c.injecting_signal = t.injecting_signal;
  c.restart_nr = t.restart_nr;
  c.sigkilled = t.sigkilled;
  c.kill_reported = t.kill_reported;
  c.syscallbuf = t.syscallbuf;
  c.object_fds = t.object_fds;  // (the checkpoint's copy of the process has them)
  c.buffer_after_call = t.buffer_after_call;
  c.entered_traced = t.entered_traced;
  c.call_at_seccomp_stop = t.call_at_seccomp_stop;
  c.group_stop_sig = t.group_stop_sig;
  c.exiting = t.exiting;
  c.image_event = t.image_event;
  c.vfork_child = t.vfork_child;
  c.child_tid_addr = t.child_tid_addr;
  c.clear_child_tid = t.clear_child_tid;
  c.exe_path = t.exe_path;
  c.exe_copy = t.exe_copy;
  c.auxv = t.auxv;
  c.return_stub = t.return_stub;
  return c;
}

// A new process copied from `parent` (stopped, traced by rrx, with the
// parent's parent), whose thread gets `regs`.
std::unique_ptr<Task> ReplaySession::fork_copy(Task& parent, const user_regs_struct& regs, uint64_t scratch,
                                               uint64_t ctid) {
  pid_t child = 0;
  uint64_t flags = SIGCHLD | CLONE_PARENT | (ctid != 0 ? CLONE_CHILD_CLEARTID : 0);
  int64_t r = remote_syscall(parent, scratch, SYS_clone, {flags, 0, 0, ctid, 0}, &child);
  if (r < 0 || child <= 0) {
    throw Error(std::string("cannot copy a replayed process for a checkpoint: ") + std::strerror(static_cast<int>(-r)));
  }
  auto task = std::make_unique<Task>(child);
  task->set_regs(regs);
  return task;
}

// With a two-stop skip strategy, a task whose emulated syscall waits for a
// later event (a futex wait that blocked when recording) sits at that
// syscall's entry stop, the syscall skipped.
bool ReplaySession::waits_at_skipped_entry(const RTask& t) const {
  return !one_stop_at(t) && t.cur.action == Action::Emulate && t.cur.awaiting_exit_event &&
         !t.cur.sigsuspend_for_real && !t.cur.rerun_pending && !t.cur.at_exit_stop &&
         t.next_resume == NextResume::ToExit;
}

// Brings a stopped thread (at any stop but a syscall entry) to the entry
// stop of syscall `nr` made from the instruction before entry_regs.rip, and
// skips it there: the state a skipped syscall waiting for its result is in.
// The instruction is there for the moment if the code no longer holds it: a
// site patch of the fast path may have rewritten those bytes after the
// thread entered its call (a patch whose displaced range ends at the
// syscall's end leaves a thread blocked there alone).
void ReplaySession::enter_skipped(Task& task, const user_regs_struct& entry_regs, int64_t nr) {
  user_regs_struct r = entry_regs;
  r.rip -= 2;  // syscall is 0f 05
  r.rax = static_cast<uint64_t>(nr);
  r.orig_rax = static_cast<uint64_t>(-1);
  static const uint8_t kSyscall[2] = {0x0f, 0x05};
  uint8_t code[2] = {};
  const bool moved = task.read_exact(r.rip, code, sizeof code) && std::memcmp(code, kSyscall, sizeof code) != 0;
  if (moved && !task.write_mem(r.rip, kSyscall, sizeof kSyscall)) {
    throw Error("a checkpoint's thread " + std::to_string(task.tid()) + " cannot enter its syscall again");
  }
  struct PutBack {
    Task& task;
    uint64_t at;
    const uint8_t* code;
    bool on;
    ~PutBack() {
      if (on) task.write_mem(at, code, 2);
    }
  } put_back{task, r.rip, code, moved};
  task.set_regs(r);
  for (int round = 0;; ++round) {
    if (round > 16) throw Error("a checkpoint's thread " + std::to_string(task.tid()) + " did not enter its syscall again");
    task.resume_syscall(0);
    WaitStatus w = task.wait();
    if (w.kind == WaitStatus::Kind::Exited || w.kind == WaitStatus::Kind::Killed) {
      throw Error("a checkpoint's thread died entering its syscall again");
    }
    if (w.kind != WaitStatus::Kind::SyscallStop) continue;  // a seccomp event, or a live signal: dropped
    KernelSyscallInfo info = task.syscall_info();
    if (info.op == KernelSyscallInfo::kEntry && static_cast<int64_t>(info.entry.nr) == nr &&
        info.instruction_pointer == entry_regs.rip) {
      break;
    }
  }
  skipper_->skip(task);
  task.set_regs(entry_regs);
}

// remote_syscall in a replayed task, which stays in the state the replay
// left it in (back at its skipped syscall's entry, where it was there).
int64_t ReplaySession::inject(RTask& t, uint64_t scratch, long nr, std::initializer_list<uint64_t> args,
                              pid_t* child) {
  user_regs_struct saved = t.task->regs();
  // (Under the replay's seccomp filter, which traces every call from the
  // program's code: two stops instead of three.)
  int64_t r = remote_syscall(*t.task, scratch, nr, args, child, nullptr, seccomp_entries_ && child == nullptr);
  if (waits_at_skipped_entry(t)) enter_skipped(*t.task, saved, t.cur.nr);
  return r;
}

namespace {

std::string thread_comm(pid_t pid, pid_t tid) {
  FILE* f = std::fopen(("/proc/" + std::to_string(pid) + "/task/" + std::to_string(tid) + "/comm").c_str(), "r");
  if (!f) return "";
  char buf[64] = {};
  size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  std::string s(buf, n);
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

void set_thread_comm(pid_t pid, pid_t tid, const std::string& comm) {
  if (comm.empty()) return;
  FILE* f = std::fopen(("/proc/" + std::to_string(pid) + "/task/" + std::to_string(tid) + "/comm").c_str(), "w");
  if (!f) return;
  std::fputs(comm.c_str(), f);
  std::fclose(f);
}

}  // namespace

// A thread of process `leader` (a restored copy) in the role of `th`:
// cloned as a pthread is, with th's registers, FP/AVX state, signal mask,
// alternate signal stack, robust futex list and clear_child_tid address.
std::unique_ptr<Task> ReplaySession::clone_thread(Task& leader, uint64_t scratch, const Checkpoint::Thread& th) {
  // No CLONE_SETTLS (fs_base comes with the registers), no CLONE_*_SETTID
  // (the program's memory holds the recorded tid already).
  uint64_t flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM |
                   (th.clear_child_tid != 0 ? CLONE_CHILD_CLEARTID : 0);
  pid_t child = 0;
  int64_t r = remote_syscall(leader, scratch, SYS_clone, {flags, 0, 0, th.clear_child_tid, 0}, &child);
  if (r < 0 || child <= 0) {
    throw Error("cannot recreate thread " + std::to_string(th.tid) + " of a checkpoint: " +
                std::strerror(static_cast<int>(-r)));
  }
  auto task = std::make_unique<Task>(child);
  // Still on the leader's stack and registers: a clone with CLONE_VM starts
  // without an alternate stack, and the kernel refuses one while the thread
  // runs on it.
  if (!(th.altstack.ss_flags & SS_DISABLE)) {
    stack_t ss = th.altstack;
    ss.ss_flags &= ~SS_ONSTACK;
    StackScratch arg(*task, &ss, sizeof ss);
    remote_syscall(*task, scratch, SYS_sigaltstack, {arg.addr(), 0});
  }
  if (th.robust_head != 0) remote_syscall(*task, scratch, SYS_set_robust_list, {th.robust_head, th.robust_len});
  task->set_regs(th.regs);
  task->set_xstate(th.xstate);
  task->set_blocked_signals(th.sigmask);
  set_thread_comm(leader.tid(), child, th.comm);
  return task;
}

void ReplaySession::settle_new_tasks() {
  for (auto& [tid, t] : tasks_) {
    if (t.started || !(t.pending || t.running)) continue;
    WaitStatus w = take_stop(t);
    if (w.kind != WaitStatus::Kind::SignalStop) {
      t.pending = w;  // not the first stop of a new task: handled when it runs
      continue;
    }
    if (auto s = on_signal(t, w.sig, false)) held_stop_ = s;
  }
}

std::shared_ptr<Checkpoint> ReplaySession::checkpoint(std::string* why_not) {
  auto refuse = [&](const std::string& why) -> std::shared_ptr<Checkpoint> {
    if (why_not) *why_not = why;
    return nullptr;
  };
  if (!started_ || tasks_.empty()) return refuse("the replayed program is not running");
  if (!orphan_stops_.empty()) return refuse("a new task is being created");
  // A copy holds no preemption stub page: the recording had none there.
  drop_preempt_stub(true);
  // Nor the position target's: out while the copies are made, back after
  // (an automatic checkpoint at the start of the interval it is for).
  struct PositionAside {
    ReplaySession& s;
    std::optional<PositionTarget> target;
    uint64_t passes = 0;
    explicit PositionAside(ReplaySession& session) : s(session) {
      if (!s.position_stub_) return;
      if (!s.position_reached_) {
        target = s.position_;
        passes = s.position_passes();
      }
      s.clear_position_target();
    }
    ~PositionAside() {
      if (!target) return;
      if (target->trap_at_pass != 0) target->trap_at_pass -= std::min(passes, target->trap_at_pass - 1);
      try {
        if (s.set_position_target(*target)) s.position_pass_offset_ = passes;
      } catch (const Error&) {
      }
    }
  } position_aside(*this);
  std::map<int, std::vector<int>> threads_of;  // recorded pid -> tids, the one to fork from first
  for (auto& [tid, t] : tasks_) {
    // (Not at the seccomp stop of a call completed there: a copy would
    // start past the call, which the kernel has not made yet.)
    bool clean = t.cur.action == Action::None && t.next_resume == NextResume::Normal && !t.call_at_seccomp_stop;
    bool waiting = one_stop_at(t) && t.cur.action == Action::Emulate && t.cur.awaiting_exit_event &&
                   !t.cur.sigsuspend_for_real && !t.cur.rerun_pending && t.next_resume == NextResume::Normal;
    if (t.running || t.pending || !t.started || t.deliver_on_resume != 0 || t.injecting_signal != 0 ||
        t.sigkilled || t.kill_reported || t.exiting || (!clean && !waiting && !waits_at_skipped_entry(t))) {
      return refuse("thread " + std::to_string(tid) + " is in the middle of a syscall or a signal");
    }
    std::vector<int>& v = threads_of[t.pid];
    if (tid == t.pid) v.insert(v.begin(), tid);
    else v.push_back(tid);
  }
  // Checkpoint copies outlive the processes they were forked from: their
  // orphans (and the replayed processes forked from them) come back to rrx.
  ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  std::shared_ptr<Checkpoint> cp(new Checkpoint());
  Checkpoint::Data& d = *cp->d_;
  for (auto& [pid, tids] : threads_of) {
    Checkpoint::Data::Process p;
    p.pid = pid;
    RTask& first = tasks_.at(tids[0]);
    for (int tid : tids) {
      RTask& t = tasks_.at(tid);
      Checkpoint::Thread th;
      th.tid = tid;
      th.regs = t.task->regs();
      th.clear_child_tid = t.clear_child_tid;
      struct robust_list_head* head = nullptr;
      size_t len = 0;
      if (::syscall(SYS_get_robust_list, t.task->tid(), &head, &len) == 0) {
        th.robust_head = reinterpret_cast<uint64_t>(head);
        th.robust_len = len;
      }
      if (waits_at_skipped_entry(t)) th.reenter_nr = t.cur.nr;
      if (tid != tids[0]) {
        // fork() gives the copy the forking thread's FP state, mask and
        // alternate stack; the others' are kept here.
        th.xstate = t.task->xstate();
        th.sigmask = t.task->blocked_signals();
        th.comm = thread_comm(t.live_pid, t.task->tid());
        stack_t zero{};
        StackScratch out(*t.task, &zero, sizeof zero);
        int64_t r = inject(t, th.regs.rip, SYS_sigaltstack, {0, out.addr()});
        if (r != 0 || !t.task->read_exact(out.addr(), &th.altstack, sizeof th.altstack)) {
          th.altstack = stack_t{};
          th.altstack.ss_flags = SS_DISABLE;
        }
      }
      p.threads.push_back(std::move(th));
    }
    p.scratch = p.threads[0].regs.rip;
    user_regs_struct saved = first.task->regs();
    p.frozen = fork_copy(*first.task, p.threads[0].regs, p.scratch, 0);
    if (waits_at_skipped_entry(first)) enter_skipped(*first.task, saved, first.cur.nr);
    if (checkpoint_fixup) checkpoint_fixup(pid, *p.frozen);
    for (int tid : tids) d.tasks.emplace(tid, copy_state(tasks_.at(tid)));
    d.processes.push_back(std::move(p));
  }
  d.next_number = next_number_;
  d.interval_start = at_interval_start_;
  d.current_tid = current_tid_;
  d.first_exit = first_exit_;
  d.process_exits = process_exits_;
  d.exe_copy = exe_copy_;
  d.exe_path = exe_path_;
  d.auxv = auxv_;
  std::map<int, Task*> live;
  for (auto& [tid, t] : tasks_) live[tid] = t.task.get();
  d.shared = shared_->snapshot(live);
  cp->measure();
  return cp;
}

void ReplaySession::restore(const Checkpoint& cp) {
  const Checkpoint::Data& d = *cp.d_;
  kill();
  orphan_stops_.clear();
  for (const auto& p : d.processes) {
    const Checkpoint::Thread& first = p.threads[0];
    std::unique_ptr<Task> leader = fork_copy(*p.frozen, first.regs, p.scratch, first.clear_child_tid);
    if (first.robust_head != 0) {
      remote_syscall(*leader, p.scratch, SYS_set_robust_list, {first.robust_head, first.robust_len});
    }
    pid_t live_pid = leader->tid();
    std::vector<std::pair<const Checkpoint::Thread*, std::unique_ptr<Task>>> made;
    for (size_t i = 1; i < p.threads.size(); ++i) {
      made.emplace_back(&p.threads[i], clone_thread(*leader, p.scratch, p.threads[i]));
    }
    made.emplace(made.begin(), &first, std::move(leader));
    for (auto& [th, task] : made) {
      if (th->reenter_nr >= 0) enter_skipped(*task, th->regs, th->reenter_nr);
      RTask& t = tasks_[th->tid];
      t = copy_state(d.tasks.at(th->tid));
      t.live_pid = live_pid;
      t.task = std::move(task);
      live_to_recorded_[t.task->tid()] = th->tid;
    }
  }
  next_number_ = d.next_number;
  next_.reset();
  lookahead_.clear();
  reader_->seek(next_number_);
  at_interval_start_ = d.interval_start;
  last_interval_hook_ = next_number_;
  current_tid_ = d.current_tid;
  first_exit_ = d.first_exit;
  process_exits_ = d.process_exits;
  exe_copy_ = d.exe_copy;
  exe_path_ = d.exe_path;
  auxv_ = d.auxv;
  std::map<int, Task*> live;
  for (auto& [tid, t] : tasks_) live[tid] = t.task.get();
  shared_->restore(*d.shared, live);
  watched_write_.reset();
  syscall_exit_.reset();
  held_stop_.reset();
  exec_stop_tid_ = 0;
  step_over_syscall_tid_ = 0;
  // interrupt_requested_ stays: a ^C that came while a reverse search
  // restored this checkpoint stops the replay from it (Timeline).
}

}  // namespace rrx::replay
