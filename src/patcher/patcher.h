// The syscall site patcher of the recording fast path: given the code around
// a `syscall` instruction, plan the 5-byte `jmp` that sends the site into a
// per-site stub, and the stub (relocated displaced instructions, the hook,
// the jump back), or refuse with a reason. Pure computation over bytes with
// Zydis 4: the recorder reads the code, allocates stub pages and writes the
// bytes; this library knows nothing of ptrace.
//
// How a site is planned (plan_site):
// * Displaced range. `syscall` is 2 bytes and `jmp rel32` 5, so whole
//   instructions around it are displaced into the stub. First choice:
//   the syscall and the instructions after it ("after" mode; the recorder
//   patches at the syscall-entry stop, backs the call out, sets the IP to
//   the site and lets it run through the hook). Otherwise: instructions
//   before it up to and including the syscall, and nothing after, so the
//   range ends exactly where the IP is at the syscall-exit stop
//   (needs_exit_stop; the call that stopped completes as traced).
//   The range never extends past an instruction that does not fall through
//   (ret, jmp, hlt, ud2...): what follows it may be another function.
// * Branch targets. No displaced byte except the first may be the target of
//   a direct branch (jmp/jcc/call/loop/xbegin with a relative operand) found
//   in the window, nor a known function start (CodeWindow::entries).
//   - A function-bounded window (from_symbol: the symbol or FDE containing
//     the site) is decoded linearly from the function's first byte; this is
//     a known instruction start, and the site must be one of the
//     boundaries this sweep finds. A function containing an indirect jmp
//     through a register or a non-RIP-relative memory operand (a switch's
//     jump table, which may land anywhere in the function) is refused; an
//     indirect jmp through a RIP-relative slot (a tail call through the GOT)
//     leaves the function and is accepted.
//   - An unsynchronized window (±radius bytes, no symbol) has no known start
//     but the site. The displaced instructions are decoded forward from the
//     site; an instruction before it is accepted only when exactly one
//     length k in 1..15 decodes at site-k to an instruction of length k (the
//     true predecessor, if execution falls into the site, is always among
//     the candidates, so a unique candidate is it), and so on backwards.
//     Branch targets are collected by decoding at EVERY byte offset of the
//     window: every real instruction starts at one of them, so every real
//     direct branch in the window is seen (spurious ones only cause
//     refusals). Indirect jumps cannot be found reliably there and are not
//     checked. A function-bounded window whose sweep hits an undecodable
//     byte, or does not land on the site, is treated the same way.
//   Residual risk, as in rr: a branch from outside the window into the range
//   (a ".cold" part jumping back into its function, when the caller does not
//   pass its targets in `entries`), or an indirect jump the checks above did
//   not see (a computed target in an unsynchronized window, a function
//   whose code continues past its symbol). The unit test measures the first
//   on all of Debian 12's libc and ld.so: no accepted range holds a direct
//   branch target from anywhere else in the file.
// * Relocation. RIP-relative memory operands get a new disp32 aimed at the
//   same absolute address (refused when it does not fit: stub pages must be
//   within ±2 GiB of the site). jmp/jcc (rel8 or rel32) become their rel32
//   forms aimed at the original target. Refused among displaced
//   instructions: any call (it would push a stub address), loop/jrcxz/
//   xbegin (no rel32 form), another syscall/sysenter/int.
// * Registers. The stub restores exactly what a traced syscall leaves: after
//   the hook it sets rcx to the address after the ORIGINAL syscall with
//   `lea rcx, [rip+d]` (flags untouched), so a hook that executes a real
//   `syscall` inside the stub (rcx = a stub address) still leaves the
//   program's view identical. r11 (rflags at entry) and rax (result) are the
//   hook's responsibility. The stub never touches the stack.
//
// Stub layout: [relocated insns before the syscall][hook][lea rcx]
// [relocated insns after the syscall][jmp back to displaced_hi] (the jmp is
// left out when the last relocated instruction does not fall through).
// The patch: `jmp rel32` to the stub at displaced_lo, the rest of the range
// filled with int3.
//
// Not decided here (the recorder's job): never patch clone/fork/vfork/
// clone3/rt_sigreturn sites; refuse while another thread's IP (or a pending
// restart IP) is strictly inside (displaced_lo, displaced_hi); record the
// patch as an event so replay installs identical code.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <variant>
#include <vector>

#include "core/elf_file.h"

namespace rrx::patcher {

// Which range to decode around a syscall at `site`.
struct WindowBounds {
  uint64_t lo, hi;  // [lo, hi), run-time addresses
  bool from_symbol;  // [lo, hi) is one function: lo is an instruction start
  std::vector<uint64_t> entries;  // other function starts in (lo, hi): pass as CodeWindow::entries
};

// Default half-width of an unsynchronized window.
constexpr uint64_t kDefaultRadius = 256;

// `functions` are the mapped file's extents (function_ranges(), ELF
// addresses) and `load_bias` what to add to them; [map_lo, map_hi) is the
// executable mapping holding the site. The innermost function extent that
// holds the site and lies inside the mapping, else site ± radius clipped
// to the mapping; with the starts of the other functions inside it.
WindowBounds choose_window(const std::vector<ElfFunction>& functions, uint64_t load_bias, uint64_t site,
                           uint64_t map_lo, uint64_t map_hi, uint64_t radius = kDefaultRadius);

// The code around the site: bytes [addr, addr + bytes.size()).
struct CodeWindow {
  uint64_t addr = 0;
  std::vector<uint8_t> bytes;
  bool from_symbol = false;        // WindowBounds::from_symbol
  std::vector<uint64_t> entries;   // other known branch targets (function starts, targets of far branches)
};

// The bytes that transfer from the stub into the hook, emitted for the
// address they will occupy. Contract: on entry, registers (rax = syscall
// number, arguments, rsp, flags) are exactly as at the original `syscall`;
// the sequence must leave rax = the result, r11 = rflags as the kernel
// leaves them (rflags at entry), rflags and every other register as a
// syscall leaves them, never touch the program's stack, and fall through to
// its end. rcx may be anything: the stub sets it afterwards. A plain
// `syscall` (0f 05) meets the contract: the live unit test uses it.
using HookSequence = std::function<std::vector<uint8_t>(uint64_t at_addr)>;

struct SitePatch {
  uint64_t patch_addr;                // == displaced_lo
  std::vector<uint8_t> patch_bytes;   // jmp rel32 to the stub, int3 fill to displaced_hi
  uint64_t stub_addr;
  std::vector<uint8_t> stub_bytes;
  uint64_t displaced_lo, displaced_hi;
  bool needs_exit_stop;               // displaces bytes before the syscall: patch at the exit stop only
  uint64_t hook_addr;                 // where the hook sequence starts in the stub
  size_t displaced_before;            // instructions displaced before the syscall (0 in "after" mode)
  size_t displaced_after;             // instructions displaced after it
};

struct Refusal {
  std::string reason;
};

std::variant<SitePatch, Refusal> plan_site(const CodeWindow& window, uint64_t syscall_addr, uint64_t stub_addr,
                                           const HookSequence& hook);

// The same for a `cpuid` instruction (record/cpuid_sites.h): by the same
// rules, with `hook` in the cpuid's place and no rcx fix-up after it (cpuid
// writes rcx itself). The hook's contract: on entry every register is as at
// the cpuid; it leaves rax, rbx, rcx and rdx as cpuid would, everything else
// (rflags included) unchanged, and falls through to its end (cpuid_table.h's
// lookup sequence). SitePatch::needs_exit_stop means nothing here: a cpuid
// site may be patched whenever no thread stands inside the displaced range.
std::variant<SitePatch, Refusal> plan_cpuid_site(const CodeWindow& window, uint64_t cpuid_addr, uint64_t stub_addr,
                                                 const HookSequence& hook);

// An upper bound on stub_bytes.size() for a hook of `hook_len` bytes (what to
// reserve in a stub page before planning).
size_t max_stub_size(size_t hook_len);

// One instruction, the one at `addr` of `window`, re-encoded to run at `to`
// by the rules of "Relocation" above (RIP-relative operands and jmp/jcc
// re-aimed at the same absolute addresses; calls, system instructions,
// int3 and branches without a rel32 form refused). For code that moves
// single instructions elsewhere: the replay's preemption stubs.
struct RelocatedInsn {
  std::vector<uint8_t> bytes;  // to be placed at `to`
  size_t length;               // of the original instruction
  bool falls_through;          // execution may go on to the next instruction
};
std::variant<RelocatedInsn, Refusal> relocate_instruction(const CodeWindow& window, uint64_t addr, uint64_t to);

// Every `syscall` instruction of a function-bounded window, by a linear
// sweep from its start (what a scan of a library uses to find its sites).
std::vector<uint64_t> find_syscalls(const CodeWindow& window);
// Every `cpuid` instruction of a function-bounded window, likewise.
std::vector<uint64_t> find_cpuids(const CodeWindow& window);

}  // namespace rrx::patcher
