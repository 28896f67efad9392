#include "replay/replay_session.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/personality.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <vector>

#include "core/hash.h"
#include "core/initial_stack.h"
#include "core/syscall_format.h"
#include "core/syscall_table.h"
#include "replay/skip_strategy.h"
#include "trace_format/format.h"
#include "trace_format/regs_codec.h"
#include "trace_format/trace_dir.h"

namespace rrx::replay {

namespace fs = std::filesystem;

namespace {

std::string data_str(capnp::Data::Reader d) {
  return std::string(reinterpret_cast<const char*>(d.begin()), d.size());
}

// A recorded Syscall event as the formatter wants it.
sys::RecordedCall recorded_call(schema::Syscall::Reader s, bool with_ret) {
  sys::RecordedCall c;
  c.nr = s.getNr();
  auto args = s.getArgs();
  for (unsigned i = 0; i < 6 && i < args.size(); ++i) c.args[i] = args[i];
  c.ret = s.getRet();
  c.has_ret = with_ret;
  for (auto str : s.getStrings()) c.strings.emplace_back(str.getArg(), data_str(str.getValue()));
  for (auto w : s.getMemWrites()) c.writes.emplace_back(w.getAddr(), data_str(w.getData()));
  return c;
}

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
  }
  return "an event of an unknown kind";
}

// Thrown when the program needs an event and the trace has none left.
struct TraceEnded {};

std::string fmt_hex(uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%llx", static_cast<unsigned long long>(v));
  return buf;
}

bool is_write_to_terminal_syscall(int64_t nr) {
  return nr == SYS_write || nr == SYS_pwrite64 || nr == SYS_writev || nr == SYS_pwritev ||
         nr == SYS_pwritev2;
}

}  // namespace

Divergence::Divergence(uint64_t event, int tid, const std::string& expected, const std::string& actual)
    : Error("replay divergence at event " + std::to_string(event) + " (thread " + std::to_string(tid) +
            "):\n  recorded: " + expected + "\n  replayed: " + actual),
      event_(event) {}

ReplaySession::ReplaySession(ReplayOptions options) : options_(std::move(options)) {
  debug_log_ = std::getenv("RRX_DEBUG_REPLAY") != nullptr;
  reader_ = std::make_unique<trace::TraceReader>(options_.trace_dir);
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
  skipper_ = make_skipper(strategy);
  auto h = reader_->header();
  if (h.getCpu().getVendor() != cpu_identity().vendor) {
    std::cerr << "rrx: warning: recorded on a " << h.getCpu().getVendor().cStr()
              << " CPU, replaying on " << cpu_identity().vendor
              << "; programs that check CPU features may diverge\n";
  }
}

ReplaySession::~ReplaySession() {
  kill();
  for (auto& [hash, fd] : file_fds_) ::close(fd);
}

SkipStrategy ReplaySession::strategy() const { return skipper_->strategy(); }

void ReplaySession::kill() {
  if (task_ && alive_) {
    kill_and_reap(task_->tid());
    alive_ = false;
  }
}

bool ReplaySession::load_next() {
  if (!next_) {
    next_ = reader_->next();
  }
  return next_.has_value();
}

void ReplaySession::consume() {
  next_.reset();
  ++next_number_;
}

// The next event, skipping warnings. Throws when the trace has ended.
schema::Event::Reader ReplaySession::expect(const char* what) {
  for (;;) {
    if (!load_next()) throw TraceEnded{};
    auto ev = next_->get();
    if (ev.which() == schema::Event::WARNING) {
      consume();
      continue;
    }
    (void)what;
    return ev;
  }
}

std::string ReplaySession::describe_expected() {
  if (!load_next()) return "the end of the trace";
  return describe_event(next_->get());
}

void ReplaySession::diverge(const std::string& expected, const std::string& actual) {
  throw Divergence(next_number_, recorded_tid_, expected, actual);
}

void ReplaySession::spawn() {
  auto h = reader_->header();
  if (!load_next()) {
    throw Error("the trace " + options_.trace_dir.string() + " holds no events" +
                (reader_->complete() ? std::string() : " (incomplete: " + reader_->incomplete_reason() + ")"));
  }
  if (next_->get().which() != schema::Event::EXEC) {
    throw Error("the trace " + options_.trace_dir.string() + " does not start with an exec event");
  }
  auto exec = next_->get().getExec();
  exe_copy_ = trace::stored_file_path(options_.trace_dir, exec.getExeHash().cStr());
  exe_path_ = exec.getExePath().cStr();
  if (exec.hasInterpPath() && exec.getInterpPath().size() > 0) {
    // The kernel loads the dynamic loader from the file system: check it is the recorded one.
    std::string interp = exec.getInterpPath().cStr();
    int fd = ::open(interp.c_str(), O_RDONLY | O_CLOEXEC);
    std::string hash;
    if (fd >= 0) {
      ContentHasher hasher;
      char buf[1 << 16];
      ssize_t n;
      while ((n = ::read(fd, buf, sizeof buf)) > 0) hasher.update(buf, static_cast<size_t>(n));
      ::close(fd);
      hash = hasher.hex();
    }
    if (hash != exec.getInterpHash().cStr()) {
      std::cerr << "rrx: warning: the dynamic loader " << interp
                << " is not the one that was recorded; the replay may diverge\n";
    }
  }
  std::vector<std::string> argv_s;
  for (auto a : h.getArgv()) argv_s.emplace_back(a.cStr());
  std::vector<std::string> env_s;
  for (auto e : h.getEnvp()) env_s.emplace_back(e.cStr());
  std::string cwd = h.getCwd().cStr();
  unsigned long persona = h.getPersonality();
  bool seccomp = skipper_->strategy() == SkipStrategy::SetInfoExit;
  std::string exe = exe_copy_.string();

  pid_t pid = ::fork();
  if (pid < 0) throw_errno("fork");
  if (pid == 0) {
    std::vector<char*> argv, envp;
    for (auto& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);
    for (auto& e : env_s) envp.push_back(e.data());
    envp.push_back(nullptr);
    ::ptrace(PTRACE_TRACEME, 0, nullptr, nullptr);
    ::personality(persona);
    ::prctl(PR_SET_TSC, PR_TSC_SIGSEGV, 0, 0, 0);
    struct rlimit no_core = {0, 0};
    ::setrlimit(RLIMIT_CORE, &no_core);  // a recorded crash must not write a core file again
    if (::chdir(cwd.c_str()) != 0) {
      // The recorded cwd may not exist here; its syscalls are emulated anyway.
    }
    for (int s : {SIGINT, SIGTERM, SIGHUP, SIGPIPE}) ::signal(s, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    // Its own process group: ^C in the terminal is for rrx and gdb, never
    // for the replayed program (its signals come from the trace).
    ::setpgid(0, 0);
    if (seccomp) {
      struct sock_filter filter[] = {BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE)};
      struct sock_fprog prog = {1, filter};
      ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
      ::raise(SIGSTOP);
      ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
    } else {
      ::raise(SIGSTOP);
    }
    ::execve(exe.c_str(), argv.data(), envp.data());
    _exit(127);
  }
  task_ = std::make_unique<Task>(pid);
  alive_ = true;
  WaitStatus w = task_->wait();
  if (w.kind != WaitStatus::Kind::SignalStop || w.sig != SIGSTOP) {
    throw Error("the replayed program did not start under ptrace (" + w.describe() + ")");
  }
  task_->set_options(PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEEXEC | PTRACE_O_TRACECLONE |
                     PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_TRACEEXIT |
                     PTRACE_O_EXITKILL | (seccomp ? PTRACE_O_TRACESECCOMP : 0));
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
  // Run rrx's child code up to the exec; the exec event applies the recorded image.
  while (!started_) {
    task_->resume_syscall(0);
    WaitStatus w = task_->wait();
    if (w.kind == WaitStatus::Kind::EventStop && w.event == PTRACE_EVENT_EXEC) {
      on_exec();
    } else if (w.kind == WaitStatus::Kind::Exited || w.kind == WaitStatus::Kind::Killed) {
      alive_ = false;
      throw Error("cannot run the recorded program " + exe_copy_.string() + " (" + w.describe() + ")");
    }
  }
  // The execve's exit stop.
  task_->resume_syscall(0);
  WaitStatus w = task_->wait();
  if (w.kind != WaitStatus::Kind::SyscallStop) {
    throw Error("unexpected stop after exec: " + w.describe());
  }
  next_resume_ = NextResume::Normal;
}

void ReplaySession::on_exec() {
  auto ev = expect("exec");
  if (ev.which() != schema::Event::EXEC) {
    diverge(describe_event(ev), "an exec");
  }
  task_->reopen_mem();
  auto exec = ev.getExec();
  auto stack = exec.getStack();
  auto data = stack.getData();
  uint64_t recorded_top = stack.getAddr() + data.size();
  user_regs_struct live = task_->regs();
  uint64_t live_top = mapping_end(task_->tid(), live.rsp);
  if (live_top != recorded_top) {
    diverge("a stack ending at 0x" + fmt_hex(recorded_top), "a stack ending at 0x" + fmt_hex(live_top) +
            " (is address-space randomization forced on?)");
  }
  if (!task_->write_mem(stack.getAddr(), data.begin(), data.size())) {
    throw Error("cannot write the recorded initial stack into the replayed program");
  }
  task_->set_regs(trace::regs_from_schema(ev.getRegs()));
  recorded_tid_ = ev.getTid();
  recorded_pid_ = ev.getPid();
  auxv_ = data_str(exec.getAuxv());
  if (started_) {
    exe_copy_ = trace::stored_file_path(options_.trace_dir, exec.getExeHash().cStr());
    exe_path_ = exec.getExePath().cStr();
  }
  started_ = true;
  consume();
}

void ReplaySession::request_interrupt() {
  interrupt_requested_ = true;
  if (running_ && task_) ::syscall(SYS_tgkill, task_->tid(), task_->tid(), SIGSTOP);
}

ReplaySession::Stop ReplaySession::cont() { return run(false); }
ReplaySession::Stop ReplaySession::step() { return run(true); }

void ReplaySession::inject_async_signal_if_due() {
  if (injecting_signal_ != 0 || !load_next()) return;
  auto ev = next_->get();
  if (ev.which() != schema::Event::SIGNAL || ev.getSignal().getSynchronous()) return;
  injecting_signal_ = ev.getSignal().getSigno();
  ::syscall(SYS_tgkill, task_->tid(), task_->tid(), injecting_signal_);
}

ReplaySession::Stop ReplaySession::run(bool step) {
  if (!alive_) {
    Stop s;
    s.kind = StopKind::Exited;
    return s;
  }
  bool stepping_over_syscall = false;
  try {
    for (;;) {
      if (interrupt_requested_.exchange(false)) {
        Stop s;
        s.kind = StopKind::Interrupted;
        s.sig = SIGINT;
        return s;
      }
      int sig = deliver_on_resume_;
      deliver_on_resume_ = 0;
      switch (next_resume_) {
        case NextResume::ToExit:
          task_->resume_syscall(sig);
          break;
        case NextResume::RunForReal:
          skipper_->run_for_real(*task_);
          break;
        case NextResume::Normal: {
          if (sig == 0) inject_async_signal_if_due();
          bool single = step;
          if (step) {
            size_t len = 0;
            if (special_instruction_at(*task_, task_->regs().rip, &len) == SpecialInsn::Syscall) {
              single = skipper_->strategy() == SkipStrategy::Sysemu;
              stepping_over_syscall = true;
            }
          }
          skipper_->resume(*task_, single, sig);
          break;
        }
      }
      running_ = true;
      WaitStatus w = task_->wait();
      running_ = false;
      if (debug_log_) {
        std::fprintf(stderr, "rrx-debug: event %llu: %s\n", static_cast<unsigned long long>(next_number_),
                     w.describe().c_str());
      }
      switch (w.kind) {
        case WaitStatus::Kind::SyscallStop: {
          KernelSyscallInfo info = task_->syscall_info();
          if (debug_log_) {
            std::fprintf(stderr, "rrx-debug:   op %d nr %lld rip 0x%llx\n", info.op,
                         static_cast<long long>(info.entry.nr),
                         static_cast<unsigned long long>(info.instruction_pointer));
          }
          if (info.op == KernelSyscallInfo::kEntry) {
            on_entry(info);
          } else if (info.op == KernelSyscallInfo::kExit) {
            on_exit(info);
          }
          if (watched_write_ && next_resume_ == NextResume::Normal) {
            Stop s;
            s.kind = StopKind::MemoryWatch;
            s.watch_addr = watched_write_->first;
            s.watch_len = watched_write_->second;
            watched_write_.reset();
            return s;
          }
          if (stepping_over_syscall && next_resume_ == NextResume::Normal) {
            Stop s;
            s.kind = StopKind::Stepped;
            return s;
          }
          break;
        }
        case WaitStatus::Kind::EventStop:
          if (w.event == PTRACE_EVENT_SECCOMP) {
            on_entry(task_->syscall_info());
            if (watched_write_ && next_resume_ == NextResume::Normal) {
              Stop s;
              s.kind = StopKind::MemoryWatch;
              s.watch_addr = watched_write_->first;
            s.watch_len = watched_write_->second;
              watched_write_.reset();
              return s;
            }
            if (stepping_over_syscall && next_resume_ == NextResume::Normal) {
              Stop s;
              s.kind = StopKind::Stepped;
              return s;
            }
          } else if (w.event == PTRACE_EVENT_EXEC) {
            on_exec();
          } else if (w.event == PTRACE_EVENT_EXIT) {
            next_resume_ = NextResume::ToExit;
          } else {
            diverge(describe_expected(), "a new thread or process (" + w.describe() + ")");
          }
          break;
        case WaitStatus::Kind::SignalStop: {
          if (auto s = on_signal(w.sig, step)) return *s;
          break;
        }
        case WaitStatus::Kind::Exited:
        case WaitStatus::Kind::Killed:
          return on_death(w);
      }
    }
  } catch (const TraceEnded&) {
    // The trace ended while the program is alive.
    kill();
    Stop s;
    s.kind = StopKind::TraceEnd;
    return s;
  }
}

void ReplaySession::check_args(schema::Syscall::Reader rec, int64_t nr, const uint64_t args[6]) {
  auto actual = [&]() {
    sys::RecordedCall c;
    c.nr = nr;
    std::memcpy(c.args, args, sizeof c.args);
    c.has_ret = false;
    if (const sys::SyscallDesc* d = sys::lookup(nr)) {
      for (int i = 0; i < 6; ++i) {
        if ((d->args[i] == sys::Arg::Path || d->args[i] == sys::Arg::Str) && args[i] != 0) {
          c.strings.emplace_back(i, task_->read_string(args[i]));
        }
      }
    }
    return sys::format_call(c);
  };
  if (rec.getNr() != nr) diverge(sys::format_call(recorded_call(rec, false)), actual());
  const sys::SyscallDesc* desc = sys::lookup(nr);
  if (!desc || (rec.getFlags() & trace::kSyscallRefused)) return;
  auto rargs = rec.getArgs();
  int n = desc->arg_count();
  for (int i = 0; i < n && i < static_cast<int>(rargs.size()); ++i) {
    sys::Arg kind = desc->args[i];
    if (kind == sys::Arg::Ignored) continue;
    if (rargs[static_cast<unsigned>(i)] != args[i]) {
      diverge(sys::format_call(recorded_call(rec, false)), actual());
    }
    if ((kind == sys::Arg::Path || kind == sys::Arg::Str) && args[i] != 0) {
      std::string live = task_->read_string(args[i]);
      for (auto s : rec.getStrings()) {
        if (s.getArg() == i && data_str(s.getValue()) != live) {
          diverge(sys::format_call(recorded_call(rec, false)), actual());
        }
      }
    }
  }
}

void ReplaySession::write_recorded_memory(schema::Syscall::Reader rec) {
  for (auto w : rec.getMemWrites()) {
    auto d = w.getData();
    if (d.size() == 0) continue;
    if (!task_->write_mem(w.getAddr(), d.begin(), d.size())) {
      diverge(sys::format_call(recorded_call(rec, true)),
              "a program whose memory at 0x" + fmt_hex(w.getAddr()) + " cannot be written");
    }
    if (memory_write_hook && !watched_write_ && memory_write_hook(w.getAddr(), d.size())) {
      watched_write_ = std::make_pair(w.getAddr(), static_cast<uint64_t>(d.size()));
    }
  }
}

void ReplaySession::echo_output(int64_t nr, const uint64_t args[6], int64_t ret) {
  if (!options_.echo_output || ret <= 0) return;
  int fd = static_cast<int>(args[0]);
  if (fd != 1 && fd != 2) return;
  std::string out;
  if (nr == SYS_write || nr == SYS_pwrite64) {
    out.resize(static_cast<size_t>(ret));
    out.resize(task_->read_mem(args[1], out.data(), out.size()));
  } else {
    uint64_t left = static_cast<uint64_t>(ret);
    for (uint64_t i = 0; i < args[2] && left > 0 && i < 1024; ++i) {
      struct iovec iov {};
      if (!task_->read_exact(args[1] + i * sizeof iov, &iov, sizeof iov)) break;
      size_t take = std::min<uint64_t>(left, iov.iov_len);
      size_t old = out.size();
      out.resize(old + take);
      out.resize(old + task_->read_mem(reinterpret_cast<uint64_t>(iov.iov_base), out.data() + old, take));
      left -= take;
    }
  }
  size_t done = 0;
  while (done < out.size()) {
    ssize_t n = ::write(fd, out.data() + done, out.size() - done);
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
}

void ReplaySession::redirect_exec(schema::Exec::Reader exec, int64_t nr) {
  // Run the copy kept in the trace, whatever the program asked for: the
  // file may have changed since. The path goes below the red zone.
  std::string path = trace::stored_file_path(options_.trace_dir, exec.getExeHash().cStr()).string();
  user_regs_struct r = task_->regs();
  uint64_t addr = (r.rsp - 256 - path.size() - 1) & ~uint64_t{15};
  if (!task_->write_mem(addr, path.c_str(), path.size() + 1)) throw Error("cannot redirect exec");
  if (nr == SYS_execve) {
    r.rdi = addr;
  } else {  // execveat(dirfd, path, argv, envp, flags)
    r.rdi = static_cast<uint64_t>(AT_FDCWD);
    r.rsi = addr;
    r.r8 &= ~static_cast<uint64_t>(AT_EMPTY_PATH);
  }
  task_->set_regs(r);
}

void ReplaySession::on_entry(const KernelSyscallInfo& info) {
  bool seccomp = info.op == KernelSyscallInfo::kSeccomp;
  int64_t nr = static_cast<int64_t>(seccomp ? info.seccomp.nr : info.entry.nr);
  uint64_t args[6];
  std::memcpy(args, seccomp ? info.seccomp.args : info.entry.args, sizeof args);
  if (cur_.rerun_pending) {
    // sysemu: the re-issued syscall that must run for real.
    cur_.rerun_pending = false;
    next_resume_ = NextResume::ToExit;
    return;
  }
  auto ev = expect("syscall");
  if ((nr == SYS_execve || nr == SYS_execveat) && ev.which() == schema::Event::EXEC) {
    redirect_exec(ev.getExec(), nr);
    cur_ = Current{Action::Exec, nr, {}, false};
    std::memcpy(cur_.args, args, sizeof args);
    next_resume_ = NextResume::RunForReal;
    cur_.rerun_pending = skipper_->strategy() == SkipStrategy::Sysemu;
    return;
  }
  if (ev.which() != schema::Event::SYSCALL || ev.getTid() != recorded_tid_) {
    sys::RecordedCall c;
    c.nr = nr;
    std::memcpy(c.args, args, sizeof c.args);
    c.has_ret = false;
    diverge(describe_event(ev), sys::format_call(c));
  }
  auto rec = ev.getSyscall();
  check_args(rec, nr, args);
  const sys::SyscallDesc* desc = sys::lookup(nr);
  bool refused = (rec.getFlags() & trace::kSyscallRefused) || desc == nullptr;
  Action action = Action::Emulate;
  if (!refused) {
    if (desc->special == sys::Special::Exit) {
      action = Action::Exit;
    } else if (desc->special == sys::Special::Mmap) {
      action = rec.getIsError() ? Action::Emulate : Action::ExecuteMmap;
    } else if (desc->special == sys::Special::Execve) {
      action = Action::Emulate;  // a failed exec (a successful one has an exec event)
    } else if (desc->replay == sys::Replay::Execute) {
      action = Action::Execute;
    } else if (desc->replay == sys::Replay::ExecuteInject) {
      action = Action::ExecuteInject;
    }
  }
  cur_ = Current{action, nr, {}, false};
  std::memcpy(cur_.args, args, sizeof args);

  switch (action) {
    case Action::Emulate:
      if (desc && (desc->flags & sys::kWritesFd) && is_write_to_terminal_syscall(nr)) {
        echo_output(nr, args, rec.getRet());
      }
      if (skipper_->one_stop()) {
        skipper_->set_result(*task_, nr, rec.getRet());
        write_recorded_memory(rec);
        consume();
        cur_ = Current{};
        next_resume_ = NextResume::Normal;
      } else {
        skipper_->skip(*task_);
        next_resume_ = NextResume::ToExit;
      }
      return;
    case Action::Exit:
      consume();  // exit never returns; the exit event follows
      next_resume_ = NextResume::RunForReal;
      cur_.rerun_pending = skipper_->strategy() == SkipStrategy::Sysemu;
      return;
    case Action::ExecuteMmap: {
      uint64_t a[6];
      std::memcpy(a, args, sizeof a);
      uint64_t flags = a[3];
      if (!(flags & MAP_FIXED)) {
        flags |= MAP_FIXED_NOREPLACE;
        a[0] = static_cast<uint64_t>(rec.getRet());
      }
      if (!(flags & MAP_ANONYMOUS)) {
        // The bytes come from the trace's copy; the fd is not real on replay.
        flags = (flags & ~uint64_t{0x0f}) | MAP_PRIVATE | MAP_ANONYMOUS;
        flags &= ~static_cast<uint64_t>(MAP_SYNC);
        a[4] = static_cast<uint64_t>(-1);
        a[5] = 0;
      }
      a[3] = flags;
      user_regs_struct r = task_->regs();
      set_syscall_args_in_regs(r, a);
      task_->set_regs(r);
      break;
    }
    default:
      break;
  }
  next_resume_ = NextResume::RunForReal;
  cur_.rerun_pending = skipper_->strategy() == SkipStrategy::Sysemu;
}

void ReplaySession::fill_mapping(schema::Syscall::Reader rec, uint64_t addr, uint64_t len) {
  auto m = rec.getMapping();
  std::string hash = m.getContentHash().cStr();
  auto it = file_fds_.find(hash);
  if (it == file_fds_.end()) {
    fs::path p = trace::stored_file_path(options_.trace_dir, hash);
    int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw_errno("open " + p.string());
    it = file_fds_.emplace(hash, fd).first;
  }
  uint64_t off = m.getFileOffset();
  uint64_t size = m.getFileSize();
  if (off >= size) return;
  uint64_t n = std::min(len, size - off);
  std::vector<char> buf(1 << 20);
  uint64_t done = 0;
  while (done < n) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(buf.size(), n - done));
    ssize_t got = ::pread(it->second, buf.data(), want, static_cast<off_t>(off + done));
    if (got <= 0) break;
    if (!task_->write_mem(addr + done, buf.data(), static_cast<size_t>(got))) {
      throw Error("cannot fill the mapping of " + std::string(m.getPath().cStr()));
    }
    done += static_cast<uint64_t>(got);
  }
}

void ReplaySession::on_exit(const KernelSyscallInfo& info) {
  if (cur_.rerun_pending) {
    // sysemu: the skipped syscall's own exit stop, reported because the task
    // was resumed with PTRACE_SYSCALL; the re-issued entry comes next.
    next_resume_ = NextResume::ToExit;
    return;
  }
  next_resume_ = NextResume::Normal;
  Action action = cur_.action;
  if (action == Action::Exec || action == Action::None) {
    cur_ = Current{};
    return;
  }
  auto ev = expect("syscall exit");
  auto rec = ev.getSyscall();
  int64_t live = info.exit.rval;
  switch (action) {
    case Action::Emulate:
      skipper_->set_result(*task_, cur_.nr, rec.getRet());
      write_recorded_memory(rec);
      break;
    case Action::Execute:
      if (live != rec.getRet()) {
        sys::RecordedCall c = recorded_call(rec, true);
        sys::RecordedCall l = c;
        l.ret = live;
        l.writes.clear();
        diverge(sys::format_call(c), sys::format_call(l));
      }
      break;
    case Action::ExecuteInject:
      skipper_->set_result(*task_, cur_.nr, rec.getRet());
      break;
    case Action::ExecuteMmap: {
      user_regs_struct r = task_->regs();
      if (live != rec.getRet()) {
        sys::RecordedCall c = recorded_call(rec, true);
        sys::RecordedCall l = c;
        l.ret = live;
        diverge(sys::format_call(c), sys::format_call(l) + " (mapped at another address)");
      }
      set_syscall_args_in_regs(r, cur_.args);  // the program sees its own arguments
      task_->set_regs(r);
      if (rec.hasMapping()) fill_mapping(rec, static_cast<uint64_t>(live), cur_.args[1]);
      break;
    }
    default:
      break;
  }
  consume();
  cur_ = Current{};
}

std::optional<ReplaySession::Stop> ReplaySession::on_signal(int sig, bool step) {
  siginfo_t si{};
  try {
    si = task_->siginfo();
  } catch (const Error&) {
    return std::nullopt;  // group-stop: resume
  }
  if (sig == SIGSTOP && si.si_code == SI_TKILL && si.si_pid == ::getpid()) {
    Stop s;  // request_interrupt()
    s.kind = StopKind::Interrupted;
    s.sig = SIGINT;
    interrupt_requested_ = false;
    return s;
  }
  user_regs_struct regs = task_->regs();
  if (sig == SIGSEGV && si.si_code == SI_KERNEL) {
    size_t len = 0;
    SpecialInsn insn = special_instruction_at(*task_, regs.rip, &len);
    if (insn == SpecialInsn::Rdtsc || insn == SpecialInsn::Rdtscp) {
      auto ev = expect("rdtsc");
      if (ev.which() != schema::Event::RDTSC) diverge(describe_event(ev), "rdtsc at 0x" + fmt_hex(regs.rip));
      auto t = ev.getRdtsc();
      regs.rax = t.getValue() & 0xffffffffu;
      regs.rdx = t.getValue() >> 32;
      if (insn == SpecialInsn::Rdtscp) regs.rcx = t.getAux();
      regs.rip += len;
      task_->set_regs(regs);
      consume();
      if (step) {
        Stop s;
        s.kind = StopKind::Stepped;
        return s;
      }
      return std::nullopt;
    }
  }
  if (injecting_signal_ == sig && si.si_code == SI_TKILL && si.si_pid == ::getpid()) {
    auto ev = expect("signal");
    auto rs = ev.getSignal();
    siginfo_t original{};
    auto raw = rs.getSiginfo();
    std::memcpy(&original, raw.begin(), std::min<size_t>(raw.size(), sizeof original));
    task_->set_siginfo(original);
    injecting_signal_ = 0;
    consume();
    deliver_on_resume_ = sig;
    return std::nullopt;
  }
  if (load_next()) {
    auto ev = expect("signal");
    if (ev.which() == schema::Event::SIGNAL && ev.getSignal().getSigno() == sig &&
        ev.getSignal().getSynchronous()) {
      Stop s;
      s.kind = StopKind::Signal;
      s.sig = sig;
      auto raw = ev.getSignal().getSiginfo();  // what the program saw when recorded
      std::memcpy(&s.siginfo, raw.begin(), std::min<size_t>(raw.size(), sizeof s.siginfo));
      consume();
      deliver_on_resume_ = sig;
      return s;
    }
  }
  if (sig == SIGTRAP) {
    Stop s;
    s.kind = step && si.si_code == TRAP_TRACE ? StopKind::Stepped : StopKind::Trap;
    if (step && (si.si_code == TRAP_TRACE || si.si_code == TRAP_BRKPT)) s.kind = StopKind::Stepped;
    s.sig = SIGTRAP;
    s.siginfo = si;
    return s;
  }
  diverge(describe_expected(), "signal " + sys::signal_name(sig) + " at 0x" + fmt_hex(regs.rip));
}

ReplaySession::Stop ReplaySession::on_death(const WaitStatus& w) {
  alive_ = false;
  Stop s;
  s.kind = StopKind::Exited;
  s.killed = w.kind == WaitStatus::Kind::Killed;
  s.exit_code = s.killed ? w.sig : w.exit_code;
  auto ev = expect("exit");
  std::string live = s.killed ? "death by " + sys::signal_name(w.sig)
                              : "exit with status " + std::to_string(w.exit_code);
  if (ev.which() != schema::Event::EXIT) diverge(describe_event(ev), live);
  auto e = ev.getExit();
  bool same = s.killed ? e.getSigno() == w.sig : (e.getSigno() == 0 && e.getStatus() == w.exit_code);
  if (!same) diverge(describe_event(ev), live);
  consume();
  return s;
}

int ReplaySession::recorded_exit_status() const {
  if (reader_->end()) return reader_->end()->exit_status;
  return 125;
}

std::string ReplaySession::trace_end_message() const {
  if (reader_->complete()) {
    return "the recording ends here (" + reader_->end()->reason + ")";
  }
  return "the trace ends here: it is incomplete (" + reader_->incomplete_reason() + ")";
}

int replay_autopilot(const ReplayOptions& options) {
  ReplaySession session(options);
  session.start();
  for (;;) {
    ReplaySession::Stop s = session.cont();
    switch (s.kind) {
      case ReplaySession::StopKind::Exited:
        return session.recorded_exit_status();
      case ReplaySession::StopKind::TraceEnd:
        std::cerr << "rrx: " << session.trace_end_message() << "\n";
        return session.reader().complete() ? session.recorded_exit_status() : 125;
      case ReplaySession::StopKind::Signal:
      case ReplaySession::StopKind::Stepped:
      case ReplaySession::StopKind::Interrupted:
      case ReplaySession::StopKind::MemoryWatch:
        continue;
      case ReplaySession::StopKind::Trap:
        throw Divergence(session.next_event(), session.recorded_tid(), "no breakpoint trap",
                         "SIGTRAP at 0x" + fmt_hex(session.task().regs().rip));
    }
  }
}

}  // namespace rrx::replay
