// Running a syscall of rrx's choosing inside a stopped tracee (the recorder
// and the replay both use it: checkpoints inject clone, shared mappings
// inject openat/mmap/close, exec set-up injects arch_prctl).
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "core/ptrace_task.h"

namespace rrx {

// Makes a stopped tracee run one syscall: the instruction is written at
// `scratch` (an executable address of the program, restored afterwards) and
// the registers are put back as they were, so the tracee is in the same
// stop as before (an exit stop stays an exit stop: call it at a syscall-exit,
// signal or event stop, not at a syscall-entry stop whose syscall must still
// run). Returns the syscall's result (-errno on failure); *child gets the new
// process of a fork-like call. Live signals that arrive meanwhile are
// appended to *signals (the recorder delivers them later), or dropped.
// `seccomp_traced`: a seccomp filter of rrx's traces the call from
// `scratch` (RET_TRACE): the tracee is resumed with PTRACE_CONT to its
// seccomp stop and from there to the exit stop, two stops instead of three
// (entry, seccomp and exit under PTRACE_SYSCALL). Not for a fork-like call.
int64_t remote_syscall(Task& t, uint64_t scratch, long nr, std::initializer_list<uint64_t> args,
                       pid_t* child = nullptr, std::vector<siginfo_t>* signals = nullptr,
                       bool seccomp_traced = false);

// Bytes placed on the tracee's stack below the red zone for the length of a
// remote call (a path for openat, a struct for rt_sigaction); the bytes that
// were there are put back when it goes out of scope.
class StackScratch {
 public:
  StackScratch(Task& t, const void* data, size_t len);
  StackScratch(Task& t, const std::string& s) : StackScratch(t, s.c_str(), s.size() + 1) {}
  ~StackScratch();
  StackScratch(const StackScratch&) = delete;
  StackScratch& operator=(const StackScratch&) = delete;
  uint64_t addr() const { return addr_; }

 private:
  Task& task_;
  uint64_t addr_ = 0;
  std::string saved_;
};

}  // namespace rrx
