// What gdb sees of a thread that stands inside the fast path's machinery on
// the program's behalf (a patched site's stub, the preload library's hook, the
// rrx page's syscall instructions): the program's own syscall instruction.
// Used by the replay's gdb target (replay_target.cpp) and its catch syscall.
#pragma once

#include <sys/user.h>

#include <cstdint>
#include <optional>

#include "core/ptrace_task.h"

namespace rrx::replay {

// The registers the program would have at its own syscall instruction, when
// `t` (with registers `real`) stands at one of the points where the fast
// path makes a call of a patched site for it (nullopt elsewhere: there its
// registers are the program's):
// * at a stub's own `syscall` (a call the library did not buffer, traced
//   there) or right after it, the stub's return point: pc is the site's
//   syscall instruction, or the address after it (rcx too, as the kernel
//   leaves it); every other register is the program's already;
// * at an untraced or traced `syscall; ret` of the rrx page, or right after
//   the syscall, inside a hook entry (core/syscallbuf_abi.h, "The hook
//   frame"): the program's registers from the hook frame, pc the site's as
//   above, rax what the syscall has in it (the number before it, -ENOSYS at
//   the entry, the result after), r11 the program's flags;
// * at the hook entry's first instruction (rcx the stub's return point, as
//   the stub's jump leaves it): every register but rcx is the program's at
//   the site, pc the site's syscall instruction.
std::optional<user_regs_struct> site_registers(Task& t, const user_regs_struct& real);

// When `real` stands in the return path of a hook entry (after the library's
// C code returned: core/syscallbuf_abi.h, "Hook entry"), the hook entry's
// address (where that call entered), else nullopt.
std::optional<uint64_t> hook_return_path(Task& t, const user_regs_struct& real);

// At a stop of `t` for syscall `nr`: whether the call is the program's own (gdb's
// catch syscall reports it) rather than one the preload library makes for
// itself (its set-up, its checks before buffering a call, the time functions
// it interposes, which natively make no syscall). The call a hook entry makes
// for its site is the program's: the same number and arguments as the hook
// frame holds.
bool program_made_syscall(Task& t, const user_regs_struct& real, int64_t nr);

// Whether `t` stands inside the code that runs one call of a patched site
// (the stub's code before its return point, the hook entry, the library
// during it, the rrx page) at a point that is no instruction boundary of the
// program: a gdb step goes on from there to the next point that is
// (site_registers() names it). `stub`: whether real.rip is in a patch's stub.
bool inside_site_call(Task& t, const user_regs_struct& real, bool stub);

// Whether pc is one of the rrx page's syscall instructions (not past it).
bool site_syscall_insn(uint64_t pc);

}  // namespace rrx::replay
