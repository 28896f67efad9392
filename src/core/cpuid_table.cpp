// The cpuid table and its lookup sequence: see cpuid_table.h.
#include "core/cpuid_table.h"

#include <algorithm>
#include <cstring>

namespace rrx {

namespace {

bool same(const CpuidRegs& a, const CpuidRegs& b) {
  return a.eax == b.eax && a.ebx == b.ebx && a.ecx == b.ecx && a.edx == b.edx;
}

// How many subleaves (from 0) a leaf indexed by ecx has, by the rule the
// SDM and AMD's manual give for it; 0: not a leaf known to be indexed.
uint32_t known_subleaves(uint32_t leaf, const CpuidSource& source) {
  constexpr uint32_t kCap = 64;
  auto until = [&](auto last) {  // up to and including the first subleaf `last` says ends the list
    for (uint32_t s = 0; s < kCap; ++s) {
      if (last(source(leaf, s))) return s + 1;
    }
    return kCap;
  };
  switch (leaf) {
    case 0x4:
    case 0x8000001d:
      return until([](const CpuidRegs& r) { return (r.eax & 0x1f) == 0; });  // null cache type
    case 0xb:
    case 0x1f:
      return until([](const CpuidRegs& r) { return ((r.ecx >> 8) & 0xff) == 0; });  // invalid level type
    case 0x7:
    case 0x14:
    case 0x17:
    case 0x18:
    case 0x1d:
    case 0x20:
    case 0x23:
    case 0x24:
      return std::min(source(leaf, 0).eax, kCap - 1) + 1;  // subleaf 0's eax: the highest subleaf
    case 0xd: {
      // Subleaves 0 and 1, then one per state component the CPU supports
      // (subleaf 0's edx:eax for XCR0, subleaf 1's edx:ecx for XSS).
      const CpuidRegs r0 = source(leaf, 0), r1 = source(leaf, 1);
      const uint64_t bits = (uint64_t{r0.edx} << 32 | r0.eax) | (uint64_t{r1.edx} << 32 | r1.ecx);
      uint32_t n = 2;
      for (uint32_t i = 2; i < kCap; ++i) {
        if (bits >> i & 1) n = i + 1;
      }
      return n;
    }
    case 0xf:
    case 0x10:
    case 0x12:
    case 0x1b:
    case 0x1e:
    case 0x80000020:
    case 0x80000026:
      return 8;
    default:
      return 0;
  }
}

// Whether ecx changes the answer for `leaf`, as far as a few subleaves tell.
bool answers_by_subleaf(uint32_t leaf, const CpuidSource& source) {
  const CpuidRegs zero = source(leaf, 0);
  for (uint32_t s : {1u, 2u, 0xffffffffu}) {  // (a cpuid costs ~10 us in a VM: few)
    if (!same(source(leaf, s), zero)) return true;
  }
  return false;
}

void add_leaf(uint32_t leaf, const CpuidSource& source, std::vector<CpuidTableEntry>& out) {
  uint32_t n = known_subleaves(leaf, source);
  if (n == 0 && answers_by_subleaf(leaf, source)) n = 16;
  if (n == 0) {
    out.push_back({leaf, 0, kCpuidAnySubleaf, source(leaf, 0)});
    return;
  }
  for (uint32_t s = 0; s < n; ++s) out.push_back({leaf, s, 0, source(leaf, s)});
}

void put32(std::vector<uint8_t>& b, uint32_t v) {
  for (int i = 0; i < 4; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

uint32_t get32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

}  // namespace

std::vector<CpuidTableEntry> build_cpuid_table(const CpuidSource& source) {
  std::vector<CpuidTableEntry> out;
  const uint32_t basic_max = std::min(source(0, 0).eax, 0x7fu);
  for (uint32_t leaf = 0; leaf <= basic_max; ++leaf) add_leaf(leaf, source, out);
  const uint32_t ext_max = source(0x80000000, 0).eax;
  if (ext_max >= 0x80000000 && ext_max <= 0x800000ff) {
    for (uint32_t leaf = 0x80000000; leaf <= std::min(ext_max, 0x8000007fu); ++leaf) add_leaf(leaf, source, out);
  }
  return out;
}

std::vector<uint8_t> serialize_cpuid_table(const std::vector<CpuidTableEntry>& entries) {
  std::vector<uint8_t> b;
  b.reserve((entries.size() + 1) * kCpuidEntryBytes);
  auto put = [&](const CpuidTableEntry& e, bool end) {
    put32(b, 0u - e.leaf);
    put32(b, 0u - e.subleaf);
    put32(b, (e.flags & kCpuidAnySubleaf) ? 0 : 1);
    put32(b, end ? 0 : 1);
    put32(b, e.regs.eax);
    put32(b, e.regs.ebx);
    put32(b, e.regs.ecx);
    put32(b, e.regs.edx);
  };
  for (const CpuidTableEntry& e : entries) put(e, false);
  put({}, true);
  return b;
}

std::vector<CpuidTableEntry> parse_cpuid_table(const uint8_t* table, size_t len) {
  std::vector<CpuidTableEntry> out;
  for (size_t off = 0; off + kCpuidEntryBytes <= len; off += kCpuidEntryBytes) {
    const uint8_t* e = table + off;
    if (get32(e + 12) == 0) break;
    out.push_back({0u - get32(e), 0u - get32(e + 4), get32(e + 8) == 0 ? kCpuidAnySubleaf : 0,
                   CpuidRegs{get32(e + 16), get32(e + 20), get32(e + 24), get32(e + 28)}});
  }
  return out;
}

std::optional<CpuidRegs> cpuid_table_lookup(const uint8_t* table, size_t len, uint32_t leaf, uint32_t subleaf) {
  for (size_t off = 0; off + kCpuidEntryBytes <= len; off += kCpuidEntryBytes) {
    const uint8_t* e = table + off;
    if (get32(e + 12) == 0) break;  // the end
    if (leaf + get32(e) != 0) continue;
    if (get32(e + 8) == 0 || subleaf + get32(e + 4) == 0) {
      return CpuidRegs{get32(e + 16), get32(e + 20), get32(e + 24), get32(e + 28)};
    }
  }
  return std::nullopt;
}

std::vector<uint8_t> cpuid_lookup_sequence(uint64_t table_addr) {
  // No instruction here reads or writes rflags (lea, mov, jrcxz, jmp, push,
  // pop): pushf/popf would carry a debugger's single-step trap flag past the
  // sequence. Offsets in comments; the branches are rel8 between fixed offsets.
  std::vector<uint8_t> b = {
      0x48, 0x8d, 0x64, 0x24, 0x80,  //  0: lea rsp, [rsp-0x80]   (past the red zone)
      0x56,                          //  5: push rsi
      0x48, 0x89, 0xca,              //  6: mov rdx, rcx          (the subleaf; cpuid overwrites rdx anyway)
      0x48, 0xbe,                    //  9: movabs rsi, table_addr
  };
  for (int i = 0; i < 8; ++i) b.push_back(static_cast<uint8_t>(table_addr >> (8 * i)));
  const uint8_t rest[] = {
      // loop (19):
      0x8b, 0x4e, 0x0c,        // 19: mov ecx, [rsi+12]      (0: the end)
      0xe3, 0x33,              // 22: jrcxz miss (75)
      0x8b, 0x1e,              // 24: mov ebx, [rsi]         (-leaf)
      0x8d, 0x0c, 0x18,        // 26: lea ecx, [rax+rbx]
      0xe3, 0x06,              // 29: jrcxz leaf_ok (37)
      // next (31):
      0x48, 0x8d, 0x76, 0x20,  // 31: lea rsi, [rsi+32]
      0xeb, 0xee,              // 35: jmp loop (19)
      // leaf_ok (37):
      0x8b, 0x4e, 0x08,        // 37: mov ecx, [rsi+8]       (0: any subleaf)
      0xe3, 0x0a,              // 40: jrcxz hit (52)
      0x8b, 0x5e, 0x04,        // 42: mov ebx, [rsi+4]       (-subleaf)
      0x8d, 0x0c, 0x1a,        // 45: lea ecx, [rdx+rbx]
      0xe3, 0x02,              // 48: jrcxz hit (52)
      0xeb, 0xeb,              // 50: jmp next (31)
      // hit (52):
      0x8b, 0x46, 0x10,                                // 52: mov eax, [rsi+16]
      0x8b, 0x5e, 0x14,                                // 55: mov ebx, [rsi+20]
      0x8b, 0x4e, 0x18,                                // 58: mov ecx, [rsi+24]
      0x8b, 0x56, 0x1c,                                // 61: mov edx, [rsi+28]
      0x5e,                                            // 64: pop rsi
      0x48, 0x8d, 0xa4, 0x24, 0x80, 0x00, 0x00, 0x00,  // 65: lea rsp, [rsp+0x80]
      0xeb, 0x0e,                                      // 73: jmp done (89)
      // miss (75): every register cpuid reads as at the original cpuid
      0x48, 0x89, 0xd1,                                // 75: mov rcx, rdx
      0x5e,                                            // 78: pop rsi
      0x48, 0x8d, 0xa4, 0x24, 0x80, 0x00, 0x00, 0x00,  // 79: lea rsp, [rsp+0x80]
      0x0f, 0xa2,                                      // 87: cpuid
      // done (89)
  };
  b.insert(b.end(), std::begin(rest), std::end(rest));
  return b;
}

}  // namespace rrx
