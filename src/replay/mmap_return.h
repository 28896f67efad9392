// A replayed mmap without an exit stop (autopilot replays, seccomp_entries.cpp).
//
// Replay makes a recorded mmap for real with other arguments than the
// program's: the trace's copy of the file in place of the program's fd (not
// open on replay), MAP_FIXED_NOREPLACE at the recorded address, private in
// place of shared. The kernel keeps those argument registers (rdi, r10, r8,
// r9) as the replay set them, and the program's code may rely on its own
// values after the call (a syscall clobbers only rax, rcx and r11), so they
// used to be put back at the call's exit stop: the second of two stops for
// every mapping, ~45% of a git script's replay stops, nearly all of them the
// dynamic loader's, which runs before the preload library exists.
//
// Instead, at the call's seccomp stop, the replay writes a return stub into
// the spare bytes at the end of the process's vDSO (past the ELF image, where
// nothing of the kernel's image lies) and points the stopped thread's rip
// there: the kernel makes the call and returns into the stub (by iret: rip no
// longer equals rcx, which keeps the program's return address, and r11 its
// flags, as a sysret would leave them), which puts back the program's four
// argument registers, checks that rax is the recorded result (flag-free:
// lea and jrcxz), and jumps to the program's return address with rcx as the
// kernel leaves it. A different result runs the stub's ud2: a SIGILL the
// replay reports as the mmap's divergence. The stub is rewritten at each such
// call (its values are immediates); the replay runs one thread at a time and
// the thread passes the stub before its next event, so no other thread of the
// process meets it half-written.
//
// A call that runs for real but whose recorded result the program must
// see instead of the live one (set_tid_address) completes the same way: its
// stub sets rax to the recorded result.
//
// Under gdb nothing of this is used (the replay keeps its exit stops), so
// the debugger never sees the stub; the program's own reads of its vDSO past
// the image (none known) would see it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace rrx {
class Task;
}

namespace rrx::replay {

// The stub's size and where its ud2 lies in it.
constexpr size_t kMmapReturnStubBytes = 82;
constexpr size_t kMmapReturnTrapOffset = 56;

// (Its place: vdso_spare_bytes(t, base, kMmapReturnStubBytes), core/vdso.h.)

// Whether the stub's place at `area` is still the vDSO's spare bytes: the
// ELF magic at the vDSO's `base` and, at `area`, zeros or a stub's first
// opcode. (A process may unmap its vDSO and map something else there: the
// replay then goes back to exit stops rather than write into it.)
bool mmap_return_area_intact(Task& t, uint64_t base, uint64_t area);

// The stub's code: rdi, r10, r8 and r9 take args[0], args[3], args[4] and
// args[5]; ud2 unless rax == expect; then rcx = ret_ip and a jump there.
std::string mmap_return_stub(const uint64_t args[6], int64_t expect, uint64_t ret_ip);

// The same place serves a call whose recorded result replaces the live one
// (sys::Replay::ExecuteInject: set_tid_address returns a thread id, which
// differs on replay): rax = value, rcx = ret_ip, a jump there. Shorter
// than kMmapReturnStubBytes.
std::string inject_return_stub(int64_t value, uint64_t ret_ip);

}  // namespace rrx::replay
