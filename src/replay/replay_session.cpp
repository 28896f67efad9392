#include "replay/replay_session.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/personality.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <cstddef>
#include <sys/wait.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <pthread.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <utility>
#include <vector>

#include "core/cpu_binding.h"
#include "core/forced_signal.h"
#include "core/hash.h"
#include "core/initial_stack.h"
#include "core/output_digest.h"
#include "core/syscall_format.h"
#include "core/syscall_table.h"
#include "core/syscallbuf_abi.h"
#include "core/vdso.h"
#include "replay/event_text.h"
#include "replay/mmap_return.h"
#include "replay/shared_memory.h"
#include "replay/syscallbuf_replay.h"
#include <sys/shm.h>
#include "replay/skip_strategy.h"
#include "trace_format/format.h"
#include "trace_format/recorded_call.h"
#include "trace_format/regs_codec.h"
#include "trace_format/trace_dir.h"
#include "trace_format/verified_hashes.h"

namespace rrx::replay {

namespace fs = std::filesystem;

namespace {

using trace::recorded_call;

std::string data_str(capnp::Data::Reader d) { return trace::data_string(d); }

// Thrown when the program needs an event and the trace has none left.
struct TraceEnded {};


// Which of rrx's outputs a recorded call wrote to: 1 (stdout), 2 (stderr) or
// 0. Traces from before kSyscallToStdout/Stderr marked only writes to fds 1
// and 2 and meant that fd.
int recorded_output_stream(schema::Syscall::Reader rec) {
  const uint32_t flags = rec.getFlags();
  if (!(flags & trace::kSyscallToOutput)) return 0;
  if (flags & trace::kSyscallToStderr) return 2;
  if (flags & trace::kSyscallToStdout) return 1;
  auto args = rec.getArgs();
  const uint64_t fd = args.size() > 0 ? args[0] : 0;
  return fd == 1 || fd == 2 ? static_cast<int>(fd) : 0;
}

}  // namespace

std::string describe_event(schema::Event::Reader ev) {
  switch (ev.which()) {
    case schema::Event::SYSCALL: return sys::format_call(recorded_call(ev.getSyscall(), false));
    case schema::Event::SYSCALL_ENTRY: return sys::syscall_name(ev.getSyscallEntry().getNr()) + "(...) entry";
    case schema::Event::SIGNAL: return "signal " + sys::signal_name(ev.getSignal().getSigno());
    case schema::Event::RDTSC: return "rdtsc";
    case schema::Event::EXEC: return "exec of " + std::string(ev.getExec().getExePath().cStr());
    case schema::Event::CLONE: return "clone";
    case schema::Event::EXIT: {
      auto e = ev.getExit();
      if (e.getSigno() != 0) return "death by " + sys::signal_name(e.getSigno());
      return "exit with status " + std::to_string(e.getStatus());
    }
    case schema::Event::PREEMPTION: return "preemption";
    case schema::Event::WARNING: return "warning";
    case schema::Event::JOB_STOP: {
      auto j = ev.getJobStop();
      return (j.getResumed() ? "the end of a group-stop by " : "a group-stop by ") + sys::signal_name(j.getSigno());
    }
    case schema::Event::CPUID: {
      auto c = ev.getCpuid();
      char buf[64];
      std::snprintf(buf, sizeof buf, "cpuid leaf 0x%x subleaf 0x%x at 0x%llx", c.getLeaf(), c.getSubleaf(),
                    static_cast<unsigned long long>(c.getIp()));
      return buf;
    }
    case schema::Event::RANDOM_INSNS: return "rdrand/rdseed sites";
    case schema::Event::SITE_PATCH: return "patch of the syscall site 0x" + fmt_hex(ev.getSitePatch().getSite());
    case schema::Event::CPUID_PATCHES: return "the cpuid table and cpuid site patches";
    case schema::Event::TSC_PATCHES: return "rdtsc site patches";
    case schema::Event::PRELOAD_EARLY: return "the syscall buffer's early set-up";
    case schema::Event::TRACER_STOP: {
      auto s = ev.getTracerStop();
      switch (s.getKind()) {
        case schema::TracerStop::Kind::SYSCALL_ENTRY: return "stop for its tracer at a syscall entry";
        case schema::TracerStop::Kind::SIGNAL: return "stop for its tracer at signal " + sys::signal_name(s.getSigno());
        case schema::TracerStop::Kind::STEP: return "single step for its tracer";
      }
      return "stop for its tracer";
    }
    case schema::Event::TRACER_RESUME: return "resumed by its tracer";
  }
  return "an event of an unknown kind";
}

std::string fmt_hex(uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%llx", static_cast<unsigned long long>(v));
  return buf;
}

Divergence::Divergence(uint64_t event, int tid, const std::string& expected, const std::string& actual,
                       const std::string& note)
    : Error("replay divergence at event " + std::to_string(event) + " (thread " + std::to_string(tid) +
            "):\n  recorded: " + expected + "\n  replayed: " + actual +
            (note.empty() ? std::string() : "\n  possible cause: " + note)),
      event_(event) {}

namespace {

// Exit statuses of rrx's own children (gdb) that the replay's waitpid(-1)
// collected; debug_command asks for them.
std::map<pid_t, int>& foreign_exits() {
  static std::map<pid_t, int> exits;
  return exits;
}

}  // namespace

bool same_position_regs(const user_regs_struct& a, const user_regs_struct& b) {
  // RF and TF come from how the task was stopped (single-step or not), also
  // in r11, where the syscall instruction saves the flags.
  constexpr uint64_t kIgnoredFlags = 0x10100;
  return a.rip == b.rip && a.rsp == b.rsp && a.rbp == b.rbp && a.rax == b.rax && a.rbx == b.rbx &&
         a.rcx == b.rcx && a.rdx == b.rdx && a.rsi == b.rsi && a.rdi == b.rdi && a.r8 == b.r8 &&
         a.r9 == b.r9 && a.r10 == b.r10 && (a.r11 & ~kIgnoredFlags) == (b.r11 & ~kIgnoredFlags) &&
         a.r12 == b.r12 && a.r13 == b.r13 &&
         a.r14 == b.r14 && a.r15 == b.r15 && (a.eflags & ~kIgnoredFlags) == (b.eflags & ~kIgnoredFlags);
}

std::optional<int> reaped_foreign_status(pid_t pid) {
  auto it = foreign_exits().find(pid);
  if (it == foreign_exits().end()) return std::nullopt;
  return it->second;
}

ReplaySession::ReplaySession(ReplayOptions options) : options_(std::move(options)) {
  debug_log_ = std::getenv("RRX_DEBUG_REPLAY") != nullptr;
  if (std::getenv("RRX_REPLAY_STATS")) stats_ = std::make_unique<ReplayStats>();
  if (const char* v = std::getenv("RRX_PREEMPT_STUB")) preempt_stub_off_ = std::string(v) == "0";
  reader_ = std::make_unique<trace::TraceReader>(options_.trace_dir);
  shared_ = std::make_unique<SharedMemory>([this](const std::string& hash) { return stored_copy(hash); });
  copies_ = std::make_unique<MappedCopies>(options_.trace_dir);
  if (reader_->end()) {
    for (const trace::SharedObjectEnd& o : reader_->end()->shared_objects) {
      if (o.unchanged) unchanged_objects_.emplace(o.object, std::string());
    }
  }
  if (const char* mode = std::getenv("RRX_SYSCALLBUF_REPLAY"); !mode || std::string(mode) != "stops") {
    buffer_feed_ = std::make_unique<BufferFeed>();
  }
  SkipStrategy strategy;
  if (options_.skip) {
    strategy = *options_.skip;
    if (!skip_strategy_supported(strategy)) {
      throw Error(std::string("the syscall-skip strategy '") + skip_strategy_name(strategy) +
                  "' is not supported by this kernel (" + kernel_release() + ")");
    }
  } else {
    strategy = best_skip_strategy();
  }
  if (reader_->aborted()) {
    throw Error("cannot replay " + options_.trace_dir.string() + ": " + reader_->incomplete_reason() +
                " (`rrx dump` shows the events recorded before that)");
  }
  skipper_ = make_skipper(strategy);
  auto h = reader_->header();
  file_hash_kind_ = h.getFileHash() == schema::Header::FileHash::PAGES ? trace::FileHashKind::Pages
                                                                       : trace::FileHashKind::Stream;
  if (h.getCpu().getVendor() != cpu_identity().vendor) {
    std::cerr << "rrx: warning: recorded on a " << h.getCpu().getVendor().cStr()
              << " CPU, replaying on " << cpu_identity().vendor
              << "; programs that check CPU features may diverge\n";
  }
  check_cpuid_faulting();
  if (!options_.cpu_unbound && !cpu_unbound_by_environment()) {
    // One CPU, as the recording ran (cpuid answers the program read
    // natively name the recorded one): see core/cpu_binding.h.
    const int32_t recorded = h.getBoundCpu();
    bind_to_one_cpu(recorded >= 0 ? std::optional<int>(recorded) : std::nullopt, nullptr);
  }
}

ReplaySession::~ReplaySession() {
  kill();
  for (auto& [hash, fd] : file_fds_) ::close(fd);
}

SkipStrategy ReplaySession::strategy() const { return skipper_->strategy(); }

void ReplaySession::kill() {
  drop_preempt_stub(false);
  if (position_stub_) {
    position_stub_->abandon();
    position_stub_.reset();
  }
  // Threads are reaped before their leaders: a leader's death is only
  // reported once its other threads are gone.
  for (auto& [tid, t] : tasks_) ::kill(t.task->tid(), SIGKILL);
  for (auto& [tid, t] : tasks_) {
    if (t.task->tid() != t.live_pid) kill_and_reap(t.task->tid());
  }
  for (auto& [tid, t] : tasks_) {
    if (t.task->tid() == t.live_pid) kill_and_reap(t.task->tid());
  }
  tasks_.clear();
  live_to_recorded_.clear();
}

std::vector<int> ReplaySession::tids() const {
  std::vector<int> out;
  for (const auto& [tid, t] : tasks_) out.push_back(tid);
  return out;
}

std::vector<int> ReplaySession::tids_of(int pid) const {
  std::vector<int> out;
  for (const auto& [tid, t] : tasks_) {
    if (t.pid == pid) out.push_back(tid);
  }
  return out;
}

bool ReplaySession::has_task(int tid) const { return tasks_.count(tid) != 0; }

Task& ReplaySession::task(int tid) {
  auto it = tasks_.find(tid);
  if (it == tasks_.end()) {
    if (tasks_.empty()) throw Error("the replayed program is gone");
    it = tasks_.begin();
  }
  return *it->second.task;
}

int ReplaySession::pid_of(int tid) const {
  auto it = tasks_.find(tid);
  return it == tasks_.end() ? 0 : it->second.pid;
}

std::string ReplaySession::auxv_of(int tid) const {
  auto it = tasks_.find(tid);
  return it == tasks_.end() ? auxv_ : it->second.auxv;
}

fs::path ReplaySession::exe_copy_of(int tid) const {
  auto it = tasks_.find(tid);
  return it == tasks_.end() ? exe_copy_ : it->second.exe_copy;
}

std::optional<ReplaySession::Stop> ReplaySession::process_exit(int pid) const {
  auto it = process_exits_.find(pid);
  if (it == process_exits_.end()) return std::nullopt;
  return it->second;
}

std::string ReplaySession::exe_of(int tid) const {
  auto it = tasks_.find(tid);
  return it == tasks_.end() ? exe_path_ : it->second.exe_path;
}

uint64_t ReplaySession::image_of(int tid) const {
  auto it = tasks_.find(tid);
  return it == tasks_.end() ? 0 : it->second.image_event;
}

// The trace's copy of a file the replay executes or maps, checked against
// its recorded hash the first time: a damaged copy would make the program
// fault or compute something else, far from the cause.
fs::path ReplaySession::stored_copy(const std::string& hash) {
  if (auto it = verified_copies_.find(hash); it != verified_copies_.end()) return it->second;
  fs::path p = trace::verified_stored_file(options_.trace_dir, hash, file_hash_kind_);
  verified_copies_.emplace(hash, p);
  return p;
}

ReplaySession::RTask& ReplaySession::rtask(int tid) {
  auto it = tasks_.find(tid);
  if (it == tasks_.end()) fatal("no replayed task " + std::to_string(tid));
  return it->second;
}

bool ReplaySession::load_next() {
  if (!next_) {
    if (!lookahead_.empty()) {
      next_ = std::move(lookahead_.front());
      lookahead_.pop_front();
    } else {
      next_ = reader_->next();
    }
  }
  return next_.has_value();
}

std::optional<schema::Event::Reader> ReplaySession::peek_own_next(int tid, size_t limit) {
  if (!load_next()) return std::nullopt;
  for (size_t i = 0; i <= limit; ++i) {
    if (i == lookahead_.size()) {
      std::optional<trace::EventRecord> more = reader_->next();
      if (!more) return std::nullopt;
      lookahead_.push_back(std::move(*more));
    }
    auto ev = lookahead_[i].get();
    if (ev.getTid() == tid) return ev;
  }
  return std::nullopt;
}

const trace::EventRecord* ReplaySession::event_ahead(uint64_t k) {
  if (!load_next()) return nullptr;
  if (k == 0) return &*next_;
  while (lookahead_.size() < k) {
    auto r = reader_->next();
    if (!r) return nullptr;
    lookahead_.push_back(std::move(*r));
  }
  return &lookahead_[k - 1];
}

void ReplaySession::consume() {
  if (stats_ && next_) stats_->event(stats_label(next_->get()));
  next_.reset();
  ++next_number_;
  at_interval_start_ = true;
}

// The next event, skipping warnings, the rdrand/rdseed sites (kept for
// divergence messages) and, where this replay cannot trap cpuid, cpuid
// events. Throws TraceEnded when there is none.
schema::Event::Reader ReplaySession::peek() {
  for (;;) {
    if (!load_next()) throw TraceEnded{};
    auto ev = next_->get();
    if (ev.which() == schema::Event::WARNING) {
      consume();
      continue;
    }
    if (ev.which() == schema::Event::RANDOM_INSNS) {
      note_random_insns(ev);
      consume();
      continue;
    }
    if (ev.which() == schema::Event::CPUID && cpuid_untrapped_) {
      consume();  // the live cpuid ran natively (check_cpuid_faulting)
      continue;
    }
    return ev;
  }
}

std::string ReplaySession::describe_expected() {
  if (!load_next()) return "the end of the trace";
  return describe_event(next_->get());
}

void ReplaySession::diverge(const std::string& expected, const std::string& actual) {
  throw Divergence(next_number_, current_tid_, expected, actual, random_insns_note());
}

ReplaySession::RTask& ReplaySession::task_for_event(schema::Event::Reader ev) {
  auto it = tasks_.find(ev.getTid());
  if (it == tasks_.end()) {
    diverge(describe_event(ev) + " in thread " + std::to_string(ev.getTid()),
            "no such thread in the replay");
  }
  return it->second;
}

struct ReplaySession::SpawnArgs {
  std::vector<std::string> argv_s, env_s;
  std::vector<char*> argv, envp;
  std::string exe, cwd;
  unsigned long persona = 0;
  InheritedSignals inherited{};
  bool filter = false;  // install the trace-all filter (seccomp_entries.cpp) before the exec
  const MappedCopies* copies = nullptr;
};

void ReplaySession::spawn() {
  auto h = reader_->header();
  if (!load_next()) {
    throw Error("the trace " + options_.trace_dir.string() + " holds no events" +
                (reader_->complete() ? std::string() : " (incomplete: " + reader_->incomplete_reason() + ")"));
  }
  if (next_->get().which() != schema::Event::EXEC) {
    throw Error("the trace " + options_.trace_dir.string() + " does not start with an exec event");
  }
  auto first = next_->get();
  auto exec = first.getExec();
  exe_copy_ = stored_copy(exec.getExeHash().cStr());
  exe_path_ = exec.getExePath().cStr();
  if (exec.hasInterpPath() && exec.getInterpPath().size() > 0) {
    // The kernel loads the dynamic loader from the file system: check it is the recorded one.
    std::string interp = exec.getInterpPath().cStr();
    std::string hash;
    try {
      hash = trace::VerifiedHashes::shared().hash_of(interp, file_hash_kind_);
    } catch (const Error&) {
      // Missing or unreadable: not the recorded one either.
    }
    if (hash != exec.getInterpHash().cStr()) {
      std::cerr << "rrx: warning: the dynamic loader " << interp
                << " is not the one that was recorded; the replay may diverge\n";
    }
  }
  // Everything the child reads, built here: it shares rrx's memory and
  // may not allocate (core/pre_exec_child.h).
  auto args = std::make_unique<SpawnArgs>();
  for (auto a : h.getArgv()) args->argv_s.emplace_back(a.cStr());
  for (auto e : h.getEnvp()) args->env_s.emplace_back(e.cStr());
  for (auto& a : args->argv_s) args->argv.push_back(a.data());
  args->argv.push_back(nullptr);
  for (auto& e : args->env_s) args->envp.push_back(e.data());
  args->envp.push_back(nullptr);
  args->cwd = h.getCwd().cStr();
  args->persona = h.getPersonality();
  args->inherited = InheritedSignals{h.getIgnoredSignals(), h.getBlockedSignals()};
  seccomp_entries_ = want_seccomp_entries();
  args->filter = skipper_->strategy() == SkipStrategy::SetInfoExit || seccomp_entries_;
  args->exe = exe_copy_.string();
  args->copies = copies_.get();

  auto child = std::make_unique<PreExecChild>();
  const SpawnArgs* a = args.get();
  pid_t pid = child->start([a] {
    ::ptrace(PTRACE_TRACEME, 0, nullptr, nullptr);
    ::personality(a->persona);
    ::prctl(PR_SET_TSC, PR_TSC_SIGSEGV, 0, 0, 0);
    struct rlimit no_core = {0, 0};
    ::setrlimit(RLIMIT_CORE, &no_core);  // a recorded crash must not write a core file again
    // (The recorded cwd may not exist here; its syscalls are emulated anyway.
    // Raw syscalls where one may fail: errno is rrx's, core/pre_exec_child.h.)
    raw_syscall(SYS_chdir, reinterpret_cast<long>(a->cwd.c_str()));
    apply_signal_state(a->inherited);  // as the recorded program started
    // Its own process group: ^C in the terminal is for rrx and gdb, never
    // for the replayed program (its signals come from the trace).
    raw_syscall(SYS_setpgid, 0, 0);
    if (!a->copies->install_in_child()) _exit(127);
    // Stopped until rrx has set its options (PTRACE_O_TRACESECCOMP before
    // the filter's first SECCOMP_RET_TRACE). Not raise(): see pre_exec_child.h.
    raw_syscall(SYS_kill, raw_syscall(SYS_getpid), SIGSTOP);
    if (a->filter && !install_trace_all_filter()) _exit(126);
    raw_syscall(SYS_execve, reinterpret_cast<long>(a->exe.c_str()), reinterpret_cast<long>(a->argv.data()),
                reinterpret_cast<long>(a->envp.data()));
    _exit(127);
  });
  spawn_args_ = std::move(args);
  spawn_child_ = std::move(child);
  RTask& t = tasks_[first.getTid()];
  t.task = std::make_unique<Task>(pid);
  t.tid = first.getTid();
  t.pid = first.getPid();
  t.live_pid = pid;
  t.started = true;
  t.exe_path = exe_path_;
  first_pid_ = t.pid;
  current_tid_ = t.tid;
  live_to_recorded_[pid] = t.tid;
  WaitStatus w = t.task->wait();
  if (w.kind != WaitStatus::Kind::SignalStop || w.sig != SIGSTOP) {
    throw Error("the replayed program did not start under ptrace (" + w.describe() + ")");
  }
  t.task->set_options(PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEEXEC | PTRACE_O_TRACECLONE |
                      PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_TRACEEXIT |
                      PTRACE_O_EXITKILL | (spawn_args_->filter ? PTRACE_O_TRACESECCOMP : 0));
}

void ReplaySession::start() {
  try {
    start_program();
  } catch (const TraceEnded&) {
    throw Error("the trace " + options_.trace_dir.string() + " ends before the program started");
  }
}

void ReplaySession::start_program() {
  spawn();
  RTask& t = rtask(current_tid_);
  // Run rrx's child code up to the exec; the exec event applies the recorded image.
  while (!started_) {
    t.task->resume_syscall(0);
    WaitStatus w = t.task->wait();
    if (w.kind == WaitStatus::Kind::EventStop && w.event == PTRACE_EVENT_EXEC) {
      on_exec(t);
    } else if (w.kind == WaitStatus::Kind::Exited || w.kind == WaitStatus::Kind::Killed) {
      tasks_.clear();
      throw Error("cannot run the recorded program " + exe_copy_.string() + " (" + w.describe() + ")");
    } else if (w.kind == WaitStatus::Kind::SignalStop && w.sig != SIGSTOP) {
      // A fault while the kernel loads the program (a file it cannot map):
      // resuming without the signal would fault again forever.
      throw Error("the recorded program " + exe_copy_.string() + " got " + sys::signal_name(w.sig) +
                  " before it started");
    }
  }
  // The execve's exit stop.
  t.task->resume_syscall(0);
  WaitStatus w = t.task->wait();
  if (w.kind != WaitStatus::Kind::SyscallStop) throw Error("unexpected stop after exec: " + w.describe());
  enable_cpuid_trap(t);
  t.cur = RTask::Current{};
  t.next_resume = NextResume::Normal;
  at_interval_start_ = true;
}

void ReplaySession::on_exec(RTask& t) {
  auto ev = peek();
  if (ev.which() != schema::Event::EXEC || ev.getTid() != t.tid) diverge(describe_event(ev), "an exec");
  auto exec = ev.getExec();
  t.cpuid_untrapped = exec.getCpuidUntrapped();
  t.object_fds.clear();  // (opened close-on-exec)
  if (exec.getFormerTid() != 0 && exec.getFormerTid() != t.tid && has_task(exec.getFormerTid())) {
    // Another thread exec'd and the kernel gave it the process id: its
    // state continues under this tid; the old main thread is gone.
    RTask& former = rtask(exec.getFormerTid());
    t.cur = former.cur;
    t.started = true;
    live_to_recorded_.erase(former.task->tid());
    tasks_.erase(exec.getFormerTid());
    t.pending.reset();
  }
  t.task->reopen_mem();
  auto stack = exec.getStack();
  auto data = stack.getData();
  uint64_t recorded_top = stack.getAddr() + data.size();
  user_regs_struct live = t.task->regs();
  uint64_t live_top = mapping_end(t.task->tid(), live.rsp);
  if (live_top != recorded_top) {
    diverge("a stack ending at 0x" + fmt_hex(recorded_top),
            "a stack ending at 0x" + fmt_hex(live_top) + " (is address-space randomization forced on?)");
  }
  if (!t.task->write_mem(stack.getAddr(), data.begin(), data.size())) {
    throw Error("cannot write the recorded initial stack into the replayed program");
  }
  t.task->set_regs(trace::regs_from_schema(ev.getRegs()));
  // The vDSO, patched as the recorder patched it (traces that hid it have
  // no AT_SYSINFO_EHDR).
  if (uint64_t vdso = auxv_vdso(data_str(exec.getAuxv()))) {
    uint64_t live_vdso = kernel_vdso(t.task->tid());
    if (live_vdso != vdso) {
      diverge("the vDSO at 0x" + fmt_hex(vdso), "the vDSO at 0x" + fmt_hex(live_vdso));
    }
    patch_vdso(*t.task, vdso);
    t.return_stub = seccomp_entries_ ? vdso_spare_bytes(*t.task, vdso, kMmapReturnStubBytes) : 0;
    t.return_stub_checked = false;
  } else {
    t.return_stub = 0;
  }
  t.exe_path = exec.getExePath().cStr();
  t.exe_copy = trace::stored_file_path(options_.trace_dir, exec.getExeHash().cStr());
  t.auxv = data_str(exec.getAuxv());
  t.clear_child_tid = 0;  // the kernel forgets it at exec
  t.syscallbuf = 0;
  t.image_event = next_number_;
  if (started_ && exec_hook && exec_hook(t.tid)) exec_stop_tid_ = t.tid;
  if (!started_ || t.pid == first_pid_) {
    auxv_ = data_str(exec.getAuxv());
    exe_copy_ = trace::stored_file_path(options_.trace_dir, exec.getExeHash().cStr());
    exe_path_ = t.exe_path;
  }
  started_ = true;
  if (address_space_hook) address_space_hook(t.tid, true);
  t.cur = RTask::Current{};
  t.cur.action = Action::Exec;  // the execve's exit stop follows
  t.next_resume = NextResume::ToExit;
  consume();
}

void ReplaySession::request_interrupt() {
  interrupt_requested_ = true;
  pid_t live = running_live_tid_;
  if (live != 0) ::syscall(SYS_tgkill, live, live, SIGSTOP);
}

ReplaySession::Stop ReplaySession::cont() { return run(false, 0); }
ReplaySession::Stop ReplaySession::step(int tid) { return run(true, tid == 0 ? current_tid_ : tid); }

void ReplaySession::inject_async_signal_if_due(RTask& t) {
  if (t.injecting_signal != 0 || !load_next()) return;
  auto ev = next_->get();
  if (ev.getTid() != t.tid || ev.which() != schema::Event::SIGNAL || ev.getSignal().getSynchronous()) return;
  t.injecting_signal = ev.getSignal().getSigno();
  ::syscall(SYS_tgkill, t.live_pid, t.task->tid(), t.injecting_signal);
}

// The kernel's rule for a syscall that ended with a restart code (-512
// ERESTARTSYS, -513 ERESTARTNOINTR, -514 ERESTARTNOHAND, -516
// ERESTART_RESTARTBLOCK): the code never reaches the program. On the way
// back to user mode a handler runs (then EINTR or a restart, by SA_RESTART),
// or no signal is delivered to this thread (another thread of the process
// took the one that woke it, or it was ignored) and the call restarts: ip
// back onto the syscall instruction, rax = the syscall number (or
// restart_syscall). The recording shows the restart code and then the
// call's entry again. When the replay resumes such a task without a signal
// to deliver, rrx restarts the call itself, and sets orig_rax to -1 so that
// the kernel does not restart it a second time for a stray signal.
void ReplaySession::restart_if_no_signal(RTask& t, int64_t nr, int sig) {
  if (nr < 0 || sig != 0 || t.injecting_signal != 0) return;
  user_regs_struct r = t.task->regs();
  int64_t ret = static_cast<int64_t>(r.rax);
  if (!sys::is_restart_return(ret)) return;
  r.rax = ret == -516 ? static_cast<uint64_t>(SYS_restart_syscall) : static_cast<uint64_t>(nr);
  r.rip -= 2;  // syscall is 0f 05
  r.orig_rax = static_cast<uint64_t>(-1);
  t.task->set_regs(r);
}

// Whether a syscall entry stop of t is one where the kernel skipped the
// call already (sysemu), rather than one it runs from when resumed.
bool ReplaySession::skipped_at_entry(const RTask& t) const {
  return skipper_->strategy() == SkipStrategy::Sysemu && !t.entered_traced;
}

bool ReplaySession::one_stop_at(const RTask& t) const { return skipper_->one_stop() && !t.entered_traced; }

// Whether t's next event is a syscall of its own that runs for real (mmap,
// mprotect, rt_sigaction, clone, execve, exit...). Under sysemu such a call
// costs four stops (the skipped entry, its exit, the entry of the call
// issued again, its exit); resumed with PTRACE_SYSCALL instead, it enters
// for real: two. Any other call made there (a divergence) is skipped at
// that entry and completed at its exit stop, as the two-stop strategies do.
bool ReplaySession::next_runs_for_real(RTask& t) {
  // Records fed to its buffer come first: then the event after them. (A
  // fed call the library makes for real must pass the seccomp filter: it
  // goes on with PTRACE_CONT, as for a call that runs for real.)
  const trace::EventRecord* next = nullptr;
  if (buffer_feed_ && buffer_feed_->executes()) return true;
  if (buffer_feed_ && buffer_feed_->pending()) {
    next = buffer_feed_->after_fed();
  } else if (load_next()) {
    next = &*next_;
  }
  if (!next) return false;
  auto ev = next->get();
  if (ev.getTid() != t.tid) return false;
  switch (ev.which()) {
    case schema::Event::SYSCALL: {
      auto rec = ev.getSyscall();
      auto rargs = rec.getArgs();
      if (rargs.size() != 6) return false;
      uint64_t args[6];
      for (unsigned i = 0; i < 6; ++i) args[i] = rargs[i];
      return action_for(&rec, rec.getNr(), args) != Action::Emulate;
    }
    case schema::Event::EXEC: return ev.getExec().getFormerTid() == 0;
    case schema::Event::CLONE: return true;
    default: return false;
  }
}

namespace {

// Whether the instruction at ip is pushf (0x9c after operand-size and REX prefixes).
bool pushf_at(Task& task, uint64_t ip) {
  uint8_t b[4];
  if (!task.read_exact(ip, b, sizeof b)) return false;
  for (uint8_t c : b) {
    if (c == 0x66 || (c >= 0x40 && c <= 0x4f)) continue;
    return c == 0x9c;
  }
  return false;
}

// The trap flag (bit 8) out of the flags a single-stepped pushf left at rsp.
void clear_pushed_trap_flag(Task& task) {
  const uint64_t at = task.regs().rsp + 1;  // bit 8: the second byte
  uint8_t b;
  if (!task.read_exact(at, &b, 1) || !(b & 1)) return;
  b &= ~uint8_t{1};
  task.write_mem(at, &b, 1);
}

}  // namespace

void ReplaySession::resume(RTask& t, bool step) {
  at_interval_start_ = false;
  t.stepped_pushf = false;
  int sig = t.deliver_on_resume;
  t.deliver_on_resume = 0;
  t.group_stop_sig = 0;
  int64_t restart_nr = std::exchange(t.restart_nr, -1);
  const bool entered_traced = std::exchange(t.entered_traced, false);
  t.call_at_seccomp_stop = false;
  try {
    switch (t.next_resume) {
      case NextResume::ToExit:
        t.task->resume_syscall(sig);
        break;
      case NextResume::RunForReal:
        if (entered_traced) t.task->resume_syscall(sig);  // it runs from its entry stop
        else skipper_->run_for_real(*t.task);
        t.next_resume = NextResume::ToExit;
        break;
      case NextResume::Normal: {
        // A recorded asynchronous signal that is due now is sent even while
        // another is delivered: the recorder records two signals in a row
        // only when the first runs no code (ignored), so both were taken at
        // the same point.
        inject_async_signal_if_due(t);
        // A group-stop of its process comes next: the live kernel has the
        // stop pending and decides about the restart itself after it.
        bool stop_next = load_next() && next_->get().which() == schema::Event::JOB_STOP &&
                         next_->get().getTid() == t.tid && !next_->get().getJobStop().getResumed();
        if (!stop_next) restart_if_no_signal(t, restart_nr, sig);
        bool single = step;
        if (step) {
          size_t len = 0;
          if (special_instruction_at(*t.task, t.task->regs().rip, &len) == SpecialInsn::Syscall) {
            // A single-step would run the syscall untraced: let it stop at the syscall instead.
            single = skipper_->strategy() == SkipStrategy::Sysemu;
            step_over_syscall_tid_ = t.tid;
          }
        }
        if (!step && skipper_->strategy() == SkipStrategy::Sysemu && next_runs_for_real(t)) {
          if (seccomp_entries_) {
            // It stops at the call's seccomp stop, before the call runs.
            t.entered_traced = true;
            t.task->resume_cont(sig);
            break;
          }
          if (t.task->syscall_info().op == KernelSyscallInfo::kEntry) {
            // At the entry stop of a call sysemu skipped (and that is
            // complete): resumed with PTRACE_SYSCALL, it stops at its exit
            // first, before any of its code runs.
            t.task->resume_syscall(sig);
            sig = 0;
            t.running = true;
            WaitStatus w = wait_for(t);
            if (w.kind != WaitStatus::Kind::SyscallStop) {
              t.pending = w;
              return;
            }
          }
          t.entered_traced = true;
          t.task->resume_syscall(sig);
        } else {
          if (single) t.stepped_pushf = pushf_at(*t.task, t.task->regs().rip);
          skipper_->resume(*t.task, single, sig);
        }
        break;
      }
    }
  } catch (const Error&) {
    // The task is dying (killed with its thread group): its death comes next.
  }
  t.running = true;
}

void ReplaySession::stash(pid_t live, const WaitStatus& w) {
  auto it = live_to_recorded_.find(live);
  if (it == live_to_recorded_.end()) {
    if (w.kind == WaitStatus::Kind::Exited || w.kind == WaitStatus::Kind::Killed) {
      // Not a task of the replay: rrx's own child (gdb).
      foreign_exits()[live] = w.kind == WaitStatus::Kind::Exited ? w.exit_code : 128 + w.sig;
    } else {
      orphan_stops_[live] = w;  // a new task whose clone event is still to come
    }
    return;
  }
  RTask& u = rtask(it->second);
  // The seccomp stop of a call it entered, while another task's event is
  // replayed (an exec from a multi-threaded process): not an event either.
  if (w.kind == WaitStatus::Kind::EventStop && w.event == PTRACE_EVENT_SECCOMP && pass_seccomp_stop(u)) return;
  if ((u.cur.action == Action::Exec || u.cur.action == Action::Exit) && u.cur.rerun_pending &&
      w.kind == WaitStatus::Kind::SyscallStop) {
    // sysemu: an exec or exit re-issued to run for real while another
    // task's event is being replayed (exec from a multi-threaded process,
    // exit_group ending siblings). Its stale exit and its new entry are not
    // events: keep it going into the exec or the exit.
    try {
      if (u.task->syscall_info().op == KernelSyscallInfo::kEntry) u.cur.rerun_pending = false;
      u.task->resume_syscall(0);
      u.next_resume = NextResume::ToExit;
      u.running = true;
      return;
    } catch (const Error&) {
    }
  }
  u.pending = w;
  u.running = false;
}

namespace {

// SIGCHLD held in this thread (rrx's other threads hold every signal) while
// it polls for a tracee's stop, so that await() sleeps until one comes.
class ChildSignalHeld {
 public:
  explicit ChildSignalHeld(bool hold) : held_(hold) {
    if (!held_) return;
    sigemptyset(&chld_);
    sigaddset(&chld_, SIGCHLD);
    held_ = ::pthread_sigmask(SIG_BLOCK, &chld_, &old_) == 0;
  }
  ~ChildSignalHeld() {
    if (held_) ::pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  ChildSignalHeld(const ChildSignalHeld&) = delete;
  ChildSignalHeld& operator=(const ChildSignalHeld&) = delete;
  // Sleeps until a SIGCHLD is pending (taking it) or `most` has passed.
  void await(std::chrono::nanoseconds most) {
    struct timespec ts {static_cast<time_t>(most.count() / 1000000000), static_cast<long>(most.count() % 1000000000)};
    if (held_) {
      ::sigtimedwait(&chld_, nullptr, &ts);
    } else {
      ::nanosleep(&ts, nullptr);
    }
  }

 private:
  bool held_;
  sigset_t chld_{};
  sigset_t old_{};
};

}  // namespace

WaitStatus ReplaySession::wait_for(RTask& t) { return *wait_until(t, std::nullopt); }

// The next stop of `t`, stashing the stops of other tasks that come first;
// with a deadline, polls and gives up then (nullopt).
std::optional<WaitStatus> ReplaySession::wait_until(RTask& t,
                                                    std::optional<std::chrono::steady_clock::time_point> deadline) {
  if (!deadline) running_live_tid_ = t.task->tid();
  // With a deadline: the kernel's SIGCHLD for a tracee's stop or death wakes
  // the wait (held while polling, so one sent between the poll and the
  // sleep stays pending); a poll every 2 ms all the same. (A sleep that
  // doubled from 20 us overslept a process's exit by up to its own length.)
  ChildSignalHeld held(deadline.has_value());
  for (;;) {
    int status = 0;
    pid_t r = ::waitpid(-1, &status, __WALL | (deadline ? WNOHANG : 0));
    if (r < 0) {
      if (errno == EINTR) continue;
      running_live_tid_ = 0;
      throw_errno("waitpid");
    }
    if (r == 0) {
      auto now = std::chrono::steady_clock::now();
      if (now >= *deadline) return std::nullopt;
      held.await(std::min<std::chrono::nanoseconds>(*deadline - now, std::chrono::milliseconds(2)));
      continue;
    }
    WaitStatus w = WaitStatus::decode(status);
    if (stats_) stats_->stop();
    if (r == t.task->tid()) {
      running_live_tid_ = 0;
      t.running = false;
      if (debug_log_) {
        std::fprintf(stderr, "rrx-debug: event %llu tid %d: %s\n", static_cast<unsigned long long>(next_number_),
                     t.tid, w.describe().c_str());
      }
      return w;
    }
    stash(r, w);
  }
}

// The task's next stop: one already seen, or the next to come.
WaitStatus ReplaySession::take_stop(RTask& t) {
  if (t.pending) {
    WaitStatus w = *t.pending;
    t.pending.reset();
    return w;
  }
  return wait_for(t);
}

void ReplaySession::remove_task(RTask& t) {
  live_to_recorded_.erase(t.task->tid());
  int tid = t.tid;
  tasks_.erase(tid);
  if (current_tid_ == tid && !tasks_.empty()) {
    // Prefer another task of the same process, else any.
    current_tid_ = tasks_.begin()->first;
  }
}

double ReplaySession::replay_seconds() const {
  double s = busy_seconds_;
  if (run_started_) s += std::chrono::duration<double>(std::chrono::steady_clock::now() - *run_started_).count();
  return s;
}

ReplaySession::Stop ReplaySession::run(bool step, int step_tid) {
  struct BusyClock {
    ReplaySession& s;
    bool outer;
    explicit BusyClock(ReplaySession& session) : s(session), outer(!session.run_started_) {
      if (outer) s.run_started_ = std::chrono::steady_clock::now();
    }
    ~BusyClock() {
      if (!outer) return;
      s.busy_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - *s.run_started_).count();
      s.run_started_.reset();
    }
  } busy(*this);
  if (tasks_.empty()) {
    Stop s;
    s.kind = StopKind::Exited;
    if (first_exit_) s = *first_exit_;
    return s;
  }
  // (A thread cont() single-steps for single_step_hook keeps its step over
  // a syscall instruction across the Stepped stops of the others.)
  if (step || !single_step_hook || step_over_syscall_tid_ == 0 || !has_task(step_over_syscall_tid_) ||
      !single_step_hook(step_over_syscall_tid_)) {
    step_over_syscall_tid_ = 0;
  }
  // Why the stub could not serve a preemption point may be gone by now (gdb
  // took out its breakpoint there, or the replay went back): each run tries
  // again.
  preempt_slow_event_ = UINT64_MAX;
  try {
    for (;;) {
      if (interrupt_requested_.exchange(false)) {
        Stop s;
        s.kind = StopKind::Interrupted;
        s.sig = SIGINT;
        s.tid = current_tid_;
        return s;
      }
      if (stop_at_event_ && next_number_ >= *stop_at_event_) {
        Stop s;
        s.kind = StopKind::EventReached;
        s.tid = current_tid_;
        return s;
      }
      if (at_interval_start_ && interval_start_hook && last_interval_hook_ != next_number_) {
        last_interval_hook_ = next_number_;
        interval_start_hook();
      }
      if (auto s = advance(step, step_tid)) return *s;
    }
  } catch (const TraceEnded&) {
    // The trace ended while tasks are alive.
    kill();
    Stop s;
    s.kind = StopKind::TraceEnd;
    return s;
  }
}

std::optional<ReplaySession::Stop> ReplaySession::advance(bool step, int step_tid) {
  auto ev = peek();
  RTask& t = task_for_event(ev);
  bool stepping = step ? t.tid == step_tid : single_step_hook && single_step_hook(t.tid);

  switch (ev.which()) {
    case schema::Event::SYSCALL_ENTRY:
      if (t.cur.action != Action::None && !t.cur.awaiting_exit_event && !t.cur.rerun_pending) {
        // The entry of the syscall the task is already in: the recorder gave
        // it an event of its own when the task went on waiting in the kernel.
        if (ev.getSyscallEntry().getNr() != t.cur.nr) {
          diverge(describe_event(ev), sys::syscall_name(t.cur.nr) + " in progress");
        }
        t.cur.awaiting_exit_event = true;
        consume();
        return std::nullopt;
      }
      break;
    case schema::Event::SYSCALL:
      if (t.cur.entry_deferred && !t.running && !t.pending) {
        start_deferred_syscall(t, ev.getSyscall());
        break;
      }
      if (t.cur.awaiting_exit_event && !t.running && !t.pending && t.cur.action == Action::Emulate &&
          !t.cur.sigsuspend_for_real &&
          take_signal_for_real(t, t.cur.nr, t.cur.args, ev.getSyscall().getRet())) {
        break;  // it runs now; its exit stop completes it
      }
      if (t.cur.awaiting_exit_event && !t.running && !t.pending && one_stop_at(t) &&
          t.cur.action == Action::Emulate && !t.cur.sigsuspend_for_real) {
        // One-stop skip: the task still sits at the syscall's entry.
        finish_syscall(t, ev.getSyscall(), 0);
        consume();
        t.cur = RTask::Current{};
        t.next_resume = NextResume::Normal;
        // step() over this syscall instruction ends with its result.
        if (stepping && step_over_syscall_tid_ == t.tid) return stepped_over_syscall(t);
        return syscall_exit_to_report(t);
      }
      if (t.cur.exit_held && !t.running && !t.pending) {
        current_tid_ = t.tid;
        if (exit_hook && exit_hook(t.tid)) {
          Stop s;
          s.kind = StopKind::ProcessEnding;
          s.tid = t.tid;
          return s;
        }
        t.cur.exit_held = false;
        consume();  // exit never returns; the exit event follows
      }
      break;
    case schema::Event::EXIT:
      if (ev.getExit().getSigno() == SIGKILL && !t.sigkilled && process_killed_first_at(t)) {
        // A process killed while it ran stops first, as at the delivery of
        // any fatal signal: its last state can be looked at, and reverse
        // execution starts from there (a live process cannot be stopped
        // before SIGKILL; the replay knows it comes).
        t.kill_reported = true;
        current_tid_ = t.tid;
        Stop s;
        s.kind = StopKind::Killing;
        s.tid = t.tid;
        s.sig = SIGKILL;
        s.siginfo.si_signo = SIGKILL;
        s.siginfo.si_code = SI_USER;
        return s;
      }
      if (ev.getExit().getSigno() == SIGKILL && !t.sigkilled) {
        // Killed by another task (whose kill() replay emulates) or from
        // outside: SIGKILL has no delivery stop to replay, so rrx sends it.
        t.sigkilled = true;
        ::syscall(SYS_tgkill, t.live_pid, t.task->tid(), SIGKILL);
      }
      return await_death(t, ev);
    case schema::Event::EXEC:
      if (ev.getExec().getFormerTid() != 0 && ev.getExec().getFormerTid() != t.tid) {
        // Another thread of t's process is exec'ing: the kernel is ending
        // t (the old main thread). Its stops until the exec are not events,
        // and it is not resumed: the exec's SIGKILL takes it out of its stop.
        for (;;) {
          WaitStatus w = take_stop(t);
          if (w.kind == WaitStatus::Kind::EventStop && w.event == PTRACE_EVENT_EXEC) {
            current_tid_ = t.tid;
            return dispatch(t, w, false);
          }
          if (w.kind == WaitStatus::Kind::EventStop && w.event == PTRACE_EVENT_EXIT) {
            try {
              t.task->resume_cont(0);
            } catch (const Error&) {
            }
            t.running = true;
          }
          if (w.kind == WaitStatus::Kind::Exited || w.kind == WaitStatus::Kind::Killed) {
            diverge(describe_event(ev), "the process's main thread died before the exec");
          }
        }
      }
      break;
    case schema::Event::SITE_PATCH:
      // Right after the syscall of the same task: it sits at that call's exit.
      if (t.running || t.pending) diverge(describe_event(ev), "thread " + std::to_string(t.tid) + " running");
      current_tid_ = t.tid;
      apply_site_patch(t, ev.getSitePatch());
      consume();
      return std::nullopt;
    case schema::Event::CPUID_PATCHES:
      // At an exec's exit stop, or right after the thread's cpuid event.
      if (t.running || t.pending) diverge(describe_event(ev), "thread " + std::to_string(t.tid) + " running");
      current_tid_ = t.tid;
      apply_cpuid_patches(t, ev.getCpuidPatches());
      consume();
      return std::nullopt;
    case schema::Event::PRELOAD_EARLY:
      // Right after the mmap of the library's last segment (or a clone) of the same task.
      if (t.running || t.pending) diverge(describe_event(ev), "thread " + std::to_string(t.tid) + " running");
      current_tid_ = t.tid;
      apply_preload_early(t, ev.getPreloadEarly());
      consume();
      return std::nullopt;
    case schema::Event::TSC_PATCHES:
      // At an exec's exit stop, or right after the mmap/mprotect of the same task.
      if (t.running || t.pending) diverge(describe_event(ev), "thread " + std::to_string(t.tid) + " running");
      current_tid_ = t.tid;
      apply_tsc_patches(t, ev.getTscPatches());
      consume();
      return std::nullopt;
    case schema::Event::TRACER_STOP:
      current_tid_ = t.tid;
      return reach_tracer_stop(t, ev);
    case schema::Event::TRACER_RESUME:
      current_tid_ = t.tid;
      apply_tracer_resume(t, ev);
      return std::nullopt;
    case schema::Event::PREEMPTION:
      // A thread still inside a call (an exec whose exit stop is to come:
      // the kernel sets its result register on the way out) is first taken
      // to that exit below; a preemption at the new program's first
      // instruction is then found where it stands.
      if (!t.running && !t.pending && t.next_resume == NextResume::Normal) {
        if (at_preemption_point(t, ev)) return std::nullopt;
        // A single-step goes one instruction towards it, like any other.
        // So does a run to a position target of this interval (every
        // position of the interval comes before its end): the target's stub
        // alone (position_target.cpp).
        if (!stepping && !position_applies(t)) {
          std::optional<WaitStatus> other = run_to_preemption(t, ev);
          if (!other) return std::nullopt;
          t.pending = *other;  // dispatched below
        }
      }
      break;
    case schema::Event::JOB_STOP:
      // The end of a group-stop: the task, held in its stop since the
      // recorded one, goes on with its next event. A group-stop that the
      // live task already sits in is taken as it is; otherwise the task is
      // resumed into it (on_group_stop).
      if (ev.getJobStop().getResumed() ||
          (!t.running && !t.pending && t.group_stop_sig == ev.getJobStop().getSigno())) {
        consume();
        return std::nullopt;
      }
      break;
    default:
      break;
  }

  bool fed = false;
  bool aimed = false;  // the position target's stub is in (position_target.cpp)
  if (!t.pending && !t.running) {
    bool aim = !stepping && position_applies(t);
    // (Stop-free calls would take the thread past the interval unchecked.)
    fed = feed_buffer(t, stepping || aim);
    if (aim) {
      if (std::optional<WaitStatus> on_the_way = position_step_out(t)) {
        t.pending = *on_the_way;  // dispatched below
      } else {
        position_arm(t);
        aimed = true;
      }
    }
    if (!t.pending) resume(t, stepping);
    if (fed && !t.pending) buffer_feed_->read_ahead([this](uint64_t k) { return event_ahead(k); });
  }
  WaitStatus w = take_stop(t);
  if (fed) w = take_buffer(t, w);
  current_tid_ = t.tid;
  if (aimed) {
    PreemptStub::Hit hit = position_after_stop(t, w);
    if (hit == PreemptStub::Hit::Matched) return position_stop(t);
    if (hit == PreemptStub::Hit::JumpedIn) return std::nullopt;  // stepped past the patch next time round
  }
  try {
    return dispatch(t, w, stepping);
  } catch (const Divergence&) {
    throw;
  } catch (const TaskGone& gone) {
    // Killed while rrx handled its stop (a sibling's exit_group): its exit
    // stop or death comes next.
    if (gone.tid() != t.task->tid()) throw;
    t.running = true;
    return std::nullopt;
  } catch (const Error&) {
    errno = 0;
    if (::ptrace(PTRACE_PEEKUSER, t.task->tid(), nullptr, nullptr) != -1 || errno != ESRCH) throw;
    t.running = true;
    return std::nullopt;
  }
}

// The end of step() over a syscall instruction. The syscall saved the flags
// in r11 with the trap flag of the single-step: take it out, so that the
// state is the one a continue through the same syscall leaves.
ReplaySession::Stop ReplaySession::stepped_over_syscall(RTask& t) {
  step_over_syscall_tid_ = 0;
  user_regs_struct r = t.task->regs();
  if (r.r11 & 0x100) {
    r.r11 &= ~uint64_t{0x100};
    t.task->set_regs(r);
  }
  Stop s;
  s.kind = StopKind::Stepped;
  s.tid = t.tid;
  return s;
}

std::optional<ReplaySession::Stop> ReplaySession::dispatch(RTask& t, const WaitStatus& w, bool step) {
  // What a syscall stop has to report: a stop a handler decided on, a
  // watched write, the end of a step over the syscall.
  auto syscall_stop_to_report = [&]() -> std::optional<Stop> {
    if (held_stop_) {
      Stop s = *held_stop_;
      held_stop_.reset();
      return s;
    }
    if (watched_write_ && t.next_resume == NextResume::Normal && t.cur.action == Action::None) {
      Stop s;
      s.kind = StopKind::MemoryWatch;
      s.tid = t.tid;
      s.watch_addr = watched_write_->first;
      s.watch_len = watched_write_->second;
      watched_write_.reset();
      return s;
    }
    if (auto s = syscall_exit_to_report(t)) return s;
    if (step && step_over_syscall_tid_ == t.tid && t.cur.action == Action::None &&
        t.next_resume == NextResume::Normal) {
      return stepped_over_syscall(t);
    }
    return std::nullopt;
  };
  switch (w.kind) {
    case WaitStatus::Kind::SyscallStop: {
      KernelSyscallInfo info = t.task->syscall_info();
      if (debug_log_) {
        std::fprintf(stderr, "rrx-debug:   op %d nr %lld rip 0x%llx rerun %d\n", info.op,
                     static_cast<long long>(info.entry.nr), static_cast<unsigned long long>(info.instruction_pointer),
                     t.cur.rerun_pending);
      }
      if (info.op == KernelSyscallInfo::kEntry) {
        if (auto s = report_syscall_entry(t, w, static_cast<int64_t>(info.entry.nr), step)) return s;
        on_entry(t, info);
      } else if (info.op == KernelSyscallInfo::kExit) {
        on_exit(t, info);
        if (t.vfork_child != 0 && t.cur.action == Action::None) {
          t.vfork_child = 0;
          if (!held_stop_ && vfork_done_hook && vfork_done_hook(t.tid)) {
            Stop s;
            s.kind = StopKind::VforkDone;
            s.tid = t.tid;
            held_stop_ = s;
          }
        }
      }
      return syscall_stop_to_report();
    }
    case WaitStatus::Kind::EventStop:
      if (w.event == PTRACE_EVENT_SECCOMP) {
        if (pass_seccomp_stop(t)) return std::nullopt;
        KernelSyscallInfo info = t.task->syscall_info();
        if (auto s = report_syscall_entry(t, w, static_cast<int64_t>(info.seccomp.nr), step)) return s;
        on_entry(t, info);
        return syscall_stop_to_report();
      }
      if (w.event == PTRACE_EVENT_EXEC) {
        on_exec(t);
        if (exec_stop_tid_ != 0) {
          Stop s;
          s.kind = StopKind::Exec;
          s.tid = exec_stop_tid_;
          exec_stop_tid_ = 0;
          return s;
        }
      } else if (w.event == PTRACE_EVENT_EXIT) {
        t.next_resume = NextResume::ToExit;
        t.exiting = true;
      } else if (w.event == PTRACE_EVENT_CLONE || w.event == PTRACE_EVENT_FORK ||
                 w.event == PTRACE_EVENT_VFORK) {
        int child = on_clone(t, w.event);
        if (w.event != PTRACE_EVENT_CLONE && fork_hook && fork_hook(t.tid, child, w.event == PTRACE_EVENT_VFORK)) {
          Stop s;
          s.kind = StopKind::Forked;
          s.tid = t.tid;
          s.child_tid = child;
          s.vfork = w.event == PTRACE_EVENT_VFORK;
          return s;
        }
      }
      return std::nullopt;
    case WaitStatus::Kind::TrapStop:
      // Only a PTRACE_SEIZEd task reports these; replay's are PTRACE_TRACEME'd.
      throw Error("unexpected " + w.describe() + " of thread " + std::to_string(t.tid));
    case WaitStatus::Kind::SignalStop:
      return on_signal(t, w.sig, step);
    case WaitStatus::Kind::Exited:
    case WaitStatus::Kind::Killed:
      return on_death(t, w);
  }
  return std::nullopt;
}

// The syscall a task is making, strace-style, with its string arguments.
std::string ReplaySession::describe_live_call(RTask& t, int64_t nr, const uint64_t args[6]) {
  sys::RecordedCall c;
  c.nr = nr;
  std::memcpy(c.args, args, sizeof c.args);
  c.has_ret = false;
  if (const sys::SyscallDesc* d = sys::lookup(nr)) {
    for (int i = 0; i < 6; ++i) {
      if ((d->args[i] == sys::Arg::Path || d->args[i] == sys::Arg::Str) && args[i] != 0) {
        c.strings.emplace_back(i, t.task->read_string(args[i]));
      }
    }
  }
  return sys::format_call(c);
}

// A syscall entry against its recorded event (Syscall or SyscallEntry): the
// number, every argument the table does not mark Ignored, and the strings
// behind path and name arguments. `check_args_too` is false for a call rrx
// refused while recording (its arguments never mattered). `recorded_text()`
// describes the recorded call, only for a divergence.
template <typename Recorded, typename Text>
void ReplaySession::check_call(RTask& t, Recorded rec, const Text& recorded_text, bool check_args_too,
                               int64_t nr, const uint64_t args[6]) {
  if (rec.getNr() != nr) diverge(recorded_text(), describe_live_call(t, nr, args));
  const sys::SyscallDesc* desc = sys::lookup(nr);
  if (!desc || !check_args_too) return;
  auto rargs = rec.getArgs();
  int n = desc->arg_count();
  for (int i = 0; i < n && i < static_cast<int>(rargs.size()); ++i) {
    sys::Arg kind = desc->args[i];
    if (kind == sys::Arg::Ignored) continue;
    if (rargs[static_cast<unsigned>(i)] != args[i]) diverge(recorded_text(), describe_live_call(t, nr, args));
    if ((kind == sys::Arg::Path || kind == sys::Arg::Str) && args[i] != 0) {
      std::string live = t.task->read_string(args[i]);
      for (auto str : rec.getStrings()) {
        if (str.getArg() == i && data_str(str.getValue()) != live) {
          diverge(recorded_text(), describe_live_call(t, nr, args));
        }
      }
    }
  }
}

void ReplaySession::check_args(RTask& t, schema::Syscall::Reader rec, int64_t nr, const uint64_t args[6]) {
  check_call(
      t, rec, [&] { return sys::format_call(recorded_call(rec, false)); },
      !(rec.getFlags() & trace::kSyscallRefused), nr, args);
}

void ReplaySession::check_entry_args(RTask& t, schema::SyscallEntry::Reader rec, int64_t nr,
                                     const uint64_t args[6]) {
  auto text = [&] {
    sys::RecordedCall r;
    r.nr = rec.getNr();
    auto rargs = rec.getArgs();
    for (unsigned i = 0; i < 6 && i < rargs.size(); ++i) r.args[i] = rargs[i];
    for (auto str : rec.getStrings()) r.strings.emplace_back(str.getArg(), data_str(str.getValue()));
    r.has_ret = false;
    return sys::format_call(r);
  };
  check_call(t, rec, text, true, nr, args);
}

// The memory the call wrote, as it was at the recorded exit: the caller's,
// or another replayed process's where the write names one (process_vm_writev,
// /proc/P/mem), at this same point of the event order.
void ReplaySession::write_recorded_memory(RTask& t, schema::Syscall::Reader rec) {
  for (auto w : rec.getMemWrites()) {
    auto d = w.getData();
    if (d.size() == 0) continue;
    const int owner = w.getTid() != 0 ? w.getTid() : t.tid;
    if (!has_task(owner)) {
      diverge(sys::format_call(recorded_call(rec, true)),
              "no replayed task " + std::to_string(owner) + " whose memory the call wrote");
    }
    if (!rtask(owner).task->write_mem(w.getAddr(), d.begin(), d.size())) {
      diverge(sys::format_call(recorded_call(rec, true)),
              "a program whose memory at 0x" + fmt_hex(w.getAddr()) + " cannot be written" +
                  (owner != t.tid ? " (in task " + std::to_string(owner) + ")" : ""));
    }
    if (memory_write_hook && !watched_write_ && memory_write_hook(owner, w.getAddr(), d.size())) {
      watched_write_ = std::make_pair(w.getAddr(), static_cast<uint64_t>(d.size()));
    }
  }
}

// The bytes a recorded write/send carried (the syscall table's `sends`
// column) against those the replayed program passes: a different checksum
// means the program computed other output, a divergence at this call. Then
// the bytes that went to rrx's stdout or stderr while recording are written
// again to that one, in the order of the events.
void ReplaySession::check_sent_data(RTask& t, schema::Syscall::Reader rec) {
  const sys::SyscallDesc* desc = sys::lookup(t.cur.nr);
  if (!desc || desc->sends.shape == sys::Sends::None || rec.getIsError()) return;
  const int stream = options_.echo_output ? recorded_output_stream(rec) : 0;
  if (!rec.getHasDataCrc() && stream == 0) return;
  sys::CallView call{t.cur.nr, {}, rec.getRet()};
  std::memcpy(call.args, t.cur.args, sizeof call.args);
  TaskMemReader mem(*t.task);
  std::optional<std::string> bytes;
  std::optional<SentDigest> digest;
  if (stream != 0) {
    bytes = sent_bytes(*desc, call, mem);
    if (bytes) digest = SentDigest{crc32c(bytes->data(), bytes->size()), bytes->size()};
  } else {
    digest = sent_digest(*desc, call, mem);
  }
  if (rec.getHasDataCrc() && (!digest || digest->crc != rec.getDataCrc())) {
    std::string recorded = sys::format_call(recorded_call(rec, true)) + ", data crc 0x" + fmt_hex(rec.getDataCrc());
    std::string live_call = describe_live_call(t, t.cur.nr, t.cur.args);
    if (live_call.ends_with(" = ?")) live_call.resize(live_call.size() - 4);
    if (!digest) diverge(recorded, live_call + " from memory that cannot be read");
    if (!bytes) bytes = sent_bytes(*desc, call, mem);
    diverge(recorded, live_call + " with other bytes: " + sys::quote_bytes(bytes.value_or(""), 64) + " (" +
                          std::to_string(digest->bytes) + " bytes, data crc 0x" + fmt_hex(digest->crc) + ")");
  }
  if (stream == 0 || !bytes) return;
  echo(stream, reinterpret_cast<const uint8_t*>(bytes->data()), bytes->size());
}

// What the recording wrote to rrx's stdout (stream 1) or stderr (2), written again.
void ReplaySession::echo(int stream, const uint8_t* bytes, size_t len) {
  size_t done = 0;
  while (done < len) {
    ssize_t n = ::write(stream, bytes + done, len - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
}

void ReplaySession::redirect_exec(RTask& t, const std::string& hash, int64_t nr) {
  // Run the copy kept in the trace, whatever the program asked for: the
  // file may have changed since. The path goes below the red zone.
  std::string path = stored_copy(hash).string();
  user_regs_struct r = t.task->regs();
  uint64_t addr = (r.rsp - 256 - path.size() - 1) & ~uint64_t{15};
  if (!t.task->write_mem(addr, path.c_str(), path.size() + 1)) throw Error("cannot redirect exec");
  if (nr == SYS_execve) {
    r.rdi = addr;
  } else {  // execveat(dirfd, path, argv, envp, flags)
    r.rdi = static_cast<uint64_t>(AT_FDCWD);
    r.rsi = addr;
    r.r8 &= ~static_cast<uint64_t>(AT_EMPTY_PATH);
  }
  t.task->set_regs(r);
}

// A syscall that waits with a temporary signal mask (pselect6, ppoll,
// epoll_pwait, rt_sigsuspend) and was interrupted by a signal when recorded:
// the signal could only be delivered under that mask. Emulating the call
// would leave the signal blocked, so it runs as rt_sigsuspend with the same
// mask, and the recorded signal is raised for it to return on. The kernel
// then restores the mask after the handler exactly as it did when recording.
bool ReplaySession::take_signal_for_real(RTask& t, int64_t nr, const uint64_t args[6], int64_t recorded_ret) {
  if (recorded_ret != -EINTR && recorded_ret != -512 && recorded_ret != -514) return false;
  if (skipper_->strategy() == SkipStrategy::SetInfoExit) return false;
  uint64_t mask = 0, size = 0;
  switch (nr) {
    case SYS_pselect6: {
      if (args[5] == 0) return false;
      uint64_t ss[2] = {};
      if (!t.task->read_exact(args[5], ss, sizeof ss)) return false;
      mask = ss[0];
      size = ss[1];
      break;
    }
    case SYS_ppoll: mask = args[3]; size = args[4]; break;
    case SYS_epoll_pwait:
    case SYS_epoll_pwait2: mask = args[4]; size = args[5]; break;
    case SYS_rt_sigsuspend: mask = args[0]; size = args[1]; break;
    default: return false;
  }
  if (mask == 0) return false;
  // The recording delivered the interrupting signal right after this call:
  // the task's own next event, though other tasks' events may come between
  // (a child's exit recorded after the call returned and before the
  // delivery): the task stays stopped until then, with the signal pending
  // and its wait's mask in place.
  auto after = peek_own_next(t.tid, 4096);
  if (!after || after->which() != schema::Event::SIGNAL || after->getTid() != t.tid ||
      after->getSignal().getSynchronous()) {
    return false;
  }
  int signo = after->getSignal().getSigno();
  user_regs_struct r = t.task->regs();
  r.rdi = mask;
  r.rsi = size;
  if (one_stop_at(t)) {
    // sysemu: the syscall did not run; issue it again, traced.
    r.rip -= 2;
    r.rax = SYS_rt_sigsuspend;
    t.cur.rerun_pending = true;
  }
  r.orig_rax = SYS_rt_sigsuspend;
  t.task->set_regs(r);
  t.injecting_signal = signo;
  ::syscall(SYS_tgkill, t.live_pid, t.task->tid(), signo);
  t.cur.sigsuspend_for_real = true;
  if (debug_log_) std::fprintf(stderr, "rrx-debug: %d takes %s for real as rt_sigsuspend\n", t.tid, sys::signal_name(signo).c_str());
  t.next_resume = NextResume::ToExit;
  return true;
}

ReplaySession::Action ReplaySession::action_for(const schema::Syscall::Reader* rec, int64_t nr,
                                                const uint64_t args[6]) const {
  const sys::SyscallDesc* desc = sys::lookup(nr);
  // Refused by rrx, or by the program's own seccomp filters: nothing ran.
  bool refused = desc == nullptr ||
                 (rec != nullptr && (rec->getFlags() & (trace::kSyscallRefused | trace::kSyscallSeccomp)));
  if (refused) return Action::Emulate;
  bool failed = rec != nullptr && rec->getIsError();
  switch (desc->special) {
    case sys::Special::Exit: return Action::Exit;
    case sys::Special::Mmap: return failed || rec == nullptr ? Action::Emulate : Action::ExecuteMmap;
    case sys::Special::Execve: return Action::Emulate;  // a failed exec (a successful one has an exec event)
    case sys::Special::Clone: return failed ? Action::Emulate : Action::Clone;
    case sys::Special::Rseq: return Action::Emulate;
    default: break;
  }
  switch (desc->replay_policy(args)) {
    case sys::Replay::Execute: return Action::Execute;
    case sys::Replay::ExecuteInject: return Action::ExecuteInject;
    default: return Action::Emulate;
  }
}

void ReplaySession::begin_syscall(RTask& t, Action action, int64_t nr, const uint64_t args[6],
                                  schema::Syscall::Reader rec, bool has_rec) {
  if (nr == SYS_set_tid_address) t.clear_child_tid = args[0];
  t.cur.action = action;
  t.cur.nr = nr;
  std::memcpy(t.cur.args, args, sizeof t.cur.args);
  switch (action) {
    case Action::Emulate:
      if (has_rec && take_signal_for_real(t, nr, args, rec.getRet())) return;
      if (one_stop_at(t)) {
        if (has_rec) {
          finish_syscall(t, rec, 0);
          consume();
          t.cur = RTask::Current{};
        }
        t.next_resume = NextResume::Normal;
      } else {
        if (t.entered_traced) {
          // Entered to run for real, but emulated: skipped here, its result set at the exit stop.
          user_regs_struct r = t.task->regs();
          r.orig_rax = static_cast<uint64_t>(-1);
          t.task->set_regs(r);
        } else {
          skipper_->skip(*t.task);
        }
        t.next_resume = NextResume::ToExit;
      }
      return;
    case Action::ExecuteMmap: {
      uint64_t a[6];
      std::memcpy(a, args, sizeof a);
      uint64_t flags = a[3];
      if (!(flags & MAP_FIXED)) {
        flags |= MAP_FIXED_NOREPLACE;
        a[0] = static_cast<uint64_t>(rec.getRet());
      }
      int copy_fd = -1;
      t.cur.mapped_copy = false;
      const uint32_t object = rec.hasMapping() ? rec.getMapping().getSharedObject() : 0;
      const auto unchanged = object != 0 ? unchanged_objects_.find(object) : unchanged_objects_.end();
      if (!(flags & (MAP_ANONYMOUS | MAP_HUGETLB)) && rec.hasMapping() &&
          (object == 0 || unchanged != unchanged_objects_.end()) && !rec.getMapping().getRangeOnly()) {
        std::string hash = rec.getMapping().getContentHash().cStr();
        if (object != 0) {
          // An object's bytes are stored at its first mapping; later ones
          // (other processes) name the object only.
          if (!hash.empty()) {
            unchanged->second = hash;
          } else {
            hash = unchanged->second;
          }
        }
        copy_fd = hash.empty() ? -1 : copies_->fd_of(hash);
        if (copy_fd >= 0) stored_copy(hash);  // checked against its hash once
      }
      if (copy_fd >= 0) {
        // A private map of the trace's copy at the program's offset: the
        // recorded bytes, from the page cache, and a fault past the file's
        // end as in the recording. Never shared: the copy is not the program's.
        // But for a shared map of a shared object that never changed: shared
        // (and read-only: the copy's fd is), so that mprotect asking for
        // write access fails as it did (the recorded fd was read-only too,
        // or the object would have changed).
        const uint64_t type = flags & 0x0f;
        const bool keep_shared = object != 0 && (type == MAP_SHARED || type == MAP_SHARED_VALIDATE);
        flags = (flags & ~uint64_t{0x0f}) | (keep_shared ? MAP_SHARED : MAP_PRIVATE);
        flags &= ~static_cast<uint64_t>(MAP_SYNC);
        a[4] = static_cast<uint64_t>(copy_fd);
        t.cur.mapped_copy = true;
      } else if (!(flags & MAP_ANONYMOUS)) {
        // The bytes come from the trace's copy, or the replay's copy of a
        // shared object mapped over it at the exit; the fd is not real on
        // replay. A shared map of a device (/dev/zero) is shared anonymous
        // memory, which fork shares as it did when recording.
        uint64_t type = flags & 0x0f;
        bool device_shared = !rec.hasMapping() && (type == MAP_SHARED || type == MAP_SHARED_VALIDATE);
        // MAP_NORESERVE: the file mapping needed no commit charge (a 1 TiB
        // memfd), so neither may its stand-in.
        flags = (flags & ~uint64_t{0x0f}) | (device_shared ? MAP_SHARED : MAP_PRIVATE) | MAP_ANONYMOUS | MAP_NORESERVE;
        flags &= ~static_cast<uint64_t>(MAP_SYNC);
        a[4] = static_cast<uint64_t>(-1);
        a[5] = 0;
      }
      a[3] = flags;
      if (complete_mmap_at_seccomp_stop(t, rec, a)) return;
      user_regs_struct r = t.task->regs();
      set_syscall_args_in_regs(r, a);
      t.task->set_regs(r);
      break;
    }
    case Action::Clone:
      if (nr == SYS_clone && (args[0] & CLONE_UNTRACED)) {
        // As when recording: the child must be traced (the trace keeps the
        // program's flags; the register keeps them without CLONE_UNTRACED).
        uint64_t live[6];
        std::copy(args, args + 6, live);
        live[0] &= ~static_cast<uint64_t>(CLONE_UNTRACED);
        user_regs_struct r = t.task->regs();
        r.rdi = live[0];
        t.task->set_regs(r);
        t.clone_undo = drop_namespaces(*t.task, nr, live);
      } else {
        t.clone_undo = drop_namespaces(*t.task, nr, args);
      }
      break;
    case Action::Execute:
      if (has_rec && complete_at_seccomp_stop(t, action, rec)) return;
      break;
    case Action::ExecuteInject:
      if (has_rec && complete_inject_at_seccomp_stop(t, rec)) return;
      break;
    default:
      break;
  }
  t.next_resume = NextResume::RunForReal;
  t.cur.rerun_pending = skipped_at_entry(t);
}

// The completion event of a syscall whose entry had its own event and which
// waited at its entry stop for it (entry_deferred): it starts now, as if its
// entry had come with the whole record.
void ReplaySession::start_deferred_syscall(RTask& t, schema::Syscall::Reader rec) {
  int64_t nr = t.cur.nr;
  uint64_t args[6];
  std::memcpy(args, t.cur.args, sizeof args);
  t.cur = RTask::Current{};
  check_args(t, rec, nr, args);
  begin_syscall(t, action_for(&rec, nr, args), nr, args, rec, true);
}

void ReplaySession::on_entry(RTask& t, const KernelSyscallInfo& info) {
  bool seccomp = info.op == KernelSyscallInfo::kSeccomp;
  int64_t nr = static_cast<int64_t>(seccomp ? info.seccomp.nr : info.entry.nr);
  uint64_t args[6];
  std::memcpy(args, seccomp ? info.seccomp.args : info.entry.args, sizeof args);
  if (t.cur.rerun_pending) {
    // sysemu: the re-issued syscall that must run for real.
    t.cur.rerun_pending = false;
    t.next_resume = NextResume::ToExit;
    return;
  }
  auto ev = peek();
  auto live_call = [&]() { return describe_live_call(t, nr, args); };
  if (ev.getTid() != t.tid) diverge(describe_event(ev), live_call() + " in thread " + std::to_string(t.tid));
  t.cur = RTask::Current{};
  if ((nr == SYS_execve || nr == SYS_execveat) && ev.which() == schema::Event::EXEC) {
    redirect_exec(t, ev.getExec().getExeHash().cStr(), nr);
    t.cur.action = Action::Exec;
    t.cur.nr = nr;
    t.next_resume = NextResume::RunForReal;
    t.cur.rerun_pending = skipped_at_entry(t);
    return;
  }
  if (ev.which() == schema::Event::CLONE) {
    // clone/fork: the clone event comes at the new task's creation, the result after.
    const sys::SyscallDesc* desc = sys::lookup(nr);
    if (!desc || desc->special != sys::Special::Clone) diverge(describe_event(ev), live_call());
    begin_syscall(t, Action::Clone, nr, args, schema::Syscall::Reader(), false);
    return;
  }
  if (ev.which() == schema::Event::SYSCALL_ENTRY && (nr == SYS_execve || nr == SYS_execveat) &&
      ev.getSyscallEntry().hasExeHash() && ev.getSyscallEntry().getExeHash().size() > 0) {
    // exec from a multi-threaded process: it runs now (the kernel ends the
    // other threads); the exec event comes once they are gone.
    check_entry_args(t, ev.getSyscallEntry(), nr, args);
    redirect_exec(t, ev.getSyscallEntry().getExeHash().cStr(), nr);
    consume();
    t.cur.action = Action::Exec;
    t.cur.nr = nr;
    t.next_resume = NextResume::RunForReal;
    t.cur.rerun_pending = skipped_at_entry(t);
    resume(t, false);
    return;
  }
  if (ev.which() == schema::Event::SYSCALL_ENTRY) {
    check_entry_args(t, ev.getSyscallEntry(), nr, args);
    consume();
    const sys::SyscallDesc* desc = sys::lookup(nr);
    if (desc != nullptr && desc->special == sys::Special::Mmap) {
      // Where mmap maps, and whether it runs at all, depend on its recorded
      // result, which comes with the completion event: the task waits at the
      // entry until then (mmap does not wait for other tasks).
      t.cur.nr = nr;
      std::memcpy(t.cur.args, args, sizeof t.cur.args);
      t.cur.entry_deferred = true;
      return;
    }
    Action action = action_for(nullptr, nr, args);
    begin_syscall(t, action, nr, args, schema::Syscall::Reader(), false);
    t.cur.awaiting_exit_event = true;
    if (action != Action::Emulate) {
      // It runs for real and may wait in the kernel for other tasks: let it.
      resume(t, false);
    }
    return;
  }
  if (ev.which() != schema::Event::SYSCALL) diverge(describe_event(ev), live_call());
  auto rec = ev.getSyscall();
  check_args(t, rec, nr, args);
  if ((rec.getFlags() & trace::kSyscallSeccomp) && seccomp_refusal_kills(t, rec)) {
    replay_seccomp_kill(t, rec, nr);
    consume();  // it never returns; its death (or the fatal SIGSYS) follows
    return;
  }
  Action action = action_for(&rec, nr, args);
  if (action == Action::Exit) {
    t.cur.action = Action::Exit;
    t.cur.nr = nr;
    t.next_resume = NextResume::RunForReal;
    t.cur.rerun_pending = skipped_at_entry(t);
    if (nr == SYS_exit_group && exit_hook && exit_hook(t.tid)) {
      // The end of the debugged process: hold it here, before it runs.
      t.cur.exit_held = true;
      Stop s;
      s.kind = StopKind::ProcessEnding;
      s.tid = t.tid;
      held_stop_ = s;
      return;
    }
    consume();  // exit never returns; the exit event follows
    return;
  }
  begin_syscall(t, action, nr, args, rec, true);
}

// The recorded file's bytes [fileOffset, fileOffset + len), cut at the end of
// the file, from the trace's copy into the fresh (all zeros) anonymous
// mapping at addr: only the copy's data extents are read and only pages that
// are not zeros are written, so a mapping of a 50 GiB sparse file costs its
// data, not its size.
void ReplaySession::fill_mapping(RTask& t, schema::Syscall::Reader rec, uint64_t addr, uint64_t len) {
  auto m = rec.getMapping();
  std::string hash = m.getContentHash().cStr();
  std::string path = m.getPath().cStr();
  auto it = file_fds_.find(hash);
  if (it == file_fds_.end()) {
    fs::path p = stored_copy(hash);
    int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw_errno("open " + p.string());
    it = file_fds_.emplace(hash, fd).first;
  }
  uint64_t off = m.getFileOffset();
  uint64_t size = m.getFileSize();
  if (off >= size) return;
  uint64_t end = off + std::min(len, size - off);
  // The copy holds the file's bytes [first, last) from its position 0.
  uint64_t first = m.getRangeOnly() ? m.getRangeOffset() : 0;
  uint64_t last = m.getRangeOnly() ? first + m.getRangeLength() : size;
  if (off < first || end > last) {
    throw Error("the trace's copy of " + path + " holds its bytes [" + std::to_string(first) + ", " +
                std::to_string(last) + "), but this mapping needs [" + std::to_string(off) + ", " +
                std::to_string(end) + ")");
  }
  trace::for_each_data_block(
      it->second, off - first, end - first, path, [&](uint64_t pos, const unsigned char* data, size_t n) {
        trace::for_each_nonzero_run(pos, data, n, [&](uint64_t at, const unsigned char* bytes, size_t k) {
          if (!t.task->write_mem(addr + (at + first - off), bytes, k)) {
            throw Error("cannot fill the mapping of " + path);
          }
        });
      });
}

// Completes a syscall with its recorded event: `live` is the result the
// kernel gave when the syscall ran for real.
void ReplaySession::finish_syscall(RTask& t, schema::Syscall::Reader rec, int64_t live) {
  if (rec.getNr() != t.cur.nr) {
    diverge(sys::format_call(recorded_call(rec, true)), sys::syscall_name(t.cur.nr) + " in progress");
  }
  if (t.cur.nr == RRX_CALL_INIT_BUFFER && rec.getRet() >= 0) t.syscallbuf = t.cur.args[0];  // (1 + a desched fd, since version 13)
  if (t.syscallbuf != 0) t.buffer_after_call = BufferFeed::after_call(rec);
  switch (t.cur.action) {
    case Action::Emulate:
      if (t.cur.sigsuspend_for_real) {
        user_regs_struct r = t.task->regs();
        set_syscall_args_in_regs(r, t.cur.args);
        t.task->set_regs(r);
      }
      skipper_->set_result(*t.task, t.cur.nr, rec.getRet());
      if (!t.cur.sigsuspend_for_real && sys::is_restart_return(rec.getRet())) t.restart_nr = t.cur.nr;
      write_recorded_memory(t, rec);  // memory as at the recorded exit (sendmmsg's msg_len)
      check_sent_data(t, rec);
      break;
    case Action::Execute:
      if (live != rec.getRet()) {
        sys::RecordedCall c = recorded_call(rec, true);
        sys::RecordedCall l = c;
        l.ret = live;
        l.writes.clear();
        diverge(sys::format_call(c), sys::format_call(l));
      }
      // What the recording read after the call where replay's memory is
      // shaped differently (madvise MADV_DONTNEED on a file mapping, which
      // replay maps as anonymous memory).
      write_recorded_memory(t, rec);
      break;
    case Action::ExecuteInject:
    case Action::Clone:
      // The live result (a thread id) differs; the program sees the recorded one.
      skipper_->set_result(*t.task, t.cur.nr, rec.getRet());
      restore_clone_args(*t.task, t.clone_undo);
      t.clone_undo = CloneArgsUndo{};
      write_recorded_memory(t, rec);
      break;
    case Action::ExecuteMmap: {
      user_regs_struct r = t.task->regs();
      if (live != rec.getRet()) {
        sys::RecordedCall c = recorded_call(rec, true);
        sys::RecordedCall l = c;
        l.ret = live;
        diverge(sys::format_call(c), sys::format_call(l) + " (mapped at another address)");
      }
      set_syscall_args_in_regs(r, t.cur.args);  // the program sees its own arguments
      t.task->set_regs(r);
      if (rec.hasMapping() && rec.getMapping().getSharedObject() != 0 && !t.cur.mapped_copy) {
        SharedMemory::MapRequest req;
        req.addr = static_cast<uint64_t>(live);
        req.len = t.cur.args[1];
        req.prot = static_cast<int>(t.cur.args[2]);
        uint64_t type = t.cur.args[3] & 0x0f;
        req.shared = type == MAP_SHARED || type == MAP_SHARED_VALIDATE;
        req.offset = t.cur.args[5];
        shared_->map(*t.task, syscall_insn_of(t), rec.getMapping(), req);
      } else if (rec.hasMapping() && !t.cur.mapped_copy) {
        fill_mapping(t, rec, static_cast<uint64_t>(live), t.cur.args[1]);
      }
      write_recorded_memory(t, rec);  // the syscall buffer's fd epochs, raised at a shared map
      break;
    }
    default:
      break;
  }
  finish_shared_memory(t, rec);
  if (rec.getResumeIp() != 0) {
    // Entered at a site patched during the call: on in the site's stub, as
    // recorded (record/site_patch.h, resume_ip).
    user_regs_struct r = t.task->regs();
    r.rip = rec.getResumeIp();
    t.task->set_regs(r);
  }
  const sys::SyscallDesc* desc = sys::lookup(t.cur.nr);
  if (address_space_hook && desc != nullptr && (desc->flags & sys::kMapsMemory)) address_space_hook(t.tid, false);
  note_vdso_mapping_call(t, rec);
  note_syscall_exit(t);
}

uint64_t ReplaySession::syscall_insn_of(RTask& t) { return t.task->regs().rip - 2; }

// What a syscall did to shared objects: SysV attach and detach (emulated,
// the segment is the replay's memfd), and changes to their bytes through
// file descriptors by calls that replay skips.
void ReplaySession::finish_shared_memory(RTask& t, schema::Syscall::Reader rec) {
  for (auto w : rec.getFileWrites()) {
    // (An object that never changed is told only of opens that truncated
    // nothing: its size, as it was.)
    if (unchanged_objects_.count(w.getObject()) != 0) continue;
    std::optional<std::string> sent;
    if (const sys::SyscallDesc* d = sys::lookup(t.cur.nr); w.getSent() && d) {
      // The bytes the replayed call sends (check_sent_data compared them
      // with the recorded call's data crc).
      sys::CallView call{t.cur.nr, {}, rec.getRet()};
      std::memcpy(call.args, t.cur.args, sizeof call.args);
      TaskMemReader mem(*t.task);
      sent = sent_bytes(*d, call, mem);
    }
    shared_->apply(w, sent.value_or(std::string()));
  }
  if (auto object = BufferFeed::object_written(rec);
      object && buffer_feed_ && seccomp_entries_ && t.object_fds.count(*object) == 0) {
    // The thread's first buffered write to this object, replayed with its
    // stop: the object's copy opened in its process, so that the library
    // makes the next ones itself (fed with RRX_RECORD_ON_FD).
    int64_t fd = shared_->open_in(*t.task, syscall_insn_of(t), *object);
    if (fd >= 0) t.object_fds[*object] = static_cast<int>(fd);
  }
  const sys::SyscallDesc* desc = sys::lookup(t.cur.nr);
  if (desc == nullptr || rec.getIsError() || t.cur.action != Action::Emulate) return;
  if (desc->special == sys::Special::ShmAttach && rec.hasMapping()) {
    uint64_t shmflg = t.cur.args[2];
    SharedMemory::MapRequest req;
    req.addr = static_cast<uint64_t>(rec.getRet());
    req.len = rec.getMapping().getFileSize();
    req.prot = PROT_READ | ((shmflg & SHM_RDONLY) ? 0 : PROT_WRITE) | ((shmflg & SHM_EXEC) ? PROT_EXEC : 0);
    req.shared = true;
    req.replace = (shmflg & SHM_REMAP) != 0;
    shared_->map(*t.task, syscall_insn_of(t), rec.getMapping(), req);
  } else if (desc->special == sys::Special::ShmDetach) {
    shared_->unmap_segment(*t.task, syscall_insn_of(t), t.cur.args[0]);
  }
}

std::vector<std::string> ReplaySession::shared_objects_at_end() const {
  if (!reader_->end()) return {};
  return shared_->compare_end(reader_->end()->shared_objects, file_hash_kind_);
}

void ReplaySession::on_exit(RTask& t, const KernelSyscallInfo& info) {
  if (t.cur.rerun_pending) {
    // sysemu: the skipped syscall's own exit stop, reported because the task
    // was resumed with PTRACE_SYSCALL; the re-issued entry comes next.
    t.next_resume = NextResume::ToExit;
    return;
  }
  t.next_resume = NextResume::Normal;
  if (t.cur.action == Action::Exec || t.cur.action == Action::None) {
    if (t.cur.action == Action::Exec && !info.exit.is_error) enable_cpuid_trap(t);
    t.cur = RTask::Current{};
    return;
  }
  auto ev = peek();
  if (ev.which() != schema::Event::SYSCALL || ev.getTid() != t.tid) {
    diverge(describe_event(ev), "the end of " + sys::syscall_name(t.cur.nr) + " in thread " + std::to_string(t.tid));
  }
  finish_syscall(t, ev.getSyscall(), info.exit.rval);
  consume();
  t.cur = RTask::Current{};
}

int ReplaySession::on_clone(RTask& t, int event) {
  auto ev = peek();
  if (ev.which() != schema::Event::CLONE || ev.getTid() != t.tid) {
    diverge(describe_event(ev), "a new thread or process of thread " + std::to_string(t.tid));
  }
  auto c = ev.getClone();
  pid_t live_child = static_cast<pid_t>(t.task->event_msg());
  int rec_child = c.getChildTid();
  RTask& child = tasks_[rec_child];
  child.task = std::make_unique<Task>(live_child);
  child.tid = rec_child;
  // (A clone without CLONE_THREAD whose exit signal is not SIGCHLD is
  // reported as PTRACE_EVENT_CLONE too, but makes a process.)
  const bool thread = event == PTRACE_EVENT_CLONE && (c.getFlags() & CLONE_THREAD);
  child.pid = thread ? t.pid : rec_child;
  child.live_pid = thread ? t.live_pid : live_child;
  child.exe_path = t.exe_path;
  child.exe_copy = t.exe_copy;
  child.auxv = t.auxv;
  child.return_stub = t.return_stub;
  child.return_stub_checked = t.return_stub_checked;  // (a fork's copy of the same vDSO)
  child.image_event = t.image_event;
  if (!thread) copy_patched_jumps(t.pid, rec_child);
  child.own_tid = c.getChildOwnTid();
  child.clone_undo = t.clone_undo;
  uint64_t flags = c.getFlags();
  // A new TLS (CLONE_SETTLS: a thread of pthread_create) registers its own
  // buffer; without one the child's library thread-locals, buffer included,
  // are its parent's (the recorder's rule: Recorder::on_new_task).
  child.syscallbuf = (flags & CLONE_SETTLS) ? 0 : t.syscallbuf;
  if (flags & (CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID)) {
    uint64_t addr = 0;
    if (t.cur.nr == SYS_clone3) {
      t.task->read_exact(t.cur.args[0] + 16, &addr, sizeof addr);  // clone_args.child_tid
    } else {
      addr = t.cur.args[3];
    }
    if (flags & CLONE_CHILD_SETTID) child.child_tid_addr = addr;
    if (flags & CLONE_CHILD_CLEARTID) child.clear_child_tid = addr;
  }
  if ((flags & CLONE_PARENT_SETTID) && (flags & CLONE_VM) && !(flags & CLONE_NEWPID)) {
    // A thread (pthread_create: the struct pthread's tid) that may run
    // before its creator's clone returns on replay, which writes the
    // recorded tid there: the kernel wrote the live one already.
    uint64_t addr = 0;
    if (t.cur.nr == SYS_clone3) {
      t.task->read_exact(t.cur.args[0] + 24, &addr, sizeof addr);  // clone_args.parent_tid
    } else {
      addr = t.cur.args[2];
    }
    child.parent_tid_addr = addr;
  }
  live_to_recorded_[live_child] = rec_child;
  auto orphan = orphan_stops_.find(live_child);
  if (orphan != orphan_stops_.end()) {
    child.pending = orphan->second;
    orphan_stops_.erase(orphan);
  } else {
    // Its first stop is on its way (the kernel stops a traced fork's
    // child at once): take it now, so that the child can be looked at
    // (a debugger shown the fork) before either task goes on.
    child.running = true;
    child.pending = wait_for(child);
  }
  if (event == PTRACE_EVENT_VFORK) t.vfork_child = rec_child;
  consume();
  t.next_resume = NextResume::ToExit;
  return rec_child;
}


template <typename TrapEvent>
void ReplaySession::undo_recorded_trap(RTask& t, uint64_t ip, TrapEvent ev) {
  ForcedSignalUndo undo;
  if (ev.getHasRestoreMask()) undo.mask = ev.getRestoreMask();
  undo.action = ForcedSignalUndo::action_from_bytes(data_str(ev.getRestoreAction()));
  if (!undo.empty()) apply_forced_signal_undo(*t.task, ip, SIGSEGV, undo);
}

template void ReplaySession::undo_recorded_trap(RTask&, uint64_t, schema::Cpuid::Reader);

std::optional<ReplaySession::Stop> ReplaySession::stepped_if(RTask& t, bool step) {
  if (!step) return std::nullopt;
  Stop s;
  s.kind = StopKind::Stepped;
  s.tid = t.tid;
  return s;
}

std::optional<ReplaySession::Stop> ReplaySession::on_signal(RTask& t, int sig, bool step) {
  siginfo_t si{};
  try {
    si = t.task->siginfo();
  } catch (const Error&) {
    return on_group_stop(t, sig);  // no siginfo: a group-stop
  }
  if (!t.started) {
    // A new task's first stop. The kernel wrote its live tid where
    // CLONE_CHILD_SETTID asked; the program must see the recorded one.
    t.started = true;
    restore_clone_args(*t.task, t.clone_undo);
    t.clone_undo = CloneArgsUndo{};
    if (t.parent_tid_addr != 0) {
      int32_t tid = t.own_tid != 0 ? t.own_tid : t.tid;
      t.task->write_mem(t.parent_tid_addr, &tid, sizeof tid);
    }
    if (t.child_tid_addr != 0) {
      int32_t tid = t.own_tid != 0 ? t.own_tid : t.tid;
      t.task->write_mem(t.child_tid_addr, &tid, sizeof tid);
    }
    // Stopped for the first time, before any of its code: the debugger's
    // per-thread state (debug registers) can go in now.
    if (new_task_hook) new_task_hook(t.tid);
    if (sig != SIGSTOP) t.deliver_on_resume = sig;
    return std::nullopt;
  }
  bool ours = si.si_code == SI_TKILL && si.si_pid == ::getpid();
  if (sig == SIGSTOP && ours && !t.injecting_signal) {
    Stop s;  // request_interrupt()
    s.kind = StopKind::Interrupted;
    s.sig = SIGINT;
    s.tid = t.tid;
    interrupt_requested_ = false;
    return s;
  }
  user_regs_struct regs = t.task->regs();
  if (sig == SIGSEGV && si.si_code == SI_KERNEL) {
    size_t len = 0;
    SpecialInsn insn = special_instruction_at(*t.task, regs.rip, &len);
    if (auto site = tsc_site_at(t.pid, regs.rip)) std::tie(insn, len) = *site;  // a patched site's hlt
    if (on_cpuid_fault(t, regs)) return stepped_if(t, step);
    auto ev = peek();
    // A recorded fault instead: the program asked for it (prctl
    // PR_SET_TSC, PR_TSC_SIGSEGV), and gets it below like any other.
    bool fault = ev.which() == schema::Event::SIGNAL && ev.getTid() == t.tid &&
                 ev.getSignal().getSigno() == SIGSEGV && ev.getSignal().getSynchronous();
    if ((insn == SpecialInsn::Rdtsc || insn == SpecialInsn::Rdtscp) && !fault) {
      if (ev.which() != schema::Event::RDTSC || ev.getTid() != t.tid) {
        diverge(describe_event(ev), "rdtsc at 0x" + fmt_hex(regs.rip));
      }
      auto r = ev.getRdtsc();
      undo_recorded_trap(t, regs.rip, r);
      regs.rax = r.getValue() & 0xffffffffu;
      regs.rdx = r.getValue() >> 32;
      if (insn == SpecialInsn::Rdtscp) regs.rcx = r.getAux();
      regs.rip += len;
      t.task->set_regs(regs);
      consume();
      return stepped_if(t, step);
    }
  }
  auto ev = peek();
  if (ev.which() == schema::Event::SIGNAL && ev.getTid() == t.tid && ev.getSignal().getSigno() == sig) {
    auto rs = ev.getSignal();
    siginfo_t original{};
    auto raw = rs.getSiginfo();
    std::memcpy(&original, raw.begin(), std::min<size_t>(raw.size(), sizeof original));
    if (!rs.getSynchronous()) {
      // A recorded asynchronous signal, re-raised by rrx (or coalesced with
      // the live kernel's own copy): deliver it with its recorded siginfo.
      t.task->set_siginfo(original);
      t.injecting_signal = 0;
      consume();
      t.deliver_on_resume = sig;
      // One that kills the process (its default action, not handled or
      // ignored: abort()'s SIGABRT, a SIGTERM from another process) stops
      // here first, like a fault does: the debugger sees the program as
      // it was when the signal came.
      if (!signal_terminates(t.task->tid(), sig)) return std::nullopt;
      Stop s;
      s.kind = StopKind::Signal;
      s.tid = t.tid;
      s.sig = sig;
      s.siginfo = original;
      return s;
    }
    if (sig != SIGTRAP || rs.getIp() == regs.rip) {
      Stop s;
      s.kind = StopKind::Signal;
      s.tid = t.tid;
      s.sig = sig;
      s.siginfo = original;  // what the program saw when recorded
      consume();
      t.deliver_on_resume = sig;
      return s;
    }
  }
  if (sig == SIGTRAP) {
    Stop s;
    s.kind = StopKind::Trap;
    if (step && (si.si_code == TRAP_TRACE || si.si_code == TRAP_BRKPT)) s.kind = StopKind::Stepped;
    if (std::exchange(t.stepped_pushf, false) && s.kind == StopKind::Stepped) clear_pushed_trap_flag(*t.task);
    s.tid = t.tid;
    s.sig = SIGTRAP;
    s.siginfo = si;
    return s;
  }
  bool synchronous = si.si_code > 0 && (sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE);
  if (sig == SIGILL && t.return_stub != 0 && regs.rip == t.return_stub + kMmapReturnTrapOffset) {
    // The return stub of a call completed at its seccomp stop found another result.
    sys::RecordedCall live = t.stub_call;
    live.ret = static_cast<int64_t>(regs.rax);
    throw Divergence(t.stub_call_event, t.tid, sys::format_call(t.stub_call),
                     sys::format_call(live) + (live.nr == SYS_mmap ? " (mapped at another address)" : ""),
                     random_insns_note());
  }
  if (synchronous) diverge(describe_expected(), "signal " + sys::signal_name(sig) + " at 0x" + fmt_hex(regs.rip));
  // A signal the live kernel generated (SIGCHLD, timers) that the recording
  // delivered elsewhere or not at all: recorded signals come from the trace.
  return std::nullopt;
}

// The live task stopped for a stop signal (the recorded one rrx delivered,
// or the group-stop of its process reaching this thread). Replay keeps
// PTRACE_TRACEME: the task is held in this stop, not resumed, until the
// trace says it goes on (its next event), which is all PTRACE_LISTEN gave
// the recording; its parent's wait and the SIGCONT that ended the stop are
// replayed from the trace. A live stop the recording did not have (a stop
// request the recorded SIGCONT had cancelled before this thread took it)
// ends when the task's next event resumes it.
std::optional<ReplaySession::Stop> ReplaySession::on_group_stop(RTask& t, int sig) {
  t.group_stop_sig = sig;
  auto ev = peek();
  if (ev.which() == schema::Event::JOB_STOP && ev.getTid() == t.tid && !ev.getJobStop().getResumed() &&
      ev.getJobStop().getSigno() == sig) {
    consume();
  }
  return std::nullopt;
}

int ReplaySession::event_tid(uint64_t n) {
  if (!side_reader_) side_reader_ = std::make_unique<trace::TraceReader>(options_.trace_dir);
  if (side_reader_->position() != n) side_reader_->seek(n);
  auto rec = side_reader_->next();
  if (!rec) return 0;
  auto ev = rec->get();
  return ev.which() == schema::Event::WARNING || ev.which() == schema::Event::RANDOM_INSNS ? 0 : ev.getTid();
}

uint64_t ReplaySession::patch_moves_to(int tid) {
  const trace::EventRecord* rec = event_ahead(0);
  if (rec == nullptr) return 0;
  auto ev = rec->get();
  if (ev.getTid() != tid) return 0;
  if (ev.which() == schema::Event::SITE_PATCH) return ev.getSitePatch().getNewIp();
  if (ev.which() == schema::Event::CPUID_PATCHES) {  // a cpuid site patched after its trap (cpuid_sites_replay.cpp)
    for (auto p : ev.getCpuidPatches().getPatches()) {
      if (p.getNewIp() != 0) return p.getNewIp();
    }
  }
  return 0;
}

bool ReplaySession::in_syscall(int tid) const {
  auto it = tasks_.find(tid);
  return it != tasks_.end() && it->second.cur.action != Action::None;
}

int ReplaySession::recorded_exit_status() const {
  if (reader_->end()) return reader_->end()->exit_status;
  return 125;
}

std::string ReplaySession::trace_end_message() const {
  if (reader_->complete()) return "the recording ends here (" + reader_->end()->reason + ")";
  return "the trace ends here: it is incomplete (" + reader_->incomplete_reason() + ")";
}

int replay_autopilot(const ReplayOptions& options) {
  ReplaySession session(options);
  session.start();
  for (;;) {
    ReplaySession::Stop s = session.cont();
    switch (s.kind) {
      case ReplaySession::StopKind::Exited:
        // All the program's events were there, but not the end record: the
        // exit status is the replay's, not one the trace vouches for.
        if (!session.reader().complete())
          std::cerr << "rrx: the program exited, but the trace is incomplete: "
                    << session.reader().incomplete_reason() << "\n";
        for (const std::string& w : session.shared_objects_at_end()) std::cerr << "rrx: warning: " << w << "\n";
        if (session.stats()) session.stats()->print(std::cerr, session.next_event());
        return session.recorded_exit_status();
      case ReplaySession::StopKind::TraceEnd:
        std::cerr << "rrx: " << session.trace_end_message() << "\n";
        return session.reader().complete() ? session.recorded_exit_status() : 125;
      case ReplaySession::StopKind::Signal:
      case ReplaySession::StopKind::Stepped:
      case ReplaySession::StopKind::Interrupted:
      case ReplaySession::StopKind::MemoryWatch:
      case ReplaySession::StopKind::Exec:
      case ReplaySession::StopKind::EventReached:
      case ReplaySession::StopKind::ProcessEnding:
      case ReplaySession::StopKind::Killing:
      case ReplaySession::StopKind::Forked:         // (no fork, vfork or exit hooks here)
      case ReplaySession::StopKind::VforkDone:
      case ReplaySession::StopKind::ProcessExited:
      case ReplaySession::StopKind::SyscallEntry:   // (no syscall hook here)
      case ReplaySession::StopKind::SyscallExit:
      case ReplaySession::StopKind::PositionReached:  // (no position target here)
        continue;
      case ReplaySession::StopKind::Trap:
        throw Divergence(session.next_event(), s.tid, "no breakpoint trap",
                         "SIGTRAP at 0x" + fmt_hex(session.task(s.tid).regs().rip));
    }
  }
}

}  // namespace rrx::replay
