// What the gdb stub needs from the thing it debugs. The stub (packet codec,
// connection, packet handlers) knows nothing about ptrace or traces; the
// replay session implements this interface.
#pragma once

#include <sys/user.h>

#include <cstdint>
#include <string>
#include <vector>

namespace rrx::gdb {

// Registers of one thread as the target holds them. The stub maps them onto
// the amd64-linux target description (core, sse, linux orig_rax, segments
// fs_base/gs_base, avx).
struct ThreadRegisters {
  user_regs_struct gpr{};
  user_fpregs_struct fpr{};      // fxsave layout: x87, mxcsr, xmm0-15
  uint8_t ymmh[16][16] = {};     // upper halves of ymm0-15
  bool has_avx = false;
};

enum class BreakpointKind { Software, Hardware, WriteWatch, ReadWatch, AccessWatch };

enum class ResumeKind { Continue, Step, ReverseContinue, ReverseStep };

struct StopReason {
  enum class Kind {
    Signal,        // stopped with a signal (SIGTRAP after a step or breakpoint, SIGSEGV...)
    Exited,        // the process exited with `code` (end of the recording)
    Terminated,    // the process was killed by `signo` (end of the recording)
    ReplayBegin,   // reverse execution reached the start of the recording
    ReplayEnd,     // forward execution reached the end of the recording (process still present)
    Forked,        // `tid` forked: the child is process child_pid (thread child_tid), stopped at its start
    VForked,       // the same by vfork: the parent waits until VForkDone
    VForkDone,     // a vfork's child exec'd or exited: its parent `tid` goes on
    Execd,         // `tid`'s process exec'd exec_path (gdb loads its symbols)
  };
  Kind kind = Kind::Signal;
  int tid = 0;            // thread that stopped
  int pid = 0;            // its process
  int signo = 5;          // for Signal (SIGTRAP=5), Terminated
  int code = 0;           // for Exited
  bool software_breakpoint = false;  // stopped at a Z0 breakpoint (swbreak)
  bool hardware_breakpoint = false;  // stopped at a Z1 breakpoint (hwbreak)
  bool watchpoint = false;
  BreakpointKind watch_kind = BreakpointKind::WriteWatch;
  uint64_t watch_addr = 0;
  int child_pid = 0;      // Forked, VForked
  int child_tid = 0;
  std::string exec_path;  // Execd: the file gdb reads the new image's symbols from
  // A Signal (SIGTRAP) stop at a syscall's entry or return that gdb asked
  // to catch (QCatchSyscalls): syscall_entry:NR / syscall_return:NR.
  enum class Syscall { None, Entry, Return };
  Syscall syscall = Syscall::None;
  int64_t syscall_nr = -1;
};

// One mapping of the debugged process's address space, [start, end)
// (lldb's qMemoryRegionInfo, `memory region`).
struct MemoryRegion {
  uint64_t start = 0, end = 0;
  bool readable = false, writable = false, executable = false;
  std::string name;  // "[stack]", "[heap]"...; empty for file and anonymous mappings
};

class Target {
 public:
  virtual ~Target() = default;

  // Process and threads. Thread ids are the recorded tids (what the program saw).
  virtual int pid() = 0;
  virtual std::vector<int> threads() = 0;
  virtual int current_thread() = 0;
  virtual bool set_current_thread(int tid) = 0;  // false: no such thread
  virtual std::string thread_name(int tid) = 0;

  virtual bool read_registers(int tid, ThreadRegisters& out) = 0;
  // Returns the number of bytes read (0 when the first byte is unreadable).
  virtual size_t read_memory(uint64_t addr, void* buf, size_t len) = 0;

  // Writes are refused on a replay: the reason is shown to the user.
  virtual bool write_registers_allowed(std::string& why) = 0;
  virtual bool write_memory_allowed(std::string& why) = 0;

  // Breakpoints and watchpoints; false when not possible (e.g. out of debug registers).
  virtual bool insert_breakpoint(BreakpointKind kind, uint64_t addr, uint64_t len) = 0;
  virtual bool remove_breakpoint(BreakpointKind kind, uint64_t addr, uint64_t len) = 0;

  // Runs `tid` (0: the current thread) until something gdb must see.
  // `others_held`: gdb resumes `tid` alone (Hc THREAD before s or bs, as for
  // stepping a thread over a breakpoint) and expects no other thread to
  // move or to report a stop; otherwise all threads run.
  virtual StopReason resume(ResumeKind kind, int tid, bool others_held) = 0;
  virtual bool can_reverse() = 0;
  // May be called from another thread while resume() runs (gdb sent ^C):
  // resume() then returns a SIGINT stop soon.
  virtual void request_interrupt() = 0;

  // gdb's `catch syscall` (QCatchSyscalls): stop at the entry and return
  // of the syscalls numbered in `numbers` (all when it is empty), or at
  // none when `on` is false. false: not supported.
  virtual bool catch_syscalls(bool on, const std::vector<int64_t>& numbers) {
    (void)on;
    (void)numbers;
    return false;
  }

  // The current stop (for '?').
  virtual StopReason last_stop() = 0;

  virtual std::string auxv() = 0;        // raw bytes of the auxiliary vector
  virtual std::string exec_file() = 0;   // path of the executable gdb should load symbols from
  // The raw siginfo_t (128 bytes) of the signal `tid` stopped with, or empty
  // when it did not stop with a signal (qXfer:siginfo:read, gdb's $_siginfo).
  virtual std::string siginfo(int tid) = 0;
  // The mappings of the debugged process, sorted by address; empty when
  // the target cannot tell (lldb then finds its way without them).
  virtual std::vector<MemoryRegion> memory_map() { return {}; }

  // `monitor CMD`: output text, or an error message in `error`.
  virtual std::string monitor(const std::string& command, bool& ok) = 0;

  // gdb's multiprocess extensions. A target that debugs one process keeps
  // these defaults.
  // The processes gdb is attached to, and the process of a thread.
  virtual std::vector<int> processes() { return {pid()}; }
  virtual int process_of(int tid) {
    (void)tid;
    return pid();
  }
  // gdb asked for fork, vfork and exec events (qSupported fork-events+...):
  // a fork's child is then attached as well and reported with the fork
  // (gdb detaches from it with D;PID if it does not want it), and an exec
  // is reported with the new program's path.
  virtual void set_event_reporting(bool forks, bool vforks, bool execs) { (void)forks, (void)vforks, (void)execs; }
  // D;PID and vKill;PID: stop debugging process pid (its stops are no
  // longer reported, its breakpoints go). false: not a process gdb debugs.
  virtual bool detach(int pid) {
    (void)pid;
    return false;
  }
  // The executable of process pid (qXfer:exec-file:read with an annex).
  virtual std::string exec_file_of(int pid) {
    (void)pid;
    return exec_file();
  }

  // gdb's `run ARGS` / `starti ARGS` (vRun): start again, at the place the
  // arguments name (none: the beginning; the target defines what they mean,
  // a replay takes an event or checkpoint to go to). false: `why` says why
  // not. A move made this way reaches gdb as a fresh start: it re-reads
  // registers, memory, threads and shared libraries.
  virtual bool restart(const std::vector<std::string>& args, std::string& why) = 0;

  // Host I/O (vFile packets, see host_io.h): the debugger reads the
  // program's files through the stub. The local file holding the bytes
  // process `pid` (0: the current one) saw at `path`: the file itself by
  // default; a replay answers with its trace's copy of a recorded file.
  // Empty: refused, `error` says why (an errno value).
  virtual std::string file_for(int pid, const std::string& path, int& error);
  // readlink(2) as process `pid` would see `path`: 0 and `out`, or an errno value.
  virtual int readlink_for(int pid, const std::string& path, std::string& out);
};

}  // namespace rrx::gdb
