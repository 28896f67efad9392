// A child process that shares rrx's memory until it execs (clone with
// CLONE_VM, as posix_spawn does), for starting the recorded or replayed
// program. A fork copied rrx's page tables and write-protected every page
// of both processes: ~0.3 ms for the fork and ~1-2 ms of copy-on-write
// faults in the child and in rrx after it, in a VM where a fault costs
// ~10 us; a short recording or replay paid it once more than it needed to.
// Used by record/recorder.cpp and replay/replay_session.cpp.
//
// The child runs `body` on a stack of its own and must not return from it
// (it execs or _exits). Until then it may only make syscalls: no
// allocation (rrx's other threads may hold malloc's locks, and the heap is
// theirs), and nothing of glibc's that is kept per thread, since its
// thread pointer is the parent's: no raise() (kill with getpid instead),
// and no glibc wrapper of a call that may fail, which would set the
// parent thread's errno (raw_syscall below instead). Whatever it reads (argv, envp, paths) must stay
// alive and unchanged until it has exec'd or died: the owner keeps it, and
// this object, that long.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <functional>

namespace rrx {

// A syscall with up to three arguments (the other three 0) that leaves
// errno alone: -errno on failure (for the child, whose errno is the
// parent thread's).
long raw_syscall(long nr, long a0 = 0, long a1 = 0, long a2 = 0);

class PreExecChild {
 public:
  PreExecChild() = default;
  PreExecChild(const PreExecChild&) = delete;
  PreExecChild& operator=(const PreExecChild&) = delete;
  ~PreExecChild();

  // Starts the child (SIGCHLD at its exit, as a fork's child): its pid.
  // Throws rrx::Error when it cannot. Once per object.
  pid_t start(std::function<void()> body);

 private:
  static int run(void* self);
  std::function<void()> body_;
  void* stack_ = nullptr;
  size_t stack_bytes_ = 0;
};

}  // namespace rrx
