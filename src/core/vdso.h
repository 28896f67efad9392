// The vDSO rrx gives a traced program: the kernel's own, still announced by
// AT_SYSINFO_EHDR (programs and runtimes look its symbols up), but each
// function that would read time, the CPU number or random bytes without a
// syscall is overwritten with a stub that makes the real syscall, which rrx
// records and replays. The recorder and the replay patch it after each exec.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace rrx {

class Task;

// The AT_SYSINFO_EHDR entry of an auxiliary vector (16-byte pairs), 0 if none.
uint64_t auxv_vdso(const std::string& auxv);

// Where the kernel put the vDSO of process `pid` (its AT_SYSINFO_EHDR as
// /proc/PID/auxv keeps it, whatever the stack says now), 0 if none.
uint64_t kernel_vdso(pid_t pid);

// Overwrites the vDSO functions (clock_gettime, gettimeofday, time,
// clock_getres, getcpu, getrandom) of the process of stopped thread `t`,
// whose vDSO ELF image starts at `base`. The writes go through
// /proc/PID/mem and give the process a private copy of the pages. Returns
// the names of the functions patched. Throws rrx::Error when the image
// cannot be read or parsed.
std::vector<std::string> patch_vdso(Task& t, uint64_t base);

// Whether the ELF magic still stands at `base` in the process of stopped
// thread `t`: its vDSO was not unmapped there (and something else mapped),
// for code rrx writes past the vDSO's image (its spare bytes, below).
bool vdso_still_at(Task& t, uint64_t base);

// Where `need` bytes may go in the vDSO of the process of stopped thread `t`
// whose image starts at `base`: the first 16-byte-aligned address past the
// ELF image (its headers, sections' bytes and segments' file bytes) from
// which the [vdso] mapping holds only zeros, at least `need` of them; 0 when
// there is none (the image fills its pages, or it cannot be read or parsed).
uint64_t vdso_spare_bytes(Task& t, uint64_t base, size_t need);

}  // namespace rrx
