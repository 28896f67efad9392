// The syscall site patcher (src/patcher) on real glibc code and on
// synthetic sites: every `syscall` of libc.so.6 and ld-linux is planned, and
// each plan is checked by decoding its patch and stub bytes again.
#include <Zydis/Zydis.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <variant>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "core/elf_file.h"
#include "patcher/patcher.h"
#include "record/insn_scan/insn_scan.h"

namespace pt = rrx::patcher;

namespace {

const std::vector<uint8_t> kSyscall = {0x0f, 0x05};
pt::HookSequence syscall_hook() {
  return [](uint64_t) { return kSyscall; };
}

struct Decoded {
  ZydisDecodedInstruction insn;
  ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
};

bool decode(const uint8_t* p, size_t n, Decoded* d) {
  ZydisDecoder dec;
  ZydisDecoderInit(&dec, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
  return ZYAN_SUCCESS(ZydisDecoderDecodeFull(&dec, p, n, &d->insn, d->ops));
}

// The absolute address an instruction refers to through a relative branch
// operand or a RIP-relative memory operand, if any.
std::optional<uint64_t> referenced(const Decoded& d, uint64_t at) {
  for (unsigned i = 0; i < d.insn.operand_count; ++i) {
    const auto& op = d.ops[i];
    bool rel = (op.type == ZYDIS_OPERAND_TYPE_IMMEDIATE && op.imm.is_relative) ||
               (op.type == ZYDIS_OPERAND_TYPE_MEMORY && op.mem.base == ZYDIS_REGISTER_RIP);
    if (!rel) continue;
    ZyanU64 abs = 0;
    REQUIRE(ZYAN_SUCCESS(ZydisCalcAbsoluteAddress(&d.insn, &op, at, &abs)));
    return abs;
  }
  return std::nullopt;
}

bool falls_through(const Decoded& d) {
  return d.insn.meta.category != ZYDIS_CATEGORY_UNCOND_BR && d.insn.meta.category != ZYDIS_CATEGORY_RET &&
         d.insn.mnemonic != ZYDIS_MNEMONIC_HLT && d.insn.mnemonic != ZYDIS_MNEMONIC_UD2;
}

// Decodes the patch and the stub again and checks them against the original
// displaced instructions (taken from `code` at `code_addr`).
void check_plan(const pt::SitePatch& p, const uint8_t* code, uint64_t code_addr, uint64_t syscall_addr,
                const std::vector<uint8_t>& hook) {
  INFO("site " << std::hex << syscall_addr);
  REQUIRE(p.patch_addr == p.displaced_lo);
  REQUIRE(p.patch_bytes.size() == p.displaced_hi - p.displaced_lo);
  REQUIRE(p.displaced_hi - p.displaced_lo >= 5);
  REQUIRE(p.displaced_lo <= syscall_addr);
  REQUIRE(syscall_addr + 2 <= p.displaced_hi);
  CHECK(p.needs_exit_stop == (p.displaced_lo < syscall_addr));
  if (p.needs_exit_stop) CHECK(p.displaced_hi == syscall_addr + 2);
  REQUIRE(p.stub_bytes.size() <= pt::max_stub_size(hook.size()));
  Decoded d;
  REQUIRE(decode(p.patch_bytes.data(), p.patch_bytes.size(), &d));
  CHECK(d.insn.mnemonic == ZYDIS_MNEMONIC_JMP);
  CHECK(d.insn.length == 5);
  CHECK(referenced(d, p.patch_addr) == p.stub_addr);
  for (size_t i = 5; i < p.patch_bytes.size(); ++i) CHECK(p.patch_bytes[i] == 0xcc);

  uint64_t at = p.stub_addr;
  auto stub = [&](uint64_t a) { return p.stub_bytes.data() + (a - p.stub_addr); };
  auto stub_left = [&](uint64_t a) { return p.stub_bytes.size() - (a - p.stub_addr); };
  bool last_falls = true;
  for (uint64_t a = p.displaced_lo; a < p.displaced_hi;) {
    Decoded orig;
    REQUIRE(decode(code + (a - code_addr), 15, &orig));
    if (a == syscall_addr) {
      CHECK(at == p.hook_addr);
      REQUIRE(stub_left(at) >= hook.size());
      CHECK(std::equal(hook.begin(), hook.end(), stub(at)));
      at += hook.size();
      Decoded lea;
      REQUIRE(decode(stub(at), stub_left(at), &lea));
      CHECK(lea.insn.mnemonic == ZYDIS_MNEMONIC_LEA);
      CHECK(lea.ops[0].reg.value == ZYDIS_REGISTER_RCX);
      CHECK(referenced(lea, at) == syscall_addr + 2);
      at += lea.insn.length;
      last_falls = true;
    } else {
      Decoded moved;
      REQUIRE(decode(stub(at), stub_left(at), &moved));
      CHECK(moved.insn.mnemonic == orig.insn.mnemonic);
      CHECK(referenced(moved, at) == referenced(orig, a));  // targets and RIP-relative data unchanged
      if (!referenced(orig, a)) {
        CHECK(moved.insn.length == orig.insn.length);
        CHECK(std::equal(stub(at), stub(at) + moved.insn.length, code + (a - code_addr)));
      }
      at += moved.insn.length;
      last_falls = falls_through(orig);
    }
    a += orig.insn.length;
  }
  if (last_falls) {
    Decoded back;
    REQUIRE(decode(stub(at), stub_left(at), &back));
    CHECK(back.insn.mnemonic == ZYDIS_MNEMONIC_JMP);
    CHECK(referenced(back, at) == p.displaced_hi);
    at += back.insn.length;
  }
  CHECK(at == p.stub_addr + p.stub_bytes.size());
}

std::vector<uint8_t> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

struct LibraryScan {
  size_t sites = 0, after = 0, before = 0, in_function = 0, far_target_in_range = 0;
  std::map<std::string, size_t> refused;              // reason with addresses elided -> count
  std::map<std::string, std::vector<uint64_t>> named_sites;  // function name -> its sites
  std::set<uint64_t> patched;
  std::vector<std::string> refused_sites;             // "0x... in NAME"
};

// Plans every syscall of the library's code (found by a linear sweep of each
// code section, as objdump shows them) in the window choose_window gives,
// with the stub 1 MiB past the code.
LibraryScan scan_library(const std::string& path) {
  LibraryScan s;
  const std::vector<uint8_t> file = read_file(path);
  const auto functions = rrx::function_ranges(path);
  REQUIRE(!functions.empty());
  const auto symbols = rrx::function_symbols(path);
  // Every direct branch target of the whole file: what a window cannot see
  // (a ".cold" part jumping back into its function).
  std::vector<uint64_t> all_targets;
  for (const auto& r : rrx::insn_scan::code_ranges(path)) {
    REQUIRE(r.file_offset + r.size <= file.size());
    const uint8_t* code = file.data() + r.file_offset;
    for (uint64_t off = 0; off < r.size;) {
      Decoded d;
      if (!decode(code + off, r.size - off, &d)) {
        ++off;
        continue;
      }
      if (auto t = referenced(d, r.addr + off); t && d.insn.meta.branch_type != ZYDIS_BRANCH_TYPE_NONE) {
        all_targets.push_back(*t);
      }
      off += d.insn.length;
    }
  }
  std::sort(all_targets.begin(), all_targets.end());
  for (const auto& r : rrx::insn_scan::code_ranges(path)) {
    const uint8_t* code = file.data() + r.file_offset;
    pt::CodeWindow whole{r.addr, std::vector<uint8_t>(code, code + r.size)};
    const uint64_t stub_addr = r.addr + r.size + (1 << 20);
    for (uint64_t site : pt::find_syscalls(whole)) {
      ++s.sites;
      pt::WindowBounds b = pt::choose_window(functions, 0, site, r.addr, r.addr + r.size);
      REQUIRE(b.lo <= site);
      REQUIRE(site < b.hi);
      s.in_function += b.from_symbol;
      pt::CodeWindow w{b.lo, std::vector<uint8_t>(code + (b.lo - r.addr), code + (b.hi - r.addr)), b.from_symbol, b.entries};
      std::string names;
      for (const auto& f : symbols) {
        if (!f.name.empty() && f.addr <= site && site < f.addr + f.size) {
          s.named_sites[f.name].push_back(site);
          names += " " + f.name;
        }
      }
      auto plan = pt::plan_site(w, site, stub_addr, syscall_hook());
      if (auto* p = std::get_if<pt::SitePatch>(&plan)) {
        check_plan(*p, code, r.addr, site, kSyscall);
        (p->needs_exit_stop ? s.before : s.after)++;
        s.patched.insert(site);
        auto t = std::upper_bound(all_targets.begin(), all_targets.end(), p->displaced_lo);
        if (t != all_targets.end() && *t < p->displaced_hi) ++s.far_target_in_range;
      } else {
        std::string why = std::regex_replace(std::get<pt::Refusal>(plan).reason, std::regex("0x[0-9a-f]+"), "X");
        ++s.refused[why];
        char at[32];
        std::snprintf(at, sizeof at, "%#lx", static_cast<unsigned long>(site));
        s.refused_sites.push_back(at + (names.empty() ? std::string(" (no symbol)") : " in" + names));
      }
    }
  }
  return s;
}

void report(const std::string& path, const LibraryScan& s) {
  size_t refused = s.sites - s.after - s.before;
  std::printf("patcher: %s: %zu syscall sites (%zu in a known function): %zu patched after, %zu before (%.1f%%), %zu refused; "
              "%zu patched ranges hold a branch target from elsewhere in the file\n",
              path.c_str(), s.sites, s.in_function, s.after, s.before,
              s.sites ? 100.0 * double(s.after + s.before) / double(s.sites) : 0.0, refused, s.far_target_in_range);
  for (const auto& [why, n] : s.refused) std::printf("patcher:   refused %zu: %s\n", n, why.c_str());
  for (const auto& site : s.refused_sites) std::printf("patcher:   refused site %s\n", site.c_str());
}

}  // namespace

TEST_CASE("patcher plans glibc's syscall sites and its plans decode to the same instructions") {
  const std::string libc = "/lib/x86_64-linux-gnu/libc.so.6";
  LibraryScan s = scan_library(libc);
  report(libc, s);
  REQUIRE(s.sites > 100);
  // The common wrappers: every syscall site of each is patchable.
  for (const char* name : {"read", "write", "getppid", "getpid", "openat", "close", "lseek", "pread64", "pwrite64",
                           "fstatat64", "getdents64", "clock_gettime", "clock_nanosleep", "epoll_wait",
                           "poll", "futex_wait_simple"}) {
    auto it = s.named_sites.find(name);
    if (it == s.named_sites.end()) {
      if (std::string(name) == "futex_wait_simple") continue;  // not exported; covered by the fraction below
      FAIL("libc has no function " << name << " with a syscall");
    }
    for (uint64_t site : it->second) {
      INFO(name << " site " << std::hex << site);
      CHECK(s.patched.count(site) == 1);
    }
  }
  // Patched ranges must not hold a branch target from elsewhere in the file.
  CHECK(s.far_target_in_range == 0);
  CHECK(double(s.after + s.before) >= 0.8 * double(s.sites));
}

TEST_CASE("patcher plans ld.so's syscall sites") {
  const std::string ld = "/lib64/ld-linux-x86-64.so.2";
  LibraryScan s = scan_library(ld);
  report(ld, s);
  REQUIRE(s.sites > 10);
  CHECK(s.far_target_in_range == 0);
  CHECK(double(s.after + s.before) >= 0.8 * double(s.sites));
}

namespace {

constexpr uint64_t kBase = 0x400000;
constexpr uint64_t kStub = 0x500000;

std::variant<pt::SitePatch, pt::Refusal> plan(const std::vector<uint8_t>& code, uint64_t site_off,
                                               bool from_symbol = true, std::vector<uint64_t> entries = {},
                                               uint64_t stub = kStub) {
  pt::CodeWindow w{kBase, code, from_symbol, std::move(entries)};
  auto r = pt::plan_site(w, kBase + site_off, stub, syscall_hook());
  if (auto* p = std::get_if<pt::SitePatch>(&r)) check_plan(*p, code.data(), kBase, kBase + site_off, kSyscall);
  return r;
}

std::string refusal(const std::variant<pt::SitePatch, pt::Refusal>& r) {
  auto* why = std::get_if<pt::Refusal>(&r);
  UNSCOPED_INFO("refusal: " << (why ? why->reason : "(none)"));
  return why ? why->reason : "";
}

}  // namespace

TEST_CASE("patcher displaces the instructions after the syscall and relocates them") {
  const std::vector<uint8_t> code = {
      0xb8, 0x27, 0x00, 0x00, 0x00,              // 0: mov eax, 0x27
      0x0f, 0x05,                                // 5: syscall
      0x73, 0x10,                                // 7: jae +0x10 (-> 0x19)
      0x48, 0x8d, 0x3d, 0x00, 0x01, 0x00, 0x00,  // 9: lea rdi, [rip+0x100]
      0xc3,                                      // 16: ret
      0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0xc3,  // 17..27
  };
  auto r = plan(code, 5);
  REQUIRE(refusal(r).empty());
  auto& p = std::get<pt::SitePatch>(r);
  CHECK(p.displaced_lo == kBase + 5);
  CHECK(p.displaced_hi == kBase + 16);  // syscall, jae, lea: the first whole instructions covering 5 bytes
  CHECK(!p.needs_exit_stop);
  CHECK(p.displaced_before == 0);
  CHECK(p.displaced_after == 2);
  CHECK(p.hook_addr == kStub);
}

TEST_CASE("patcher takes the instructions before the syscall when those after cannot move") {
  const std::vector<uint8_t> code = {
      0xb8, 0x27, 0x00, 0x00, 0x00,  // 0: mov eax, 0x27
      0x0f, 0x05,                    // 5: syscall
      0xc3,                          // 7: ret (what follows may be another function)
      0xcc, 0xcc,
  };
  auto r = plan(code, 5);
  REQUIRE(refusal(r).empty());
  auto& p = std::get<pt::SitePatch>(r);
  CHECK(p.needs_exit_stop);
  CHECK(p.displaced_lo == kBase);
  CHECK(p.displaced_hi == kBase + 7);
  CHECK(p.displaced_before == 1);
}

TEST_CASE("patcher refuses a range that holds a branch target other than its first byte") {
  const std::vector<uint8_t> code = {
      0xb8, 0x27, 0x00, 0x00, 0x00,  // 0: mov eax, 0x27
      0x0f, 0x05,                    // 5: syscall            <- target of the jne at 13 (retry)
      0x48, 0x89, 0xc7,              // 7: mov rdi, rax      <- target of the jmp at 15
      0x48, 0x85, 0xff,              // 10: test rdi, rdi
      0x75, 0xf6,                    // 13: jne 5
      0xeb, 0xf6,                    // 15: jmp 7
      0xc3,                          // 17: ret
  };
  std::string why = refusal(plan(code, 5));
  CHECK(why.find("after: branch target 0x400007 inside the displaced range") != std::string::npos);
  CHECK(why.find("before: branch target 0x400005 inside the displaced range") != std::string::npos);
  // A jump to the first displaced byte is fine: it lands on the patch's jmp.
  std::vector<uint8_t> to_site = code;
  to_site[16] = 0xf4;  // jmp 15 -> 5
  CHECK(refusal(plan(to_site, 5)).empty());
  // A known function start counts as a target too.
  std::vector<uint8_t> no_jumps(code.begin(), code.begin() + 13);
  no_jumps.push_back(0xc3);
  CHECK(refusal(plan(no_jumps, 5)).empty());
  auto before = plan(no_jumps, 5, true, {kBase + 7});
  REQUIRE(refusal(before).empty());
  CHECK(std::get<pt::SitePatch>(before).needs_exit_stop);
  CHECK(refusal(plan(no_jumps, 5, true, {kBase + 7, kBase + 5})) ==
        "after: branch target 0x400007 inside the displaced range; before: branch target 0x400005 inside the displaced range");
}

TEST_CASE("patcher refuses a displaced call") {
  const std::vector<uint8_t> code = {
      0xe8, 0x10, 0x00, 0x00, 0x00,  // 0: call +0x10
      0x0f, 0x05,                    // 5: syscall
      0xe8, 0x10, 0x00, 0x00, 0x00,  // 7: call +0x10
      0xc3,                          // 12: ret
  };
  std::string why = refusal(plan(code, 5));
  CHECK(why == "after: displaced call at 0x400007; before: displaced call at 0x400000");
}

TEST_CASE("patcher refuses what it cannot relocate") {
  // jrcxz and loop have no rel32 form.
  const std::vector<uint8_t> jrcxz = {
      0x90,        // 0: nop
      0xe3, 0x06,  // 1: jrcxz 9
      0x0f, 0x05,  // 3: syscall
      0xe3, 0x04,  // 5: jrcxz 11
      0x90, 0x90, 0x90, 0x90, 0xc3,
  };
  std::string why = refusal(plan(jrcxz, 3));
  CHECK(why == "after: relative instruction without a rel32 form at 0x400005; "
               "before: relative instruction without a rel32 form at 0x400001");
  // A RIP-relative operand 2 GiB ahead of the site, the stub 3 MiB below it.
  const std::vector<uint8_t> riprel = {0x0f, 0x05, 0x48, 0x8b, 0x05, 0x00, 0x00, 0xf0, 0x7f, 0xc3};
  why = refusal(plan(riprel, 0, true, {}, kBase - 0x300000));
  CHECK(why.find("after: RIP-relative operand of 0x400002 out of rel32 reach") != std::string::npos);
  CHECK(refusal(plan(riprel, 0)).empty());
  // The stub itself out of reach of the site.
  CHECK(refusal(plan(riprel, 0, true, {}, kBase + (3ull << 30))).find("after: the stub is out of rel32 reach") !=
        std::string::npos);
  // Another syscall among the displaced instructions.
  const std::vector<uint8_t> twice = {0x0f, 0x05, 0x0f, 0x05, 0x90, 0x90, 0x90, 0xc3};
  CHECK(refusal(plan(twice, 0)).find("after: displaced system instruction at 0x400002") != std::string::npos);
  // Not a syscall at all.
  CHECK(refusal(plan(twice, 4)) == "no syscall instruction at 0x400004");
}

TEST_CASE("patcher refuses a function with a jump table") {
  const std::vector<uint8_t> code = {
      0xb8, 0x27, 0x00, 0x00, 0x00,  // 0: mov eax, 0x27
      0x0f, 0x05,                    // 5: syscall
      0x48, 0x89, 0xc7,              // 7: mov rdi, rax
      0xff, 0xe2,                    // 10: jmp rdx
      0xff, 0x25, 0x00, 0x10, 0x00, 0x00,  // 12: jmp [rip+0x1000] (a tail call: fine)
  };
  CHECK(refusal(plan(code, 5)).find("indirect jmp at 0x40000a may target the range") != std::string::npos);
  std::vector<uint8_t> tail_call = code;
  tail_call[10] = tail_call[11] = 0x90;
  CHECK(refusal(plan(tail_call, 5)).empty());
}

TEST_CASE("patcher refuses a range that crosses the end of the window or mapping") {
  // The site 3 bytes before the end of the executable mapping, no symbol.
  const std::vector<uint8_t> mapping = {0x90, 0x90, 0x0f, 0x05, 0x48, 0x89};  // mov rdi, rax cut by the end
  std::vector<rrx::ElfFunction> none;
  pt::WindowBounds b = pt::choose_window(none, 0, kBase + 2, kBase, kBase + mapping.size());
  CHECK(!b.from_symbol);
  CHECK(b.lo == kBase);
  CHECK(b.hi == kBase + mapping.size());
  std::string why = refusal(plan(mapping, 2, false));
  CHECK(why.find("after: the displaced range crosses the end of the window") != std::string::npos);
  // Before: the nops are unique predecessors, but three bytes are not enough and the window starts there.
  CHECK(why.find("before: no known instruction start before 0x400000") != std::string::npos);
}

TEST_CASE("patcher decodes an unsynchronized window from the site, and backwards only where unambiguous") {
  // mov eax, [rdi+8]; syscall; ret  with no symbol: the mov is the only
  // instruction that ends exactly at the syscall, so "before" works.
  const std::vector<uint8_t> code = {0xcc, 0xcc, 0xcc, 0x8b, 0x47, 0x08, 0x0f, 0x05, 0xc3, 0xcc};
  auto r = plan(code, 6, false);
  REQUIRE(refusal(r).empty());
  CHECK(std::get<pt::SitePatch>(r).displaced_lo == kBase + 3);
  // Bytes that decode two ways to end at the syscall: 48 89 c0 (mov rax, rax)
  // and 89 c0 (mov eax, eax) both end there: refused.
  const std::vector<uint8_t> ambiguous = {0x48, 0x89, 0xc0, 0x0f, 0x05, 0xc3, 0xcc};
  CHECK(refusal(plan(ambiguous, 3, false)).find("before: no known instruction start before 0x400003") !=
        std::string::npos);
  // In an unsynchronized window every byte offset is scanned for branches:
  // a jmp hidden at an offset a linear sweep would not start at still counts.
  const std::vector<uint8_t> hidden = {
      0x0f, 0x05,                    // 0: syscall
      0x48, 0x89, 0xc7,              // 2: mov rdi, rax
      0x48, 0x89, 0xc6,              // 5: mov rsi, rax
      0xc3,                          // 8: ret
      0xb8, 0xeb, 0xf6, 0x90, 0x90,  // 9: mov eax, 0x9090f6eb  (10: jmp -10 -> 2)
  };
  CHECK(refusal(plan(hidden, 0, true)).empty());
  CHECK(refusal(plan(hidden, 0, false)).find("after: branch target 0x400002") != std::string::npos);
}

TEST_CASE("patcher chooses the innermost function that holds the site") {
  std::vector<rrx::ElfFunction> fns = {
      {0x1000, 0x400, true}, {0x1100, 0x40, true}, {0x1850, 0x10, true}, {0x2000, 0x10, true}};  // outer, inner, near, other
  pt::WindowBounds b = pt::choose_window(fns, 0x7000000, 0x7001120, 0x7000000, 0x7010000);
  CHECK(b.from_symbol);
  CHECK(b.lo == 0x7001100);
  CHECK(b.hi == 0x7001140);
  b = pt::choose_window(fns, 0x7000000, 0x7001800, 0x7000000, 0x7010000, 0x100);
  CHECK(!b.from_symbol);
  CHECK(b.lo == 0x7001700);
  CHECK(b.hi == 0x7001900);
  CHECK(b.entries == std::vector<uint64_t>{0x7001850});  // a function start in the window is a branch target
  // A function that sticks out of the mapping is not trusted.
  b = pt::choose_window(fns, 0x7000000, 0x7002008, 0x7001800, 0x7002008 + 4);
  CHECK(!b.from_symbol);
  CHECK(b.hi == 0x700200c);
}

namespace {

// choose_window as the linear scans it replaced: the reference its binary
// searches must agree with.
pt::WindowBounds linear_window(const std::vector<rrx::ElfFunction>& functions, uint64_t load_bias, uint64_t site,
                               uint64_t map_lo, uint64_t map_hi, uint64_t radius = pt::kDefaultRadius) {
  const rrx::ElfFunction* best = nullptr;
  for (const rrx::ElfFunction& f : functions) {
    uint64_t lo = f.addr + load_bias;
    if (lo > site) break;
    if (site - lo >= f.size || lo < map_lo || f.size > map_hi - lo) continue;
    if (!best || f.addr > best->addr || (f.addr == best->addr && f.size < best->size)) best = &f;
  }
  pt::WindowBounds b{};
  if (best) {
    b = {best->addr + load_bias, best->addr + load_bias + best->size, true, {}};
  } else {
    b = {site - map_lo > radius ? site - radius : map_lo, map_hi - site > radius ? site + radius : map_hi, false, {}};
  }
  for (const rrx::ElfFunction& f : functions) {
    uint64_t start = f.addr + load_bias;
    if (start > b.lo && start < b.hi && (b.entries.empty() || b.entries.back() != start)) b.entries.push_back(start);
  }
  return b;
}

void check_same_window(const std::vector<rrx::ElfFunction>& fns, uint64_t bias, uint64_t site, uint64_t lo,
                       uint64_t hi) {
  pt::WindowBounds got = pt::choose_window(fns, bias, site, lo, hi);
  pt::WindowBounds want = linear_window(fns, bias, site, lo, hi);
  INFO("bias " << bias << " site " << site);
  CHECK(got.lo == want.lo);
  CHECK(got.hi == want.hi);
  CHECK(got.from_symbol == want.from_symbol);
  CHECK(got.entries == want.entries);
}

}  // namespace

TEST_CASE("choose_window's searches give what a scan of every function gives") {
  // libc's extents (symbols and FDEs: nested, shared starts, duplicates).
  auto libc = rrx::function_ranges("/lib/x86_64-linux-gnu/libc.so.6");
  REQUIRE(libc.size() > 1000);
  const uint64_t bias = 0x7ffff7d80000;
  const uint64_t end = libc.back().addr + libc.back().size;
  for (size_t i = 0; i < libc.size(); i += 37) {
    for (uint64_t d : {uint64_t{0}, uint64_t{1}, libc[i].size / 2, libc[i].size, libc[i].size + 3}) {
      check_same_window(libc, bias, libc[i].addr + d + bias, bias, bias + end);
      check_same_window(libc, bias, libc[i].addr + d + bias, libc[i].addr + bias, libc[i].addr + bias + 0x800);
    }
  }
  // Small made-up sets: equal starts, equal extents, gaps; biases that wrap
  // (a "negative" bias, and one that wraps only some of the addresses).
  uint64_t seed = 12345;
  auto next = [&]() { return seed = seed * 6364136223846793005ull + 1442695040888963407ull, seed >> 33; };
  for (int round = 0; round < 400; ++round) {
    std::vector<rrx::ElfFunction> fns;
    const size_t n = next() % 12;
    for (size_t k = 0; k < n; ++k) fns.push_back({0x1000 + (next() % 64) * 0x10, 1 + next() % 0x200, k % 3 != 0});
    std::sort(fns.begin(), fns.end(), [](auto& a, auto& b) { return std::tie(a.addr, a.size, a.symbol) < std::tie(b.addr, b.size, b.symbol); });
    for (uint64_t b : {uint64_t{0}, uint64_t{0x400000}, ~uint64_t{0} - 0x7ff, ~uint64_t{0} - 0x17ff}) {
      for (int s = 0; s < 6; ++s) {
        uint64_t site = b + 0x1000 + next() % 0x700;
        check_same_window(fns, b, site, b + 0x1000, b + 0x1800);
        check_same_window(fns, b, site, site - 0x40, site + 0x40);
      }
    }
  }
}

TEST_CASE("function_ranges reads symbols and unwind tables") {
  auto fns = rrx::function_ranges("/lib/x86_64-linux-gnu/libc.so.6");
  size_t named = 0, unnamed = 0;
  for (const auto& f : fns) (f.symbol ? named : unnamed)++;
  CHECK(named > 1000);    // .dynsym
  CHECK(unnamed > 1000);  // FDEs of static functions
  // One entry per extent.
  for (size_t i = 1; i < fns.size(); ++i) CHECK((fns[i].addr != fns[i - 1].addr || fns[i].size != fns[i - 1].size));
  const auto symbols = rrx::function_symbols("/lib/x86_64-linux-gnu/libc.so.6");
  CHECK(symbols.size() >= named);
  CHECK(std::any_of(symbols.begin(), symbols.end(), [](const auto& f) { return f.name == "malloc"; }));
  CHECK(std::is_sorted(fns.begin(), fns.end(), [](auto& a, auto& b) { return a.addr < b.addr; }));
  CHECK(rrx::function_ranges("/etc/hostname").empty());
}
