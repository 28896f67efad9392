// Checkpoints of a replay: a frozen fork of each replayed process, made by
// injecting clone() into it, plus the replay's own bookkeeping; restoring
// forks the frozen copies again (ReplaySession::checkpoint/restore).
#include <sys/ptrace.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sched.h>
#include <unistd.h>

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

struct Checkpoint::Data {
  struct Process {
    int pid = 0;                  // recorded
    int tid = 0;                  // recorded tid of its one thread
    std::unique_ptr<Task> frozen;
    user_regs_struct regs{};
    uint64_t scratch = 0;
    uint64_t clear_child_tid = 0;
    uint64_t robust_head = 0;
    uint64_t robust_len = 0;
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
  c.group_stop_sig = t.group_stop_sig;
  c.exiting = t.exiting;
  c.child_tid_addr = t.child_tid_addr;
  c.clear_child_tid = t.clear_child_tid;
  c.exe_path = t.exe_path;
  c.exe_copy = t.exe_copy;
  c.auxv = t.auxv;
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
  std::map<int, int> threads;
  for (auto& [tid, t] : tasks_) {
    if (++threads[t.pid] > 1) {
      return refuse("process " + std::to_string(t.pid) +
                    " has several threads (checkpoints of multi-threaded processes are not supported yet)");
    }
  }
  for (auto& [tid, t] : tasks_) {
    bool clean = t.cur.action == Action::None && t.next_resume == NextResume::Normal;
    bool waiting = skipper_->one_stop() && t.cur.action == Action::Emulate && t.cur.awaiting_exit_event &&
                   !t.cur.sigsuspend_for_real && !t.cur.rerun_pending && t.next_resume == NextResume::Normal;
    if (t.running || t.pending || !t.started || t.deliver_on_resume != 0 || t.injecting_signal != 0 ||
        t.sigkilled || (!clean && !waiting)) {
      return refuse("thread " + std::to_string(tid) + " is in the middle of a syscall or a signal");
    }
  }
  // Checkpoint copies outlive the processes they were forked from: their
  // orphans (and the replayed processes forked from them) come back to rrx.
  ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  std::shared_ptr<Checkpoint> cp(new Checkpoint());
  Checkpoint::Data& d = *cp->d_;
  for (auto& [tid, t] : tasks_) {
    Checkpoint::Data::Process p;
    p.pid = t.pid;
    p.tid = tid;
    p.regs = t.task->regs();
    p.scratch = p.regs.rip;
    p.clear_child_tid = t.clear_child_tid;
    struct robust_list_head* head = nullptr;
    size_t len = 0;
    if (::syscall(SYS_get_robust_list, t.task->tid(), &head, &len) == 0) {
      p.robust_head = reinterpret_cast<uint64_t>(head);
      p.robust_len = len;
    }
    p.frozen = fork_copy(*t.task, p.regs, p.scratch, 0);
    if (checkpoint_fixup) checkpoint_fixup(t.pid, *p.frozen);
    d.processes.push_back(std::move(p));
    d.tasks.emplace(tid, copy_state(t));
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
    std::unique_ptr<Task> task = fork_copy(*p.frozen, p.regs, p.scratch, p.clear_child_tid);
    if (p.robust_head != 0) {
      remote_syscall(*task, p.scratch, SYS_set_robust_list, {p.robust_head, p.robust_len});
    }
    RTask& t = tasks_[p.tid];
    t = copy_state(d.tasks.at(p.tid));
    t.live_pid = task->tid();
    t.task = std::move(task);
    live_to_recorded_[t.live_pid] = p.tid;
  }
  next_number_ = d.next_number;
  next_.reset();
  after_next_.reset();
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
