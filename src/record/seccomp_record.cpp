// The recorder's side of the program's seccomp filters: see seccomp_record.h.
#include "record/seccomp_record.h"

#include <linux/seccomp.h>
#include <sys/syscall.h>

#include <cstring>

namespace rrx::record {

seccomp::Data seccomp_data(const KernelSyscallInfo& info, int64_t nr, const uint64_t args[6]) {
  seccomp::Data d;
  d.nr = static_cast<int32_t>(nr);
  d.arch = info.arch;
  d.ip = info.instruction_pointer;
  std::memcpy(d.args, args, sizeof d.args);
  return d;
}

std::optional<SeccompInstall> seccomp_install_of(Task& task, int64_t nr, const uint64_t args[6]) {
  std::optional<seccomp::Install> request = seccomp::install_request(nr, args);
  if (!request) return std::nullopt;
  SeccompInstall in{*request, {}};
  if (request->strict) return in;
  struct {
    uint16_t len;
    uint64_t filter;
  } fprog{};  // struct sock_fprog
  if (!task.read_exact(request->prog_addr, &fprog.len, sizeof fprog.len) ||
      !task.read_exact(request->prog_addr + 8, &fprog.filter, sizeof fprog.filter)) {
    return std::nullopt;  // EFAULT
  }
  if (fprog.len == 0 || fprog.len > BPF_MAXINSNS) return std::nullopt;  // EINVAL
  in.program.resize(fprog.len);
  if (!task.read_exact(fprog.filter, in.program.data(), in.program.size() * sizeof(sock_filter))) {
    return std::nullopt;
  }
  return in;
}

std::shared_ptr<const seccomp::State> installed(const std::shared_ptr<const seccomp::State>& before,
                                                const SeccompInstall& install) {
  if (install.request.strict) return seccomp::State::strict();
  return seccomp::State::with_filter(before, install.program);
}

int64_t skip_number(const seccomp::State& state, const KernelSyscallInfo& info, const uint64_t args[6]) {
  for (int64_t nr : {int64_t{-1}, int64_t{SYS_getpid}, int64_t{SYS_gettid}, int64_t{SYS_getppid},
                     int64_t{SYS_getuid}, int64_t{SYS_sched_yield}}) {
    if (state.verdict(seccomp_data(info, nr, args)).runs()) return nr;
  }
  return -1;  // the filters allow none of them: they decide about -1 as they would have
}

}  // namespace rrx::record
