// The in-process cpuid answers (core/cpuid_table.h): the table a fake CPU
// gives, the lookup sequence run natively in this process against the
// reference lookup (hits from the table, misses from a real cpuid, every
// other register and the flags kept), and a function whose cpuid the patcher
// replaces with a jump to a stub holding the sequence (patcher.h).
#include <sys/mman.h>

#include <catch2/catch.hpp>

#include <cstring>
#include <map>
#include <variant>

#include "core/cpuid_table.h"
#include "patcher/patcher.h"

using namespace rrx;

namespace {

// A CPU with basic leaves up to 0xd and extended up to 0x80000001.
CpuidRegs fake_cpu(uint32_t leaf, uint32_t subleaf) {
  switch (leaf) {
    case 0: return {0xd, 0x756e6547, 0x6c65746e, 0x49656e69};
    case 1: return {0x806f8, 0x100800, 0x7ffafbff, 0xbfebfbff};
    case 4: return subleaf < 3 ? CpuidRegs{0x121 + subleaf * 0x20, subleaf, 0x3f, 0} : CpuidRegs{};
    case 7: return subleaf == 0 ? CpuidRegs{1, 0xf1bf07ab, 0, 0} : subleaf == 1 ? CpuidRegs{0x1c30, 0, 0, 0} : CpuidRegs{};
    case 0xb:
      return subleaf == 0 ? CpuidRegs{1, 2, 0x100, 7} : subleaf == 1 ? CpuidRegs{5, 4, 0x201, 7} : CpuidRegs{0, 0, subleaf, 7};
    case 0xd: return subleaf == 0 ? CpuidRegs{0x60007, 0x340, 0xa88, 0} : CpuidRegs{subleaf, subleaf * 2, 0, 0};
    case 0x80000000: return {0x80000001, 0, 0, 0};
    case 0x80000001: return {0, 0, 0x121, 0x2c100800};
    default: return {leaf, 0, 0, 0};  // leaves that ignore ecx
  }
}

bool same(const CpuidRegs& a, const CpuidRegs& b) {
  return a.eax == b.eax && a.ebx == b.ebx && a.ecx == b.ecx && a.edx == b.edx;
}

struct Page {
  explicit Page(size_t len, int prot = PROT_READ | PROT_WRITE | PROT_EXEC, void* hint = nullptr)
      : len(len), p(static_cast<uint8_t*>(::mmap(hint, len, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0))) {
    REQUIRE(p != MAP_FAILED);
  }
  ~Page() { ::munmap(p, len); }
  size_t len;
  uint8_t* p;
};

struct Run {
  uint64_t rax, rbx, rcx, rdx, rsi;
  bool cf, zf;
};

// Calls `fn` (the sequence followed by ret) with eax = leaf, ecx = subleaf,
// the upper halves and rbx, rdx, rsi set to patterns, CF = 1, ZF = 1.
Run call_sequence(const uint8_t* fn, uint32_t leaf, uint32_t subleaf) {
  uint64_t a = 0xaaaaaaaa00000000ull | leaf, b = 0xbbbbbbbbbbbbbbbbull, c = 0xcccccccc00000000ull | subleaf,
           d = 0xdddddddddddddddd, si = 0x5151515151515151ull;
  uint8_t cf = 0, zf = 0;
  asm volatile(
      "lea -128(%%rsp), %%rsp\n\t"  // this function's red zone
      "cmp %%rsi, %%rsi\n\t"        // ZF = 1
      "stc\n\t"                     // CF = 1
      "call *%[fn]\n\t"
      "setc %[cf]\n\t"
      "setz %[zf]\n\t"
      "lea 128(%%rsp), %%rsp\n\t"
      : "+a"(a), "+b"(b), "+c"(c), "+d"(d), "+S"(si), [cf] "=m"(cf), [zf] "=m"(zf)
      : [fn] "r"(fn)
      : "memory", "cc");
  return {a, b, c, d, si, cf != 0, zf != 0};
}

}  // namespace

TEST_CASE("cpuid table: a leaf that ignores ecx has one entry for any subleaf, indexed leaves end where the CPU says") {
  auto entries = build_cpuid_table(fake_cpu);
  std::map<uint32_t, std::vector<CpuidTableEntry>> by_leaf;
  for (const auto& e : entries) by_leaf[e.leaf].push_back(e);
  REQUIRE(by_leaf.size() == 0xe + 2);  // 0..0xd and 0x80000000..0x80000001
  CHECK(by_leaf[1].size() == 1);
  CHECK(by_leaf[1][0].flags == kCpuidAnySubleaf);
  CHECK(by_leaf[4].size() == 4);   // three caches and the null one
  CHECK(by_leaf[7].size() == 2);   // subleaf 0's eax = 1
  CHECK(by_leaf[0xb].size() == 3);  // two levels and the invalid one
  CHECK(by_leaf[0xd].size() == 19);  // up to XCR0 bit 18 (AMX tile data)
  for (const auto& e : by_leaf[4]) CHECK(e.flags == 0);

  auto bytes = serialize_cpuid_table(entries);
  REQUIRE(bytes.size() == (entries.size() + 1) * kCpuidEntryBytes);
  auto look = [&](uint32_t l, uint32_t s) { return cpuid_table_lookup(bytes.data(), bytes.size(), l, s); };
  CHECK(same(*look(1, 0x3bfff), fake_cpu(1, 0)));  // glibc's __cpuid leaves ecx as it was
  CHECK(same(*look(4, 2), fake_cpu(4, 2)));
  CHECK(same(*look(0xb, 1), fake_cpu(0xb, 1)));
  CHECK(same(*look(0x80000001, 99), fake_cpu(0x80000001, 0)));
  CHECK_FALSE(look(4, 9));           // past the leaf's end: a real cpuid
  CHECK_FALSE(look(0xe, 0));         // past the highest basic leaf
  CHECK_FALSE(look(0x40000000, 0));  // hypervisor leaves
}

TEST_CASE("cpuid lookup sequence: hits answer from the table, misses run cpuid, nothing else changes") {
  REQUIRE(cpuid_lookup_sequence(0).size() == kCpuidLookupBytes);
  REQUIRE(cpuid_lookup_sequence(0)[kCpuidLookupMissCpuid] == 0x0f);
  // This CPU's table, with one answer changed so that a hit is told from a real cpuid.
  auto entries = build_cpuid_table(host_cpuid);
  for (auto& e : entries) {
    if (e.leaf == 0) e.regs.ebx = 0x12345678;
  }
  auto table_bytes = serialize_cpuid_table(entries);
  Page table(table_bytes.size() + 4096, PROT_READ | PROT_WRITE);
  std::memcpy(table.p, table_bytes.data(), table_bytes.size());
  Page code(4096);
  auto seq = cpuid_lookup_sequence(reinterpret_cast<uint64_t>(table.p));
  std::memcpy(code.p, seq.data(), seq.size());
  code.p[seq.size()] = 0xc3;  // ret

  std::vector<std::pair<uint32_t, uint32_t>> asks = {{0, 0}, {0, 77}, {1, 0x3bfff}, {4, 0}, {4, 1}, {4, 40},
                                                     {7, 0}, {7, 1}, {0xb, 0}, {0xb, 1}, {0xd, 1}, {0xd, 63},
                                                     {0x80000000, 0}, {0x80000001, 5}, {0x40000000, 0}, {0x7fffffff, 0}};
  for (auto [leaf, subleaf] : asks) {
    INFO("leaf " << std::hex << leaf << " subleaf " << subleaf);
    auto want = cpuid_table_lookup(table_bytes.data(), table_bytes.size(), leaf, subleaf);
    bool hit = want.has_value();
    if (!hit) want = host_cpuid(leaf, subleaf);
    Run r = call_sequence(code.p, leaf, subleaf);
    // cpuid writes the four registers whole (zero-extended); leaf 1's ebx and
    // leaf 0xb's edx hold this CPU's APIC id, which a migration may change.
    CHECK(r.rax == want->eax);
    if (leaf != 1) CHECK(r.rbx == want->ebx);
    CHECK(r.rcx == want->ecx);
    if (leaf != 0xb && leaf != 0x1f) CHECK(r.rdx == want->edx);
    CHECK(r.rsi == 0x5151515151515151ull);
    CHECK(r.cf);
    CHECK(r.zf);
    if (leaf == 0) CHECK(r.rbx == 0x12345678);  // from the table, not the CPU
  }
}

TEST_CASE("cpuid site patch: a function's cpuid jumps to a stub that looks the answer up") {
  // f(leaf=edi, subleaf=esi, out=rdx): push rbx; mov r8,rdx; mov eax,edi; mov ecx,esi; cpuid;
  // mov [r8],eax; mov [r8+4],ebx; mov [r8+8],ecx; mov [r8+12],edx; pop rbx; ret
  const std::vector<uint8_t> f = {0x53, 0x49, 0x89, 0xd0, 0x89, 0xf8, 0x89, 0xf1, 0x0f, 0xa2, 0x41, 0x89, 0x00,
                                  0x41, 0x89, 0x58, 0x04, 0x41, 0x89, 0x48, 0x08, 0x41, 0x89, 0x50, 0x0c, 0x5b, 0xc3};
  const size_t cpuid_at = 8;
  auto entries = build_cpuid_table(host_cpuid);
  for (auto& e : entries) {
    if (e.leaf == 0) e.regs.ebx = 0x12345678;
  }
  auto table_bytes = serialize_cpuid_table(entries);
  Page mem(3 * 4096 + table_bytes.size());
  uint8_t* code = mem.p;
  uint8_t* stubs = mem.p + 4096;
  uint8_t* table = mem.p + 2 * 4096;
  std::memcpy(code, f.data(), f.size());
  std::memcpy(table, table_bytes.data(), table_bytes.size());

  patcher::CodeWindow w;
  w.addr = reinterpret_cast<uint64_t>(code);
  w.bytes = f;
  w.from_symbol = true;
  REQUIRE(patcher::find_cpuids(w) == std::vector<uint64_t>{w.addr + cpuid_at});
  const uint64_t table_addr = reinterpret_cast<uint64_t>(table);
  auto plan = patcher::plan_cpuid_site(w, w.addr + cpuid_at, reinterpret_cast<uint64_t>(stubs),
                                       [&](uint64_t) { return cpuid_lookup_sequence(table_addr); });
  REQUIRE(std::holds_alternative<patcher::SitePatch>(plan));
  const auto& p = std::get<patcher::SitePatch>(plan);
  CHECK(p.displaced_lo == w.addr + cpuid_at);  // "after": cpuid and the mov after it
  CHECK(p.displaced_hi == w.addr + cpuid_at + 5);
  CHECK(p.stub_bytes.size() == kCpuidLookupBytes + 3 + 5);  // no rcx fix-up after the lookup
  std::memcpy(stubs, p.stub_bytes.data(), p.stub_bytes.size());
  std::memcpy(code + (p.patch_addr - w.addr), p.patch_bytes.data(), p.patch_bytes.size());
  CHECK(code[cpuid_at] == 0xe9);

  auto fn = reinterpret_cast<void (*)(uint32_t, uint32_t, uint32_t*)>(code);
  for (auto [leaf, subleaf] : std::vector<std::pair<uint32_t, uint32_t>>{{0, 0}, {4, 1}, {7, 0}, {0xd, 1}, {0x40000000, 0}}) {
    INFO("leaf " << std::hex << leaf);
    uint32_t out[4] = {};
    fn(leaf, subleaf, out);
    auto want = cpuid_table_lookup(table_bytes.data(), table_bytes.size(), leaf, subleaf);
    if (!want) want = host_cpuid(leaf, subleaf);
    CHECK(out[0] == want->eax);
    CHECK(out[1] == want->ebx);
    CHECK(out[2] == want->ecx);
    CHECK(out[3] == want->edx);
  }
}
