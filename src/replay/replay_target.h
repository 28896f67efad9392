// The gdb stub's view of a replay: gdb::Target over a ReplaySession.
// Breakpoints are int3 bytes hidden from memory reads; hardware breakpoints
// and watchpoints use the debug registers; writes from the debugger are
// refused because they would change the recorded execution.
#pragma once

#include <map>
#include <memory>
#include <set>

#include "gdbserver/target.h"
#include "replay/breakpoints.h"
#include "replay/replay_session.h"
#include "replay/timeline.h"
#include "trace_format/recorded_files.h"

namespace rrx::replay {

class ReplayTarget : public gdb::Target {
 public:
  // focus_pid: the recorded process gdb debugs (0: the first one); the
  // others replay along without the debugger.
  explicit ReplayTarget(ReplayOptions options, int focus_pid = 0);
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
  gdb::StopReason resume(gdb::ResumeKind kind, int tid) override;
  bool can_reverse() override { return true; }
  void request_interrupt() override;
  gdb::StopReason last_stop() override { return last_stop_; }
  std::string auxv() override;
  std::string exec_file() override;
  std::string siginfo(int tid) override;
  std::vector<gdb::MemoryRegion> memory_map() override;
  std::string monitor(const std::string& command, bool& ok) override;
  bool restart(const std::vector<std::string>& args, std::string& why) override;
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
  int focus_tid();
  gdb::StopReason translate(const ReplaySession::Stop& stop);
  gdb::StopReason reverse(gdb::ResumeKind kind, int tid);
  gdb::StopReason stop_at(const Mark& at, gdb::StopReason::Kind kind);
  std::string moved_to(const Mark& at);
  bool restart_at_start();
  const trace::RecordedFiles& recorded_files();

  ReplayOptions options_;
  std::unique_ptr<ReplaySession> session_;
  std::unique_ptr<Breakpoints> bps_;
  std::unique_ptr<Timeline> timeline_;
  Mark here_;  // the current position
  gdb::StopReason last_stop_;
  std::string last_siginfo_;  // raw siginfo of the last stop, if it was a signal
  bool exited_ = false;
  bool release_exit_ = false;  // let the held exit_group run
  int focus_pid_ = 0;
  std::unique_ptr<trace::RecordedFiles> files_;  // read as far as the replay has gone, on the debugger's file requests
  std::set<std::string> verified_files_;         // hashes of copies checked before the debugger read them
};

}  // namespace rrx::replay
