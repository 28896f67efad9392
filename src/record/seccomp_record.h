// The recorder's side of the program's own seccomp filters: the data the
// filters see at a syscall entry, the filter a seccomp/prctl call installs
// (read from the program's memory at its entry), and how rrx skips a call
// of its own choosing past those filters.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>

#include "core/ptrace_task.h"
#include "core/seccomp_filter.h"

namespace rrx::record {

// si_code of a seccomp filter's SIGSYS (SYS_SECCOMP).
inline constexpr int kSigsysSeccomp = 1;

// struct seccomp_data for the call at this entry stop.
seccomp::Data seccomp_data(const KernelSyscallInfo& info, int64_t nr, const uint64_t args[6]);

// A call that sets a seccomp mode, with the filter it passes (filter mode).
struct SeccompInstall {
  seccomp::Install request;
  seccomp::Program program;
};
// The mode set by the call at this entry, if it sets one; a filter the
// program's memory does not hold (the kernel will refuse the call) gives none.
std::optional<SeccompInstall> seccomp_install_of(Task& task, int64_t nr, const uint64_t args[6]);
// The state after a successful install.
std::shared_ptr<const seccomp::State> installed(const std::shared_ptr<const seccomp::State>& before,
                                                const SeccompInstall& install);

// The syscall number rrx puts in place of a call it refuses (rseq, an
// unsupported call) so that the kernel runs nothing: -1, unless the
// program's filters would not let -1 through (a default KILL or TRAP), then
// a harmless call they allow (getpid, gettid...), whose result rrx replaces.
int64_t skip_number(const seccomp::State& state, const KernelSyscallInfo& info, const uint64_t args[6]);

}  // namespace rrx::record
