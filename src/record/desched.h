// The recorder's side of desched (core/syscallbuf_abi.h, "Desched"): the
// start-up probe that decides whether buffered calls that may block use a
// per-thread context-switch event, each thread's event (opened in the
// thread's fd table, with a copy in rrx's own that rrx disables it through),
// and the rule that tells a call the thread blocked in (given back) from one
// it was only preempted in.
#pragma once

#include <signal.h>
#include <sys/types.h>
#include <sys/user.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "core/ptrace_task.h"
#include "core/unique_fd.h"

namespace rrx::record {

enum class DeschedProbe {
  Counts,       // the event opens, counts a context switch and signals its owner: desched is used
  Refused,      // perf_event_open refused it (perf_event_paranoid, seccomp, no perf events)
  NeverCounts,  // it opens but counted no switch, or sent no signal
  TurnedOff,    // not asked for: the checked mode is the default (RRX_DESCHED=1 asks)
};

// Opens a PERF_COUNT_SW_CONTEXT_SWITCHES event with the threads' attributes
// for a thread of rrx's own, with its signal, sleeps once and looks whether
// the switch was counted and signalled. Never TurnedOff.
DeschedProbe probe_desched_event();
// The mode a recording uses: desched is opt-in (RRX_DESCHED=1, and then a
// failed probe is an error), the checked mode the default even where the
// probe would find the event: desched measured more ptrace stops than the
// checked mode on blocking-heavy programs (a call that blocks costs the
// signal stop and the traced call, and a preempted one a spurious stop) and
// the same on make and python (README, "Blocking calls").
DeschedProbe probe_desched();
bool desched_wanted();  // RRX_DESCHED=1
const char* describe(DeschedProbe p);

// One thread's event: its number in the thread's fd table, and the same
// event in rrx's (pidfd_getfd), through which rrx disables it and which
// names it in the signal's si_fd.
struct DeschedEvent {
  int fd = -1;
  std::shared_ptr<UniqueFd> ctl;
  bool open() const { return fd >= 0 && ctl && ctl->get() >= 0; }
};

// Opens an event for stopped thread `t` of process `tgid` (at an exit, event
// or signal stop: remote syscalls) in its fd table: at `at_fd` exactly (a new
// process's copy of its parent thread's event is replaced), or at the lowest
// free number from RRX_DESCHED_MIN_FD (lower where RLIMIT_NOFILE is), and
// makes `syscall; ret` of the rrx page's recording-only instruction. Returns
// the fd or -errno (nothing is left open then). Signals that arrive meanwhile
// are appended to *signals.
int open_desched_event(Task& t, pid_t tgid, int at_fd, DeschedEvent& ev, std::vector<siginfo_t>* signals);

// Stops the event counting (rrx's ioctl, no stop of the thread).
void disarm(const DeschedEvent& ev);

// The signal is the event's (not the program's own RRX_DESCHED_SIGNAL):
// POLL_HUP for the overflow that disabled it, POLL_IN for any after it.
bool is_desched_signal(const siginfo_t& si, const DeschedEvent& ev);

// At a stop of a thread inside its armed window: whether the call at the
// untraced instruction was interrupted (-ERESTART*, -EINTR: it blocked).
// False when it completed, or is still to be made.
bool interrupted_at_untraced(const user_regs_struct& r);

// The fd that call `nr` with `args` would close (close, dup2's and dup3's
// target), or -1: rrx refuses it with EBADF when that is a desched event's.
int64_t fd_closed_by(int64_t nr, const uint64_t args[6]);

}  // namespace rrx::record
