// Site planning for the recording fast path with Zydis: decoding the window,
// choosing the displaced range, relocating it into a stub. See patcher.h.
#include "patcher/patcher.h"

#include <Zydis/Zydis.h>
#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <optional>

namespace rrx::patcher {

namespace {

constexpr size_t kJmpLen = 5;       // jmp rel32
constexpr size_t kLeaRcxLen = 7;    // lea rcx, [rip + disp32]
constexpr size_t kMaxRelocated = 48;  // displaced range (< 5 + 15 bytes) plus growth of short branches

class Decoder {
 public:
  Decoder() { ZydisDecoderInit(&d_, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64); }
  // The instruction at `addr` of the window, or false (outside, invalid, cut by the window's end).
  bool at(const CodeWindow& w, uint64_t addr, ZydisDecodedInstruction* insn) const {
    if (addr < w.addr || addr >= w.addr + w.bytes.size()) return false;
    size_t off = addr - w.addr;
    return ZYAN_SUCCESS(ZydisDecoderDecodeInstruction(&d_, nullptr, w.bytes.data() + off, w.bytes.size() - off, insn));
  }
  bool full(const CodeWindow& w, uint64_t addr, ZydisDecodedInstruction* insn,
            ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT]) const {
    if (addr < w.addr || addr >= w.addr + w.bytes.size()) return false;
    size_t off = addr - w.addr;
    return ZYAN_SUCCESS(ZydisDecoderDecodeFull(&d_, w.bytes.data() + off, w.bytes.size() - off, insn, ops));
  }

 private:
  ZydisDecoder d_;
};

// The target of a direct (relative) branch: jmp, jcc, call, loop, jrcxz, xbegin.
std::optional<uint64_t> direct_target(const ZydisDecodedInstruction& insn, uint64_t addr) {
  for (const auto& imm : insn.raw.imm) {
    if (imm.is_relative) return addr + insn.length + static_cast<uint64_t>(imm.value.s);
  }
  return std::nullopt;
}

bool falls_through(const ZydisDecodedInstruction& insn) {
  switch (insn.meta.category) {
    case ZYDIS_CATEGORY_UNCOND_BR:
    case ZYDIS_CATEGORY_RET:
      return false;
    default:
      break;
  }
  switch (insn.mnemonic) {
    case ZYDIS_MNEMONIC_HLT:
    case ZYDIS_MNEMONIC_UD0:
    case ZYDIS_MNEMONIC_UD1:
    case ZYDIS_MNEMONIC_UD2:
    case ZYDIS_MNEMONIC_IRET:
    case ZYDIS_MNEMONIC_IRETD:
    case ZYDIS_MNEMONIC_IRETQ:
    case ZYDIS_MNEMONIC_SYSRET:
    case ZYDIS_MNEMONIC_SYSEXIT:
      return false;
    default:
      return true;
  }
}

bool is_syscall_insn(const ZydisDecodedInstruction& insn) { return insn.mnemonic == ZYDIS_MNEMONIC_SYSCALL; }

// The instruction a site replaces with its hook.
enum class SiteInsn { Syscall, Cpuid };

bool is_site_insn(const ZydisDecodedInstruction& insn, SiteInsn kind) {
  return kind == SiteInsn::Syscall ? is_syscall_insn(insn) : insn.mnemonic == ZYDIS_MNEMONIC_CPUID;
}

// What the analysis of a window knows: where instructions start (from a
// known start), which addresses branches target, what forbids the window.
struct WindowView {
  bool synced = false;             // `starts` is a linear sweep from a function's first byte
  std::vector<uint64_t> starts;    // sorted instruction starts (synced only)
  std::vector<uint64_t> targets;   // sorted direct-branch targets and entries
  std::string indirect_jump;       // non-empty: an indirect jmp that may land anywhere in the function
};

// The linear sweep of a function-bounded window, kept for the next window
// with the same bytes at the same address: the recorder plans the sites of
// one function one after the other (ld.so's cpu feature detection has ten
// cpuid sites in one function), and the sweep is most of a plan's cost.
struct SweepMemo {
  uint64_t addr = 0;
  std::vector<uint8_t> bytes;
  std::vector<uint64_t> entries;
  bool ok = false;
  WindowView view;  // synced not set
};

WindowView analyse(const CodeWindow& w, uint64_t site, const Decoder& dec) {
  WindowView v;
  const uint64_t end = w.addr + w.bytes.size();
  ZydisDecodedInstruction insn;
  static thread_local SweepMemo memo;
  if (w.from_symbol && memo.addr == w.addr && memo.bytes == w.bytes && memo.entries == w.entries) {
    if (memo.ok && std::binary_search(memo.view.starts.begin(), memo.view.starts.end(), site)) {
      v = memo.view;
      v.synced = true;
      return v;
    }
  } else if (w.from_symbol) {
    bool ok = true;
    for (uint64_t a = w.addr; a < end;) {
      if (!dec.at(w, a, &insn)) {
        ok = false;
        break;
      }
      v.starts.push_back(a);
      if (auto t = direct_target(insn, a)) v.targets.push_back(*t);
      if (insn.mnemonic == ZYDIS_MNEMONIC_JMP && !direct_target(insn, a) && v.indirect_jump.empty()) {
        ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
        dec.full(w, a, &insn, ops);
        bool via_rip_slot = ops[0].type == ZYDIS_OPERAND_TYPE_MEMORY && ops[0].mem.base == ZYDIS_REGISTER_RIP;
        if (!via_rip_slot) v.indirect_jump = fmt::format("indirect jmp at {:#x} may target the range", a);
      }
      a += insn.length;
    }
    v.synced = ok && std::binary_search(v.starts.begin(), v.starts.end(), site);
    memo.addr = w.addr;
    memo.bytes = w.bytes;
    memo.entries = w.entries;
    memo.ok = ok;
    memo.view = v;
    memo.view.targets.insert(memo.view.targets.end(), w.entries.begin(), w.entries.end());
    std::sort(memo.view.targets.begin(), memo.view.targets.end());
  }
  if (!v.synced) {
    // No known start but the site: every byte offset is a possible start.
    v.starts.clear();
    v.targets.clear();
    v.indirect_jump.clear();
    for (uint64_t a = w.addr; a < end; ++a) {
      if (dec.at(w, a, &insn)) {
        if (auto t = direct_target(insn, a)) v.targets.push_back(*t);
      }
    }
  }
  v.targets.insert(v.targets.end(), w.entries.begin(), w.entries.end());
  std::sort(v.targets.begin(), v.targets.end());
  return v;
}

// The start of the instruction that ends at `addr`, if known (see patcher.h).
std::optional<uint64_t> predecessor(const CodeWindow& w, const WindowView& v, uint64_t addr, const Decoder& dec) {
  if (v.synced) {
    auto it = std::lower_bound(v.starts.begin(), v.starts.end(), addr);
    if (it == v.starts.begin()) return std::nullopt;
    return *(it - 1);
  }
  std::optional<uint64_t> found;
  ZydisDecodedInstruction insn;
  for (uint64_t k = 1; k <= ZYDIS_MAX_INSTRUCTION_LENGTH && k <= addr - w.addr; ++k) {
    if (dec.at(w, addr - k, &insn) && insn.length == k) {
      if (found) return std::nullopt;  // ambiguous
      found = addr - k;
    }
  }
  return found;
}

std::optional<std::vector<uint8_t>> encode_absolute(ZydisEncoderRequest& req, uint64_t at) {
  uint8_t buf[ZYDIS_MAX_INSTRUCTION_LENGTH];
  ZyanUSize len = sizeof buf;
  if (!ZYAN_SUCCESS(ZydisEncoderEncodeInstructionAbsolute(&req, buf, &len, at))) return std::nullopt;
  return std::vector<uint8_t>(buf, buf + len);
}

std::optional<std::vector<uint8_t>> near_branch(ZydisMnemonic mnemonic, uint64_t at, uint64_t target) {
  ZydisEncoderRequest req;
  std::memset(&req, 0, sizeof req);
  req.machine_mode = ZYDIS_MACHINE_MODE_LONG_64;
  req.mnemonic = mnemonic;
  req.branch_type = ZYDIS_BRANCH_TYPE_NEAR;
  req.branch_width = ZYDIS_BRANCH_WIDTH_32;
  req.operand_count = 1;
  req.operands[0].type = ZYDIS_OPERAND_TYPE_IMMEDIATE;
  req.operands[0].imm.u = target;
  return encode_absolute(req, at);
}

std::optional<std::vector<uint8_t>> lea_rcx(uint64_t at, uint64_t value) {
  ZydisEncoderRequest req;
  std::memset(&req, 0, sizeof req);
  req.machine_mode = ZYDIS_MACHINE_MODE_LONG_64;
  req.mnemonic = ZYDIS_MNEMONIC_LEA;
  req.operand_count = 2;
  req.operands[0].type = ZYDIS_OPERAND_TYPE_REGISTER;
  req.operands[0].reg.value = ZYDIS_REGISTER_RCX;
  req.operands[1].type = ZYDIS_OPERAND_TYPE_MEMORY;
  req.operands[1].mem.base = ZYDIS_REGISTER_RIP;
  req.operands[1].mem.displacement = static_cast<int64_t>(value);
  req.operands[1].mem.size = 8;
  auto bytes = encode_absolute(req, at);
  if (bytes && bytes->size() != kLeaRcxLen) return std::nullopt;
  return bytes;
}

bool fits_rel32(int64_t d) { return d >= INT32_MIN && d <= INT32_MAX; }

// The instruction at `from` re-encoded to run at `to`, or the reason it cannot be.
std::variant<std::vector<uint8_t>, std::string> relocate(const CodeWindow& w, uint64_t from, uint64_t to,
                                                         const Decoder& dec) {
  ZydisDecodedInstruction insn;
  ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
  if (!dec.full(w, from, &insn, ops)) return fmt::format("undecodable instruction at {:#x}", from);
  if (insn.meta.category == ZYDIS_CATEGORY_CALL) return fmt::format("displaced call at {:#x}", from);
  if (insn.meta.category == ZYDIS_CATEGORY_SYSTEM || insn.meta.category == ZYDIS_CATEGORY_INTERRUPT ||
      insn.mnemonic == ZYDIS_MNEMONIC_SYSCALL || insn.mnemonic == ZYDIS_MNEMONIC_SYSENTER) {
    return fmt::format("displaced system instruction at {:#x}", from);
  }
  if (auto target = direct_target(insn, from)) {
    bool has_near_form = insn.mnemonic == ZYDIS_MNEMONIC_JMP || (insn.meta.category == ZYDIS_CATEGORY_COND_BR &&
                                                                  insn.mnemonic != ZYDIS_MNEMONIC_JCXZ &&
                                                                  insn.mnemonic != ZYDIS_MNEMONIC_JECXZ &&
                                                                  insn.mnemonic != ZYDIS_MNEMONIC_JRCXZ &&
                                                                  insn.mnemonic != ZYDIS_MNEMONIC_LOOP &&
                                                                  insn.mnemonic != ZYDIS_MNEMONIC_LOOPE &&
                                                                  insn.mnemonic != ZYDIS_MNEMONIC_LOOPNE);
    if (!has_near_form) return fmt::format("relative instruction without a rel32 form at {:#x}", from);
    if (!fits_rel32(static_cast<int64_t>(*target - (to + 6)))) return fmt::format("branch target of {:#x} out of rel32 reach", from);
    auto bytes = near_branch(insn.mnemonic, to, *target);
    if (!bytes) return fmt::format("cannot re-encode the branch at {:#x}", from);
    return *bytes;
  }
  std::vector<uint8_t> bytes(w.bytes.begin() + static_cast<ptrdiff_t>(from - w.addr),
                             w.bytes.begin() + static_cast<ptrdiff_t>(from - w.addr + insn.length));
  for (unsigned i = 0; i < insn.operand_count; ++i) {
    if (ops[i].type != ZYDIS_OPERAND_TYPE_MEMORY || ops[i].mem.base != ZYDIS_REGISTER_RIP) continue;
    if (insn.raw.disp.size != 32) return fmt::format("RIP-relative operand without disp32 at {:#x}", from);
    uint64_t absolute = from + insn.length + static_cast<uint64_t>(insn.raw.disp.value);
    int64_t disp = static_cast<int64_t>(absolute - (to + insn.length));
    if (!fits_rel32(disp)) return fmt::format("RIP-relative operand of {:#x} out of rel32 reach from the stub", from);
    int32_t d32 = static_cast<int32_t>(disp);
    std::memcpy(bytes.data() + insn.raw.disp.offset, &d32, sizeof d32);
  }
  return bytes;
}

// Plans the patch that displaces the instructions starting at `insns`
// (consecutive, the syscall among them).
std::variant<SitePatch, Refusal> build(const CodeWindow& w, const WindowView& v, const std::vector<uint64_t>& insns,
                                       uint64_t hi, uint64_t syscall_addr, uint64_t syscall_end, uint64_t stub_addr,
                                       const HookSequence& hook, const Decoder& dec, SiteInsn kind) {
  const uint64_t lo = insns.front();
  auto t = std::upper_bound(v.targets.begin(), v.targets.end(), lo);
  if (t != v.targets.end() && *t < hi) return Refusal{fmt::format("branch target {:#x} inside the displaced range", *t)};
  if (!v.indirect_jump.empty()) return Refusal{v.indirect_jump};

  SitePatch p{};
  p.displaced_lo = lo;
  p.displaced_hi = hi;
  p.stub_addr = stub_addr;
  p.needs_exit_stop = lo < syscall_addr;
  auto emit = [&](const std::vector<uint8_t>& b) { p.stub_bytes.insert(p.stub_bytes.end(), b.begin(), b.end()); };
  auto here = [&] { return stub_addr + p.stub_bytes.size(); };
  bool last_falls_through = true;
  for (uint64_t a : insns) {
    if (a == syscall_addr) {
      p.hook_addr = here();
      emit(hook(p.hook_addr));
      if (kind == SiteInsn::Syscall) {
        auto lea = lea_rcx(here(), syscall_end);  // rcx as the kernel leaves it: the address after the syscall
        if (!lea) return Refusal{"the stub is out of rel32 reach of the site"};
        emit(*lea);
      }
      last_falls_through = true;
      continue;
    }
    auto r = relocate(w, a, here(), dec);
    if (auto* why = std::get_if<std::string>(&r)) return Refusal{*why};
    emit(std::get<std::vector<uint8_t>>(r));
    ZydisDecodedInstruction insn;
    dec.at(w, a, &insn);
    last_falls_through = falls_through(insn);
    (a < syscall_addr ? p.displaced_before : p.displaced_after)++;
  }
  if (last_falls_through) {
    auto back = near_branch(ZYDIS_MNEMONIC_JMP, here(), hi);
    if (!back || back->size() != kJmpLen) return Refusal{"the stub is out of rel32 reach of the site"};
    emit(*back);
  }
  auto jmp = near_branch(ZYDIS_MNEMONIC_JMP, lo, stub_addr);
  if (!jmp || jmp->size() != kJmpLen) return Refusal{"the stub is out of rel32 reach of the site"};
  p.patch_addr = lo;
  p.patch_bytes = *jmp;
  p.patch_bytes.resize(hi - lo, 0xcc);
  return p;
}

}  // namespace

WindowBounds choose_window(const std::vector<ElfFunction>& functions, uint64_t load_bias, uint64_t site,
                           uint64_t map_lo, uint64_t map_hi, uint64_t radius) {
  // (Called at every site patched, with the thousands of extents of a libc:
  // binary searches where the biased addresses keep the extents' order, the
  // same answer as the linear scans below otherwise.)
  const bool ordered = functions.empty() || (functions.front().addr + load_bias < functions.front().addr) ==
                                                (functions.back().addr + load_bias < functions.back().addr);
  auto biased = [&](const ElfFunction& f) { return f.addr + load_bias; };
  auto holds_site = [&](const ElfFunction& f) {
    uint64_t lo = biased(f);
    return !(site - lo >= f.size || lo < map_lo || f.size > map_hi - lo);
  };
  const ElfFunction* best = nullptr;
  if (ordered) {
    // The innermost: the last start at or below the site that holds it, the
    // smallest (then first) of those sharing that start.
    auto end = std::partition_point(functions.begin(), functions.end(),
                                    [&](const ElfFunction& f) { return biased(f) <= site; });
    for (auto it = end; it != functions.begin();) {
      const ElfFunction& f = *--it;
      if (best && f.addr != best->addr) break;
      if (holds_site(f) && (!best || f.size <= best->size)) best = &f;
    }
  } else {
    for (const ElfFunction& f : functions) {
      uint64_t lo = biased(f);
      if (lo > site) break;  // sorted by address
      if (!holds_site(f)) continue;
      if (!best || f.addr > best->addr || (f.addr == best->addr && f.size < best->size)) best = &f;
    }
  }
  WindowBounds b{};
  if (best) {
    b = {best->addr + load_bias, best->addr + load_bias + best->size, true, {}};
  } else {
    b = {site - map_lo > radius ? site - radius : map_lo, map_hi - site > radius ? site + radius : map_hi, false, {}};
  }
  auto first = functions.begin();
  if (ordered) first = std::partition_point(functions.begin(), functions.end(), [&](const ElfFunction& f) { return biased(f) <= b.lo; });
  for (auto it = first; it != functions.end(); ++it) {
    uint64_t start = biased(*it);
    if (ordered && start >= b.hi) break;
    if (start > b.lo && start < b.hi && (b.entries.empty() || b.entries.back() != start)) b.entries.push_back(start);
  }
  return b;
}

namespace {

std::variant<SitePatch, Refusal> plan(const CodeWindow& w, uint64_t syscall_addr, uint64_t stub_addr,
                                      const HookSequence& hook, SiteInsn kind) {
  Decoder dec;
  ZydisDecodedInstruction insn;
  if (!dec.at(w, syscall_addr, &insn) || !is_site_insn(insn, kind)) {
    return Refusal{fmt::format("no {} instruction at {:#x}", kind == SiteInsn::Syscall ? "syscall" : "cpuid", syscall_addr)};
  }
  const WindowView v = analyse(w, syscall_addr, dec);
  const uint64_t end = w.addr + w.bytes.size();
  const uint64_t site_end = syscall_addr + insn.length;

  // "After": the syscall and what follows it.
  std::string after_why;
  {
    std::vector<uint64_t> insns{syscall_addr};
    uint64_t hi = site_end;
    bool falls = true;
    while (hi - syscall_addr < kJmpLen && after_why.empty()) {
      if (!falls) {
        after_why = fmt::format("instruction at {:#x} does not fall through", insns.back());
      } else if (!dec.at(w, hi, &insn) || hi + insn.length > end) {
        after_why = "the displaced range crosses the end of the window";
      } else {
        insns.push_back(hi);
        falls = falls_through(insn);
        hi += insn.length;
      }
    }
    if (after_why.empty()) {
      auto r = build(w, v, insns, hi, syscall_addr, site_end, stub_addr, hook, dec, kind);
      if (std::holds_alternative<SitePatch>(r)) return r;
      after_why = std::get<Refusal>(r).reason;
    }
  }
  // "Before": instructions ending at the syscall, and the syscall.
  std::string before_why;
  {
    std::vector<uint64_t> insns{syscall_addr};
    while (site_end - insns.front() < kJmpLen && before_why.empty()) {
      auto prev = predecessor(w, v, insns.front(), dec);
      if (!prev) {
        before_why = fmt::format("no known instruction start before {:#x}", insns.front());
      } else if (!dec.at(w, *prev, &insn) || !falls_through(insn)) {
        before_why = fmt::format("instruction at {:#x} does not fall through", *prev);
      } else {
        insns.insert(insns.begin(), *prev);
      }
    }
    if (before_why.empty()) {
      auto r = build(w, v, insns, site_end, syscall_addr, site_end, stub_addr, hook, dec, kind);
      if (std::holds_alternative<SitePatch>(r)) return r;
      before_why = std::get<Refusal>(r).reason;
    }
  }
  return Refusal{"after: " + after_why + "; before: " + before_why};
}

}  // namespace

std::variant<SitePatch, Refusal> plan_site(const CodeWindow& w, uint64_t syscall_addr, uint64_t stub_addr,
                                           const HookSequence& hook) {
  return plan(w, syscall_addr, stub_addr, hook, SiteInsn::Syscall);
}

std::variant<SitePatch, Refusal> plan_cpuid_site(const CodeWindow& w, uint64_t cpuid_addr, uint64_t stub_addr,
                                                 const HookSequence& hook) {
  return plan(w, cpuid_addr, stub_addr, hook, SiteInsn::Cpuid);
}

std::variant<RelocatedInsn, Refusal> relocate_instruction(const CodeWindow& w, uint64_t addr, uint64_t to) {
  Decoder dec;
  ZydisDecodedInstruction insn;
  if (!dec.at(w, addr, &insn)) return Refusal{fmt::format("undecodable instruction at {:#x}", addr)};
  auto r = relocate(w, addr, to, dec);
  if (auto* why = std::get_if<std::string>(&r)) return Refusal{*why};
  return RelocatedInsn{std::get<std::vector<uint8_t>>(r), insn.length, falls_through(insn)};
}

size_t max_stub_size(size_t hook_len) { return kMaxRelocated + hook_len + kLeaRcxLen + kJmpLen; }

namespace {

std::vector<uint64_t> find_sites(const CodeWindow& w, SiteInsn kind) {
  // (Kept for the next call on the same bytes, as analyse() does.)
  static thread_local struct {
    uint64_t addr = 0;
    std::vector<uint8_t> bytes;
    SiteInsn kind = SiteInsn::Syscall;
    std::vector<uint64_t> sites;
  } memo;
  if (memo.addr == w.addr && memo.kind == kind && memo.bytes == w.bytes) return memo.sites;
  Decoder dec;
  std::vector<uint64_t> sites;
  ZydisDecodedInstruction insn;
  const uint64_t end = w.addr + w.bytes.size();
  for (uint64_t a = w.addr; a < end;) {
    if (!dec.at(w, a, &insn)) {
      ++a;
      continue;
    }
    if (is_site_insn(insn, kind)) sites.push_back(a);
    a += insn.length;
  }
  memo.addr = w.addr;
  memo.bytes = w.bytes;
  memo.kind = kind;
  memo.sites = sites;
  return sites;
}

}  // namespace

std::vector<uint64_t> find_syscalls(const CodeWindow& w) { return find_sites(w, SiteInsn::Syscall); }

std::vector<uint64_t> find_cpuids(const CodeWindow& w) { return find_sites(w, SiteInsn::Cpuid); }

}  // namespace rrx::patcher
