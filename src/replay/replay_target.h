// The gdb stub's view of a replay: gdb::Target over a ReplaySession.
// Breakpoints are int3 bytes hidden from memory reads; hardware breakpoints
// and watchpoints use the debug registers; writes from the debugger are
// refused because they would change the recorded execution. gdb debugs one
// process of the recorded tree, or (multiprocess, fork events) every
// process it follows across forks; the others replay along unseen.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <optional>

#include "gdbserver/target.h"
#include "replay/breakpoints.h"
#include "replay/replay_session.h"
#include "replay/timeline.h"
#include "trace_format/recorded_files.h"

namespace rrx::replay {

// The recorded process gdb debugs; the others replay along without the
// debugger.
struct Focus {
  int pid = 0;  // 0: the first process
  // A forked process debugged from its fork (rrx replay -f): gdb starts at
  // this event, which comes after the fork and before the new process runs
  // any code. Without it gdb starts once the process has exec'd (-p).
  std::optional<uint64_t> from_event;
};

class ReplayTarget : public gdb::Target {
 public:
  explicit ReplayTarget(ReplayOptions options, Focus focus = {});
  ~ReplayTarget() override;

  int pid() override;
  std::vector<int> threads() override;
  int current_thread() override;
  bool set_current_thread(int tid) override;
  std::string thread_name(int tid) override;
  bool read_registers(int tid, gdb::ThreadRegisters& out) override;
  size_t read_memory(uint64_t addr, void* buf, size_t len) override;
  bool write_registers_allowed(std::string& why) override;
  bool write_memory_allowed(std::string& why) override;
  bool insert_breakpoint(gdb::BreakpointKind kind, uint64_t addr, uint64_t len) override;
  bool remove_breakpoint(gdb::BreakpointKind kind, uint64_t addr, uint64_t len) override;
  gdb::StopReason resume(gdb::ResumeKind kind, int tid, bool others_held) override;
  bool can_reverse() override { return true; }
  void request_interrupt() override;
  gdb::StopReason last_stop() override { return last_stop_; }
  std::string auxv() override;
  std::string exec_file() override;
  std::string siginfo(int tid) override;
  std::vector<gdb::MemoryRegion> memory_map() override;
  std::string monitor(const std::string& command, bool& ok) override;
  bool catch_syscalls(bool on, const std::vector<int64_t>& numbers) override;
  bool restart(const std::vector<std::string>& args, std::string& why) override;
  std::vector<int> processes() override;
  int process_of(int tid) override;
  void set_event_reporting(bool forks, bool vforks, bool execs) override;
  bool detach(int pid) override;
  std::string exec_file_of(int pid) override;

  // Goes to event n before gdb connects (rrx replay -g); false: why not.
  bool start_at(uint64_t n, std::string& why);
  // The first event gdb can go to: the replay's start for the debugged process.
  uint64_t first_event() const { return first_event_; }
  // The debugger reads the recorded program's files from the trace's
  // copies (a path the recording executed or mapped); other paths are the
  // host's (separate debug info, files the program never mapped).
  std::string file_for(int pid, const std::string& path, int& error) override;
  int readlink_for(int pid, const std::string& path, std::string& out) override;

  ReplaySession& session() { return *session_; }
  Timeline& timeline() { return *timeline_; }

 private:
  void start_session();
  int focus() const;
  int focus_tid();  // a thread of the process gdb looks at (Hg, or the last stop's)
  int current_pid();
  bool attached(int pid) const { return attached_.count(pid) != 0; }
  // The stop to report for the end of an attached process, if one ended.
  std::optional<ReplaySession::Stop> attached_process_ended(int& pid);
  Timeline::HistoryStart history_start() const;
  bool on_fork(int parent_tid, int child_tid, bool vfork);
  gdb::StopReason translate(const ReplaySession::Stop& stop);
  gdb::StopReason reverse(gdb::ResumeKind kind, int tid, bool others_held);
  // Steps over the fast path's code as the program's syscall instruction
  // (replay/site_view.h); in_stub_code: at a point of a patched site's stub
  // that is none of the program's.
  ReplaySession::Stop step_program_insn(int tid);
  bool in_stub_code(const Mark& at);
  static constexpr int kMaxStepsInsideSiteCall = 1 << 20;
  // Back over a stub's instructions (displaced ones, a cpuid lookup's loop).
  static constexpr int kMaxStepsBackInsideStub = 4096;
  gdb::StopReason stop_at(const Mark& at, gdb::StopReason::Kind kind);
  std::string moved_to(const Mark& at);
  void replay_to_focus();
  // Why event n cannot be gone to (empty: it can).
  std::string cannot_goto(uint64_t n);
  std::string event_out_of_range(uint64_t n);
  bool restart_at_start();
  const trace::RecordedFiles& recorded_files();
  std::string live_proc_path(const std::string& path);

  ReplayOptions options_;
  std::unique_ptr<ReplaySession> session_;
  std::unique_ptr<Breakpoints> bps_;
  std::unique_ptr<Timeline> timeline_;
  Mark here_;  // the current position
  gdb::StopReason last_stop_;
  std::string last_siginfo_;  // raw siginfo of the last stop, if it was a signal
  bool exited_ = false;
  bool release_exit_ = false;  // let the held exit_group run
  Focus focus_;
  // The processes gdb debugs (recorded pids), and where each one's history
  // begins for gdb (its fork, or its exec of the image gdb knows).
  std::set<int> attached_;
  std::map<int, Timeline::HistoryStart> history_;
  std::set<int> forks_seen_;  // children whose fork gdb was told of
  bool report_forks_ = false, report_vforks_ = false, report_execs_ = false;
  bool reporting_ = false;    // inside a forward resume for gdb (not a timeline move)
  int cur_pid_ = 0;           // the process gdb looks at
  bool catch_on_ = false;          // gdb's catch syscall (kept across a restart)
  std::vector<int64_t> caught_;
  uint64_t first_event_ = 0;
  std::unique_ptr<trace::RecordedFiles> files_;  // read as far as the replay has gone, on the debugger's file requests
  std::set<std::string> verified_files_;         // hashes of copies checked before the debugger read them
};

}  // namespace rrx::replay
