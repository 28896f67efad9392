// rdtsc recording where the trap does not work: the probe (core/tsc_trap.h)
// and the search for rdtsc/rdtscp instructions by decoding
// (insn_scan::find_tsc_insns, scan_tsc_file) that the patched sites use
// (record/tsc_sites.h).
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <x86intrin.h>

#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include "core/elf_file.h"
#include "core/tsc_trap.h"
#include "record/insn_scan/insn_scan.h"
#include "record/tsc_sites.h"

using rrx::ElfFunction;
using rrx::insn_scan::find_tsc_insns;
using rrx::insn_scan::scan_tsc_file;

namespace {

// What the kernel does, asked in a child: true when its rdtsc faults.
bool child_rdtsc_faults() {
  pid_t pid = fork();
  if (pid == 0) {
    signal(SIGSEGV, SIG_DFL);
    prctl(PR_SET_TSC, PR_TSC_SIGSEGV, 0, 0, 0);
    volatile unsigned long long v = __rdtsc();
    (void)v;
    _exit(0);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV;
}

std::vector<uint8_t> file_bytes(const std::string& path, uint64_t offset, size_t len) {
  std::ifstream f(path, std::ios::binary);
  f.seekg(static_cast<std::streamoff>(offset));
  std::vector<uint8_t> b(len);
  f.read(reinterpret_cast<char*>(b.data()), static_cast<std::streamsize>(len));
  return b;
}

}  // namespace

TEST_CASE("the rdtsc trap probe says what the kernel does and leaves the thread as it was") {
  struct sigaction before {};
  sigaction(SIGSEGV, nullptr, &before);
  const bool works = rrx::probe_tsc_trap();
  CHECK(works == child_rdtsc_faults());
  int mode = 0;
  REQUIRE(prctl(PR_GET_TSC, &mode, 0, 0, 0) == 0);
  CHECK(mode == PR_TSC_ENABLE);
  struct sigaction after {};
  sigaction(SIGSEGV, nullptr, &after);
  CHECK(after.sa_handler == before.sa_handler);
  CHECK(after.sa_flags == before.sa_flags);
  CHECK(__rdtsc() != 0);  // no trap left on
  CHECK(rrx::probe_tsc_trap() == works);  // and again
}

TEST_CASE("tsc scan finds rdtsc and rdtscp by decoding their function") {
  const std::vector<uint8_t> code = {
      0x55,                          // 0: push rbp
      0x0f, 0x31,                    // 1: rdtsc
      0xb8, 0x0f, 0x31, 0x00, 0x00,  // 3: mov eax, 0x310f (rdtsc's bytes in an immediate)
      0x0f, 0x01, 0xf9,              // 8: rdtscp
      0x48, 0x8d, 0x05, 0x0f, 0x01, 0xf9, 0x00,  // 11: lea rax, [rip+0xf9010f] (rdtscp's bytes in a displacement)
      0xc3,                          // 18: ret
      0x0f, 0x31,                    // 19: outside every function: not decoded, left alone
  };
  const uint64_t base = 0x401000;
  const std::vector<ElfFunction> functions = {{base, 19, true}};
  auto s = find_tsc_insns(code.data(), code.size(), base, functions);
  REQUIRE(s.found.size() == 2);
  CHECK(s.found[0].elf_addr == base + 1);
  CHECK(s.found[0].bytes == std::vector<uint8_t>{0x0f, 0x31});
  CHECK_FALSE(s.found[0].rdtscp);
  CHECK(s.found[1].elf_addr == base + 8);
  CHECK(s.found[1].bytes == std::vector<uint8_t>{0x0f, 0x01, 0xf9});
  CHECK(s.found[1].rdtscp);
  REQUIRE(s.unconfirmed.size() == 1);
  CHECK(s.unconfirmed[0].elf_addr == base + 19);
}

TEST_CASE("tsc scan refuses a 0f 31 pair that is no instruction start, whatever function holds it") {
  // Both patterns inside one instruction's immediate: the decoding from the
  // function's start reaches them inside the movabs, so neither is an
  // instruction, and neither is left as unconfirmed either.
  const std::vector<uint8_t> code = {
      0x48, 0xb8, 0x0f, 0x31, 0x0f, 0x01, 0xf9, 0x0f, 0x31, 0x90,  // 0: movabs rax, imm64 holding both patterns
      0xc3,                                                        // 10: ret
  };
  const std::vector<ElfFunction> functions = {{0x1000, code.size(), true}};
  auto s = find_tsc_insns(code.data(), code.size(), 0x1000, functions);
  CHECK(s.found.empty());
  CHECK(s.unconfirmed.empty());
  // The innermost extent decides: an outer one starting mid-instruction
  // is not used when an inner one holds the candidate.
  const std::vector<uint8_t> two = {0x90, 0x0f, 0x31, 0xc3};
  const std::vector<ElfFunction> nested = {{0x2000, 4, true}, {0x2001, 3, true}};
  auto n = find_tsc_insns(two.data(), two.size(), 0x2000, nested);
  REQUIRE(n.found.size() == 1);
  CHECK(n.found[0].elf_addr == 0x2001);
}

TEST_CASE("tsc scan of real files: ld.so's rdtsc, and a program's rdtsc and rdtscp") {
  const std::string ldso = "/lib64/ld-linux-x86-64.so.2";
  auto l = scan_tsc_file(ldso);
  CHECK(!l.found.empty());  // HP_TIMING in _dl_start and the rtld statistics
  for (const auto& x : l.found) {
    CHECK(file_bytes(ldso, x.file_offset, x.bytes.size()) == x.bytes);
    CHECK(x.bytes == (x.rdtscp ? std::vector<uint8_t>{0x0f, 0x01, 0xf9} : std::vector<uint8_t>{0x0f, 0x31}));
  }
  const std::string prog = std::string(RRX_TEST_PROGRAMS_DIR) + "/rdtsc";
  auto p = scan_tsc_file(prog);
  int rdtsc = 0, rdtscp = 0;
  for (const auto& x : p.found) {
    CHECK(file_bytes(prog, x.file_offset, x.bytes.size()) == x.bytes);
    (x.rdtscp ? rdtscp : rdtsc)++;
  }
  CHECK(rdtsc >= 1);  // (its inline functions, as built: one of each, or more)
  CHECK(rdtscp >= 1);
  CHECK(p.unconfirmed.empty());
  // libc: whatever it holds is decoded; not an ELF file: nothing, no error.
  for (const auto& x : scan_tsc_file("/lib/x86_64-linux-gnu/libc.so.6").found) {
    CHECK((x.bytes.back() == 0x31 || x.bytes.back() == 0xf9));
  }
  CHECK(scan_tsc_file("/proc/self/cmdline").found.empty());
  CHECK(rrx::record::tsc_patch_bytes(3) == std::vector<uint8_t>{0xf4, 0x90, 0x90});
}
