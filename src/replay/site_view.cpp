// The program's view of a thread inside the fast path's code: see site_view.h.
#include "replay/site_view.h"

#include <cstring>
#include <string>

#include "core/proc_maps.h"
#include "core/syscallbuf_abi.h"

namespace rrx::replay {
namespace {

constexpr uint64_t kUntracedInsn = RRX_PAGE_ADDR + RRX_UNTRACED_INSN_OFFSET;
constexpr uint64_t kTracedInsn = RRX_PAGE_ADDR + RRX_TRACED_INSN_OFFSET;
constexpr uint64_t kMaxFrames = 64;

uint64_t read_u64(Task& t, uint64_t addr, bool* ok) {
  uint64_t v = 0;
  *ok = *ok && t.read_exact(addr, &v, sizeof v);
  return v;
}

// The stub's return point `r` (right after its own syscall: core/syscallbuf_abi.h,
// "Hook entry", then `lea rcx, [rip + d]`): the address after the site's syscall.
std::optional<uint64_t> site_after(Task& t, uint64_t r) {
  uint8_t b[23];
  if (r < 16 || !t.read_exact(r - 16, b, sizeof b)) return std::nullopt;
  static const uint8_t kLea9[7] = {0x48, 0x8d, 0x0d, 0x09, 0x00, 0x00, 0x00};
  const uint32_t slot = static_cast<uint32_t>(RRX_HOOK_ENTRY_SLOT);
  if (std::memcmp(b, kLea9, 7) != 0 || b[7] != 0xff || b[8] != 0x24 || b[9] != 0x25 ||
      std::memcmp(b + 10, &slot, 4) != 0 || b[14] != 0x0f || b[15] != 0x05 || b[16] != 0x48 || b[17] != 0x8d ||
      b[18] != 0x0d) {
    return std::nullopt;
  }
  int32_t d;
  std::memcpy(&d, b + 19, 4);
  return r + 7 + static_cast<int64_t>(d);
}

bool at_page_syscall(uint64_t pc) {
  return pc == kUntracedInsn || pc == kUntracedInsn + 2 || pc == kTracedInsn || pc == kTracedInsn + 2;
}

// The hook frame of the hook entry `t` is in (core/syscallbuf_abi.h, "The
// hook frame"), found by the frame-pointer chain of the library's C code
// (built with frame pointers) up to the frame whose return address is
// RRX_HOOK_RETURN_SLOT's.
std::optional<uint64_t> hook_frame(Task& t, const user_regs_struct& real) {
  bool ok = true;
  const uint64_t back = read_u64(t, RRX_HOOK_RETURN_SLOT, &ok);
  if (!ok || back == 0) return std::nullopt;
  uint64_t fp = real.rbp;
  for (uint64_t i = 0; i < kMaxFrames && fp != 0 && (fp & 7) == 0; ++i) {
    const uint64_t next = read_u64(t, fp, &ok);
    const uint64_t ret = read_u64(t, fp + 8, &ok);
    if (!ok) return std::nullopt;
    if (ret == back) return fp + 16;
    if (next <= fp) return std::nullopt;
    fp = next;
  }
  return std::nullopt;
}

struct HookFrame {
  uint64_t at = 0;
  uint64_t v[RRX_HOOK_FRAME_BYTES / 8] = {};
  uint64_t get(unsigned off) const { return v[off / 8]; }
};
std::optional<HookFrame> read_hook_frame(Task& t, const user_regs_struct& real) {
  auto at = hook_frame(t, real);
  if (!at) return std::nullopt;
  HookFrame f;
  f.at = *at;
  if (!t.read_exact(*at, f.v, sizeof f.v)) return std::nullopt;
  return f;
}

bool same_call(const HookFrame& f, const user_regs_struct& real, uint64_t nr) {
  return f.get(RRX_HOOK_FRAME_RAX) == nr && f.get(RRX_HOOK_FRAME_RDI) == real.rdi &&
         f.get(RRX_HOOK_FRAME_RSI) == real.rsi && f.get(RRX_HOOK_FRAME_RDX) == real.rdx &&
         f.get(RRX_HOOK_FRAME_R10) == real.r10 && f.get(RRX_HOOK_FRAME_R8) == real.r8 &&
         f.get(RRX_HOOK_FRAME_R9) == real.r9;
}

}  // namespace

std::optional<user_regs_struct> site_registers(Task& t, const user_regs_struct& real) {
  const uint64_t pc = real.rip;
  if (at_page_syscall(pc)) {
    auto f = read_hook_frame(t, real);
    if (!f) return std::nullopt;
    auto after = site_after(t, f->get(RRX_HOOK_FRAME_RETURN));
    if (!after) return std::nullopt;
    const bool before = pc == kUntracedInsn || pc == kTracedInsn;
    user_regs_struct r = real;
    r.rip = before ? *after - 2 : *after;
    r.rsp = f->get(RRX_HOOK_FRAME_RSP);
    r.eflags = f->get(RRX_HOOK_FRAME_FLAGS);
    r.rbx = f->get(RRX_HOOK_FRAME_RBX);
    r.rbp = f->get(RRX_HOOK_FRAME_RBP);
    r.r12 = f->get(RRX_HOOK_FRAME_R12);
    r.r13 = f->get(RRX_HOOK_FRAME_R13);
    r.r14 = f->get(RRX_HOOK_FRAME_R14);
    r.r15 = f->get(RRX_HOOK_FRAME_R15);
    r.rdi = f->get(RRX_HOOK_FRAME_RDI);
    r.rsi = f->get(RRX_HOOK_FRAME_RSI);
    r.rdx = f->get(RRX_HOOK_FRAME_RDX);
    r.r10 = f->get(RRX_HOOK_FRAME_R10);
    r.r8 = f->get(RRX_HOOK_FRAME_R8);
    r.r9 = f->get(RRX_HOOK_FRAME_R9);
    if (!before) {
      r.rcx = *after;
      r.r11 = f->get(RRX_HOOK_FRAME_FLAGS);
    }
    return r;
  }
  // The hook entry's first instruction, entered from a stub (rcx: its return point).
  bool ok = true;
  const uint64_t entry = read_u64(t, RRX_HOOK_ENTRY_SLOT, &ok);
  if (ok && entry != 0 && pc == entry) {
    if (auto after = site_after(t, real.rcx)) {
      user_regs_struct r = real;
      r.rip = *after - 2;
      return r;
    }
  }
  // A stub's own syscall, or its return point.
  if (auto after = site_after(t, pc)) {
    user_regs_struct r = real;
    r.rip = *after;
    if (real.rcx == pc) r.rcx = *after;
    return r;
  }
  if (auto after = site_after(t, pc + 2)) {
    user_regs_struct r = real;
    r.rip = *after - 2;
    return r;
  }
  return std::nullopt;
}

std::optional<uint64_t> hook_return_path(Task& t, const user_regs_struct& real) {
  bool ok = true;
  const uint64_t entry = read_u64(t, RRX_HOOK_ENTRY_SLOT, &ok);
  const uint64_t back = read_u64(t, RRX_HOOK_RETURN_SLOT, &ok);
  const uint64_t end = read_u64(t, RRX_HOOK_END_SLOT, &ok);
  if (!ok || entry == 0 || back == 0 || real.rip < back || real.rip >= end) return std::nullopt;
  return entry;
}

bool program_made_syscall(Task& t, const user_regs_struct& real, int64_t nr) {
  const uint64_t pc = real.rip;
  if (at_page_syscall(pc)) {
    auto f = read_hook_frame(t, real);
    return f && same_call(*f, real, static_cast<uint64_t>(nr));
  }
  if (site_after(t, pc)) return true;
  // The library's own code (its set-up calls before the rrx page is ready).
  auto here = proc_mapping_at(t.tid(), pc);
  static const std::string kLibrary = "/librrx_preload.so";
  return !(here && here->path.size() >= kLibrary.size() &&
           here->path.compare(here->path.size() - kLibrary.size(), kLibrary.size(), kLibrary) == 0);
}

bool inside_site_call(Task& t, const user_regs_struct& real, bool stub) {
  const uint64_t pc = real.rip;
  if (stub) return !site_after(t, pc) && !site_after(t, pc + 2);
  bool ok = true;
  const uint64_t entry = read_u64(t, RRX_HOOK_ENTRY_SLOT, &ok);
  if (!ok || entry == 0) return false;
  const uint64_t end = read_u64(t, RRX_HOOK_END_SLOT, &ok);
  if (ok && pc >= entry && pc < end) return true;
  if (pc == kUntracedInsn || pc == kTracedInsn) {
    // Before the call: a stop of the program's own call is its syscall instruction.
    auto f = read_hook_frame(t, real);
    return !f || !same_call(*f, real, real.rax);
  }
  // On the thread's alternate stack: in the library's code for a hook entry.
  // (The early one, before the library's constructor: core/syscallbuf_abi.h, "Early set-up".)
  if (real.rsp >= RRX_EARLY_ALT_STACK_TOP - RRX_ALT_STACK_BYTES && real.rsp < RRX_EARLY_ALT_STACK_TOP) {
    uint64_t early = read_u64(t, RRX_EARLY_TL_SLOT, &ok);
    if (ok && early != 0) return true;
    ok = true;
  }
  // (The state page's slot from library version 15, the rrx page's before.)
  uint64_t alt = read_u64(t, RRX_ALT_STACK_SLOT, &ok);
  if (ok && alt == 0) alt = read_u64(t, RRX_STATE_ALT_STACK_SLOT, &ok);
  if (!ok || alt == 0 || real.fs_base == 0) return false;
  const uint64_t lo = real.fs_base + alt;
  return real.rsp >= lo && real.rsp < lo + RRX_ALT_STACK_BYTES;
}

bool site_syscall_insn(uint64_t pc) { return pc == kUntracedInsn || pc == kTracedInsn; }

}  // namespace rrx::replay
