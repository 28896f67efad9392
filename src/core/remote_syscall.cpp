// remote_syscall and StackScratch: see remote_syscall.h.
#include "core/remote_syscall.h"

#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "core/error.h"
#include "core/syscall_table.h"

namespace rrx {

namespace {

std::string hex(uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%llx", static_cast<unsigned long long>(v));
  return buf;
}

}  // namespace

constexpr uint8_t kSyscallInsn[2] = {0x0f, 0x05};

// Makes a stopped tracee run one syscall of rrx's choosing: the instruction
// is written at `scratch` (an executable address of the program, restored
// afterwards) and the registers are put back as they were. Returns the
// syscall's result; *child gets the new process of a fork-like call.
int64_t remote_syscall(Task& t, uint64_t scratch, long nr, std::initializer_list<uint64_t> arg_list,
                       pid_t* child, std::vector<siginfo_t>* signals, bool seccomp_traced) {
  uint64_t args[6] = {};
  size_t i = 0;
  for (uint64_t a : arg_list) args[i++] = a;
  user_regs_struct saved = t.regs();
  uint8_t orig[2];
  if (!t.read_exact(scratch, orig, sizeof orig) || !t.write_mem(scratch, kSyscallInsn, sizeof kSyscallInsn)) {
    throw Error("cannot write a syscall instruction into the traced program at 0x" + hex(scratch));
  }
  user_regs_struct r = saved;
  r.rip = scratch;
  r.rax = static_cast<uint64_t>(nr);
  r.orig_rax = static_cast<uint64_t>(-1);
  set_syscall_args_in_regs(r, args);
  t.set_regs(r);
  bool entered = false;
  int64_t result = -ENOSYS;
  for (int round = 0;; ++round) {
    if (round > 64) throw Error("an injected " + sys::syscall_name(nr) + " never completed");
    if (seccomp_traced && !entered && child == nullptr) {
      t.resume_cont(0);
    } else {
      t.resume_syscall(0);
    }
    WaitStatus w = t.wait();
    if (w.kind == WaitStatus::Kind::Exited || w.kind == WaitStatus::Kind::Killed) {
      throw Error("the traced program died during an injected " + sys::syscall_name(nr));
    }
    if (w.kind == WaitStatus::Kind::EventStop) {
      if (w.event == PTRACE_EVENT_FORK || w.event == PTRACE_EVENT_VFORK || w.event == PTRACE_EVENT_CLONE) {
        if (child) *child = static_cast<pid_t>(t.event_msg());
      } else if (w.event == PTRACE_EVENT_SECCOMP) {
        entered = true;
      }
      continue;
    }
    if (w.kind == WaitStatus::Kind::SignalStop && signals) {
      signals->push_back(t.siginfo());  // kept for the caller; not delivered now
      continue;
    }
    if (w.kind != WaitStatus::Kind::SyscallStop) continue;  // a live signal: dropped, as replay drops them
    KernelSyscallInfo info = t.syscall_info();
    if (info.op == KernelSyscallInfo::kEntry && static_cast<long>(info.entry.nr) == nr &&
        info.instruction_pointer == scratch + 2) {
      entered = true;
    } else if (info.op == KernelSyscallInfo::kExit && entered) {
      result = info.exit.rval;
      break;
    }
  }
  t.write_mem(scratch, orig, sizeof orig);
  t.set_regs(saved);
  if (child && *child > 0) {
    // The copy has the syscall instruction too.
    for (;;) {
      int status = 0;
      pid_t got = ::waitpid(*child, &status, __WALL);
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) throw_errno("waitpid (injected fork)");
      WaitStatus w = WaitStatus::decode(status);
      if (w.kind == WaitStatus::Kind::Exited || w.kind == WaitStatus::Kind::Killed) {
        throw Error("the copy made by an injected fork died at birth");
      }
      break;
    }
    Task copy(*child);
    copy.write_mem(scratch, orig, sizeof orig);
  }
  return result;
}

StackScratch::StackScratch(Task& t, const void* data, size_t len) : task_(t) {
  uint64_t sp = t.regs().rsp;
  // Below the 128-byte red zone, 16-byte aligned, with room to spare.
  addr_ = (sp - 128 - len - 64) & ~uint64_t{15};
  saved_.resize(len);
  if (!t.read_exact(addr_, saved_.data(), len) || !t.write_mem(addr_, data, len)) {
    throw Error("cannot write " + std::to_string(len) + " bytes on the stack of thread " + std::to_string(t.tid()));
  }
}

StackScratch::~StackScratch() { task_.write_mem(addr_, saved_.data(), saved_.size()); }

}  // namespace rrx
