// One stop for a syscall that runs for real under sysemu (autopilot
// replays): the replayed processes carry a seccomp filter that traces every
// call, so a task resumed with PTRACE_CONT stops once at the call's seccomp
// stop, before it runs, with no stop at the exit of the call sysemu skipped
// before it. A call whose exit needs no work (Action::Execute, its memory
// and result as recorded) then completes there: the kernel runs it when
// the task goes on to its next event. So do an mmap made with the
// replay's own arguments and set_tid_address, whose exits only put the
// program's registers back or set the recorded result: a return stub in
// the vDSO's spare bytes does that (mmap_return.h). Sysemu stops come
// before seccomp checks, so emulated calls keep their single sysemu stop.
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <string>

#include "core/proc_maps.h"
#include "core/syscall_table.h"
#include "core/syscallbuf_abi.h"
#include "core/vdso.h"
#include "replay/mmap_return.h"
#include "replay/replay_session.h"
#include "replay/skip_strategy.h"

namespace rrx::replay {

bool ReplaySession::want_seccomp_entries() const {
  if (skipper_->strategy() != SkipStrategy::Sysemu) return false;
  // Under gdb the replay keeps the stops it always had (catch syscall,
  // watchpoints on what a call writes, checkpoints of threads in calls).
  if (syscall_hook || address_space_hook || memory_write_hook || exec_hook || exit_hook) return false;
  const char* v = std::getenv("RRX_REPLAY_SECCOMP");
  return !(v && std::string(v) == "0");
}

// Every call stops at its seccomp stop, but those of RRX_REPLAY_EXEC_CALLS
// from the library's RRX_REPLAY_EXEC_IP (core/syscallbuf_abi.h): fed records
// marked RRX_RECORD_EXECUTE, which the library makes for real without a stop.
bool install_trace_all_filter() {
  constexpr uint32_t kIpLow = offsetof(struct seccomp_data, instruction_pointer);
  constexpr uint32_t kExecCalls[] = {RRX_REPLAY_EXEC_CALLS};
  constexpr uint32_t kCount = sizeof kExecCalls / sizeof kExecCalls[0];
  // (Run in the forked child before exec: no allocation.)
  std::array<struct sock_filter, 9 + kCount> f{};
  size_t n = 0;
  f[n++] = sock_filter BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
  f[n++] = sock_filter BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, 5 + kCount);
  f[n++] = sock_filter BPF_STMT(BPF_LD | BPF_W | BPF_ABS, kIpLow);
  f[n++] = sock_filter BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, static_cast<uint32_t>(RRX_REPLAY_EXEC_IP), 0, 3 + kCount);
  f[n++] = sock_filter BPF_STMT(BPF_LD | BPF_W | BPF_ABS, kIpLow + 4);
  f[n++] = sock_filter BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, static_cast<uint32_t>(RRX_REPLAY_EXEC_IP >> 32), 0, 1 + kCount);
  f[n++] = sock_filter BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
  for (uint32_t i = 0; i < kCount; ++i) {
    // To the ALLOW after the TRACE on a match.
    f[n++] = sock_filter BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, kExecCalls[i], static_cast<uint8_t>(kCount - i), 0);
  }
  f[n++] = sock_filter BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE);
  f[n++] = sock_filter BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
  struct sock_fprog prog = {static_cast<unsigned short>(n), f.data()};
  // Raw syscalls: run in a child whose errno is rrx's (core/pre_exec_child.h).
  return raw_syscall(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0) == 0 &&
         raw_syscall(SYS_prctl, PR_SET_SECCOMP, SECCOMP_MODE_FILTER, reinterpret_cast<long>(&prog)) == 0;
}

bool ReplaySession::pass_seccomp_stop(RTask& t) {
  // Resumed with PTRACE_SYSCALL, a task stops at a call's entry before its
  // seccomp check: this seccomp stop is that call's, decided at the entry.
  if (!seccomp_entries_ || t.task->last_resume() != PTRACE_SYSCALL) return false;
  t.task->resume_syscall(0);
  t.running = true;
  return true;
}

bool ReplaySession::complete_at_seccomp_stop(RTask& t, Action action, schema::Syscall::Reader rec) {
  if (!seccomp_entries_ || !t.entered_traced || action != Action::Execute) return false;
  // A record fed that the library did not take: made for real, the call
  // gave another result than the recorded one (the library makes it again
  // the ordinary way): its exit compares them.
  if ((rec.getFlags() & trace::kSyscallBuffered) && t.untaken_fed == next_number_) return false;
  // Nor a restart, file writes, or a move into a site's stub at the exit.
  if (sys::is_restart_return(rec.getRet()) || rec.getFileWrites().size() != 0 || rec.getResumeIp() != 0) return false;
  const sys::SyscallDesc* desc = sys::lookup(t.cur.nr);
  // What the recording read after the call where replay's memory is shaped
  // differently (madvise on a file mapping) must come after the call.
  if (desc == nullptr || (rec.getMemWrites().size() != 0 && (desc->flags & sys::kMapsMemory))) return false;
  // The call runs when the task next runs: that must be for its own next
  // event, before any other task runs and could see what the call changed.
  // And that event must take the task from where it is, not from the
  // call's exit (a site patch moves it to the stub's exit of the call; a
  // death never resumes it).
  if (!next_event_takes_task_on(t, true)) return false;
  // Its result checked as the exit stop did: a return stub that leaves the
  // registers as they are and runs ud2 on another result (not when a signal
  // comes next: it would be delivered in the stub; nor for a call that
  // could change the stub's own mapping).
  if (t.return_stub != 0 && t.cur.nr != SYS_mremap && next_event_takes_task_on(t, false) &&
      !((desc->flags & sys::kMapsMemory) && touches_return_stub(t, t.cur.args[0], t.cur.args[1]))) {
    user_regs_struct r = t.task->regs();
    uint64_t now[6];
    syscall_args_from_regs(r, now);
    if (complete_through_stub(t, rec, r, mmap_return_stub(now, rec.getRet(), r.rip))) return true;
  }
  finish_syscall(t, rec, rec.getRet());  // its memory now; the kernel writes the same when it runs
  completed_at_seccomp_stop(t);
  return true;
}

bool ReplaySession::touches_return_stub(const RTask& t, uint64_t addr, uint64_t len) const {
  return range_overlaps(addr, len, auxv_vdso(t.auxv), t.return_stub + kMmapReturnStubBytes);
}

void ReplaySession::completed_at_seccomp_stop(RTask& t) {
  consume();
  t.cur = RTask::Current{};
  t.next_resume = NextResume::Normal;
  t.call_at_seccomp_stop = true;
}

bool ReplaySession::next_event_takes_task_on(const RTask& t, bool signal) {
  const trace::EventRecord* after = event_ahead(1);
  if (after == nullptr || after->get().getTid() != t.tid) return false;
  switch (after->get().which()) {
    case schema::Event::SYSCALL:
    case schema::Event::SYSCALL_ENTRY:
    case schema::Event::RDTSC:
    case schema::Event::CPUID:
      return true;
    case schema::Event::SIGNAL:
      return signal;
    default:
      return false;
  }
}

uint64_t ReplaySession::program_rip(RTask& t) {
  const uint64_t rip = t.task->regs().rip;
  return t.call_at_seccomp_stop && t.return_stub != 0 && rip == t.return_stub ? t.stub_return_ip : rip;
}

bool ReplaySession::stub_may_complete(const RTask& t, schema::Syscall::Reader rec) {
  return seccomp_entries_ && t.entered_traced && t.return_stub != 0 && !sys::is_restart_return(rec.getRet()) &&
         rec.getFileWrites().size() == 0 && rec.getResumeIp() == 0 && rec.getMemWrites().size() == 0 &&
         next_event_takes_task_on(t, false);
}

void ReplaySession::note_vdso_mapping_call(const RTask& t, schema::Syscall::Reader rec) {
  const sys::SyscallDesc* desc = sys::lookup(rec.getNr());
  if (desc == nullptr || !(desc->flags & sys::kMapsMemory) || t.return_stub == 0) return;
  auto args = rec.getArgs();
  if (args.size() < 6) return;
  const uint64_t addr = args[0], len = args[1];
  bool may_touch = true;
  if (desc->special == sys::Special::Mmap) {
    // Without MAP_FIXED a map never replaces one (MAP_FIXED_NOREPLACE fails instead).
    may_touch = (args[3] & MAP_FIXED) && touches_return_stub(t, addr, len);
  } else if (rec.getNr() == SYS_munmap || rec.getNr() == SYS_mprotect || rec.getNr() == SYS_madvise ||
             rec.getNr() == SYS_pkey_mprotect) {
    may_touch = touches_return_stub(t, addr, len);
  } else if (rec.getNr() == SYS_brk) {
    may_touch = false;  // (the heap never reaches another mapping)
  }
  if (!may_touch) return;
  // (Every task: a vfork or CLONE_VM child changes its parent's mappings.)
  for (auto& [tid, other] : tasks_) other.return_stub_checked = false;
}

bool ReplaySession::complete_through_stub(RTask& t, schema::Syscall::Reader rec, user_regs_struct r,
                                          const std::string& stub) {
  const bool intact = t.return_stub_checked || mmap_return_area_intact(*t.task, auxv_vdso(t.auxv), t.return_stub);
  if (intact) t.return_stub_checked = true;
  if (!intact || !t.task->write_mem(t.return_stub, stub.data(), stub.size())) {
    // Gone (an unmapped vDSO): the exit stops, for this task and its
    // process's tasks as they come here.
    for (auto& [tid, other] : tasks_) {
      if (other.pid == t.pid) other.return_stub = 0;
    }
    return false;
  }
  sys::RecordedCall& c = t.stub_call;
  c.nr = t.cur.nr;
  std::copy(t.cur.args, t.cur.args + 6, c.args);
  c.ret = rec.getRet();
  t.stub_call_event = next_number_;
  t.stub_return_ip = r.rip;
  r.rip = t.return_stub;
  // finish_syscall's work on the registers (the program's arguments, the
  // recorded result) is an exit stop's: the call runs with `r`, the stub
  // does that work after it. Its memory now: the kernel writes the same.
  finish_syscall(t, rec, rec.getRet());
  t.task->set_regs(r);
  completed_at_seccomp_stop(t);
  return true;
}

bool ReplaySession::complete_mmap_at_seccomp_stop(RTask& t, schema::Syscall::Reader rec, const uint64_t live[6]) {
  // Nothing for the exit to do but the result and the registers: the trace's
  // copy mapped whole, or anonymous memory (no copy to fill in, no shared
  // object of the replay's to map over it, no memory to write after it);
  // not a mapping over the stub's own place.
  const bool anonymous = (t.cur.args[3] & MAP_ANONYMOUS) && !rec.hasMapping();
  if (!(t.cur.mapped_copy || anonymous) || !stub_may_complete(t, rec) || touches_return_stub(t, live[0], live[1])) {
    return false;
  }
  user_regs_struct r = t.task->regs();
  const std::string stub = mmap_return_stub(t.cur.args, rec.getRet(), r.rip);
  set_syscall_args_in_regs(r, live);
  return complete_through_stub(t, rec, r, stub);
}

bool ReplaySession::complete_inject_at_seccomp_stop(RTask& t, schema::Syscall::Reader rec) {
  if (!stub_may_complete(t, rec)) return false;
  user_regs_struct r = t.task->regs();
  return complete_through_stub(t, rec, r, inject_return_stub(rec.getRet(), r.rip));
}

}  // namespace rrx::replay
