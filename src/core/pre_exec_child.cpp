// A child sharing rrx's memory until its exec: see pre_exec_child.h.
#include "core/pre_exec_child.h"

#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/error.h"

namespace rrx {

namespace {
// glibc's syscall wrappers, sigaction and execve use a few KiB; the pages
// the child does not touch cost nothing.
constexpr size_t kStackBytes = 256 << 10;
}  // namespace

long raw_syscall(long nr, long a0, long a1, long a2) {
  // The other three arguments 0 (prctl checks that its unused ones are).
  register long r10 __asm__("r10") = 0;
  register long r8 __asm__("r8") = 0;
  register long r9 __asm__("r9") = 0;
  long ret;
  __asm__ volatile("syscall"
                   : "=a"(ret)
                   : "a"(nr), "D"(a0), "S"(a1), "d"(a2), "r"(r10), "r"(r8), "r"(r9)
                   : "rcx", "r11", "memory");
  return ret;
}

PreExecChild::~PreExecChild() {
  if (stack_ != nullptr) ::munmap(stack_, stack_bytes_);
}

int PreExecChild::run(void* self) {
  static_cast<PreExecChild*>(self)->body_();
  _exit(127);  // (body execs or exits)
}

pid_t PreExecChild::start(std::function<void()> body) {
  if (stack_ != nullptr) fatal("PreExecChild started twice");
  body_ = std::move(body);
  void* stack = ::mmap(nullptr, kStackBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (stack == MAP_FAILED) throw_errno("mmap of a child's stack");
  stack_ = stack;
  stack_bytes_ = kStackBytes;
  char* top = static_cast<char*>(stack) + kStackBytes;
  // Not CLONE_VFORK: rrx must run while the child waits for it (the
  // recorder seizes it; the replayer waits for its SIGSTOP).
  pid_t pid = ::clone(&PreExecChild::run, top, CLONE_VM | SIGCHLD, this);
  if (pid < 0) throw_errno("clone");
  return pid;
}

}  // namespace rrx
