#include "replay/replay_target.h"

#include <sys/user.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

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

ReplayTarget::ReplayTarget(ReplayOptions options, int focus_pid)
    : options_(std::move(options)), focus_pid_(focus_pid) {
  start_session();
}

int ReplayTarget::focus() const { return focus_pid_ != 0 ? focus_pid_ : session_->recorded_pid(); }

int ReplayTarget::focus_tid() {
  int cur = session_->current_tid();
  if (session_->has_task(cur) && session_->pid_of(cur) == focus()) return cur;
  auto tids = session_->tids_of(focus());
  return tids.empty() ? cur : tids.front();
}

ReplayTarget::~ReplayTarget() {
  // The checkpoints' frozen processes go before the session's live ones.
  timeline_.reset();
}

void ReplayTarget::start_session() {
  timeline_.reset();
  session_ = std::make_unique<ReplaySession>(options_);
  bps_ = std::make_unique<Breakpoints>(*session_, [this] { return focus(); });
  timeline_ = std::make_unique<Timeline>(*session_, *bps_, CheckpointPolicy::from_environment());
  session_->memory_write_hook = [this](int, uint64_t addr, uint64_t len) {
    return bps_->watches_writes_to(addr, len);
  };
  session_->new_task_hook = [this](int tid) { bps_->on_new_task(tid); };
  session_->address_space_hook = [this](int tid, bool exec) { bps_->on_address_space_change(tid, exec); };
  session_->checkpoint_fixup = [this](int pid, Task& frozen) { bps_->hide_in_copy(pid, frozen); };
  session_->start();
  if (focus_pid_ != 0 && focus_pid_ != session_->recorded_pid()) {
    // Replay without the debugger until the chosen process has exec'd.
    session_->exec_hook = [this](int tid) { return session_->pid_of(tid) == focus_pid_; };
    for (;;) {
      ReplaySession::Stop s = session_->cont();
      if (s.kind == ReplaySession::StopKind::Exec) break;
      if (s.kind == ReplaySession::StopKind::Exited || s.kind == ReplaySession::StopKind::TraceEnd) {
        throw Error("process " + std::to_string(focus_pid_) + " never ran a program in this recording");
      }
    }
    session_->exec_hook = nullptr;
  }
  // The end of the debugged process is the end of the recording for gdb:
  // it stays there (and reverse execution can start from it).
  session_->exit_hook = [this](int tid) { return !release_exit_ && session_->pid_of(tid) == focus(); };
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
  last_stop_.tid = session_->recorded_tid();
  last_stop_.pid = session_->recorded_pid();
  ReplaySession::Stop here;
  here.kind = ReplaySession::StopKind::EventReached;
  here.tid = session_->current_tid();
  here_ = timeline_->mark_here(here);
}

int ReplayTarget::pid() { return focus(); }
std::vector<int> ReplayTarget::threads() {
  if (exited_) return {};
  return session_->tids_of(focus());
}
int ReplayTarget::current_thread() { return focus_tid(); }
bool ReplayTarget::set_current_thread(int tid) {
  if (tid <= 0) return true;
  if (!session_->has_task(tid)) return false;
  session_->set_current_tid(tid);
  return true;
}
std::string ReplayTarget::thread_name(int tid) {
  std::string exe = session_->exe_of(tid);
  size_t slash = exe.rfind('/');
  std::string name = slash == std::string::npos ? exe : exe.substr(slash + 1);
  return name.substr(0, 15);
}

bool ReplayTarget::read_registers(int tid, gdb::ThreadRegisters& out) {
  if (exited_ || !session_->alive()) return false;
  Task& t = tid > 0 && session_->has_task(tid) ? session_->task(tid) : session_->task(focus_tid());
  out.gpr = t.regs();
  out.fpr = t.fpregs();
  out.has_avx = t.ymm_high(out.ymmh);
  return true;
}

size_t ReplayTarget::read_memory(uint64_t addr, void* buf, size_t len) {
  if (exited_ || !session_->alive()) return 0;
  size_t n = session_->task(focus_tid()).read_mem(addr, buf, len);
  bps_->hide_in(addr, buf, n);  // the program's bytes, not the breakpoints
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
  return bps_->insert(kind, addr, len);
}

bool ReplayTarget::remove_breakpoint(gdb::BreakpointKind kind, uint64_t addr, uint64_t len) {
  if (exited_ || !session_->alive()) return true;
  return bps_->remove(kind, addr, len);
}

gdb::StopReason ReplayTarget::translate(const ReplaySession::Stop& stop) {
  gdb::StopReason r;
  r.tid = stop.tid > 0 && session_->has_task(stop.tid) ? stop.tid : session_->current_tid();
  r.pid = focus();
  if (r.tid > 0 && session_->has_task(r.tid)) session_->set_current_tid(r.tid);
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
    case ReplaySession::StopKind::Exec:
      r.kind = gdb::StopReason::Kind::Signal;
      r.signo = SIGTRAP;
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
    case ReplaySession::StopKind::MemoryWatch: {
      r.kind = gdb::StopReason::Kind::Signal;
      r.signo = SIGTRAP;
      Breakpoints::Hit hit = bps_->classify_kernel_write(stop.watch_addr, stop.watch_len);
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
      exited_ = true;
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

gdb::StopReason ReplayTarget::resume(gdb::ResumeKind kind, int tid) {
  if (exited_) return last_stop_;
  if (kind == gdb::ResumeKind::ReverseContinue || kind == gdb::ResumeKind::ReverseStep) return reverse(kind, tid);
  ReplaySession::Stop stop;
  // Held at the end: going on lets the process exit (gdb then reports its
  // exit status, and reverse execution is over).
  release_exit_ = here_.process_ending;
  try {
    for (;;) {
      if (kind == gdb::ResumeKind::Continue) {
        stop = session_->cont();
      } else {
        stop = session_->step(tid > 0 && session_->has_task(tid) ? tid : focus_tid());
      }
      bool ours = stop.tid == 0 || session_->pid_of(stop.tid) == focus() || !session_->has_task(stop.tid);
      if (stop.kind == ReplaySession::StopKind::Exited || stop.kind == ReplaySession::StopKind::TraceEnd) break;
      if (session_->tids_of(focus()).empty()) {
        // The debugged process is gone; the others replay along.
        if (auto e = session_->process_exit(focus())) stop = *e;
        else stop.kind = ReplaySession::StopKind::TraceEnd;
        break;
      }
      if (ours && stop.kind != ReplaySession::StopKind::Exec) break;
      // A stop in another process of the tree: not the debugger's business.
    }
  } catch (const Divergence& d) {
    release_exit_ = false;
    std::fprintf(stderr, "rrx: %s\n", d.what());
    session_->kill();
    exited_ = true;
    last_stop_ = gdb::StopReason{};
    last_stop_.kind = gdb::StopReason::Kind::Terminated;
    last_stop_.signo = SIGKILL;
    return last_stop_;
  }
  release_exit_ = false;
  last_stop_ = translate(stop);
  last_siginfo_.clear();
  if (stop.kind == ReplaySession::StopKind::Signal || stop.kind == ReplaySession::StopKind::Trap ||
      stop.kind == ReplaySession::StopKind::Killing) {
    last_siginfo_.assign(reinterpret_cast<const char*>(&stop.siginfo), sizeof stop.siginfo);
  }
  if (!exited_) here_ = timeline_->mark_here(stop);
  return last_stop_;
}

gdb::StopReason ReplayTarget::stop_at(const Mark& at, gdb::StopReason::Kind kind) {
  here_ = at;
  if (session_->has_task(at.tid)) session_->set_current_tid(at.tid);
  last_siginfo_.clear();
  last_stop_ = gdb::StopReason{};
  last_stop_.kind = kind;
  last_stop_.signo = SIGTRAP;
  last_stop_.tid = session_->has_task(at.tid) ? at.tid : focus_tid();
  last_stop_.pid = focus();
  return last_stop_;
}

gdb::StopReason ReplayTarget::reverse(gdb::ResumeKind kind, int tid) {
  if (!timeline_->has_start()) {
    std::fprintf(stderr, "rrx: reverse execution is not available in this replay\n");
    return stop_at(here_, gdb::StopReason::Kind::Signal);
  }
  try {
    Timeline::Result r;
    if (kind == gdb::ResumeKind::ReverseContinue) {
      r = timeline_->reverse_continue(here_);
    } else {
      Mark from = here_;
      if (tid > 0 && tid != from.tid && session_->has_task(tid)) {
        from.tid = tid;  // another thread's previous instruction, from here
        from.regs = session_->task(tid).regs();
        from.process_ending = false;
      }
      r = timeline_->reverse_step(from);
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

std::string ReplayTarget::auxv() { return session_->auxv_of(focus_tid()); }

// The path the program ran as: the debugger reads it through file_for (the
// trace's copy), and shows the name the program had.
std::string ReplayTarget::exec_file() { return session_->exe_of(focus_tid()); }

const trace::RecordedFiles& ReplayTarget::recorded_files() {
  if (!files_) files_ = std::make_unique<trace::RecordedFiles>(options_.trace_dir);
  files_->read_until(session_->next_event());
  return *files_;
}

std::string ReplayTarget::file_for(int pid, const std::string& path, int& error) {
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
  std::ifstream maps("/proc/" + std::to_string(session_->task(focus_tid()).tid()) + "/maps");
  std::string line;
  while (std::getline(maps, line)) {
    gdb::MemoryRegion r;
    char perms[8] = {};
    unsigned long long start = 0, end = 0;
    int name_at = 0;
    if (std::sscanf(line.c_str(), "%llx-%llx %7s %*s %*s %*s %n", &start, &end, perms, &name_at) < 3) continue;
    r.start = start;
    r.end = end;
    r.readable = perms[0] == 'r';
    r.writable = perms[1] == 'w';
    r.executable = perms[2] == 'x';
    if (name_at > 0 && line[static_cast<size_t>(name_at)] == '[') r.name = line.substr(static_cast<size_t>(name_at));
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
  if (verb == "goto") {
    Mark at;
    if (!number(n)) {
      ok = false;
      return "usage: monitor goto EVENT (an event number from 1 to " +
             std::to_string(session_->event_count()) + ", as rrx dump numbers them)";
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
  Mark at;
  bool ok = checkpoint ? timeline_->restart_checkpoint(static_cast<int>(n), at, why)
                       : timeline_->goto_event(n, at, why);
  if (!ok) {
    why = "rrx: " + why;
    return false;
  }
  bps_->clear();  // gdb inserts its breakpoints again
  exited_ = false;
  stop_at(at, gdb::StopReason::Kind::Signal);
  std::fprintf(stderr, "rrx: now at event %llu, thread %d\n", static_cast<unsigned long long>(at.interval), at.tid);
  return true;
}

bool ReplayTarget::restart_at_start() {
  bps_->clear();  // gdb inserts its breakpoints again
  if (timeline_->has_start()) {
    try {
      here_ = timeline_->goto_start();
      exited_ = false;
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
