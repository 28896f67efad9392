// Replay without namespaces: the live clone/clone3 of a recorded namespace
// creation runs without its CLONE_NEW* flags (see namespaces_replay.h).
#include "replay/namespaces_replay.h"

#include <linux/sched.h>
#include <sys/syscall.h>

#include <cstddef>

namespace rrx::replay {

namespace {

constexpr uint64_t kNamespaceFlags = CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER |
                                     CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWTIME;
constexpr uint64_t kIntoCgroup = 0x200000000ull;  // CLONE_INTO_CGROUP (clone3)

// struct clone_args (linux/sched.h): flags first, set_tid_size at 72.
constexpr uint64_t kFlagsOffset = 0;
constexpr uint64_t kSetTidSizeOffset = 72;

}  // namespace

CloneArgsUndo drop_namespaces(Task& task, int64_t nr, const uint64_t args[6]) {
  CloneArgsUndo undo;
  if (nr == SYS_clone) {
    // (CLONE_NEWTIME is in clone's exit-signal byte: clone cannot ask for it.)
    const uint64_t drop = kNamespaceFlags & ~uint64_t{CLONE_NEWTIME};
    if (!(args[0] & drop)) return undo;
    undo.flags = args[0];
    user_regs_struct r = task.regs();
    r.rdi = args[0] & ~drop;
    task.set_regs(r);
    return undo;
  }
  if (nr != SYS_clone3 || args[1] < kSetTidSizeOffset + 8) return undo;
  uint64_t flags = 0, set_tid_size = 0;
  if (!task.read_exact(args[0] + kFlagsOffset, &flags, sizeof flags) ||
      !task.read_exact(args[0] + kSetTidSizeOffset, &set_tid_size, sizeof set_tid_size)) {
    return undo;
  }
  if (!(flags & (kNamespaceFlags | kIntoCgroup)) && set_tid_size == 0) return undo;
  undo.clone_args = args[0];
  undo.flags = flags;
  undo.set_tid_size = set_tid_size;
  const uint64_t live_flags = flags & ~(kNamespaceFlags | kIntoCgroup);
  const uint64_t zero = 0;
  task.write_mem(args[0] + kFlagsOffset, &live_flags, sizeof live_flags);
  task.write_mem(args[0] + kSetTidSizeOffset, &zero, sizeof zero);
  return undo;
}

void restore_clone_args(Task& task, const CloneArgsUndo& undo) {
  if (!undo) return;
  if (undo.clone_args == 0) {
    user_regs_struct r = task.regs();
    r.rdi = undo.flags;  // clone's first argument
    task.set_regs(r);
    return;
  }
  task.write_mem(undo.clone_args + kFlagsOffset, &undo.flags, sizeof undo.flags);
  task.write_mem(undo.clone_args + kSetTidSizeOffset, &undo.set_tid_size, sizeof undo.set_tid_size);
}

}  // namespace rrx::replay
