// The kernel rule the recorder's answer_at_seccomp_stop stands on, on a
// live child: at a SECCOMP_RET_TRACE stop, a call whose number the tracer
// sets to -1 is not made and returns the rax the tracer set; resumed with
// PTRACE_CONT, the thread has no exit stop (the next stop is its own).
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <cstdint>

#include "core/ptrace_task.h"

namespace {

constexpr long kAnswer = 4242;

// getppid traced by a filter; exits 0 when it returned kAnswer.
[[noreturn]] void child_main() {
  struct sock_filter f[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog prog = {sizeof f / sizeof f[0], f};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0) _exit(2);
  raise(SIGSTOP);
  long got = syscall(SYS_getppid);
  _exit(got == kAnswer ? 0 : 1);
}

}  // namespace

TEST_CASE("seccomp stop: a call skipped with nr -1 returns the tracer's rax, with no exit stop") {
  pid_t pid = fork();
  if (pid == 0) {
    ptrace(PTRACE_TRACEME, 0, nullptr, nullptr);
    raise(SIGSTOP);
    child_main();
  }
  REQUIRE(pid > 0);
  rrx::Task task(pid);
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFSTOPPED(status));
  task.set_options(PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACESECCOMP | PTRACE_O_EXITKILL);
  // To the SIGSTOP after the filter is installed (passed over, not delivered).
  task.resume_cont(0);
  REQUIRE(waitpid(pid, &status, 0) == pid);
  REQUIRE((WIFSTOPPED(status) && WSTOPSIG(status) == SIGSTOP));
  task.resume_cont(0);
  REQUIRE(waitpid(pid, &status, 0) == pid);
  REQUIRE((WIFSTOPPED(status) && (status >> 8) == (SIGTRAP | (PTRACE_EVENT_SECCOMP << 8))));
  user_regs_struct r = task.regs();
  CHECK(r.orig_rax == SYS_getppid);
  r.orig_rax = static_cast<uint64_t>(-1);
  r.rax = kAnswer;
  task.set_regs(r);
  task.resume_cont(0);
  // The next stop is the child's exit: no syscall-exit stop came between.
  REQUIRE(waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}
