// Replay of the calls the program's own seccomp filters decided in the
// recording (Syscall.seccompRet). Replay installs none of the program's
// filters: its prctl/seccomp calls are emulated, and so is every call a
// filter refused, whatever its table row says (an mmap refused with EPERM
// must not map anything on replay). A RET_TRAP's SIGSYS is a recorded signal
// that replay sends with its recorded siginfo. What cannot be emulated is a
// death: there rrx gives the thread, just before it runs the call again, a
// one-instruction filter returning the recorded verdict (or strict mode),
// and the kernel kills it as it did in the recording: the thread or the
// whole process, by SIGSYS with a core dump or SIGKILL, by its own rules.
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>

#include <cerrno>
#include <cstddef>
#include <cstring>

#include "core/remote_syscall.h"
#include "core/syscall_table.h"
#include "replay/replay_session.h"
#include "trace_format/format.h"

namespace rrx::replay {

namespace {

// The kernel's forced SIGSYS (force_sig_seccomp) resets a blocked or ignored
// SIGSYS to its default action, which kills the process with a core dump.
bool sigsys_would_kill(Task& task) {
  uint64_t blocked = 0;
  if (::ptrace(PTRACE_GETSIGMASK, task.tid(), sizeof blocked, &blocked) != 0) {
    throw_errno("PTRACE_GETSIGMASK");
  }
  return (blocked & (uint64_t{1} << (SIGSYS - 1))) != 0 ||
         signal_action(task.tid(), SIGSYS) == SignalAction::Ignore;
}

}  // namespace

bool ReplaySession::seccomp_refusal_kills(RTask& t, schema::Syscall::Reader rec) {
  uint32_t action = rec.getSeccompRet() & SECCOMP_RET_ACTION_FULL;
  if (rec.getFlags() & trace::kSyscallSeccompStrict) return true;
  switch (action) {
    case SECCOMP_RET_ERRNO:
    case SECCOMP_RET_TRACE:
    case SECCOMP_RET_USER_NOTIF:
      return false;
    case SECCOMP_RET_TRAP:
      return sigsys_would_kill(*t.task);
    default:  // KILL_THREAD, KILL_PROCESS (and unknown actions, which kill like it)
      return true;
  }
}

// `t` is at the entry of the recorded call: the entry stop of a two-stop
// strategy, or sysemu's only stop. The remote calls skip it and run from
// there; then the task is put back onto its syscall instruction, to make the
// call again into the new filter.
void ReplaySession::replay_seccomp_kill(RTask& t, schema::Syscall::Reader rec, int64_t nr) {
  Task& task = *t.task;
  user_regs_struct at_entry = task.regs();
  uint64_t insn = at_entry.rip - 2;  // the call's own syscall instruction
  int64_t r;
  bool strict = rec.getFlags() & trace::kSyscallSeccompStrict;
  bool kill_instead = false;
  if (strict) {
    r = remote_syscall(task, insn, SYS_seccomp, {SECCOMP_SET_MODE_STRICT, 0, 0});
    // Strict mode cannot follow the filter of seccomp entries (EINVAL). Its
    // kill ends the thread by SIGKILL: for the last thread of a process,
    // the process's death by SIGKILL, which rrx sends instead.
    if (r == -EINVAL && seccomp_entries_ && threads_of_process(t.pid) == 1) {
      kill_instead = true;
      r = 0;
    }
  } else {
    // Without CAP_SYS_ADMIN a filter needs no_new_privs (per thread: only
    // this one, which is about to die, gets it).
    remote_syscall(task, insn, SYS_prctl, {PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0});
    struct {
      struct sock_fprog prog;
      struct sock_filter insn;
    } filter{};
    filter.insn = BPF_STMT(BPF_RET | BPF_K, rec.getSeccompRet());
    filter.prog.len = 1;
    StackScratch scratch(task, &filter, sizeof filter);
    uint64_t insn_addr = scratch.addr() + offsetof(decltype(filter), insn);
    task.write_mem(scratch.addr() + offsetof(struct sock_fprog, filter), &insn_addr, sizeof insn_addr);
    r = remote_syscall(task, insn, SYS_seccomp, {SECCOMP_SET_MODE_FILTER, 0, scratch.addr()});
  }
  if (r != 0) {
    throw Error("cannot reproduce the recorded seccomp kill of thread " + std::to_string(t.tid) + " at " +
                sys::syscall_name(nr) + ": installing " + (strict ? "strict mode" : "the filter") + " failed (" +
                std::strerror(static_cast<int>(-r)) + ")");
  }
  user_regs_struct again = at_entry;
  again.rip = insn;
  again.rax = static_cast<uint64_t>(nr);
  again.orig_rax = static_cast<uint64_t>(nr);
  task.set_regs(again);
  t.cur = RTask::Current{};
  t.cur.action = Action::SeccompKill;
  t.cur.nr = nr;
  // Strict mode kills the thread alone with SIGKILL: not the SIGKILL of the
  // whole process that replay sends for a recorded SIGKILL from elsewhere.
  if (strict) t.sigkilled = true;
  // A fatal RET_TRAP: the kernel sends the SIGSYS (its recorded signal
  // event comes next); rrx must not send one more.
  if ((rec.getSeccompRet() & SECCOMP_RET_ACTION_FULL) == SECCOMP_RET_TRAP) t.injecting_signal = SIGSYS;
  // It goes on at once, as it did in the recording, and runs none of its
  // code: without syscall stops it dies in the kernel's seccomp check (its
  // exit event stop, then its death), or stops for the fatal SIGSYS.
  if (kill_instead) {
    // SIGKILL takes it out of its stop: it runs nothing more.
    ::syscall(SYS_tgkill, t.live_pid, task.tid(), SIGKILL);
  } else {
    task.resume_cont(0);
  }
  t.running = true;
}

size_t ReplaySession::threads_of_process(int pid) const {
  size_t n = 0;
  for (const auto& [tid, u] : tasks_) n += u.pid == pid && u.task != nullptr ? 1 : 0;
  return n;
}

}  // namespace rrx::replay
