// The cpuid answers rrx gives a recorded program and the switch that makes a
// tracee fault on cpuid: see cpuid_trap.h.
#include "core/cpuid_trap.h"

#include <cpuid.h>
#include <sys/syscall.h>

#include <cstdlib>
#include <cstring>

#include "core/error.h"
#include "core/kernel_probe.h"
#include "core/remote_syscall.h"

namespace rrx {

namespace {
constexpr long kArchSetCpuid = 0x1012;
constexpr uint32_t kLeaf1EcxRdrand = 1u << 30;
constexpr uint32_t kLeaf7EbxHle = 1u << 4;
constexpr uint32_t kLeaf7EbxRtm = 1u << 11;
constexpr uint32_t kLeaf7EbxRdseed = 1u << 18;
}  // namespace

CpuidRegs host_cpuid(uint32_t leaf, uint32_t subleaf) {
  CpuidRegs r;
  __cpuid_count(leaf, subleaf, r.eax, r.ebx, r.ecx, r.edx);
  return r;
}

void hide_unrecordable_features(uint32_t leaf, uint32_t subleaf, CpuidRegs& r) {
  if (leaf == 1) r.ecx &= ~kLeaf1EcxRdrand;
  if (leaf == 7 && subleaf == 0) r.ebx &= ~(kLeaf7EbxRdseed | kLeaf7EbxRtm | kLeaf7EbxHle);
}

const char* hidden_cpuid_features() { return "rdrand, rdseed, rtm, hle"; }

CpuidRegs recorded_cpuid(uint32_t leaf, uint32_t subleaf) {
  CpuidRegs r = host_cpuid(leaf, subleaf);
  hide_unrecordable_features(leaf, subleaf, r);
  return r;
}

void enable_cpuid_faulting(Task& task, uint64_t scratch, std::vector<siginfo_t>* signals) {
  int64_t r = remote_syscall(task, scratch, SYS_arch_prctl, {static_cast<uint64_t>(kArchSetCpuid), 0}, nullptr, signals);
  if (r != 0) {
    throw Error("cannot make thread " + std::to_string(task.tid()) + " fault on cpuid: arch_prctl(ARCH_SET_CPUID) failed (" +
                std::strerror(static_cast<int>(-r)) + ")");
  }
}

bool cpuid_faulting_usable(std::string* why_not) {
  const char* env = std::getenv("RRX_NO_CPUID_FAULTING");
  if (env && *env && std::string(env) != "0") {
    *why_not = "CPUID faulting is off: RRX_NO_CPUID_FAULTING is set";
    return false;
  }
  if (!cpuid_faulting_supported()) {
    *why_not = "this machine has no CPUID faulting";
    return false;
  }
  return true;
}

size_t cpuid_instruction_at(Task& task, uint64_t ip) {
  uint8_t b[2] = {};
  return task.read_mem(ip, b, 2) == 2 && b[0] == 0x0f && b[1] == 0xa2 ? 2 : 0;
}

}  // namespace rrx
