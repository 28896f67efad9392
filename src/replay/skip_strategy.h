// How the replayer keeps an emulated syscall from running and gives the
// program the recorded result instead. One class per strategy of
// shared/DESIGN.md; the session talks to them through this interface.
#pragma once

#include <memory>

#include "core/kernel_probe.h"
#include "core/ptrace_task.h"

namespace rrx::replay {

class Skipper {
 public:
  virtual ~Skipper() = default;
  virtual SkipStrategy strategy() const = 0;

  // Resumes the task so that it stops at its next syscall (and, for
  // strategies with an exit stop, at that syscall's exit). `step`: single-step.
  virtual void resume(Task& task, bool step, int sig) = 0;
  // Resumes a task stopped at a syscall entry whose syscall must run for real,
  // so that it stops at its exit. Sysemu rewinds to re-issue the syscall.
  virtual void run_for_real(Task& task) = 0;
  // True when the entry stop is the only stop of a skipped syscall (sysemu).
  virtual bool one_stop() const = 0;
  // At the entry stop of an emulated syscall: keep the kernel from running it.
  virtual void skip(Task& task) = 0;
  // Sets the result the program sees. Called at the exit stop (two-stop
  // strategies) or at the entry stop (one-stop strategies). `nr` is restored
  // into orig_rax when the result is a restart code, so the kernel's restart
  // logic behaves as it did when recording.
  virtual void set_result(Task& task, int64_t nr, int64_t ret) = 0;
};

std::unique_ptr<Skipper> make_skipper(SkipStrategy strategy);

}  // namespace rrx::replay
