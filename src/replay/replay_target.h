// The gdb stub's view of a replay: gdb::Target over a ReplaySession.
// Breakpoints are int3 bytes hidden from memory reads; hardware breakpoints
// and watchpoints use the debug registers; writes from the debugger are
// refused because they would change the recorded execution.
#pragma once

#include <map>
#include <memory>

#include "gdbserver/target.h"
#include "replay/replay_session.h"

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
  bool can_reverse() override { return false; }
  void request_interrupt() override;
  gdb::StopReason last_stop() override { return last_stop_; }
  std::string auxv() override;
  std::string exec_file() override;
  std::string siginfo(int tid) override;
  std::string monitor(const std::string& command, bool& ok) override;
  bool restart() override;

  ReplaySession& session() { return *session_; }

 private:
  struct DebugSlot {
    bool used = false;
    gdb::BreakpointKind kind{};
    uint64_t addr = 0, len = 0;
  };
  void start_session();
  int focus() const;
  int focus_tid();
  void apply_debug_registers();
  void apply_debug_registers(Task& t);
  void insert_all_breakpoints();
  bool watched(uint64_t addr, uint64_t len) const;
  gdb::StopReason translate(const ReplaySession::Stop& stop);

  ReplayOptions options_;
  std::unique_ptr<ReplaySession> session_;
  std::map<uint64_t, uint8_t> sw_breakpoints_;  // address -> original byte
  DebugSlot slots_[4];
  gdb::StopReason last_stop_;
  std::string last_siginfo_;  // raw siginfo of the last stop, if it was a signal
  bool exited_ = false;
  int focus_pid_ = 0;
};

}  // namespace rrx::replay
