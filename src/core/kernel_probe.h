// Facts about the machine rrx runs on: kernel release, CPU identity, and
// which syscall-skip strategies the kernel supports (probed on a child).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/line_cache.h"

namespace rrx {

// How a replayed syscall is kept from running (preference order: see
// all_skip_strategies()).
enum class SkipStrategy {
  SetInfoExit,  // seccomp stop, PTRACE_SET_SYSCALL_INFO op := EXIT: one stop (proposed patch)
  SetInfo,      // entry stop nr := -1, exit stop rval := result (Linux 6.16+): two stops
  Sysemu,       // PTRACE_SYSEMU: one stop, result through registers (three for executed syscalls)
  Regs,         // entry stop orig_rax := -1, exit stop rax := result: two stops, any kernel
};

const char* skip_strategy_name(SkipStrategy s);
std::optional<SkipStrategy> parse_skip_strategy(const std::string& name);
std::vector<SkipStrategy> all_skip_strategies();

// Probes each strategy on a short-lived traced child. What a probe finds is
// remembered for the process, and for this boot of the kernel in the user's
// cache (KernelFactCache, "kernel-probes"): recording and replaying a short
// program would otherwise pay a forked, traced child per strategy each time.
bool skip_strategy_supported(SkipStrategy s);
SkipStrategy best_skip_strategy();

// Facts about the running kernel remembered across rrx runs (core/line_cache.h):
// keyed by `boot` (this_boot_key()) and the fact's name, so that a reboot,
// another kernel or another build of rrx (whose probes may differ) probes
// again. Only what a probe decided is remembered, never a probe that could
// not run (no fork, ptrace refused): that is a fact of the moment.
class KernelFactCache {
 public:
  // `boot` empty: nothing is remembered beyond this object.
  KernelFactCache(std::filesystem::path path, std::string boot);
  std::optional<bool> lookup(const std::string& fact);
  void add(const std::string& fact, bool value);

 private:
  std::string key(const std::string& fact) const;
  std::string boot_;
  LineCache lines_;  // "rrx-probe-1 BOOT_ID RELEASE BUILD FACT 0|1"
};
// "BOOT_ID RELEASE BUILD": /proc/sys/kernel/random/boot_id, the kernel
// release, and the identity of the running rrx executable (a rebuild
// changes it). Empty when one of them cannot be read.
std::string this_boot_key();

// CPUID faulting (arch_prctl ARCH_SET_CPUID, Intel since Ivy Bridge on
// bare metal, some hypervisors): a thread that has it off gets SIGSEGV at
// every cpuid instruction. Asked of the kernel once per process, without
// changing what rrx's own cpuid does.
bool cpuid_faulting_supported();

std::string kernel_release();
std::string host_name();

struct CpuidValue {
  uint32_t leaf, subleaf, eax, ebx, ecx, edx;
};
struct CpuIdentity {
  std::string vendor;
  uint32_t family = 0, model = 0, stepping = 0;
  std::vector<CpuidValue> leaves;
};
CpuIdentity cpu_identity();

// The signal state a program inherits: bit N-1 for signal N.
struct InheritedSignals {
  uint64_t ignored = 0;
  uint64_t blocked = 0;
};
// Reads this process's state (call before changing any disposition).
InheritedSignals current_signal_state();
// Sets exactly that state (in a child, before exec): ignored signals get
// SIG_IGN, every other catchable signal SIG_DFL, and the mask is replaced.
void apply_signal_state(const InheritedSignals& state);

}  // namespace rrx
