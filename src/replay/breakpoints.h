// The breakpoints and watchpoints of a replay: gdb's (Z packets), and rrx's
// own software breakpoints for finding positions again (reverse execution).
// They are per process, as in gdb's multiprocess protocol: each recorded
// process gdb is attached to has its own set (a forked child starts with a
// copy of its parent's, as its memory is a copy). Software breakpoints are
// int3 bytes in that process's memory, hidden from memory reads and from
// checkpoint copies, kept in whatever the process has mapped at their
// addresses (they follow mmap/munmap/exec during a replay); hardware
// breakpoints and watchpoints use the debug registers of every thread of
// that process. A set can belong to one program image (an exec starts a new
// one): it is in the process only while the process runs that image.
//
// Where the debug registers do not fire (core/debug_regs_probe.h: some
// virtual machines accept them and never trap), nothing goes into them:
// * write and access watchpoints are watched by single-steps: while one is
//   set on a process, cont() runs that process's threads one instruction at
//   a time (ReplaySession::single_step_hook) and compares the watched bytes
//   after each step; a change is a watchpoint stop at the instruction after
//   the write, as the registers report it (gdb then checks the value, as it
//   does for theirs). Writes the replay makes in the kernel's place stay
//   MemoryWatch stops (classify_kernel_write). A write that leaves the bytes
//   as they were is not seen (gdb's `watch` ignores it too; an access
//   watchpoint's reads are not seen at all);
// * read watchpoints are refused (a comparison cannot see a read), and so
//   gdb says it cannot set them;
// * hardware breakpoints (Z1) are int3 bytes, as software ones, reported as
//   hardware breakpoint stops.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "gdbserver/target.h"
#include "replay/replay_session.h"

namespace rrx::replay {

class Breakpoints {
 public:
  explicit Breakpoints(ReplaySession& session);

  // gdb's breakpoints in process `pid`; false when impossible (no debug
  // register free, a misaligned or odd-sized watch, no such process). A
  // software breakpoint at an address that is not mapped now goes in when
  // the replay maps it. `image`: the set belongs to that program image of
  // the process (ReplaySession::image_of), 0: to whatever it runs.
  bool insert(int pid, gdb::BreakpointKind kind, uint64_t addr, uint64_t len, uint64_t image = 0);
  bool remove(int pid, gdb::BreakpointKind kind, uint64_t addr, uint64_t len);
  void clear();                 // forget gdb's breakpoints (the program restarts)
  void clear_process(int pid);  // forget process pid's (gdb detached from it, or it exec'd)
  // Whether gdb's set of `pid` exists (the process takes breakpoints).
  bool holds(int pid) const { return procs_.count(pid) != 0; }

  // While off, gdb's breakpoints stay out of the program (rrx moving through
  // the timeline); rrx's own ones are unaffected.
  void set_user_enabled(bool on);
  bool user_enabled() const { return user_enabled_; }
  // rrx's own int3 at addr in process pid (one process at a time).
  void add_internal(int pid, uint64_t addr);
  void clear_internal();

  // gdb's catch syscall (QCatchSyscalls): the syscalls of the debugged
  // process to stop at, on entry and return (`numbers` empty: all).
  void catch_syscalls(bool on, const std::vector<int64_t>& numbers);
  // Which processes gdb debugs (catch syscall stops only in those; unset: all).
  void set_debugged(std::function<bool(int pid)> debugged) { debugged_ = std::move(debugged); }
  // Whether the replay stops at this syscall entry or return
  // (ReplaySession::syscall_hook): gdb catches it (while gdb's breakpoints
  // are enabled; the program's own calls only, none the preload library
  // makes for itself), or it is the entry of thread catch_internal_entry() names.
  bool catches_syscall(int tid, int64_t nr, bool entry) const;
  // rrx stops at the next syscall entry of `tid` (finding a syscall-entry
  // position again) until clear_internal().
  void catch_internal_entry(int tid) { internal_entry_tid_ = tid; }

  // Writes and removes int3 bytes and debug registers until the program
  // holds exactly the wanted set.
  void sync();
  // After ReplaySession::restore(): the new processes hold none of them.
  void after_restore();
  // A new thread gets its process's debug registers.
  void on_new_task(int tid);
  // A fork: the child's memory holds the parent's int3 bytes. It keeps the
  // set it has (a replay passing the fork again), else gets a copy of the
  // parent's when `inherit` (gdb is told of the fork and decides), else
  // none. A vfork child shares the parent's memory (and int3 bytes) until it
  // execs or exits.
  void on_fork(int parent_tid, int child_tid, bool vfork, bool inherit);
  // Task `tid` changed its mappings (ReplaySession::address_space_hook):
  // int3 bytes whose page was replaced or unmapped are gone (the page holds
  // the file's bytes again), and breakpoints at addresses that were not
  // mapped go in now. A replay from a checkpoint taken before a library
  // was loaded thus gets gdb's breakpoints in that library as the replay
  // maps it, as a live process would have had them. After an exec the
  // debug registers are written again (the kernel cleared them).
  void on_address_space_change(int tid, bool exec);

  // The program's own bytes in a buffer read from process pid's memory.
  void hide_in(int pid, uint64_t addr, void* buf, size_t len) const;
  // The program's own bytes in a checkpoint copy of process `pid`.
  void hide_in_copy(int pid, Task& frozen) const;
  bool has_int3_at(int pid, uint64_t addr) const;
  // gdb's write or access watchpoints of pid overlapping [addr, addr+len).
  bool watches_writes_to(int pid, uint64_t addr, uint64_t len) const;
  // Whether thread `tid` may take its recorded buffered calls without a stop
  // each (ReplaySession::stop_free_hook): no stop of the debugger's can fall
  // inside them. Not while rrx's own breakpoints or syscall catch find a
  // position, gdb catches syscalls, a read watchpoint is set (x86 watches
  // reads and writes alike: the library's copy of an output would trigger
  // it where the replay's write does not), or a breakpoint is in the
  // library's code. (Write and access watchpoints on what a call writes are
  // the session's memory_write_hook: that call alone keeps its stop.)
  bool allows_stop_free(int tid) const;
  // Whether the debug registers are used (they fire here); false: the
  // software ways above.
  bool debug_registers() const { return !soft_; }
  // Whether cont() single-steps thread `tid` (ReplaySession::single_step_hook):
  // no working debug registers, and gdb watches writes in its process.
  bool single_steps(int tid) const;
  // session.cont(), watching by single-steps where single_steps(): returns
  // at the first stop that is not a step, or at the step after which a
  // watched range holds other bytes (then classify_step() reports it).
  ReplaySession::Stop cont();
  // The bytes of every software-watched range now: a step or cont() from
  // here compares against them.
  void soft_snapshot();
  // A fingerprint of gdb's breakpoint sets (to tell whether they changed).
  std::string describe_user_set() const;

  // What a SIGTRAP of thread `tid` was. Clears DR6, and moves the pc back
  // onto an int3 that rrx or gdb put there.
  struct Hit {
    bool software = false;   // gdb's int3
    bool hardware = false;   // gdb's execution breakpoint
    bool watch = false;      // gdb's watchpoint
    bool internal = false;   // rrx's int3
    gdb::BreakpointKind watch_kind = gdb::BreakpointKind::WriteWatch;
    uint64_t watch_addr = 0;
    bool syscall = false;        // gdb's catch syscall: an entry or return it catches
    bool syscall_entry = false;
    int64_t syscall_nr = -1;
    bool user() const { return software || hardware || watch || syscall; }
  };
  Hit classify_trap(int tid);
  // What a SyscallEntry / SyscallExit stop was.
  Hit classify_syscall(const ReplaySession::Stop& stop) const;
  // What a single-step of thread `tid` triggered besides the step: a
  // watchpoint whose range the stepped instruction wrote (or read), as the
  // kernel reports it in DR6 together with the single-step bit. Clears DR6.
  // Without working debug registers: a watched range whose bytes differ
  // from soft_snapshot()'s (or the change cont() stopped for).
  Hit classify_step(int tid);
  // One instruction of `tid`, with the int3 at its pc (if any) lifted for it.
  ReplaySession::Stop step_over(int tid);
  // A write by the replay in the kernel's place into pid's memory (MemoryWatch stop).
  Hit classify_kernel_write(int pid, uint64_t addr, uint64_t len) const;
  // The bytes under pid's write and access watchpoints now, per debug
  // register slot (empty: unused, a read watch, or unreadable); and the
  // first of those watchpoints whose bytes differ from `before`. A reverse
  // step compares the two ends of the step: the watchpoint a step back over
  // a write reports, so that gdb's idea of the value stays true.
  using WatchedBytes = std::array<std::string, 4>;
  WatchedBytes watched_bytes(int pid);
  Hit watch_changed_since(int pid, const WatchedBytes& before);

 private:
  struct Slot {
    bool used = false;
    gdb::BreakpointKind kind{};
    uint64_t addr = 0, len = 0;
  };
  // gdb's breakpoints in one process.
  struct Proc {
    std::set<uint64_t> sw;
    std::set<uint64_t> hw;  // hardware breakpoints as int3 bytes (no working debug registers)
    Slot slots[4];
    uint64_t image = 0;  // the image they belong to (0: any)
    bool debug_regs_dirty = true;
  };
  using Int3s = std::map<uint64_t, uint8_t>;  // int3s in memory: address -> original byte

  Task* task_of(int pid);
  int memory_of(int pid) const;  // whose memory pid uses (a vfork child: its parent's)
  bool active(int pid, const Proc& p);
  const Int3s* int3s(int pid) const;
  void sync_memory(int pid);
  void write_debug_registers(Task& t, const Proc* p);
  const Slot* slots(int pid) const;

  // Software watchpoints: the watched bytes of each process at the last
  // comparison, and the change cont() stopped for (reported by classify_step).
  Hit soft_compare(int tid);
  bool soft_watches(int pid, const Proc& p) const;

  ReplaySession& session_;
  const bool soft_;                 // the debug registers do not fire here
  std::map<int, WatchedBytes> soft_before_;
  std::optional<std::pair<int, Hit>> soft_hit_;
  std::map<int, Proc> procs_;       // gdb's, by recorded pid
  std::map<int, Int3s> inserted_;   // by the recorded pid whose memory holds them
  std::map<int, int> vfork_parent_;  // vfork child -> the parent whose memory it shares
  int internal_pid_ = 0;
  std::set<uint64_t> internal_;
  bool user_enabled_ = true;
  bool catch_syscalls_ = false;
  std::set<int64_t> caught_syscalls_;  // empty: all
  int internal_entry_tid_ = 0;
  std::function<bool(int)> debugged_;  // whether gdb debugs process pid (catch syscall applies)
  bool debugged(int pid) const { return !debugged_ || debugged_(pid); }
  // Whether thread tid's syscall stop for nr is the program's own call, not
  // one the preload library makes for itself (replay/site_view.h).
  bool program_call(int tid, int64_t nr) const;
};

}  // namespace rrx::replay
