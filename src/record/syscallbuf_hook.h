// The hook sequence for the site patcher (record/patcher): the bytes a
// patched site's stub runs in place of its `syscall` instruction to enter the
// preload library's rrx_hook_entry (core/syscallbuf_abi.h, "Hook entry").
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace rrx::record {

// The sequence placed at `at` for the syscall instruction at `syscall_addr`:
// registers as at that instruction on the way in; on the way out rax is the
// result, r11 = the flags (as the kernel leaves them), every other register
// but rcx as it was (the patcher's stub sets rcx next), and execution falls
// through past the sequence. A call the library does not buffer comes back
// to the sequence's own `syscall` (its last 2 bytes) with every register as
// at entry, and is made there, traced, on the program's stack: clone, fork,
// rt_sigreturn and blocking calls behave as at the original site.
// Position-independent (the arguments are the patcher's interface).
std::vector<uint8_t> hook_sequence(uint64_t at, uint64_t syscall_addr);

// Its length (fixed).
inline constexpr size_t kHookSequenceBytes = 16;

}  // namespace rrx::record
