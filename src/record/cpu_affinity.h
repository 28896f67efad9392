// The recorded programs' own view of their CPU affinity while rrx binds the
// tree to one CPU (core/cpu_binding.h). A program that asks which CPUs it
// may use (Go's GOMAXPROCS, the JVM's availableProcessors, nproc, a thread
// pool's size) is told the mask rrx had before binding, or the one it set
// itself; sched_setaffinity on a thread of the tree is answered here (the
// binding stays) with the kernel's checks: EFAULT for an unreadable mask,
// EINVAL for one without a CPU rrx may use. Each thread's mask is inherited
// by the threads and processes it creates, as the kernel's is. The syscall
// table's rows marked Special::Affinity come here; replay injects the
// recorded results as for any emulated call.
#pragma once

#include <sched.h>
#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <unordered_map>

namespace rrx {
class Task;
}

namespace rrx::record {

class AffinityView {
 public:
  // Whether `pid` (as the caller passed it: 0 is itself) is a thread of the tree.
  using InTree = std::function<bool(pid_t)>;

  // At the entry stop of sched_setaffinity (nr 203) or sched_getaffinity
  // (204) by thread `caller`: the result of a setaffinity answered here
  // (the call is then skipped), nullopt to let the kernel run the call
  // (getaffinity; any call when unbound or on a thread outside the tree).
  std::optional<int64_t> at_entry(Task& t, pid_t caller, int64_t nr, const uint64_t args[6], const InTree& in_tree);
  // At the exit of a sched_getaffinity the kernel ran: the mask it wrote
  // (the binding's) is replaced by the thread's own.
  void at_exit(Task& t, pid_t caller, int64_t nr, const uint64_t args[6], int64_t ret, const InTree& in_tree);
  // A new thread or process: its creator's mask.
  void inherit(pid_t parent, pid_t child);

 private:
  pid_t target(pid_t caller, const uint64_t args[6], const InTree& in_tree) const;
  const cpu_set_t& mask_of(pid_t tid) const;
  std::unordered_map<pid_t, cpu_set_t> masks_;  // set by the program; absent: rrx's mask before binding
};

}  // namespace rrx::record
