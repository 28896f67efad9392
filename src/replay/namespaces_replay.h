// Replay creates no namespaces: every call whose result a namespace shapes
// (getpid, mounts, opens, the network) is injected from the trace, and the
// exec'd files are the trace's copies. unshare and setns are skipped like any
// emulated call; a clone or clone3 that asked for new namespaces runs for
// real without them, the program's own arguments put back after it.
#pragma once

#include <cstdint>

#include "core/ptrace_task.h"

namespace rrx::replay {

// What drop_namespaces took out of a live clone/clone3, to put back.
struct CloneArgsUndo {
  uint64_t clone_args = 0;   // clone3: where struct clone_args lies; 0: clone (flags in a register)
  uint64_t flags = 0;        // the program's flags; 0: nothing was changed
  uint64_t set_tid_size = 0; // clone3: the program's set_tid_size (pids chosen per namespace)
  explicit operator bool() const { return flags != 0; }
};

// At the entry stop of clone/clone3 (`nr`, `args` as the program made it),
// which replay is about to run for real: takes the CLONE_NEW* flags out, and
// with clone3, CLONE_INTO_CGROUP (its fd is not real on replay) and set_tid
// (the recorded pids are not the replay's). Nothing when it has none.
CloneArgsUndo drop_namespaces(Task& task, int64_t nr, const uint64_t args[6]);

// Puts the program's arguments back: in the caller after the call, and in
// the new task before it runs (it starts with the caller's registers, and a
// fork's copy of the caller's memory).
void restore_clone_args(Task& task, const CloneArgsUndo& undo);

}  // namespace rrx::replay
