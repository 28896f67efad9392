// Seccomp as the kernel applies it to a task: its mode (strict, or a stack of
// classic-BPF filters) and the verdict for a syscall. The recorder keeps the
// state of every recorded task from the program's own seccomp/prctl calls and
// evaluates it at each syscall entry (the entry stop comes before the kernel
// runs the filters), so the trace says which calls a filter decided; replay
// uses the verdicts recorded there (it installs no filter of the program's).
#pragma once

#include <linux/filter.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace rrx::seccomp {

// struct seccomp_data, as the filters see it.
struct Data {
  int32_t nr = 0;
  uint32_t arch = 0;
  uint64_t ip = 0;  // the address after the syscall instruction
  uint64_t args[6] = {};
};

using Program = std::vector<sock_filter>;

// Runs one filter as the kernel does (seccomp's subset of classic BPF) and
// returns its SECCOMP_RET_* value. A program the kernel accepted never faults;
// anything else returns SECCOMP_RET_KILL_THREAD, as the kernel would refuse it.
uint32_t run(const Program& program, const Data& data);

// What the kernel does with the call, once every filter has spoken.
enum class Outcome : uint8_t {
  Run,         // ALLOW or LOG: the call runs
  Errno,       // RET_ERRNO: skipped, fails with -data
  Trap,        // RET_TRAP: skipped, rax = the syscall number, SIGSYS (SYS_SECCOMP) sent to the thread
  Enosys,      // RET_TRACE with no seccomp-aware tracer (rrx's own case), RET_USER_NOTIF with no listener
  KillThread,  // RET_KILL_THREAD: the thread dies by SIGSYS (the process, with a core, if it is the last)
  KillProcess, // RET_KILL_PROCESS (or an unknown action): the process dies by SIGSYS, with a core
  StrictKill,  // strict mode, a call other than read/write/exit/rt_sigreturn: the thread dies by SIGKILL
};

struct Verdict {
  uint32_t ret = 0x7fff0000;  // the combined filter result (SECCOMP_RET_ALLOW when none)
  Outcome outcome = Outcome::Run;

  bool runs() const { return outcome == Outcome::Run; }
  bool kills() const {
    return outcome == Outcome::KillThread || outcome == Outcome::KillProcess || outcome == Outcome::StrictKill;
  }
  // The result the program sees for Errno and Enosys.
  int64_t result() const;
};

// A task's seccomp state; immutable, shared by the tasks that inherited it
// (fork and clone copy it, exec keeps it).
class State {
 public:
  static std::shared_ptr<const State> strict();
  // `prev` (may be null) with one more filter on top.
  static std::shared_ptr<const State> with_filter(const std::shared_ptr<const State>& prev, Program program);

  bool is_strict() const { return strict_; }
  Verdict verdict(const Data& data) const;

 private:
  bool strict_ = false;
  std::shared_ptr<const State> prev_;  // older filters
  Program program_;
};

// A call that sets a seccomp mode: prctl(PR_SET_SECCOMP, MODE, PROG) or
// seccomp(SECCOMP_SET_MODE_*, FLAGS, PROG).
struct Install {
  bool strict = false;
  uint64_t flags = 0;      // SECCOMP_FILTER_FLAG_*
  uint64_t prog_addr = 0;  // struct sock_fprog in the caller's memory (filter mode)
};
std::optional<Install> install_request(int64_t nr, const uint64_t args[6]);

// True for the seccomp calls rrx refuses (ENOSYS while recording): a filter
// with a user-notification listener, whose supervisor decides calls (and may
// let them run) in another process.
bool refused_by_rrx(const uint64_t args[6]);

// "ERRNO(1)", "TRAP(7)", "KILL_PROCESS", ... for rrx dump.
std::string describe(uint32_t ret);

}  // namespace rrx::seccomp
