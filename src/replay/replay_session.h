// A replay of a recorded program: re-runs the recorded binaries under
// ptrace, feeds every emulated syscall its recorded result and memory,
// runs the executed ones and checks their results, and stops with a
// Divergence the moment the program does something the recording did not.
#pragma once

#include <signal.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "core/error.h"
#include "core/kernel_probe.h"
#include "core/ptrace_task.h"
#include "trace_format/trace_reader.h"

namespace rrx::replay {

class Skipper;

struct ReplayOptions {
  std::filesystem::path trace_dir;
  std::optional<SkipStrategy> skip;  // default: the best the kernel supports
  bool echo_output = true;           // re-emit writes to fds 1 and 2
};

// The replayed program did something other than what was recorded.
class Divergence : public Error {
 public:
  Divergence(uint64_t event, int tid, const std::string& expected, const std::string& actual);
  uint64_t event() const { return event_; }

 private:
  uint64_t event_;
};

class ReplaySession {
 public:
  explicit ReplaySession(ReplayOptions options);
  ~ReplaySession();
  ReplaySession(const ReplaySession&) = delete;
  ReplaySession& operator=(const ReplaySession&) = delete;

  enum class StopKind {
    Stepped,      // one instruction done
    Trap,         // SIGTRAP rrx did not cause: a debugger breakpoint or watchpoint
    Signal,       // the program receives a recorded synchronous signal (delivered on the next resume)
    Exited,       // the program ended as recorded
    TraceEnd,     // the trace ends while the program is alive (incomplete or stopped recording)
    Interrupted,  // request_interrupt()
    MemoryWatch,  // the replay wrote recorded kernel output over a watched range (memory_write_hook)
  };
  struct Stop {
    StopKind kind = StopKind::Stepped;
    int sig = 0;
    siginfo_t siginfo{};
    int exit_code = 0;     // Exited: exit status, or the killing signal when killed
    bool killed = false;   // Exited by a signal
    uint64_t watch_addr = 0;  // MemoryWatch: the written range that was watched
    uint64_t watch_len = 0;
  };

  // Called for every range the replay writes into the program's memory in
  // the kernel's place (recorded syscall outputs, mapped file contents);
  // returning true makes cont()/step() stop with MemoryWatch once that
  // syscall is complete. Hardware watchpoints cannot see these writes.
  std::function<bool(uint64_t addr, uint64_t len)> memory_write_hook;

  // Spawns the program and replays its exec: stopped at its first instruction.
  void start();
  Stop cont();
  Stop step();
  // From any thread: makes a running cont() return Interrupted soon.
  void request_interrupt();

  Task& task() { return *task_; }
  int recorded_pid() const { return recorded_pid_; }
  int recorded_tid() const { return recorded_tid_; }
  bool alive() const { return alive_; }
  uint64_t next_event() const { return next_number_; }
  uint64_t event_count() const { return reader_->event_count(); }
  trace::TraceReader& reader() { return *reader_; }
  SkipStrategy strategy() const;
  const std::filesystem::path& exe_copy() const { return exe_copy_; }
  const std::string& recorded_exe_path() const { return exe_path_; }
  const std::string& auxv() const { return auxv_; }
  // What `rrx replay` exits with at the end: the recorded status.
  int recorded_exit_status() const;
  std::string trace_end_message() const;
  // Kills the replayed program.
  void kill();

 private:
  enum class Action { None, Emulate, Execute, ExecuteInject, ExecuteMmap, Exec, Exit };
  enum class NextResume { Normal, ToExit, RunForReal };

  Stop run(bool step);
  void spawn();
  void start_program();
  bool load_next();
  schema::Event::Reader expect(const char* what);
  void consume();
  [[noreturn]] void diverge(const std::string& expected, const std::string& actual);
  std::string describe_expected();

  void on_entry(const KernelSyscallInfo& info);
  void on_exit(const KernelSyscallInfo& info);
  void on_exec();
  std::optional<Stop> on_signal(int sig, bool step);
  Stop on_death(const WaitStatus& w);
  void inject_async_signal_if_due();
  void check_args(schema::Syscall::Reader rec, int64_t nr, const uint64_t args[6]);
  void write_recorded_memory(schema::Syscall::Reader rec);
  void echo_output(int64_t nr, const uint64_t args[6], int64_t ret);
  void fill_mapping(schema::Syscall::Reader rec, uint64_t addr, uint64_t len);
  void redirect_exec(schema::Exec::Reader exec, int64_t nr);

  ReplayOptions options_;
  std::unique_ptr<trace::TraceReader> reader_;
  std::unique_ptr<Skipper> skipper_;
  std::unique_ptr<Task> task_;
  std::optional<trace::EventRecord> next_;
  uint64_t next_number_ = 0;
  bool started_ = false;
  bool alive_ = false;
  int recorded_pid_ = 0;
  int recorded_tid_ = 0;
  std::filesystem::path exe_copy_;
  std::string exe_path_;
  std::string auxv_;

  // The syscall in progress.
  struct Current {
    Action action = Action::None;
    int64_t nr = -1;
    uint64_t args[6] = {};
    bool rerun_pending = false;  // sysemu: waiting for the re-issued entry stop
  } cur_;
  NextResume next_resume_ = NextResume::Normal;
  int deliver_on_resume_ = 0;
  std::optional<std::pair<uint64_t, uint64_t>> watched_write_;  // set by memory_write_hook during a syscall
  int injecting_signal_ = 0;
  std::atomic<bool> interrupt_requested_{false};
  std::atomic<bool> running_{false};
  std::map<std::string, int> file_fds_;
  bool debug_log_ = false;  // RRX_DEBUG_REPLAY=1: log every stop
};

// `rrx replay --autopilot`: returns the recorded exit status. Throws
// Divergence or rrx::Error.
int replay_autopilot(const ReplayOptions& options);

}  // namespace rrx::replay
