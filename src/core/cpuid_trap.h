// Trapping the cpuid instruction with CPUID faulting, shared by the recorder
// (which answers a trapped cpuid itself and records the answer) and the
// replay (which injects the recorded answer): the feature bits rrx hides from
// the program, and turning the fault on inside a stopped tracee after exec.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/ptrace_task.h"

namespace rrx {

struct CpuidRegs {
  uint32_t eax = 0, ebx = 0, ecx = 0, edx = 0;
};

// What cpuid(leaf, subleaf) says on the CPU rrx runs on.
CpuidRegs host_cpuid(uint32_t leaf, uint32_t subleaf);

// The answer a recorded program gets: the host's, with the features whose
// results rrx cannot record or replay hidden (see hide_unrecordable_features).
CpuidRegs recorded_cpuid(uint32_t leaf, uint32_t subleaf);

// Clears, in a cpuid answer for (leaf, subleaf):
//   RDRAND (leaf 1 ECX bit 30) and RDSEED (leaf 7.0 EBX bit 18): their values
//   come from the CPU, not through a syscall, so no trap records them;
//   programs that check (glibc, libstdc++'s random_device, OpenSSL) fall back
//   to getrandom or /dev/urandom, which are recorded.
//   RTM (leaf 7.0 EBX bit 11) and HLE (bit 4): a transaction aborts or not
//   depending on interrupts, cache contention and ptrace stops, differently in
//   the replay, with no event to check: a lock-elision path would diverge
//   silently. Without them programs take their plain locking paths.
void hide_unrecordable_features(uint32_t leaf, uint32_t subleaf, CpuidRegs& r);

// The names of the hidden features, for messages ("rdrand, rdseed, rtm, hle").
const char* hidden_cpuid_features();

// ARCH_SET_CPUID 0 in a stopped tracee, through remote_syscall at `scratch`
// (an executable address of the program; the bytes are put back). The flag is
// per thread, inherited by clone and fork, and cleared by execve: call it at
// every exec's syscall-exit stop, before the program's first instruction.
// Throws rrx::Error when the kernel refuses. Signals that arrive meanwhile
// go to *signals when given (see remote_syscall).
void enable_cpuid_faulting(Task& task, uint64_t scratch, std::vector<siginfo_t>* signals = nullptr);

// Whether rrx may trap cpuid here: the kernel supports CPUID faulting
// (cpuid_faulting_supported) and RRX_NO_CPUID_FAULTING is not set in rrx's
// environment (it makes a machine with CPUID faulting behave as one without,
// for the recorder and the replay). `why_not` says why not, for messages.
bool cpuid_faulting_usable(std::string* why_not);

// The length of the instruction at ip when it is cpuid (0f a2), else 0.
size_t cpuid_instruction_at(Task& task, uint64_t ip);

}  // namespace rrx
