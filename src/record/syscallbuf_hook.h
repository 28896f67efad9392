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
// result, rcx = syscall_addr + 2 and r11 = the flags (as the kernel leaves
// them), every other register as it was, and execution falls through past
// the sequence. Position-independent (`at` is accepted for the patcher's
// interface and checked only for the disp32 reach of the entry slot).
std::vector<uint8_t> hook_sequence(uint64_t at, uint64_t syscall_addr);

// Its length (fixed).
inline constexpr size_t kHookSequenceBytes = 24;

}  // namespace rrx::record
