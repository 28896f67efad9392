// A traced thread: ptrace requests, registers, memory through /proc/PID/mem,
// and the decoding of waitpid statuses into the stops rrx cares about.
#pragma once

#include <sys/types.h>
#include <sys/user.h>
#include <signal.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/syscall_table.h"

namespace rrx {

inline constexpr long kPtraceGetSyscallInfo = 0x420e;
inline constexpr long kPtraceSetSyscallInfo = 0x4212;

// struct ptrace_syscall_info as in the kernel's uapi (88 bytes).
struct KernelSyscallInfo {
  enum : uint8_t { kNone = 0, kEntry = 1, kExit = 2, kSeccomp = 3 };
  uint8_t op;
  uint8_t reserved;
  uint16_t flags;
  uint32_t arch;
  uint64_t instruction_pointer;
  uint64_t stack_pointer;
  union {
    struct {
      uint64_t nr;
      uint64_t args[6];
    } entry;
    struct {
      int64_t rval;
      uint8_t is_error;
    } exit;
    struct {
      uint64_t nr;
      uint64_t args[6];
      uint32_t ret_data;
      uint32_t reserved2;
    } seccomp;
  };
};
static_assert(sizeof(KernelSyscallInfo) == 88);

// What a waitpid status means for rrx.
struct WaitStatus {
  enum class Kind {
    SyscallStop,   // SIGTRAP|0x80 (entry or exit: ask PTRACE_GET_SYSCALL_INFO)
    EventStop,     // PTRACE_EVENT_* in `event` (never PTRACE_EVENT_STOP: see TrapStop)
    TrapStop,      // PTRACE_EVENT_STOP of a PTRACE_SEIZEd task: a group-stop when `sig`
                   // is a stop signal (is_group_stop()), otherwise (SIGTRAP) a new task's
                   // first stop, a PTRACE_INTERRUPT, or the wake-up after SIGCONT
    SignalStop,    // signal-delivery-stop (or, for a PTRACE_TRACEME task, group-stop) with `sig`
    Exited,        // `exit_code`
    Killed,        // killed by `sig`, `core_dumped`
  };
  Kind kind;
  int sig = 0;
  int event = 0;
  int exit_code = 0;
  bool core_dumped = false;
  static WaitStatus decode(int status);
  std::string describe() const;
  bool is_group_stop() const { return kind == Kind::TrapStop && is_stop_signal(sig); }
  // SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU: the signals whose default action is a group-stop.
  static bool is_stop_signal(int sig);
};

// A ptrace request on a task rrx saw stopped failed with ESRCH: the task
// left its stop without rrx, which only SIGKILL does (a sibling's exit_group
// or fatal signal, an exec, a kill). Its exit stop or death comes next.
class TaskGone : public Error {
 public:
  TaskGone(pid_t tid, const std::string& what) : Error(what), tid_(tid) {}
  pid_t tid() const { return tid_; }

 private:
  pid_t tid_;
};

class Task {
 public:
  explicit Task(pid_t tid);
  ~Task();
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;

  pid_t tid() const { return tid_; }

  // Resume requests; sig is the signal to deliver (0: none).
  void resume_syscall(int sig = 0);
  void resume_cont(int sig = 0);
  void resume_sysemu(int sig = 0);
  void resume_singlestep(int sig = 0);
  void resume_sysemu_singlestep(int sig = 0);
  // The request of the last resume above (PTRACE_SYSCALL...; 0 before any):
  // whether a syscall entry stop it led to let the call go on (the replay's
  // seccomp stop of that call comes next) or skipped it (sysemu).
  long last_resume() const { return last_resume_; }
  // PTRACE_LISTEN: leave a seized task in its group-stop; SIGCONT (or a new
  // stop signal) makes it report a TrapStop again.
  void listen();
  // PTRACE_INTERRUPT: a seized task reports a TrapStop (SIGTRAP) as soon as it can.
  void interrupt();
  // Blocks until this task stops or dies.
  WaitStatus wait();

  user_regs_struct regs();
  void set_regs(const user_regs_struct& regs);
  user_fpregs_struct fpregs();
  // The whole FP/SSE/AVX state (PTRACE_GETREGSET NT_X86_XSTATE, or the
  // legacy FP area without XSAVE), opaque, for set_xstate() on this or
  // another thread of the same machine.
  std::string xstate();
  void set_xstate(const std::string& state);
  // Upper halves of ymm0-15 via PTRACE_GETREGSET NT_X86_XSTATE; false without AVX.
  bool ymm_high(uint8_t out[16][16]);
  KernelSyscallInfo syscall_info();
  // PTRACE_SET_SYSCALL_INFO; returns false and sets errno when refused.
  bool set_syscall_info(const KernelSyscallInfo& info);
  siginfo_t siginfo();
  void set_siginfo(const siginfo_t& info);
  // The thread's blocked-signal mask (PTRACE_GETSIGMASK / PTRACE_SETSIGMASK;
  // bit N-1 is signal N).
  uint64_t blocked_signals();
  void set_blocked_signals(uint64_t mask);
  unsigned long event_msg();
  void set_options(long options);
  uint64_t peek_user(size_t offset);
  void poke_user(size_t offset, uint64_t value);

  // Memory (works on read-only and PROT_NONE private pages through /proc/PID/mem).
  // read_mem returns bytes read (may be short at an unmapped page).
  size_t read_mem(uint64_t addr, void* buf, size_t len);
  bool read_exact(uint64_t addr, void* buf, size_t len) { return read_mem(addr, buf, len) == len; }
  bool write_mem(uint64_t addr, const void* buf, size_t len);
  std::string read_string(uint64_t addr, size_t max = 4096);
  template <typename T>
  T read_value(uint64_t addr) {
    T v{};
    read_exact(addr, &v, sizeof v);
    return v;
  }
  // The address space changed identity (exec): reopen /proc/PID/mem.
  void reopen_mem();

 private:
  void open_mem();
  pid_t tid_;
  int mem_fd_ = -1;
  long last_resume_ = 0;
};

// MemReader over a Task for the syscall table's walks.
// The syscall table's questions about a live tracee, answered from its
// memory, /proc and the kernel (task_mem_reader.cpp).
class TaskMemReader : public sys::MemReader {
 public:
  explicit TaskMemReader(Task& task) : task_(task) {}
  bool read(uint64_t addr, void* buf, size_t len) override { return task_.read_exact(addr, buf, len); }
  std::optional<uint64_t> semaphore_count(int semid) override;
  std::vector<sys::Range> backed_ranges(uint64_t addr, uint64_t len) override;
  std::optional<MemFile> mem_file(int fd) override;

 private:
  Task& task_;
};

// The arguments of a syscall from registers (x86-64 ABI order).
void syscall_args_from_regs(const user_regs_struct& regs, uint64_t args[6]);
void set_syscall_args_in_regs(user_regs_struct& regs, const uint64_t args[6]);

// Instruction decoding needed for rdtsc trapping and stepping.
enum class SpecialInsn { None, Rdtsc, Rdtscp, Syscall };
SpecialInsn special_instruction_at(Task& task, uint64_t ip, size_t* length);

std::string signal_name(int sig);

// What delivering `sig` to thread `tid` does now, by its disposition (the
// thread's /proc status: SigCgt, SigIgn) and the kernel's default actions.
// Ignore: SIG_IGN, or SIG_DFL for SIGCHLD, SIGCONT, SIGURG, SIGWINCH (runs
// none of the program's code and leaves it where it is). Stop: SIG_DFL for
// a stop signal. Terminate: SIG_DFL for the others (the process dies).
// Unknown when the status cannot be read.
enum class SignalAction { Unknown, Handler, Ignore, Stop, Terminate };
SignalAction signal_action(pid_t tid, int sig);
// What SIG_DFL does with `sig` (Ignore: SIGCHLD, SIGCONT, SIGURG, SIGWINCH;
// Stop: the stop signals; Terminate: the others; Unknown: not a signal). A
// signal whose default does not terminate can never kill, whatever the
// program set.
SignalAction default_signal_action(int sig);
// signal_action(tid, sig) == Terminate, without reading /proc for a signal
// whose default action does not terminate (SIGCHLD after every child).
bool signal_terminates(pid_t tid, int sig);

// PTRACE_SEIZE with `options`: the task goes on running, traced. Returns
// false with errno set when the kernel refuses.
bool seize(pid_t tid, long options);

// SIGKILLs a tracee and waits until it is gone, resuming it through any
// last ptrace stop (PTRACE_EVENT_EXIT) on the way.
void kill_and_reap(pid_t tid);

}  // namespace rrx
