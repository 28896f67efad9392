#include "replay/skip_strategy.h"

#include <sys/ptrace.h>

#include <cerrno>
#include <cstddef>

#include "core/error.h"
#include "core/syscall_table.h"

namespace rrx::replay {

namespace {

// Sets rax (and orig_rax for restart codes) through the register set.
void set_result_regs(Task& task, int64_t nr, int64_t ret) {
  user_regs_struct r = task.regs();
  r.rax = static_cast<uint64_t>(ret);
  if (sys::is_restart_return(ret)) r.orig_rax = static_cast<uint64_t>(nr);
  task.set_regs(r);
}

// Strategies with an entry and an exit stop per syscall; they differ in how
// they skip and how they set the result.
class TwoStopSkipper : public Skipper {
 public:
  void resume(Task& task, bool step, int sig) override {
    // PTRACE_SINGLESTEP would run a syscall untraced: the session never
    // single-steps a syscall instruction (it resumes with step=false there).
    if (step) task.resume_singlestep(sig);
    else task.resume_syscall(sig);
  }
  void run_for_real(Task& task) override { task.resume_syscall(); }
  bool one_stop() const override { return false; }
};

class RegsSkipper : public TwoStopSkipper {
 public:
  SkipStrategy strategy() const override { return SkipStrategy::Regs; }
  void skip(Task& task) override {
    user_regs_struct r = task.regs();
    r.orig_rax = static_cast<uint64_t>(-1);
    task.set_regs(r);
  }
  void set_result(Task& task, int64_t nr, int64_t ret) override { set_result_regs(task, nr, ret); }
};

class SetInfoSkipper : public TwoStopSkipper {
 public:
  SkipStrategy strategy() const override { return SkipStrategy::SetInfo; }
  void skip(Task& task) override {
    KernelSyscallInfo info = task.syscall_info();
    info.entry.nr = static_cast<uint64_t>(-1);
    if (!task.set_syscall_info(info)) throw_errno("PTRACE_SET_SYSCALL_INFO (skip)");
  }
  void set_result(Task& task, int64_t nr, int64_t ret) override {
    KernelSyscallInfo info = task.syscall_info();
    info.exit.rval = ret;
    info.exit.is_error = ret < 0 && ret >= -4095;
    if (!task.set_syscall_info(info)) throw_errno("PTRACE_SET_SYSCALL_INFO (result)");
    if (sys::is_restart_return(ret)) task.poke_user(offsetof(user_regs_struct, orig_rax), static_cast<uint64_t>(nr));
  }
};

class SysemuSkipper : public Skipper {
 public:
  SkipStrategy strategy() const override { return SkipStrategy::Sysemu; }
  void resume(Task& task, bool step, int sig) override {
    if (step) task.resume_sysemu_singlestep(sig);
    else task.resume_sysemu(sig);
  }
  void run_for_real(Task& task) override {
    // The syscall was not run: step back onto the syscall instruction and
    // let it run traced; the session sees a fresh entry stop, then the exit.
    user_regs_struct r = task.regs();
    r.rip -= 2;
    r.rax = r.orig_rax;
    task.set_regs(r);
    task.resume_syscall();
  }
  bool one_stop() const override { return true; }
  void skip(Task&) override {}
  void set_result(Task& task, int64_t nr, int64_t ret) override { set_result_regs(task, nr, ret); }
};

// One stop per syscall: a seccomp filter (installed in the replayed child)
// makes every syscall stop with PTRACE_EVENT_SECCOMP, and the proposed
// kernel extension lets PTRACE_SET_SYSCALL_INFO turn that stop into an exit
// with a result. Linux 6.18 lacks it (the probe sees EINVAL).
class SetInfoExitSkipper : public Skipper {
 public:
  SkipStrategy strategy() const override { return SkipStrategy::SetInfoExit; }
  void resume(Task& task, bool step, int sig) override {
    if (step) task.resume_singlestep(sig);
    else task.resume_cont(sig);
  }
  void run_for_real(Task& task) override { task.resume_syscall(); }
  bool one_stop() const override { return true; }
  void skip(Task&) override {}
  void set_result(Task& task, int64_t nr, int64_t ret) override {
    KernelSyscallInfo info = task.syscall_info();
    if (info.op != KernelSyscallInfo::kSeccomp) {
      // Reached through the exit stop of a run_for_real syscall.
      set_result_regs(task, nr, ret);
      return;
    }
    KernelSyscallInfo set = info;
    set.op = KernelSyscallInfo::kExit;
    set.exit.rval = ret;
    set.exit.is_error = ret < 0 && ret >= -4095;
    if (!task.set_syscall_info(set)) throw_errno("PTRACE_SET_SYSCALL_INFO (seccomp -> exit)");
  }
};

}  // namespace

std::unique_ptr<Skipper> make_skipper(SkipStrategy strategy) {
  switch (strategy) {
    case SkipStrategy::SetInfoExit: return std::make_unique<SetInfoExitSkipper>();
    case SkipStrategy::SetInfo: return std::make_unique<SetInfoSkipper>();
    case SkipStrategy::Sysemu: return std::make_unique<SysemuSkipper>();
    case SkipStrategy::Regs: return std::make_unique<RegsSkipper>();
  }
  return std::make_unique<RegsSkipper>();
}

}  // namespace rrx::replay
