// The scheduler state the kernel reports for a task (/proc/TID/stat): the
// recorder lets others run while a task is in a syscall only when the kernel
// says it is waiting there, not while the call is still running or done.
#pragma once

#include <sys/types.h>

namespace rrx::record {

enum class KernelRunState {
  Running,   // R: on a CPU or waiting for one: the call is making progress
  Sleeping,  // S, I: asleep in the kernel until something happens (a pipe's reader, a futex, a timer)
  DiskSleep, // D: in uninterruptible kernel work (I/O, dirty page throttling, a vfork parent)
  Stopped,   // t, T: at a stop (its syscall-exit stop may be queued for rrx)
  Gone,      // Z, X, or no such task
};

KernelRunState kernel_run_state(pid_t tid);

}  // namespace rrx::record
