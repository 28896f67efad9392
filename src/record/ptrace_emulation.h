// ptrace(2) for tracers inside the recorded tree ("emulated ptrace", as rr
// does it). rrx is the real tracer of every recorded task, so a recorded
// program's own ptrace requests (LeakSanitizer stopping its threads, strace,
// a test's crash reporter) are answered here: the tracer's calls and waits
// are recorded like other syscall results (replay injects them), and a
// tracee stopped for its tracer is simply held by the recorder, so its own
// events come later in the trace and replay follows them. The tracee runs
// again on replay: where it stopped and what its tracer changed in it
// (registers, signal mask, the signal delivered or suppressed) are events of
// its own (tracer_events.h), applied at the same stop (replay/tracer_stops.cpp).
#pragma once

#include <signal.h>
#include <sys/types.h>
#include <sys/user.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace rrx {
class Task;
}

namespace rrx::record {

// Why a tracee is stopped for its tracer, which also says how the recorder
// lets it go again.
enum class EmuStop : uint8_t {
  Held,          // a new traced task's first stop: whatever rrx was doing with it (its queued stop) goes on
  SyscallEntry,  // at its syscall-entry stop, before rrx handled the call: handled on release
  SyscallExit,   // at its syscall-exit stop (or an event stop), rrx done with it: resumed on release
  Signal,        // at a signal-delivery stop, the signal not yet recorded: delivered (or dropped) on release
  GroupStop,     // in a group-stop (a stop signal's), held in its trap: runs on release, the group still stopped
};

// Where a tracee stopped for its tracer, as far as the replay must know:
// a point that its own events do not mark (TracerStop in trace.capnp).
enum class StopPoint : uint8_t {
  SyscallEntry,  // the entry of its next call, before rrx handled it
  Signal,        // the delivery of a signal (the stop's siginfo says which)
  Step,          // the trap that ends a single step (not over a syscall)
  AfterEvent,    // where its last recorded event left it (a syscall exit, an event stop, an attach)
};

// How the tracer let a tracee go (PTRACE_CONT, _SYSCALL, _DETACH...), and
// what it changed in the tracee while it was stopped: the recorder applies
// what is left to apply and records it for the replay (TracerResume).
struct EmuRelease {
  EmuStop stop = EmuStop::Held;
  int sig = 0;                // the signal the tracer passes (0: none)
  siginfo_t si{};             // for a Signal stop: the signal's info (the tracer may have changed it)
  bool synchronous = false;   // for a Signal stop: a fault or trap of its own instruction
  bool single_step = false;   // PTRACE_SINGLESTEP
  bool detach = false;        // PTRACE_DETACH (from a group-stop the task stays stopped)
  bool skip_syscall = false;  // from a PTRACE_SYSEMU entry stop: the kernel runs no call, rax stays
  // The tracer wrote registers: as they were at the stop (the recorder
  // records the fields that differ now).
  std::optional<user_regs_struct> regs_before;
  bool xstate_written = false;            // ... floating-point/vector registers
  std::optional<uint64_t> sigmask;        // PTRACE_SETSIGMASK: the blocked mask it set
};

// What the recorder does for the emulation: it owns the tasks and the CPU.
class PtraceHost {
 public:
  virtual ~PtraceHost() = default;
  // A live recorded thread, or nullptr.
  virtual Task* task(pid_t tid) = 0;
  // The thread's process (tgid), 0 when unknown.
  virtual pid_t process_of(pid_t tid) = 0;
  // Its registers as they were when it entered the call it is blocked in
  // (a thread in the kernel cannot be asked), if rrx has them.
  virtual std::optional<user_regs_struct> regs_in_kernel(pid_t tid) = 0;
  // The tracer let the tracee go.
  virtual void release(pid_t tid, const EmuRelease& how) = 0;
  // PTRACE_LISTEN of a tracee in a group-stop: it stays stopped, but wakes
  // (with a trap) when SIGCONT or another stop signal arrives.
  virtual void listen(pid_t tid) = 0;
  // PTRACE_INTERRUPT of a tracee not in a ptrace-stop: the real task traps
  // at its next way out of the kernel (a call it is blocked in is
  // interrupted), and the recorder calls stop_at_interrupt (or, listening
  // in its group-stop, stop_at_group_stop) there.
  virtual void interrupt(pid_t tid) = 0;
  // PTRACE_ATTACH's SIGSTOP (SEND_SIG_PRIV: si_code SI_KERNEL) to `tid`.
  virtual void send_attach_stop(pid_t tid) = 0;
  // A wait that was held (wait_at_entry returned Block) is answered now:
  // `ret` is its result, its outputs are already in the waiter's memory.
  virtual void answer_wait(pid_t waiter, int64_t ret) = 0;
  // Threads of `process` blocked in a wait that the kernel runs (it began
  // before the stop of a tracee of theirs) must come back out, so that the
  // emulation answers it: the wait is interrupted and restarts.
  virtual void wake_real_waits(pid_t process) = 0;
  // The kernel's SIGCHLD (CLD_TRAPPED, or CLD_EXITED...) to the tracer for
  // a stop or exit of its tracee `tid` with wait status `status`.
  virtual void notify_tracer(pid_t tracer, pid_t tid, int status) = 0;
  // A held wait must run in the kernel after all (a real child of the
  // waiter died: the kernel reports that one).
  virtual void run_wait_for_real(pid_t waiter) = 0;
  virtual void warn_about(pid_t tid, const std::string& msg) = 0;
  // `tid` stopped for its tracer (before the tracer can see the stop).
  virtual void note_stop(pid_t tid, StopPoint at, const siginfo_t& si, bool synchronous) = 0;
};

class PtraceEmulation {
 public:
  explicit PtraceEmulation(PtraceHost& host) : host_(host) {}

  // ptrace(request, pid, addr, data) by recorded thread `caller`, skipped in
  // the kernel: the result (-errno on failure). The memory the request
  // writes (in the caller, or a tracee's for PTRACE_POKE*) is written now;
  // the syscall table's ptrace row names it for the trace.
  int64_t request(pid_t caller, const uint64_t args[6]);

  // A wait4/waitid at its entry stop.
  enum class Wait : uint8_t {
    Real,      // nothing of the emulation's: the kernel answers
    Answered,  // `*ret` is the result, written to the caller's memory already: skip the call
    Block,     // a tracee of the caller may stop later: hold the caller at its entry (answer_wait comes)
  };
  Wait wait_at_entry(pid_t caller, int64_t nr, const uint64_t args[6], int64_t* ret);
  // The held wait of `waiter` is gone (it died, or rrx ran it for real).
  void forget_waiter(pid_t waiter) { waiters_.erase(waiter); }

  // Stop sites, called by the recorder at its own stops of `tid`. Each
  // returns true when the tracee now stops for its tracer: the recorder
  // then holds it (does not resume it) until release().
  bool stop_at_syscall_entry(pid_t tid);
  bool stop_at_syscall_exit(pid_t tid);
  bool stop_for_signal(pid_t tid, const siginfo_t& si, bool synchronous);
  // At the exit stop of a successful execve (`former`: the tid that called it).
  bool stop_at_exec(pid_t tid, pid_t former);
  // At the trap of its group-stop by stop signal `sig` (rrx's own
  // PTRACE_EVENT_STOP), the kernel's group-stop for its tracer: for a
  // seized tracee PTRACE_EVENT_STOP with the signal, else the plain stop
  // signal (and PTRACE_GETSIGINFO fails with EINVAL).
  bool stop_at_group_stop(pid_t tid, int sig);
  // At the first stop of the real task after a PTRACE_INTERRUPT its tracer
  // asked for (host interrupt()) that is not one of the tracer's own: its
  // PTRACE_EVENT_STOP. (Any ptrace-stop takes a pending interrupt's place,
  // as in the kernel.) The recorder calls it at the exit of a call (the
  // interrupt cut it short, or it ended first: the kernel restarts a call
  // cut short when the tracer lets it go) and at a trap stop.
  bool stop_at_interrupt(pid_t tid);
  bool interrupting(pid_t tid) const {
    auto it = tracees_.find(tid);
    return it != tracees_.end() && it->second.interrupting;
  }
  // At the trap that tells rrx its group-stop ended (SIGCONT): a seized
  // tracee reports it to its tracer too (PTRACE_EVENT_STOP, SIGTRAP).
  bool stop_at_group_continue(pid_t tid);
  // At its PTRACE_EVENT_EXIT stop (`msg`: its exit status, as wait says it).
  bool stop_at_exit(pid_t tid, uint64_t msg);
  // A traced thread made a new task (clone/fork/vfork event `event` with
  // these clone flags): the child is traced too where the options say so.
  // Returns true when the parent stops for the event.
  bool stop_at_new_task(pid_t parent, pid_t child, int event, uint64_t flags);

  // Stopped for its tracer: the recorder must not give it the CPU.
  bool holds(pid_t tid) const;
  bool traced(pid_t tid) const { return tracees_.count(tid) != 0; }
  // The thread that traces `tid` (/proc/PID/status's TracerPid), 0: none.
  pid_t tracer_of(pid_t tid) const {
    auto it = tracees_.find(tid);
    return it == tracees_.end() ? 0 : it->second.tracer;
  }
  // Left in its group-stop by its tracer's PTRACE_LISTEN: its next trap is for the tracer.
  bool listening(pid_t tid) const {
    auto it = tracees_.find(tid);
    return it != tracees_.end() && it->second.listening;
  }
  // The tracer asked for syscall stops (PTRACE_SYSCALL): every call must stop.
  bool wants_syscall_stops(pid_t tid) const;

  // A thread died (`status` as wait reports it). Its tracer's wait learns
  // of it, or, where the tracer is its real parent, the kernel tells it.
  void on_death(pid_t tid, pid_t real_parent_process, int status);

 private:
  struct Tracee {
    pid_t tracer = 0;                // the tracing thread
    pid_t tracer_process = 0;        // its process, whose waits report this tracee
    bool seized = false;
    uint64_t options = 0;
    bool stopped = false;
    EmuStop kind = EmuStop::Held;
    int status = 0;                  // the wait status of the current stop
    bool reported = false;           // a wait of the tracer returned it
    siginfo_t si{};                  // the stop's siginfo (signal stops; synthesized for others)
    bool synchronous = false;
    uint64_t event_msg = 0;
    bool syscall_stops = false;      // resumed with PTRACE_SYSCALL
    bool single_step = false;        // resumed with PTRACE_SINGLESTEP
    bool entry_reported = false;     // its current syscall-entry stop was reported (handled on release)
    bool in_syscall_stop = false;    // the kernel's own stop is the syscall stop reported (syscall info)
    bool no_siginfo = false;         // a non-seized tracee's group-stop: PTRACE_GETSIGINFO fails (EINVAL)
    bool listening = false;          // PTRACE_LISTEN: stopped in its group-stop, not in a ptrace-stop
    bool interrupting = false;       // PTRACE_INTERRUPT asked for, its trap not yet come
    bool group_event = false;        // at the PTRACE_EVENT_STOP that ends a group-stop (SIGCONT), in rrx's own trap
    int then_status = 0;             // a stop that follows this one at once (exec: exit stop, SIGTRAP)
    bool then_only_if_syscall = false;  // ... only when resumed with PTRACE_SYSCALL
    int pass_signal = 0;             // injected by the tracer: delivered without another stop
    bool sysemu = false;             // resumed with PTRACE_SYSEMU(_SINGLESTEP)
    bool entry_sysemu = false;       // its current syscall-entry stop is a sysemu one: the call is skipped
    // What the tracer changed in this stop (EmuRelease).
    std::optional<user_regs_struct> regs_before;
    bool xstate_written = false;
    std::optional<uint64_t> sigmask;
    uint64_t debugreg[8] = {};       // u_debugreg as the tracer wrote them (only disabled ones are accepted)
  };
  struct Waiter {
    int64_t nr;
    uint64_t args[6];
  };

  int64_t attach(pid_t caller, pid_t pid, bool seize, uint64_t options);
  int64_t resume(Tracee& t, pid_t tid, int64_t request, uint64_t sig);
  // Requests that change a stopped tracee (registers, signal mask): applied
  // to the real task, which is in one of rrx's own stops, and remembered for
  // the release (EmuRelease).
  int64_t set_regs(pid_t caller, Tracee& t, pid_t tid, const user_regs_struct& r);
  int64_t set_regset(pid_t caller, Tracee& t, pid_t tid, uint64_t type, uint64_t iov_addr);
  int64_t set_syscall_info(pid_t caller, Tracee& t, pid_t tid, uint64_t size, uint64_t addr);
  int64_t poke_user(pid_t caller, Tracee& t, pid_t tid, uint64_t offset, uint64_t word);
  // Whether a register write can reach the tracee (-EIO with a warning if not).
  int64_t check_writable(pid_t caller, const Tracee& t, const char* what);

  void trap_event_stop(pid_t tid, Tracee& t);
  void stop(pid_t tid, Tracee& t, EmuStop kind, int status, const siginfo_t* si = nullptr,
            StopPoint at = StopPoint::AfterEvent, bool synchronous = false);
  // Answers a held wait that this stop or death satisfies.
  void wake_waiters(pid_t tracer);
  bool matches(pid_t tracer_process, const Waiter& w, pid_t tid) const;
  std::optional<int64_t> try_answer(pid_t caller, const Waiter& w);
  std::optional<user_regs_struct> regs_of(pid_t tid);
  bool write(pid_t tid, uint64_t addr, const void* data, size_t len);
  Tracee* tracee_of(pid_t caller, pid_t tid);

  PtraceHost& host_;
  std::map<pid_t, Tracee> tracees_;
  std::map<pid_t, Waiter> waiters_;
  // Exits of tracees whose tracer is not their parent: reported by the
  // emulated wait (tracer process -> (tid, status)).
  std::multimap<pid_t, std::pair<pid_t, int>> exits_;
  // Processes whose real child (a tracee) died since their last wait: their
  // next wait goes to the kernel, which has its status.
  std::map<pid_t, int> child_deaths_;
};

}  // namespace rrx::record
