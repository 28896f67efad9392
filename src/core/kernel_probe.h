// Facts about the machine rrx runs on: kernel release, CPU identity, and
// which syscall-skip strategies the kernel supports (probed on a child).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

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

// Probes each strategy on a short-lived traced child (cached per process).
bool skip_strategy_supported(SkipStrategy s);
SkipStrategy best_skip_strategy();

// CPUID faulting (arch_prctl ARCH_SET_CPUID, Intel since Ivy Bridge on
// bare metal, some hypervisors): a thread that has it off gets SIGSEGV at
// every cpuid instruction. Probed once on a short-lived child.
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
