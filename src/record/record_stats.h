// Where a recording's ptrace stops go (RRX_RECORD_STATS=1 rrx record ...):
// each stop the recorder waits for, by kind, and what became of the desched
// signals (core/syscallbuf_abi.h, "Desched"), printed to rrx's stderr at the
// end. For measurements (bench/desched.sh); the trace is the same either way.
#pragma once

#include <cstdint>
#include <ostream>

namespace rrx::record {

struct RecordStats {
  uint64_t syscall = 0;   // syscall entry/exit stops (PTRACE_SYSCALL)
  uint64_t seccomp = 0;   // seccomp stops (SECCOMP_RET_TRACE: the fast path's traced calls)
  uint64_t signal = 0;    // signal-delivery stops, the desched signals among them
  uint64_t event = 0;     // exec, exit, clone, fork and other ptrace events
  uint64_t trap = 0;      // group-stops and PTRACE_INTERRUPT stops (preemption)
  // Desched signals: the call had blocked (given back), had completed (a
  // spurious deschedule: the thread was only preempted), had not been made
  // yet (resumed to its entry), or came after the window closed.
  uint64_t desched_given_back = 0;
  uint64_t desched_spurious = 0;
  uint64_t desched_before_call = 0;
  uint64_t desched_late = 0;
  uint64_t given_back_at_entry = 0;  // a call skipped at its entry and given back (the thread was traced fully)

  uint64_t stops() const { return syscall + seccomp + signal + event + trap; }
  void print(std::ostream& out) const {
    out << "rrx: record stats: " << stops() << " stops: " << syscall << " syscall, " << seccomp << " seccomp, "
        << signal << " signal, " << event << " event, " << trap << " trap/interrupt\n"
        << "rrx: record stats: desched signals: " << desched_given_back << " given back (blocked), "
        << desched_spurious << " spurious (completed), " << desched_before_call << " before the call, "
        << desched_late << " after the window; " << given_back_at_entry << " given back at an entry\n";
  }
};

}  // namespace rrx::record
