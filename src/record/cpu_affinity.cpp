// The recorded programs' view of their CPU affinity (record/cpu_affinity.h).
#include "record/cpu_affinity.h"

#include <sys/syscall.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "core/cpu_binding.h"
#include "core/ptrace_task.h"

namespace rrx::record {

pid_t AffinityView::target(pid_t caller, const uint64_t args[6], const InTree& in_tree) const {
  const pid_t pid = static_cast<pid_t>(args[0]);
  if (pid == 0) return caller;
  return in_tree(pid) ? pid : -1;
}

const cpu_set_t& AffinityView::mask_of(pid_t tid) const {
  auto it = masks_.find(tid);
  return it == masks_.end() ? unbound_affinity() : it->second;
}

std::optional<int64_t> AffinityView::at_entry(Task& t, pid_t caller, int64_t nr, const uint64_t args[6],
                                              const InTree& in_tree) {
  if (nr != SYS_sched_setaffinity || !bound_cpu()) return std::nullopt;
  const pid_t tid = target(caller, args, in_tree);
  if (tid < 0) return std::nullopt;
  // As the kernel's get_user_cpu_mask: a shorter mask is zero-filled, a
  // longer one cut to the kernel's size.
  cpu_set_t want;
  CPU_ZERO(&want);
  const size_t len = std::min<uint64_t>(args[1], sizeof want);
  if (len > 0 && !t.read_exact(args[2], &want, len)) return -EFAULT;
  cpu_set_t allowed;
  CPU_AND(&allowed, &want, &unbound_affinity());
  if (CPU_COUNT(&allowed) == 0) return -EINVAL;
  masks_[tid] = allowed;
  return 0;
}

void AffinityView::at_exit(Task& t, pid_t caller, int64_t nr, const uint64_t args[6], int64_t ret,
                           const InTree& in_tree) {
  if (nr != SYS_sched_getaffinity || ret <= 0 || !bound_cpu()) return;
  const pid_t tid = target(caller, args, in_tree);
  if (tid < 0) return;
  // The kernel wrote `ret` bytes (its cpumask size, at most the caller's length).
  const size_t n = std::min<size_t>(static_cast<size_t>(ret), sizeof(cpu_set_t));
  t.write_mem(args[2], &mask_of(tid), n);
}

void AffinityView::inherit(pid_t parent, pid_t child) {
  auto it = masks_.find(parent);
  if (it == masks_.end()) {
    masks_.erase(child);
  } else {
    masks_[child] = it->second;
  }
}

}  // namespace rrx::record
