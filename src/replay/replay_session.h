// A replay of a recorded program tree: re-runs the recorded binaries under
// ptrace, one task at a time in the recorded order of events, feeds every
// emulated syscall its recorded result and memory, runs the executed ones
// and checks their results, and stops with a Divergence the moment a task
// does something the recording did not.
#pragma once

#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/kernel_probe.h"
#include "core/pre_exec_child.h"
#include "core/ptrace_task.h"
#include "core/syscall_format.h"
#include "replay/mapped_copies.h"
#include "replay/namespaces_replay.h"
#include "replay/preempt_stub.h"
#include "replay/replay_stats.h"
#include "trace_format/sparse_file.h"
#include "trace_format/trace_reader.h"

namespace rrx::replay {

class Skipper;
class ReplaySession;

// In a replayed child before its exec: a seccomp filter that traces every
// call (seccomp_entries.cpp). False: the kernel refused it.
bool install_trace_all_filter();
class SharedMemory;
class BufferFeed;

// A frozen copy of the whole replayed tree at one moment: one stopped fork
// of each replayed process (copy-on-write, never resumed) plus the replay's
// own bookkeeping. ReplaySession::restore() forks those copies again, so a
// checkpoint can be restored any number of times.
class Checkpoint {
 public:
  ~Checkpoint();
  Checkpoint(const Checkpoint&) = delete;
  Checkpoint& operator=(const Checkpoint&) = delete;
  // The next event when it was taken.
  uint64_t event() const;
  // Taken right after an event was replayed, before any code ran: the start
  // of the interval of event() (see ReplaySession::at_interval_start()).
  bool at_interval_start() const;
  // Memory the frozen processes hold (their proportional set size, as of
  // the last measure()).
  uint64_t memory_bytes() const;
  void measure();
  // Threads in the frozen tree (all processes).
  size_t thread_count() const;

 private:
  friend class ReplaySession;
  Checkpoint();
  struct Thread;  // one thread of a frozen process (checkpoint.cpp)
  struct Data;
  std::unique_ptr<Data> d_;
};

struct ReplayOptions {
  std::filesystem::path trace_dir;
  std::optional<SkipStrategy> skip;  // default: the best the kernel supports
  bool echo_output = true;           // re-emit what the recording wrote to rrx's stdout and stderr
  // Replay on any CPU instead of binding to one, the recorded one where
  // allowed (--cpu-unbound, RRX_CPU_UNBOUND=1; core/cpu_binding.h).
  bool cpu_unbound = false;
};

// The replayed program did something other than what was recorded.
class Divergence : public Error {
 public:
  // `note`: a possible cause, added as a last line when not empty.
  Divergence(uint64_t event, int tid, const std::string& expected, const std::string& actual,
             const std::string& note = "");
  uint64_t event() const { return event_; }

 private:
  uint64_t event_;
};

class ReplaySession {
 public:
  friend class Checkpoint;
  explicit ReplaySession(ReplayOptions options);
  ~ReplaySession();
  ReplaySession(const ReplaySession&) = delete;
  ReplaySession& operator=(const ReplaySession&) = delete;

  enum class StopKind {
    Stepped,      // one instruction done
    Trap,         // SIGTRAP rrx did not cause: a debugger breakpoint or watchpoint
    Signal,       // a task receives a recorded synchronous signal, or one that kills its process
                  // (SIGABRT from abort(), SIGTERM from another process...): delivered on the next resume
    Exited,       // the first process ended as recorded
    TraceEnd,     // the trace ends while tasks are alive (incomplete or stopped recording)
    Interrupted,  // request_interrupt()
    MemoryWatch,  // the replay wrote recorded kernel output over a watched range (memory_write_hook)
    Exec,         // a task exec'd and exec_hook asked to stop there
    EventReached, // set_stop_at_event(): that event is next
    ProcessEnding,  // exit_hook asked to stop at an exit_group entry (not yet run)
    Killing,      // the recording's SIGKILL ends this task's process next (sent by another
                  // process or from outside: it has no delivery stop); rrx has not sent it yet
    Forked,       // fork_hook asked to stop at a fork or vfork: `tid` the parent (in the
                  // syscall), `child_tid` the new process (at its first instruction)
    VforkDone,    // vfork_done_hook asked to stop: the vfork parent `tid` goes on (its child exec'd or exited)
    ProcessExited,  // process_exit_hook asked to stop: process `tid` (its main thread's tid) ended while
                    // others go on; exit_code and killed as for Exited
    SyscallEntry, // syscall_hook asked to stop at this syscall's entry (before the replay handles it)
    SyscallExit,  // syscall_hook asked to stop once this syscall has returned (its result in place)
    PositionReached,  // set_position_target(): its thread stands there
  };
  struct Stop {
    StopKind kind = StopKind::Stepped;
    int tid = 0;           // recorded tid of the task that stopped
    int sig = 0;
    siginfo_t siginfo{};
    int exit_code = 0;     // Exited: exit status, or the killing signal when killed
    bool killed = false;   // Exited by a signal
    uint64_t watch_addr = 0;  // MemoryWatch: the written range that was watched
    uint64_t watch_len = 0;
    int child_tid = 0;        // Forked: the new process
    bool vfork = false;       // Forked: by vfork (the child shares the parent's memory until it execs or exits)
    int64_t syscall_nr = -1;  // SyscallEntry, SyscallExit
  };

  // Called for every range the replay writes into a program's memory in the
  // kernel's place (recorded syscall outputs); returning true makes
  // cont()/step() stop with MemoryWatch once that syscall is complete.
  // Hardware watchpoints cannot see these writes.
  std::function<bool(int tid, uint64_t addr, uint64_t len)> memory_write_hook;
  // Called at a new task's first stop, before it runs any code (threads
  // inherit nothing from the debugger, e.g. debug registers).
  std::function<void(int tid)> new_task_hook;
  // Called after a task's exec; returning true stops cont() with Exec.
  std::function<bool(int tid)> exec_hook;
  // Called at a fork or vfork of a process (not a new thread), after the
  // child exists and has stopped at its first instruction (child_tid) and
  // before either runs on; returning true stops cont()/step() with Forked.
  std::function<bool(int parent_tid, int child_tid, bool vfork)> fork_hook;
  // Called when a vfork parent's vfork returns (its child exec'd or
  // exited); returning true stops with VforkDone.
  std::function<bool(int tid)> vfork_done_hook;
  // Called when a process other than the last one ends (its main thread
  // died); returning true stops with ProcessExited.
  std::function<bool(int recorded_pid)> process_exit_hook;
  // Called when a task enters the exit_group the recording says it made;
  // returning true stops with ProcessEnding before it runs (and again on
  // every later cont()/step() while the hook says so).
  std::function<bool(int tid)> exit_hook;
  // Called after a task's syscall that changes its mappings (the syscall
  // table's kMapsMemory: mmap, munmap, mprotect, execve...) completes, and
  // after an exec (`exec` true: a new address space, and the kernel has
  // cleared the task's debug registers). Before the task runs on.
  std::function<void(int tid, bool exec)> address_space_hook;
  // Puts back, in bytes [addr, addr+len) read from process recorded_pid,
  // what the debugger's breakpoints replaced (a site patch keeps the
  // program's bytes it overwrites, not a breakpoint's int3).
  std::function<void(int recorded_pid, uint64_t addr, void* buf, size_t len)> hide_debugger_bytes;
  // Called with each frozen copy a checkpoint makes, to take out of its
  // memory what the debugger put there (breakpoint bytes).
  std::function<void(int recorded_pid, Task& frozen)> checkpoint_fixup;
  // Called at each syscall entry (entry true) and after each syscall that
  // returns (entry false) during cont(); returning true stops with
  // SyscallEntry / SyscallExit (gdb's catch syscall). Not called while
  // single-stepping (syscall_stops.cpp).
  std::function<bool(int tid, int64_t nr, bool entry)> syscall_hook;
  // Called before a task runs on when the calls it makes next were recorded
  // by the syscall buffer: returning false replays them with a stop each
  // instead of letting the preload library take them from its buffer
  // without one (replay/syscallbuf_replay.h). The debugger says false while
  // a stop could fall inside them: a watchpoint, catch syscall, a breakpoint
  // in the library's code, its own breakpoints for finding a position.
  // Unset: always without stops (rrx replay --autopilot).
  std::function<bool(int tid)> stop_free_hook;
  // Called at each interval start (see at_interval_start()) during
  // cont()/step(): where automatic checkpoints are taken.
  std::function<void()> interval_start_hook;
  // Called before cont() runs a task on: returning true makes that run one
  // instruction, as step() does (with its handling of syscalls, buffered
  // calls and events), and cont() returns Stepped after it. Software
  // watchpoints where the debug registers do not fire (replay/breakpoints.h).
  std::function<bool(int tid)> single_step_hook;

  // Spawns the program and replays its exec: stopped at its first instruction.
  void start();
  // Runs every task in the recorded order until something to report.
  Stop cont();
  // One instruction of task `tid` (recorded tid; 0: the current task).
  // Tasks whose events come first run before it.
  Stop step(int tid = 0);
  // From any thread: makes a running cont() return Interrupted soon.
  void request_interrupt();

  // Tasks, by recorded tid.
  std::vector<int> tids() const;                 // all live tasks
  std::vector<int> tids_of(int recorded_pid) const;
  bool has_task(int tid) const;
  Task& task(int tid);
  Task& task() { return task(current_tid_); }    // the current task
  int current_tid() const { return current_tid_; }
  void set_current_tid(int tid) { current_tid_ = tid; }
  int pid_of(int tid) const;
  std::string exe_of(int tid) const;
  // The event that gave task `tid` its program image: its process's last
  // exec (a forked child has its parent's). Tells the images apart across
  // an exec, and across restores of checkpoints taken before it.
  uint64_t image_of(int tid) const;
  std::string auxv_of(int tid) const;
  std::filesystem::path exe_copy_of(int tid) const;
  // How process `pid` ended, once its main thread is gone.
  std::optional<Stop> process_exit(int pid) const;

  // Whether `addr` lies inside the jump a site patch of the fast path wrote
  // into process `pid`'s code, past the jump's first byte, as the replay
  // stands now (site_patch_replay.cpp). The instructions that were there run
  // relocated in the patch's stub: an int3 written there would not stop at
  // them, and would change the jump's target instead.
  bool inside_patched_jump(int pid, uint64_t addr) const;
  // The program's own code in a buffer read from process pid's memory at
  // addr: the bytes each site patch in effect replaced (site_patch_replay.cpp;
  // the debugger shows the program's code, as it does without its int3s).
  void hide_patches(int pid, uint64_t addr, void* buf, size_t len) const;
  // Whether addr is in the stub of a site patch in effect in process pid.
  bool in_patch_stub(int pid, uint64_t addr) const;
  // In the stub of a patched cpuid site of process pid (cpuid_sites_replay.cpp):
  // the program's pc where `addr` is the start of the stub's lookup (the
  // cpuid, not run yet) or its end (the cpuid done); nullopt elsewhere.
  std::optional<uint64_t> cpuid_site_pc(int pid, uint64_t addr) const;

  int recorded_pid() const { return first_pid_; }  // the first process
  int recorded_tid() const { return current_tid_; }
  bool alive() const { return !tasks_.empty(); }
  uint64_t next_event() const { return next_number_; }
  uint64_t event_count() const { return reader_->event_count(); }
  trace::TraceReader& reader() { return *reader_; }
  SkipStrategy strategy() const;
  const std::filesystem::path& exe_copy() const { return exe_copy_; }
  const std::string& recorded_exe_path() const { return exe_path_; }
  const std::string& auxv() const { return auxv_; }
  // What `rrx replay` exits with at the end: the recorded status.
  int recorded_exit_status() const;
  // Warnings about shared objects whose bytes at the end differ from the
  // recording's (written by a process outside the recorded tree).
  std::vector<std::string> shared_objects_at_end() const;
  std::string trace_end_message() const;
  // Kills every replayed task.
  void kill();

  // Checkpoints. checkpoint() returns null (and why) when the tree cannot be
  // copied now: a task is inside a syscall that runs for real, or a signal
  // is on its way. Threads waiting for an emulated syscall's result (a futex
  // wait) are fine: the copy waits in the same syscall.
  std::shared_ptr<Checkpoint> checkpoint(std::string* why_not = nullptr);
  // New tasks that have not run yet keep their first stop unhandled until
  // they do (it stops checkpoint()); this takes those stops now, running
  // nothing (rrx replay -f starts where a fork has just happened).
  void settle_new_tasks();
  // Replaces the live tree by new copies of the checkpoint's processes.
  void restore(const Checkpoint& checkpoint);
  // True while no code has run since the last event was replayed: the
  // program stands at the start of the interval of next_event(), the stretch
  // of execution that ends with that event. Only the task of event N runs
  // user code in interval N.
  bool at_interval_start() const { return at_interval_start_; }
  // cont()/step() stop with EventReached once next_event() >= n.
  void set_stop_at_event(std::optional<uint64_t> n) { stop_at_event_ = n; }
  // The recorded tid of event n (0 for warnings or past the end).
  int event_tid(uint64_t n);
  // Where task `tid` goes when the next event, a patch of the syscall site
  // it has just come back from, is applied (the patch's newIp); 0 when the
  // next event is not such a patch. (The recording made the patch at that
  // call's exit stop: both places are one position of the program.)
  uint64_t patch_moves_to(int tid);
  // Whether writes to fds 1 and 2 are shown again (off while rrx moves
  // through the timeline: the user saw that output already).
  void set_echo_output(bool on) { options_.echo_output = on; }
  bool echo_output() const { return options_.echo_output; }
  // Seconds spent replaying (inside cont() and step()) since the session
  // was made: what the Timeline spaces automatic checkpoints by.
  double replay_seconds() const;
  // Buffered calls replayed without a stop so far (replay/syscallbuf_replay.h).
  uint64_t stop_free_calls() const { return stop_free_calls_; }
  // Stops per kind of event, where RRX_REPLAY_STATS is set (else null).
  const ReplayStats* stats() const { return stats_.get(); }
  // True while the task is inside a syscall (its result still to come).
  bool in_syscall(int tid) const;

  // Finding a position again without a stop per pass (the Timeline's marks;
  // position_target.cpp): while set, cont() stops with PositionReached when
  // thread `tid`, running in interval `interval`, stands at `regs` (all of
  // them, as same_position_regs compares), or, with `trap_at_pass`, at
  // that pass of regs.rip counted from now. A PreemptStub at regs.rip does
  // the test in the process; it is patched in only while that thread runs
  // in that interval. Set while the replay stands in the interval with the
  // thread stopped; false (and why) when the site cannot take a stub (the
  // caller goes the slow way). `count`: position_passes() tells how many
  // times the thread passed regs.rip since, the last pass included.
  struct PositionTarget {
    int tid = 0;
    uint64_t interval = 0;
    user_regs_struct regs{};
    bool count = false;
    uint64_t trap_at_pass = 0;  // 0: the registers decide
  };
  bool set_position_target(const PositionTarget& p, std::string* why_not = nullptr);
  void clear_position_target();
  bool has_position_target() const { return position_stub_ != nullptr; }
  uint64_t position_passes() const;

 private:
  // SeccompKill: the call the program's filter killed it at, run again into a
  // filter that kills it the same way (replay/seccomp_replay.cpp).
  enum class Action { None, Emulate, Execute, ExecuteInject, ExecuteMmap, Exec, Exit, Clone, SeccompKill };
  enum class NextResume { Normal, ToExit, RunForReal };

  struct RTask {
    std::unique_ptr<Task> task;
    int tid = 0;                 // recorded
    int pid = 0;                 // recorded process
    pid_t live_pid = 0;
    bool started = false;        // its first SIGSTOP was seen (replay traces with PTRACE_TRACEME)
    bool running = false;        // resumed; its next stop has not been seen
    std::optional<WaitStatus> pending;  // a stop seen but not yet handled
    struct Current {
      Action action = Action::None;
      int64_t nr = -1;
      uint64_t args[6] = {};
      bool rerun_pending = false;  // sysemu: waiting for the re-issued entry stop
      bool awaiting_exit_event = false;  // the entry had its own event; the result comes with a later one
      bool at_exit_stop = false;   // two-stop strategies: stopped at the exit, result not yet set
      bool sigsuspend_for_real = false;  // replaced by rt_sigsuspend to take a signal with its mask
      bool exit_held = false;      // exit_group stopped by exit_hook; its event not yet consumed
      bool entry_deferred = false; // waits at its entry for the completion event (mmap: its replay needs the result)
      bool mapped_copy = false;    // mmap of a file: mapped from the trace's copy (MappedCopies), nothing to fill
    } cur;
    bool entry_reported = false;  // its syscall entry stop was reported (SyscallEntry) and waits in `pending`
    NextResume next_resume = NextResume::Normal;
    int deliver_on_resume = 0;
    int injecting_signal = 0;
    // The injected result was a restart code (-ERESTARTSYS...): unless a
    // signal is delivered when the task goes on, the kernel restarts the call.
    int64_t restart_nr = -1;
    bool sigkilled = false;       // rrx sent the recorded SIGKILL
    bool kill_reported = false;   // cont()/step() stopped with Killing before sending it
    bool exiting = false;         // at or past its exit event stop (PTRACE_EVENT_EXIT)
    // The event of a record fed to its buffer that the library did not take
    // (an executed call with another result than the recorded one: its exit
    // compares them), or UINT64_MAX.
    uint64_t untaken_fed = UINT64_MAX;
    // Single-stepped over a pushf: the flags it pushed hold the step's trap
    // flag, which a later popf (the preload library's stubs) would make the
    // program's own: taken out of the pushed word at the step's stop.
    bool stepped_pushf = false;
    uint64_t image_event = 0;     // the exec event of its image (see image_of())
    int vfork_child = 0;          // in a vfork whose child runs (vfork_done_hook when it returns)
    bool cpuid_untrapped = false; // its exec event says cpuid stays untrapped (seccomp filters)
    int group_stop_sig = 0;       // sits in a live group-stop by this signal (until resumed)
    uint64_t child_tid_addr = 0;  // CLONE_CHILD_SETTID: where the kernel wrote the live tid
    uint64_t parent_tid_addr = 0; // CLONE_PARENT_SETTID of a thread (shared memory): where the kernel wrote the live tid
    int32_t own_tid = 0;          // its tid in its own pid namespace when not `tid` (CLONE_CHILD_SETTID writes it)
    CloneArgsUndo clone_undo;     // namespace flags taken out of its live clone (its own, or its parent's)
    uint64_t clear_child_tid = 0; // CLONE_CHILD_CLEARTID / set_tid_address: zeroed at the task's exit
    std::string exe_path;
    std::filesystem::path exe_copy;
    std::string auxv;
    uint64_t syscallbuf = 0;      // its syscall buffer (RRX_CALL_INIT_BUFFER's), 0: none
    // Shared object -> an fd of the replay's copy that rrx opened in its
    // process (close-on-exec), for the buffered pwrite64 calls the library
    // makes to it (BufferFeed::ObjectCopies).
    std::map<uint32_t, int> object_fds;
    // After the syscall it last completed, what the library still does to
    // the buffer when the task stands at that call's exit in the rrx page
    // (BufferFeed::after_call): bytes of the record it publishes, or -1.
    int64_t buffer_after_call = 0;
    // Sysemu: resumed with PTRACE_SYSCALL (next_runs_for_real), so its
    // syscall entry stop is an ordinary one, the call not skipped.
    bool entered_traced = false;
    // Sits at the seccomp stop of a call completed there (its event
    // consumed, seccomp_entries.cpp): the kernel makes it when the task goes on.
    bool call_at_seccomp_stop = false;
    // Where its process's vDSO (auxv's) takes the return stub of a call
    // completed at its seccomp stop (mmap_return.h), 0: nowhere (exit stops).
    uint64_t return_stub = 0;
    // The stub's place was checked intact (mmap_return_area_intact) since the
    // last call of its process that could change the vDSO's mapping
    // (note_vdso_mapping_call): not checked again at each use.
    bool return_stub_checked = false;
    // The call whose return stub it last ran through, and its event (the
    // stub's ud2 is a divergence there).
    sys::RecordedCall stub_call;
    uint64_t stub_call_event = 0;
    // Where that stub returns to: the program's rip after the call (what
    // the replayer reads as the thread's place until it goes on).
    uint64_t stub_return_ip = 0;
  };

  Stop run(bool step, int step_tid);
  Stop stepped_over_syscall(RTask& t);
  // Checkpoints (checkpoint.cpp).
  std::unique_ptr<Task> fork_copy(Task& parent, const user_regs_struct& regs, uint64_t scratch, uint64_t ctid);
  std::unique_ptr<Task> clone_thread(Task& leader, uint64_t scratch, const Checkpoint::Thread& th);
  bool waits_at_skipped_entry(const RTask& t) const;
  bool skipped_at_entry(const RTask& t) const;
  bool one_stop_at(const RTask& t) const;
  bool next_runs_for_real(RTask& t);
  // seccomp_entries.cpp: one stop for calls that run for real (autopilot, sysemu).
  bool want_seccomp_entries() const;
  bool pass_seccomp_stop(RTask& t);
  bool complete_at_seccomp_stop(RTask& t, Action action, schema::Syscall::Reader rec);
  // An mmap of the trace's copy (or of anonymous memory) made for real with
  // the arguments `live`: completed at its seccomp stop, the program's
  // registers put back by a return stub (mmap_return.h).
  bool complete_mmap_at_seccomp_stop(RTask& t, schema::Syscall::Reader rec, const uint64_t live[6]);
  // An ExecuteInject call (set_tid_address): completed at its seccomp stop,
  // its recorded result set by a return stub (mmap_return.h).
  bool complete_inject_at_seccomp_stop(RTask& t, schema::Syscall::Reader rec);
  // Whether the call t stands at (at its seccomp stop) may complete there
  // through a return stub: nothing for its exit to do but registers and
  // result (no restart, file or memory writes, move into a site's stub), and
  // t's own next event takes it on (not a signal: delivered in the stub).
  bool stub_may_complete(const RTask& t, schema::Syscall::Reader rec);
  // Completes it through `stub`, written at t.return_stub when that is still
  // the vDSO's spare bytes (else no return stub for t's process, and false):
  // the call runs with the registers `r`, returning into the stub.
  bool complete_through_stub(RTask& t, schema::Syscall::Reader rec, user_regs_struct r, const std::string& stub);
  // Whether [addr, addr + len) reaches the vDSO holding t's return stub.
  bool touches_return_stub(const RTask& t, uint64_t addr, uint64_t len) const;
  // A replayed call of `t`'s process (traced, or buffered and taken) that
  // may have changed the mapping of its vDSO: the stub's place is checked
  // again at its next use, in every task.
  void note_vdso_mapping_call(const RTask& t, schema::Syscall::Reader rec);
  // t's rip as the program will have it when t goes on: at the seccomp stop
  // of a call completed through a return stub, the address the stub
  // returns to, not the stub's (the library's state is read from it).
  uint64_t program_rip(RTask& t);
  // The call t stopped at was completed at its seccomp stop: its event consumed.
  void completed_at_seccomp_stop(RTask& t);
  // Whether t's next event lets a call completed at its seccomp stop run
  // when t goes on (complete_at_seccomp_stop's rule); `signal`: a signal
  // event may be next.
  bool next_event_takes_task_on(const RTask& t, bool signal);
  void enter_skipped(Task& task, const user_regs_struct& entry_regs, int64_t nr);
  int64_t inject(RTask& t, uint64_t scratch, long nr, std::initializer_list<uint64_t> args, pid_t* child = nullptr);
  static RTask copy_state(const RTask& t);
  std::optional<Stop> advance(bool step, int step_tid);
  void spawn();
  void start_program();
  bool load_next();
  schema::Event::Reader peek();
  // The next event of task `tid` after next_ (other tasks' events between
  // are skipped, at most `limit` of them), if any.
  std::optional<schema::Event::Reader> peek_own_next(int tid, size_t limit);
  // Event next_number_ + k (k = 0: next_), read ahead and kept until it is
  // consumed; null past the end of the trace.
  const trace::EventRecord* event_ahead(uint64_t k);
  void consume();
  [[noreturn]] void diverge(const std::string& expected, const std::string& actual);
  std::string describe_expected();
  RTask& task_for_event(schema::Event::Reader ev);
  RTask& rtask(int tid);
  std::filesystem::path stored_copy(const std::string& hash);
  void resume(RTask& t, bool step);
  void restart_if_no_signal(RTask& t, int64_t nr, int sig);
  void start_deferred_syscall(RTask& t, schema::Syscall::Reader rec);
  WaitStatus wait_for(RTask& t);
  WaitStatus take_stop(RTask& t);
  std::optional<WaitStatus> wait_until(RTask& t, std::optional<std::chrono::steady_clock::time_point> deadline);
  std::optional<Stop> await_death(RTask& t, schema::Event::Reader ev);
  // t's recorded death by SIGKILL is the kill of its process (by another
  // process, or from outside), first seen at t: no thread of its process
  // was sent (or stopped for) that SIGKILL yet, and none is in an execve
  // (an exec kills the other threads with SIGKILL).
  bool process_killed_first_at(const RTask& t) const;
  void stash(pid_t live, const WaitStatus& w);
  void remove_task(RTask& t);

  std::optional<Stop> dispatch(RTask& t, const WaitStatus& w, bool step);
  void on_entry(RTask& t, const KernelSyscallInfo& info);
  void on_exit(RTask& t, const KernelSyscallInfo& info);
  void finish_syscall(RTask& t, schema::Syscall::Reader rec, int64_t live);
  void on_exec(RTask& t);
  int on_clone(RTask& t, int event);  // the recorded tid of the new task
  std::optional<Stop> on_signal(RTask& t, int sig, bool step);
  std::optional<Stop> on_group_stop(RTask& t, int sig);
  // A site patch of the fast path (site_patch_replay.cpp): the same arena,
  // bytes and ip as recorded, applied to the stopped task.
  void apply_site_patch(RTask& t, schema::SitePatch::Reader patch);
  // The recorder's early set-up of the syscall buffer (record/preload_early.h): preload_early_replay.cpp.
  void apply_preload_early(RTask& t, schema::PreloadEarly::Reader early);
  // The cpuid table and cpuid site patches (cpuid_sites_replay.cpp): the
  // same mapping, table and patches as recorded, applied to the stopped task.
  // A task at an exec's event stop (its execve's exit stop still to come:
  // the patches recorded there) is taken to that exit; `what` names the
  // event for a divergence. Elsewhere: nothing.
  void to_exec_exit(RTask& t, const char* what);
  void apply_cpuid_patches(RTask& t, schema::CpuidPatches::Reader patches);
  // The rdtsc site patches (tsc_sites_replay.cpp): the same hlt bytes at
  // the same sites as recorded, kept as patched jumps (gdb sees the rdtsc).
  void apply_tsc_patches(RTask& t, schema::TscPatches::Reader patches);
  // The patched rdtsc site (its instruction and length) at `ip` of process pid, in effect now.
  std::optional<std::pair<SpecialInsn, size_t>> tsc_site_at(int pid, uint64_t ip) const;
  // The jumps site patches wrote, by process: [from, to) written at event
  // `event`. In effect while the replay is past that event (after a restore
  // to a checkpoint before it, not yet) and in the image it was written in.
  struct PatchedJump {
    uint64_t from = 0, to = 0, event = 0;
    std::vector<uint8_t> original;   // the bytes [from, to) held before
    uint64_t stub = 0, stub_end = 0;  // the stub written for it
    uint64_t cpuid_site = 0, lookup = 0;  // a cpuid site: the cpuid, and its lookup in the stub
    int tsc = 0;  // a patched rdtsc site (hlt): 1 rdtsc, 2 rdtscp
  };
  // The patches of process pid in effect now, as inside_patched_jump() says.
  template <typename F>
  void for_each_patch_in_effect(int pid, F&& f) const;
  std::map<int, std::vector<PatchedJump>> patched_jumps_;
  uint64_t patching_event_ = UINT64_MAX;  // the patch being applied (in effect already)
  // A forked child's copy of its parent's code holds the parent's patches.
  void copy_patched_jumps(int parent_pid, int child_pid);
  // Emulated ptrace's events (tracer_stops.cpp).
  std::optional<Stop> reach_tracer_stop(RTask& t, schema::Event::Reader ev);
  void apply_tracer_resume(RTask& t, schema::Event::Reader ev);
  // cpuid and rdrand/rdseed (cpuid_replay.cpp).
  void check_cpuid_faulting();
  void enable_cpuid_trap(RTask& t);
  // What the recorder put back after a trap's suppressed SIGSEGV (the
  // restore* fields of an rdtsc or cpuid event), applied to the task.
  template <typename TrapEvent>
  static void undo_recorded_trap(RTask& t, uint64_t ip, TrapEvent ev);
  // After an rdtsc or cpuid the replay answered: a Stepped stop when
  // single-stepping, else none.
  static std::optional<Stop> stepped_if(RTask& t, bool step);
  bool on_cpuid_fault(RTask& t, user_regs_struct& regs);
  void note_random_insns(schema::Event::Reader ev);
  std::string random_insns_note() const;
  std::string random_insns_note_cpuid() const;
  std::optional<Stop> on_death(RTask& t, const WaitStatus& w);
  // gdb's catch syscall (syscall_stops.cpp): a SyscallEntry stop before the
  // entry stop `w` is handled (it is handled on the next resume), and the
  // SyscallExit stop of a syscall finish_syscall() completed.
  std::optional<Stop> report_syscall_entry(RTask& t, const WaitStatus& w, int64_t nr, bool step);
  void note_syscall_exit(RTask& t);
  std::optional<Stop> syscall_exit_to_report(RTask& t);
  // Preemption points (preemption.cpp): whether `t` is at the point of
  // event `ev` (then the event is consumed); else running it there, with a
  // PreemptStub where the site can take one, else one stop per pass. A stop
  // on the way that is not the point (gdb's breakpoint, an interrupt, a
  // signal) comes back, with the program's registers, for dispatch().
  bool at_preemption_point(RTask& t, schema::Event::Reader ev);
  std::optional<WaitStatus> run_to_preemption(RTask& t, schema::Event::Reader ev);
  std::optional<WaitStatus> run_to_preemption_slowly(RTask& t, schema::Event::Reader ev, int sig);
  // The same with an int3 at the point, where the debug registers do not fire.
  std::optional<WaitStatus> run_to_preemption_by_int3(RTask& t, schema::Event::Reader ev, int sig);
  // Forgets the stub of a preemption point; `unmap`: the task can take an
  // injected munmap now (else its process is gone or replaced).
  void drop_preempt_stub(bool unmap);
  // The position target's stub around one resume of t (position_target.cpp;
  // in an interval that ends with a preemption point, it alone: every
  // position of the interval comes before that point):
  // whether it applies to t now; stepping t out of its patched bytes first
  // (a stop on the way is returned); arming it; and after the stop `w`, taking it
  // out with the program's registers put back (Matched: t stands at the
  // position; JumpedIn: a branch into the patched bytes, taken as nothing).
  bool position_applies(const RTask& t) const;
  std::optional<WaitStatus> position_step_out(RTask& t);
  void position_arm(RTask& t);
  PreemptStub::Hit position_after_stop(RTask& t, const WaitStatus& w);
  Stop position_stop(RTask& t);
  // Stop-free replay of buffered calls (syscallbuf_replay.cpp): before t
  // resumes, its next buffered calls go into its buffer (true when any did);
  // at its next stop `w`, the ones it took become replayed events. Returns
  // the stop to handle.
  bool feed_buffer(RTask& t, bool stepping);
  WaitStatus take_buffer(RTask& t, WaitStatus w);
  void inject_async_signal_if_due(RTask& t);
  void check_args(RTask& t, schema::Syscall::Reader rec, int64_t nr, const uint64_t args[6]);
  template <typename Recorded, typename Text>
  void check_call(RTask& t, Recorded rec, const Text& recorded_text, bool check_args_too, int64_t nr,
                  const uint64_t args[6]);
  std::string describe_live_call(RTask& t, int64_t nr, const uint64_t args[6]);
  void check_entry_args(RTask& t, schema::SyscallEntry::Reader rec, int64_t nr, const uint64_t args[6]);
  void write_recorded_memory(RTask& t, schema::Syscall::Reader rec);
  void check_sent_data(RTask& t, schema::Syscall::Reader rec);
  void echo(int stream, const uint8_t* bytes, size_t len);
  void fill_mapping(RTask& t, schema::Syscall::Reader rec, uint64_t addr, uint64_t len);
  void finish_shared_memory(RTask& t, schema::Syscall::Reader rec);
  // The address of the syscall instruction a task is stopped at (entry or exit).
  static uint64_t syscall_insn_of(RTask& t);
  void redirect_exec(RTask& t, const std::string& hash, int64_t nr);
  bool take_signal_for_real(RTask& t, int64_t nr, const uint64_t args[6], int64_t recorded_ret);
  Action action_for(const schema::Syscall::Reader* rec, int64_t nr, const uint64_t args[6]) const;
  bool seccomp_refusal_kills(RTask& t, schema::Syscall::Reader rec);
  void replay_seccomp_kill(RTask& t, schema::Syscall::Reader rec, int64_t nr);
  size_t threads_of_process(int pid) const;  // replayed tasks of recorded process `pid`
  void begin_syscall(RTask& t, Action action, int64_t nr, const uint64_t args[6], schema::Syscall::Reader rec,
                     bool has_rec);

  ReplayOptions options_;
  std::unique_ptr<trace::TraceReader> reader_;
  std::unique_ptr<Skipper> skipper_;
  std::map<int, RTask> tasks_;                 // by recorded tid
  std::map<pid_t, int> live_to_recorded_;
  std::map<pid_t, WaitStatus> orphan_stops_;   // stops of new tasks before their clone event
  std::optional<trace::EventRecord> next_;
  std::deque<trace::EventRecord> lookahead_;  // events read after next_, not yet taken
  uint64_t next_number_ = 0;
  bool started_ = false;
  int first_pid_ = 0;
  int current_tid_ = 0;
  std::optional<Stop> first_exit_;
  std::map<int, Stop> process_exits_;          // by recorded pid
  int exec_stop_tid_ = 0;                      // exec_hook asked to stop after this task's exec             // the first process's end, reported when all are gone
  std::filesystem::path exe_copy_;
  std::string exe_path_;
  std::string auxv_;

  std::atomic<bool> interrupt_requested_{false};
  std::atomic<pid_t> running_live_tid_{0};
  std::optional<std::pair<uint64_t, uint64_t>> watched_write_;  // set by memory_write_hook during a syscall
  std::optional<Stop> syscall_exit_;  // set by note_syscall_exit: reported once the syscall is complete
  std::map<std::string, int> file_fds_;
  bool seccomp_entries_ = false;  // the replayed processes trace every call by seccomp (seccomp_entries.cpp)
  std::unique_ptr<MappedCopies> copies_;  // the trace's copies of mapped files, as the replayed processes' fds
  // What the first process's child reads until its exec (spawn), and the
  // child itself (core/pre_exec_child.h): kept until the next spawn.
  struct SpawnArgs;
  std::unique_ptr<SpawnArgs> spawn_args_;
  std::unique_ptr<PreExecChild> spawn_child_;
  // Shared objects no byte of which changed while recorded (the End's
  // `unchanged`): mapped from the trace's copy like a private file mapping,
  // with no replay copy of their own (a JVM's lib/modules: 128 MB copied
  // and hashed at every replay before).
  // (The content hash their first mapping named, once replayed.)
  std::map<uint32_t, std::string> unchanged_objects_;
  std::unique_ptr<SharedMemory> shared_;  // the replay's copies of shared objects
  uint64_t stop_free_calls_ = 0;
  std::unique_ptr<ReplayStats> stats_;  // RRX_REPLAY_STATS=1
  std::unique_ptr<BufferFeed> buffer_feed_;  // null: every buffered call stops (RRX_SYSCALLBUF_REPLAY=stops)
  std::map<std::string, std::filesystem::path> verified_copies_;  // stored files checked by stored_copy(), by hash
  trace::FileHashKind file_hash_kind_ = trace::FileHashKind::Stream;  // how the trace names its files
  bool debug_log_ = false;  // RRX_DEBUG_REPLAY=1: log every stop
  int step_over_syscall_tid_ = 0;  // step(): the task stepping over a syscall instruction
  bool at_interval_start_ = false;
  std::optional<uint64_t> stop_at_event_;
  std::optional<Stop> held_stop_;  // a stop decided inside a handler (exit_hook)
  uint64_t last_interval_hook_ = UINT64_MAX;
  std::unique_ptr<trace::TraceReader> side_reader_;  // event_tid()
  bool cpuid_faulting_ = false;  // the recording trapped cpuid: the replay does too
  bool cpuid_untrapped_ = false;  // the recording trapped cpuid, this replay cannot: its cpuid events are skipped
  double busy_seconds_ = 0;  // replay_seconds() of the cont()/step() calls that returned
  std::optional<std::chrono::steady_clock::time_point> run_started_;  // inside run() since then
  std::vector<std::string> random_insns_;  // rdrand/rdseed sites of the trace so far ("rdrand at prog+0x1189")
  // Byte pairs that may be rdtsc the recorder left unpatched (TscPatches'
  // unconfirmed): the first few by address, and how many in all.
  std::vector<uint64_t> unpatched_tsc_;
  size_t unpatched_tsc_count_ = 0;
  // The stub of the next event's preemption point: mapped from the first
  // run towards it until the event is consumed, patched in only while the
  // task runs (a stop on the way leaves it unpatched; see preemption.cpp).
  std::unique_ptr<PreemptStub> preempt_stub_;
  int preempt_stub_tid_ = 0;
  uint64_t preempt_stub_event_ = 0;
  uint64_t preempt_slow_event_ = UINT64_MAX;  // the stub cannot serve this event: one stop per pass (this run)
  bool preempt_stub_off_ = false;             // RRX_PREEMPT_STUB=0: always one stop per pass
  // Starts inside the patch that branches reach, for event preempt_routes_event_:
  // those seen (jumped_in), those the stub routes, whether routing was refused.
  uint64_t preempt_routes_event_ = UINT64_MAX;
  std::set<uint64_t> preempt_jumped_in_;
  std::vector<uint64_t> preempt_routes_;
  bool preempt_routes_refused_ = false;
  // The position target (set_position_target) and its stub.
  std::unique_ptr<PreemptStub> position_stub_;
  PositionTarget position_;
  bool position_reached_ = false;       // stopped there (the stub stays out until cleared)
  uint64_t position_pass_offset_ = 0;   // passes counted before a checkpoint put the stub in again
};

// Registers equal as far as a position in the program goes (the trace and
// resume flags aside).
bool same_position_regs(const user_regs_struct& a, const user_regs_struct& b);

// The exit status of a child of rrx that is not a replayed task (gdb), if
// the replay's waitpid collected it.
std::optional<int> reaped_foreign_status(pid_t pid);

// `rrx replay --autopilot`: returns the recorded exit status. Throws
// Divergence or rrx::Error.
int replay_autopilot(const ReplayOptions& options);

}  // namespace rrx::replay
