// The Zydis-based rdrand/rdseed search (src/record/insn_scan): decoding,
// not byte matching, and ELF code sections of a real program.
#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "record/insn_scan/insn_scan.h"

using rrx::insn_scan::find_random_insns;

TEST_CASE("insn scan finds rdrand and rdseed among other instructions") {
  const std::vector<uint8_t> code = {
      0x48, 0x89, 0xe5,              // 0: mov rbp, rsp
      0x0f, 0xc7, 0xf0,              // 3: rdrand eax
      0x90,                          // 6: nop
      0x48, 0x0f, 0xc7, 0xf8,        // 7: rdseed rax
      0x66, 0x0f, 0xc7, 0xf1,        // 11: rdrand cx
      0x0f, 0xc7, 0x0e,              // 15: cmpxchg8b [rsi] (same opcode, /1 with memory)
      0xb8, 0x0f, 0xc7, 0xf0, 0x00,  // 18: mov eax, 0xf0c70f (rdrand's bytes inside an immediate)
      0xc3,                          // 23: ret
  };
  auto found = find_random_insns(code.data(), code.size());
  REQUIRE(found.size() == 3);
  CHECK(found[0].offset == 3);
  CHECK(std::string(found[0].mnemonic) == "rdrand");
  CHECK(found[1].offset == 7);
  CHECK(std::string(found[1].mnemonic) == "rdseed");
  CHECK(found[2].offset == 11);
  CHECK(std::string(found[2].mnemonic) == "rdrand");
}

TEST_CASE("insn scan steps over undecodable bytes and truncated instructions") {
  const std::vector<uint8_t> code = {0x06, 0x0f, 0xc7, 0xf3, 0x0f, 0xc7};  // invalid in 64-bit; rdrand ebx; cut
  auto found = find_random_insns(code.data(), code.size());
  REQUIRE(found.size() == 1);
  CHECK(found[0].offset == 1);
  CHECK(find_random_insns(code.data(), 0).empty());
}

TEST_CASE("insn scan of an ELF file reports the rdrand of its code with its ELF address") {
  std::string path = std::string(RRX_TEST_PROGRAMS_DIR) + "/rdrand_guarded";
  auto sites = rrx::insn_scan::scan_file(path);
  REQUIRE(sites.size() == 1);
  CHECK(sites[0].mnemonic == "rdrand");
  bool in_code = false;
  for (const auto& r : rrx::insn_scan::code_ranges(path)) {
    if (sites[0].file_offset >= r.file_offset && sites[0].file_offset < r.file_offset + r.size) {
      in_code = sites[0].elf_addr == r.addr + (sites[0].file_offset - r.file_offset);
    }
  }
  CHECK(in_code);
  // Not an ELF file: nothing, no error.
  CHECK(rrx::insn_scan::scan_file("/proc/self/cmdline").empty());
}
