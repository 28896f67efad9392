// The in-process conditional breakpoint of a preemption point: planning the
// patch and the stub's place, emitting the stub, undoing it. See preempt_stub.h.
#include "replay/preempt_stub.h"

#include <sys/mman.h>
#include <sys/syscall.h>

#include <algorithm>
#include <array>
#include <optional>
#include <csignal>
#include <cstddef>
#include <cstring>

#include "core/error.h"
#include "core/proc_maps.h"
#include "patcher/patcher.h"

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

namespace rrx::replay {

namespace {

constexpr size_t kJmpLen = 5;
constexpr uint8_t kInt3 = 0xcc;
constexpr uint64_t kPage = 4096;
constexpr uint64_t kStubPages = 2;  // the stub starts anywhere in the first page
// Distance kept from every mapping of the program: a stack growing down
// needs its guard gap (256 pages) free, and nothing the program maps is
// ever placed where this page was anyway (it is gone before the program
// runs its next syscall).
constexpr uint64_t kMargin = 1 << 20;
constexpr uint64_t kLowest = 1 << 20;
constexpr uint64_t kHighest = 0x7ffffffff000ull;
// same_position_regs ignores RF and TF (in the flags and in r11).
constexpr uint32_t kFlagsMask = ~uint32_t{0x10100};
constexpr int kRedZone = 128;
// The farthest routed entry from the preemption point (its jmp is displaced
// with the rest).
constexpr uint64_t kMaxRoutedOffset = 24;

// Register numbers of the x86-64 encoding.
enum Reg : uint8_t { RAX = 0, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8, R9, R10, R11, R12, R13, R14, R15 };

// The stub's code as it is emitted, with its undo table.
class Emitter {
 public:
  explicit Emitter(uint64_t base) : base_(base) {}
  uint64_t here() const { return base_ + bytes_.size(); }
  // The next instruction starts with this state of the stub's own work.
  Emitter& at(uint64_t program_pc, uint32_t rsp_adjust, int flags_slot = -1, int rax_slot = -1, int rcx_slot = -1) {
    undo_[here()] = {program_pc, rsp_adjust, flags_slot, rax_slot, rcx_slot};
    return *this;
  }
  Emitter& raw(std::initializer_list<uint8_t> b) {
    bytes_.insert(bytes_.end(), b);
    return *this;
  }
  Emitter& raw(const std::vector<uint8_t>& b) {
    bytes_.insert(bytes_.end(), b.begin(), b.end());
    return *this;
  }
  Emitter& u32(uint32_t v) {
    for (int i = 0; i < 4; ++i) bytes_.push_back(static_cast<uint8_t>(v >> (8 * i)));
    return *this;
  }
  // A 32-bit field at the current position, relative to the end of the
  // instruction that ends `tail` bytes after it, aimed at label `label`.
  Emitter& rel32_to(int label, size_t tail = 0) {
    fixups_.push_back({bytes_.size(), tail, label});
    return u32(0);
  }
  void bind(int label) { labels_[label] = here(); }
  void bind(int label, uint64_t addr) { labels_[label] = addr; }
  uint64_t label(int label) const { return labels_.at(label); }
  void align(size_t a) {
    while (bytes_.size() % a) bytes_.push_back(kInt3);
  }
  void finish() {
    for (const Fixup& f : fixups_) {
      uint64_t end = base_ + f.offset + 4 + f.tail;
      int64_t d = static_cast<int64_t>(labels_.at(f.label) - end);
      uint32_t v = static_cast<uint32_t>(static_cast<int32_t>(d));
      std::memcpy(bytes_.data() + f.offset, &v, 4);
    }
  }
  const std::vector<uint8_t>& bytes() const { return bytes_; }
  template <typename Undo>
  void undo_table(std::map<uint64_t, Undo>* out) const {
    for (const auto& [pc, u] : undo_) (*out)[pc] = Undo{u.pc, u.rsp, u.flags, u.rax, u.rcx};
  }

 private:
  struct Fixup {
    size_t offset, tail;
    int label;
  };
  struct U {
    uint64_t pc;
    uint32_t rsp;
    int flags, rax, rcx;
  };
  uint64_t base_;
  std::vector<uint8_t> bytes_;
  std::vector<Fixup> fixups_;
  std::map<int, uint64_t> labels_;
  std::map<uint64_t, U> undo_;
};

// The wanted registers in the stub's data, in this order (one slot each).
constexpr Reg kCompared[] = {RAX, RCX, RDX, RBX, RBP, RSI, RDI, R8, R9, R10, R12, R13, R14, R15};
enum Label : int { kMiss = 100, kRelocated, kFull, kCounted, kDataR11 = 200, kDataRsp, kDataFlags, kDataCount,
                   kDataFirst = 300 };

uint64_t reg_value(const user_regs_struct& r, Reg reg) {
  switch (reg) {
    case RAX: return r.rax;
    case RCX: return r.rcx;
    case RDX: return r.rdx;
    case RBX: return r.rbx;
    case RSP: return r.rsp;
    case RBP: return r.rbp;
    case RSI: return r.rsi;
    case RDI: return r.rdi;
    case R8: return r.r8;
    case R9: return r.r9;
    case R10: return r.r10;
    case R11: return r.r11;
    case R12: return r.r12;
    case R13: return r.r13;
    case R14: return r.r14;
    case R15: return r.r15;
  }
  return 0;
}

// cmp reg, [rip + label]
void cmp_rip(Emitter& e, Reg reg, int label) {
  e.raw({static_cast<uint8_t>(0x48 | (reg >= R8 ? 4 : 0)), 0x3b, static_cast<uint8_t>(((reg & 7) << 3) | 5)});
  e.rel32_to(label);
}
void jne_miss(Emitter& e) {
  e.raw({0x0f, 0x85});
  e.rel32_to(kMiss);
}

struct Displaced {
  std::vector<uint64_t> starts;     // instruction starts from ip up to the patch's end
  std::vector<uint64_t> relocated;  // those the stub runs (up to one that does not fall through)
  uint64_t end = 0;                 // end of the patched range
  bool falls_through = true;        // the last relocated instruction falls through
};

// Bytes that trap when executed as an instruction's first byte: int3, and
// one-byte opcodes invalid in 64-bit mode (#UD: SIGILL).
constexpr uint8_t kTrapBytes[] = {0xcc, 0x06, 0x07, 0x0e, 0x16, 0x17, 0x1e, 0x1f, 0x27,
                                  0x2f, 0x37, 0x3f, 0x60, 0x61, 0xce, 0xd4, 0xd5, 0xd6};

// Where a jump can land: entries `origin + rel32` (origin: the end of the
// jump) whose page pair is free of any mapping (with kMargin around it),
// where each byte of rel32 is one of `allowed[i]` (empty: any), nearest
// first. The jump of the patch has a trapping byte (kTrapBytes) at every
// displacement index a displaced instruction start needs (0xcc first, the
// others where 0xcc cannot be: a top byte 0xcc needs the stub 0.8 GiB below
// the code, impossible for code mapped low), and 0xe9 where an entry is
// routed; a routed entry's own jump has the bytes it shares with the
// patch's displacement fixed.
using ByteSets = std::array<std::vector<uint8_t>, 4>;

std::vector<uint64_t> jump_candidates(uint64_t origin, const ByteSets& allowed, const std::vector<ProcMapping>& maps,
                                      size_t want) {
  auto free_at = [&](uint64_t lo, uint64_t hi) {
    if (lo < kLowest + kMargin || hi + kMargin > kHighest) return false;
    auto it = std::lower_bound(maps.begin(), maps.end(), lo - kMargin,
                               [](const ProcMapping& m, uint64_t a) { return m.end <= a; });
    return it == maps.end() || it->start >= hi + kMargin;
  };
  std::vector<int> fixed;  // rel32 byte indexes that are constrained
  size_t combos = 1;
  for (int i = 0; i < 4; ++i) {
    if (allowed[i].empty()) continue;
    fixed.push_back(i);
    combos *= allowed[i].size();
  }
  std::vector<uint64_t> out;
  // Each combination of the allowed bytes, the first of each set first.
  for (size_t c = 0; c < combos && c < 400 && out.size() < want; ++c) {
    uint32_t dmask = 0, dval = 0;
    size_t rest = c;
    for (int idx : fixed) {
      const std::vector<uint8_t>& set = allowed[static_cast<size_t>(idx)];
      dmask |= 0xffu << (8 * idx);
      dval |= uint32_t{set[rest % set.size()]} << (8 * idx);
      rest /= set.size();
    }
    // disp = (q << 12) | low: the low 12 bits are free except where fixed
    // (left 0); q is a 20-bit signed page offset, its free bits enumerated.
    const uint32_t low = dval & 0xfff;
    const uint32_t qmask = (dmask >> 12) & 0xfffff, qval = (dval >> 12) & 0xfffff;
    std::vector<int> free_bits;
    for (int b = 0; b < 20; ++b) {
      if (!(qmask & (1u << b))) free_bits.push_back(b);
    }
    // Nearest first: small |q| has its high free bits equal to the sign.
    const uint64_t n = uint64_t{1} << free_bits.size();
    for (uint64_t k = 0; k < n && k < (uint64_t{1} << 16) && out.size() < want; ++k) {
      for (int sign = 0; sign < 2; ++sign) {
        uint32_t q = qval;
        for (size_t i = 0; i < free_bits.size(); ++i) {
          bool bit = (k >> i) & 1;
          if (sign) bit = !bit;
          if (bit) q |= 1u << free_bits[i];
        }
        int64_t qs = (q & 0x80000) ? static_cast<int64_t>(q) - (int64_t{1} << 20) : q;
        int64_t disp = qs * 4096 + low;
        if (disp < INT32_MIN + 0x10000 || disp > INT32_MAX - 0x10000) continue;
        uint64_t entry = origin + static_cast<uint64_t>(disp);
        uint64_t page = entry & ~(kPage - 1);
        if (free_at(page, page + kStubPages * kPage) &&
            std::find(out.begin(), out.end(), entry) == out.end()) {
          out.push_back(entry);
        }
      }
    }
  }
  return out;
}

// A page pair the stub is about to take, as a mapping: later searches keep
// their distance from it.
void add_planned(std::vector<ProcMapping>* maps, uint64_t page) {
  ProcMapping m;
  m.start = page;
  m.end = page + kStubPages * kPage;
  maps->insert(std::lower_bound(maps->begin(), maps->end(), m.start,
                                [](const ProcMapping& x, uint64_t a) { return x.start < a; }),
               m);
}

// The displaced instruction at `a`, as the stub runs it (at e.here()); a
// direct call is run as the program would run it: the address after it
// pushed, then a jmp to the callee, which returns to the program, not to the
// stub (and no stub address is left on the program's stack). Says whether
// execution goes on to the next one, or why it cannot be displaced.
std::variant<bool, std::string> emit_displaced(Emitter& e, const patcher::CodeWindow& w, uint64_t a) {
  const size_t off = a - w.addr;
  if (off + 5 <= w.bytes.size() && w.bytes[off] == 0xe8) {
    int32_t rel = 0;
    std::memcpy(&rel, w.bytes.data() + off + 1, 4);
    const uint64_t ret = a + 5, target = ret + static_cast<uint64_t>(static_cast<int64_t>(rel));
    e.at(a, 0).raw({0x48, 0x8d, 0x64, 0x24, 0xf8});                                     // lea rsp, [rsp-8]
    e.at(a, 8).raw({0xc7, 0x04, 0x24}).u32(static_cast<uint32_t>(ret));                 // mov dword [rsp], lo
    e.at(a, 8).raw({0xc7, 0x44, 0x24, 0x04}).u32(static_cast<uint32_t>(ret >> 32));     // mov dword [rsp+4], hi
    const int64_t d = static_cast<int64_t>(target - (e.here() + kJmpLen));
    if (d < INT32_MIN || d > INT32_MAX) return std::string("the callee of the displaced call is out of reach");
    e.at(target, 0).raw({0xe9}).u32(static_cast<uint32_t>(static_cast<int32_t>(d)));    // jmp callee: the call made
    return false;
  }
  auto r = patcher::relocate_instruction(w, a, e.here());
  if (auto* no = std::get_if<patcher::Refusal>(&r)) return no->reason;
  const auto& insn = std::get<patcher::RelocatedInsn>(r);
  e.at(a, 0).raw(insn.bytes);
  return insn.falls_through;
}

// Length and fall-through of the displaced instruction at `a` (a direct call
// as emit_displaced runs it), or why it cannot be displaced.
std::variant<patcher::RelocatedInsn, std::string> decode_displaced(const patcher::CodeWindow& w, uint64_t a) {
  const size_t off = a - w.addr;
  if (off + 5 <= w.bytes.size() && w.bytes[off] == 0xe8) return patcher::RelocatedInsn{{}, 5, false};
  auto r = patcher::relocate_instruction(w, a, a);
  if (auto* no = std::get_if<patcher::Refusal>(&r)) return no->reason;
  return std::get<patcher::RelocatedInsn>(r);
}

}  // namespace

std::variant<std::unique_ptr<PreemptStub>, std::string> PreemptStub::install(Task& task, pid_t pid, uint64_t ip,
                                                                             const user_regs_struct& want,
                                                                             const user_regs_struct& now,
                                                                             const Inject& inject) {
  return install(task, pid, ip, want, now, inject, Condition{});
}

std::variant<std::unique_ptr<PreemptStub>, std::string> PreemptStub::install(Task& task, pid_t pid, uint64_t ip,
                                                                             const user_regs_struct& want,
                                                                             const user_regs_struct& now,
                                                                             const Inject& inject, Condition cond,
                                                                             const std::vector<uint64_t>& routed) {
  if (!cond.compare && !(cond.count && cond.trap_at_pass != 0)) cond.count = true;  // nothing to trap at: count
  std::vector<ProcMapping> maps = read_proc_maps(pid);
  auto m = std::find_if(maps.begin(), maps.end(), [&](const ProcMapping& x) { return x.contains(ip); });
  if (m == maps.end() || !m->executable()) return std::string("the preemption point is not in executable memory");
  if (m->shared()) return std::string("the preemption point is in a shared mapping");

  // The instructions the jmp displaces, decoded linearly from ip; a routed
  // entry needs its own jmp inside the patch (up to its start + 5 bytes):
  // more instructions are displaced, as long as each falls through.
  size_t need = kJmpLen;
  for (uint64_t x : routed) {
    if (x <= ip || x - ip > kMaxRoutedOffset) return std::string("a routed entry is not near the preemption point");
    need = std::max<size_t>(need, x - ip + kJmpLen);
  }
  patcher::CodeWindow w;
  w.addr = ip;
  w.bytes.resize(std::min<uint64_t>(64, m->end - ip));
  w.bytes.resize(task.read_mem(ip, w.bytes.data(), w.bytes.size()));
  Displaced d;
  bool last_falls_through = true;
  for (uint64_t a = ip; a < ip + need;) {
    if (a >= ip + kJmpLen && !last_falls_through) {
      return std::string("a routed entry lies past an instruction that does not fall through");
    }
    auto r = decode_displaced(w, a);
    if (auto* no = std::get_if<std::string>(&r)) return *no;
    const auto& insn = std::get<patcher::RelocatedInsn>(r);
    // A syscall run from the stub would stop the replay with the stub's pc.
    const uint8_t* b = w.bytes.data() + (a - ip);
    if (a + 2 <= ip + w.bytes.size() &&
        ((b[0] == 0x0f && (b[1] == 0x05 || b[1] == 0x34)) || (b[0] == 0xcd && b[1] == 0x80))) {
      return std::string("a syscall instruction is among the displaced ones");
    }
    d.starts.push_back(a);
    if (d.falls_through) {
      d.relocated.push_back(a);
      d.falls_through = insn.falls_through;
    }
    last_falls_through = insn.falls_through;
    a += insn.length;
    d.end = a;
  }
  for (uint64_t x : routed) {
    if (std::find(d.starts.begin(), d.starts.end(), x) == d.starts.end()) {
      return std::string("a routed entry is not an instruction start");
    }
  }
  const size_t len = d.end - ip;
  auto is_routed = [&](size_t k) { return std::find(routed.begin(), routed.end(), ip + k) != routed.end(); };
  auto is_start = [&](size_t k) { return std::find(d.starts.begin(), d.starts.end(), ip + k) != d.starts.end(); };
  // What byte k of the patch may be, where nothing has set it yet.
  auto allowed_at = [&](size_t k) -> std::vector<uint8_t> {
    if (is_routed(k)) return {0xe9};
    if (k > 0 && is_start(k)) return {std::begin(kTrapBytes), std::end(kTrapBytes)};
    return {};
  };

  std::unique_ptr<PreemptStub> s(new PreemptStub(task, inject));
  s->ip_ = ip;
  s->original_.assign(w.bytes.begin(), w.bytes.begin() + static_cast<ptrdiff_t>(len));
  for (size_t i = 1; i < d.starts.size(); ++i) {
    if (!is_routed(d.starts[i] - ip)) s->interior_.push_back(d.starts[i]);
  }
  std::vector<uint64_t> routes(routed.begin(), routed.end());
  std::sort(routes.begin(), routes.end());
  routes.erase(std::unique(routes.begin(), routes.end()), routes.end());

  // The patch's bytes for a place of the stub: its jmp, then each routed
  // entry's jmp (0xe9 at the entry, its displacement partly the bytes
  // already set), every other displaced instruction start on a trapping
  // byte. Empty if the place leaves no room for them.
  struct Plan {
    std::vector<uint8_t> patch;
    std::vector<uint64_t> pages;    // page pairs to map, the stub's first
    std::vector<uint64_t> entries;  // the stub's entry, then one per route
  };
  auto plan_for = [&](uint64_t entry) -> std::optional<Plan> {
    Plan p;
    p.patch.assign(len, kInt3);
    std::vector<bool> set(len, false);
    auto put = [&](size_t k, uint8_t v) {
      if (set[k] && p.patch[k] != v) return false;
      p.patch[k] = v;
      set[k] = true;
      return true;
    };
    auto put_jump = [&](size_t k, uint64_t target) {
      const uint32_t rel = static_cast<uint32_t>(static_cast<int32_t>(static_cast<int64_t>(target - (ip + k + kJmpLen))));
      bool ok = put(k, 0xe9);
      for (size_t i = 0; i < 4; ++i) ok = ok && put(k + 1 + i, static_cast<uint8_t>(rel >> (8 * i)));
      return ok;
    };
    std::vector<ProcMapping> planned = maps;
    p.pages.push_back(entry & ~(kPage - 1));
    p.entries.push_back(entry);
    add_planned(&planned, p.pages.back());
    if (!put_jump(0, entry)) return std::nullopt;
    for (uint64_t x : routes) {
      const size_t k = x - ip;
      ByteSets allowed;
      for (size_t i = 0; i < 4; ++i) {
        const size_t at = k + 1 + i;
        allowed[i] = set[at] ? std::vector<uint8_t>{p.patch[at]} : allowed_at(at);
      }
      std::vector<uint64_t> c = jump_candidates(x + kJmpLen, allowed, planned, 1);
      if (c.empty() || !put_jump(k, c[0])) return std::nullopt;
      p.pages.push_back(c[0] & ~(kPage - 1));
      p.entries.push_back(c[0]);
      add_planned(&planned, p.pages.back());
    }
    for (size_t k = 1; k < len; ++k) {
      std::vector<uint8_t> a = allowed_at(k);
      if (!a.empty() && std::find(a.begin(), a.end(), p.patch[k]) == a.end()) return std::nullopt;
    }
    return p;
  };
  ByteSets first_jump;
  for (size_t i = 0; i < 4; ++i) first_jump[i] = allowed_at(1 + i);

  // Map the page pairs at the first candidate the kernel agrees to.
  std::string why = routes.empty() ? "no free place within reach of the preemption point"
                                   : "no place for the stub that routes the branches into the patch";
  Plan plan;
  for (uint64_t cand : jump_candidates(ip + kJmpLen, first_jump, maps, routes.empty() ? 8 : 64)) {
    std::optional<Plan> p = plan_for(cand);
    if (!p) continue;
    std::vector<uint64_t> mapped;
    for (size_t i = 0; i < p->pages.size(); ++i) {
      const uint64_t page = p->pages[i];
      const int prot = PROT_READ | PROT_EXEC | (i == 0 && cond.count ? PROT_WRITE : 0);
      int64_t r = inject(SYS_mmap, page, kStubPages * kPage, static_cast<uint64_t>(prot),
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, static_cast<uint64_t>(-1), 0);
      if (r != static_cast<int64_t>(page)) {
        if (r > 0) inject(SYS_munmap, static_cast<uint64_t>(r), kStubPages * kPage, 0, 0, 0, 0);
        why = "mmap of the stub page failed (" + std::to_string(r) + ")";
        break;
      }
      mapped.push_back(page);
    }
    s->pages_ = mapped;
    s->mapped_ = !mapped.empty();
    if (mapped.size() == p->pages.size()) {
      plan = std::move(*p);
      break;
    }
    s->remove(true);
  }
  if (!s->mapped_) return why;
  const uint64_t entry = plan.entries[0];
  s->patch_ = plan.patch;

  // The stub. Until the match or the miss path has put rsp and the flags
  // back, the undo table says how to take them back at each instruction.
  Emitter e(entry);
  e.at(ip, 0).raw({0x48, 0x8d, 0x64, 0x24, 0x80});  // lea rsp, [rsp-128]: past the red zone
  const uint64_t count_start = cond.trap_at_pass != 0 ? cond.trap_at_pass : uint64_t{1} << 62;
  if (cond.count) {
    // The countdown, flag-free: mov rcx, [count]; lea rcx, [rcx-1]; mov [count], rcx.
    e.at(ip, kRedZone).raw({0x51});  // push rcx
    e.at(ip, kRedZone + 8, -1, -1, 0).raw({0x48, 0x8b, 0x0d});
    e.rel32_to(kDataCount);
    e.at(ip, kRedZone + 8, -1, -1, 0).raw({0x48, 0x8d, 0x49, 0xff});
    e.at(ip, kRedZone + 8, -1, -1, 0).raw({0x48, 0x89, 0x0d});
    e.rel32_to(kDataCount);
    if (cond.trap_at_pass != 0) {
      e.at(ip, kRedZone + 8, -1, -1, 0).raw({0xe3, 6});  // jrcxz: the pass (pop, jmp: 6 bytes)
      e.at(ip, kRedZone + 8, -1, -1, 0).raw({0x59});     // pop rcx
      e.at(ip, kRedZone).raw({0xe9});
      e.rel32_to(kCounted);
      e.at(ip, kRedZone + 8, -1, -1, 0).raw({0x59});                   // pop rcx
      e.at(ip, kRedZone).raw({0x48, 0x8d, 0xa4, 0x24}).u32(kRedZone);  // lea rsp, [rsp+128]
      s->count_trap_ = e.here();
      e.at(ip, 0).raw({kInt3});
      e.at(ip, 0).raw({0xe9});
      e.rel32_to(kRelocated);
      e.bind(kCounted);
    } else {
      e.at(ip, kRedZone + 8, -1, -1, 0).raw({0x59});  // pop rcx
    }
  }
  if (!cond.compare) {
    e.at(ip, kRedZone).raw({0x48, 0x8d, 0xa4, 0x24}).u32(kRedZone);  // lea rsp, [rsp+128]
    e.at(ip, 0).raw({0xe9});
    e.rel32_to(kRelocated);
  } else {
    // A first test that leaves the flags alone (pushfq/popfq cost more than
    // the rest): one register that differs now, most likely one the loop
    // changes at every pass, subtracted with not+lea and tested with jrcxz.
    size_t first = 0;
    for (size_t i = 0; i < std::size(kCompared); ++i) {
      if (kCompared[i] != RCX && reg_value(now, kCompared[i]) != reg_value(want, kCompared[i])) {
        first = i;
        break;
      }
    }
    const Reg x = kCompared[first];
    e.at(ip, kRedZone).raw({0x51});  // push rcx
    e.at(ip, kRedZone + 8, -1, -1, 0).raw({0x48, 0x8b, 0x0d});  // mov rcx, [rip + want_x]
    e.rel32_to(kDataFirst + static_cast<int>(first));
    e.at(ip, kRedZone + 8, -1, -1, 0).raw({0x48, 0xf7, 0xd1});  // not rcx
    // lea rcx, [rcx + x + 1]: x - want_x
    e.at(ip, kRedZone + 8, -1, -1, 0)
        .raw({static_cast<uint8_t>(0x48 | (x >= R8 ? 2 : 0)), 0x8d, 0x4c, static_cast<uint8_t>(((x & 7) << 3) | 1),
              0x01});
    e.at(ip, kRedZone + 8, -1, -1, 0).raw({0xe3, 14});  // jrcxz full (pop, lea, jmp: 14 bytes)
    e.at(ip, kRedZone + 8, -1, -1, 0).raw({0x59});      // pop rcx
    e.at(ip, kRedZone).raw({0x48, 0x8d, 0xa4, 0x24}).u32(kRedZone);  // lea rsp, [rsp+128]
    e.at(ip, 0).raw({0xe9});                                         // jmp to the moved instructions
    e.rel32_to(kRelocated);
    e.bind(kFull);
    e.at(ip, kRedZone + 8, -1, -1, 0).raw({0x59});  // pop rcx
    e.at(ip, kRedZone).raw({0x9c});                 // pushfq
    const uint32_t saved = kRedZone + 8;
    for (size_t i = 0; i < std::size(kCompared); ++i) {
      e.at(ip, saved, 0);
      cmp_rip(e, kCompared[i], kDataFirst + static_cast<int>(i));
      e.at(ip, saved, 0);
      jne_miss(e);
    }
    // r11 and the flags, masked; rsp as it was on entry.
    auto masked_compare = [&](std::initializer_list<uint8_t> load, int label) {
      e.at(ip, saved, 0).raw({0x50});  // push rax
      e.at(ip, saved + 8, 8, 0).raw(load);
      if (label != kDataRsp) e.at(ip, saved + 8, 8, 0).raw({0x48, 0x25}).u32(kFlagsMask);  // and rax, mask
      e.at(ip, saved + 8, 8, 0);
      cmp_rip(e, RAX, label);
      e.at(ip, saved + 8, 8, 0).raw({0x58});  // pop rax (the flags of the cmp stay)
      e.at(ip, saved, 0);
      jne_miss(e);
    };
    masked_compare({0x4c, 0x89, 0xd8}, kDataR11);                                 // mov rax, r11
    masked_compare({0x48, 0x8d, 0x84, 0x24, 0x90, 0x00, 0x00, 0x00}, kDataRsp);  // lea rax, [rsp+saved+8]
    masked_compare({0x48, 0x8b, 0x44, 0x24, 0x08}, kDataFlags);                   // mov rax, [rsp+8]
    e.at(ip, saved, 0).raw({0x9d});                                               // popfq
    e.at(ip, kRedZone).raw({0x48, 0x8d, 0xa4, 0x24}).u32(kRedZone);               // lea rsp, [rsp+128]
    s->trap_ = e.here();
    e.at(ip, 0).raw({kInt3});
    e.bind(kMiss);
    e.at(ip, saved, 0).raw({0x9d});
    e.at(ip, kRedZone).raw({0x48, 0x8d, 0xa4, 0x24}).u32(kRedZone);
  }
  e.bind(kRelocated);
  for (uint64_t a : d.relocated) {
    auto r = emit_displaced(e, w, a);
    if (auto* no = std::get_if<std::string>(&r)) {
      s->remove(true);
      return *no;
    }
  }
  if (d.falls_through) {
    e.at(d.end, 0).raw({0xe9});  // jmp back
    e.bind(1, d.end);
    e.rel32_to(1);
  }
  e.align(8);
  auto data = [&](int label, uint64_t v) {
    e.bind(label);
    for (int i = 0; i < 8; ++i) e.raw({static_cast<uint8_t>(v >> (8 * i))});
  };
  for (size_t i = 0; i < std::size(kCompared); ++i) data(kDataFirst + static_cast<int>(i), reg_value(want, kCompared[i]));
  data(kDataR11, want.r11 & static_cast<uint64_t>(static_cast<int64_t>(static_cast<int32_t>(kFlagsMask))));
  data(kDataRsp, want.rsp);
  data(kDataFlags, want.eflags & static_cast<uint64_t>(static_cast<int64_t>(static_cast<int32_t>(kFlagsMask))));
  if (cond.count) {
    data(kDataCount, count_start);
    s->counter_ = e.label(kDataCount);
    s->count_start_ = count_start;
  }
  e.finish();
  // Each routed entry: the displaced instructions from it on, then back.
  std::vector<Emitter> parts;
  parts.push_back(std::move(e));
  for (size_t i = 0; i < routes.size(); ++i) {
    Emitter& r = parts.emplace_back(plan.entries[i + 1]);
    bool falls_through = true;
    for (uint64_t a : d.starts) {
      if (a < routes[i] || !falls_through) continue;
      auto rel = emit_displaced(r, w, a);
      if (auto* no = std::get_if<std::string>(&rel)) {
        s->remove(true);
        return *no;
      }
      falls_through = std::get<bool>(rel);
    }
    if (falls_through) {
      r.at(d.end, 0).raw({0xe9});
      r.bind(1, d.end);
      r.rel32_to(1);
    }
    r.finish();
  }
  for (size_t i = 0; i < parts.size(); ++i) {
    const Emitter& part = parts[i];
    if (plan.entries[i] + part.bytes().size() > plan.pages[i] + kStubPages * kPage) {
      s->remove(true);
      return std::string("the stub does not fit its pages");
    }
    part.undo_table(&s->undo_);
    if (!task.write_mem(plan.entries[i], part.bytes().data(), part.bytes().size())) {
      s->remove(true);
      return std::string("cannot write the stub");
    }
  }

  return s;
}

PreemptStub::~PreemptStub() {
  if (!patched_) return;
  try {
    task_.write_mem(ip_, original_.data(), original_.size());
  } catch (const Error&) {
  }
}

PreemptStub::Hit PreemptStub::classify(const user_regs_struct& r) const {
  if (r.rip == trap_ + 1 || (count_trap_ != 0 && r.rip == count_trap_ + 1)) return Hit::Matched;
  if (std::find(interior_.begin(), interior_.end(), r.rip - 1) != interior_.end()) return Hit::JumpedIn;
  return Hit::None;
}

PreemptStub::Hit PreemptStub::classify_fault(const user_regs_struct& r) const {
  // An invalid opcode of the displacement faults with the pc on it.
  if (std::find(interior_.begin(), interior_.end(), r.rip) != interior_.end()) return Hit::JumpedIn;
  return Hit::None;
}

PreemptStub::Hit PreemptStub::settle_stop(Task& task, const WaitStatus& w) {
  user_regs_struct r = task.regs();
  user_regs_struct program = program_regs(r);
  Hit hit = Hit::None;
  if (w.kind == WaitStatus::Kind::SignalStop && w.sig == SIGTRAP) hit = classify(r);
  if (w.kind == WaitStatus::Kind::SignalStop && (w.sig == SIGILL || w.sig == SIGSEGV)) {
    hit = classify_fault(r);
    if (hit == Hit::JumpedIn) program = r;  // the pc is on the faulting byte
  }
  remove(false);
  if (std::memcmp(&program, &r, sizeof r) != 0) task.set_regs(program);
  return hit;
}

user_regs_struct PreemptStub::program_regs(const user_regs_struct& r) const {
  user_regs_struct out = r;
  switch (classify(r)) {
    case Hit::Matched:
      out.rip = ip_;
      return out;
    case Hit::JumpedIn:
      out.rip = r.rip - 1;
      return out;
    case Hit::None:
      break;
  }
  auto it = undo_.find(r.rip);
  if (it == undo_.end()) return out;
  const Undo& u = it->second;
  out.rip = u.program_pc;
  if (u.flags_slot >= 0) task_.read_exact(r.rsp + static_cast<uint64_t>(u.flags_slot), &out.eflags, 8);
  if (u.rax_slot >= 0) task_.read_exact(r.rsp + static_cast<uint64_t>(u.rax_slot), &out.rax, 8);
  if (u.rcx_slot >= 0) task_.read_exact(r.rsp + static_cast<uint64_t>(u.rcx_slot), &out.rcx, 8);
  out.rsp = r.rsp + u.rsp_adjust;
  return out;
}

uint64_t PreemptStub::passes() const {
  if (counter_ == 0) return 0;
  uint64_t left = 0;
  task_.read_exact(counter_, &left, sizeof left);
  return count_start_ - left;
}

void PreemptStub::remove(bool unmap) {
  if (patched_) {
    task_.write_mem(ip_, original_.data(), original_.size());
    patched_ = false;
  }
  if (unmap && mapped_) {
    for (uint64_t page : pages_) inject_(SYS_munmap, page, kStubPages * kPage, 0, 0, 0, 0);
    pages_.clear();
    mapped_ = false;
  }
}

void PreemptStub::arm() {
  if (patched_) return;
  const std::vector<uint8_t>& patch = patch_;
  for (uint64_t a : interior_) {
    if (std::find(std::begin(kTrapBytes), std::end(kTrapBytes), patch[a - ip_]) == std::end(kTrapBytes)) {
      throw Error("internal error: a displaced instruction start is not on a trapping byte");
    }
  }
  if (!task_.write_mem(ip_, patch.data(), patch.size())) throw Error("cannot write the preemption patch");
  patched_ = true;
}

}  // namespace rrx::replay
