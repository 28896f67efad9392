// Finding the instructions whose results rrx cannot record on a machine
// without CPUID faulting (rdrand, rdseed) in machine code, with the Zydis
// decoder. The recorder's fallback (random_insns.h) uses it on every
// executable file mapping; a library of its own so that only it needs Zydis.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace rrx::insn_scan {

struct Found {
  size_t offset;         // from the start of the buffer
  const char* mnemonic;  // "rdrand" or "rdseed"
};

// Decodes x86-64 code from its first byte on (a linear sweep, as objdump
// does); a byte that starts no valid instruction is stepped over.
std::vector<Found> find_random_insns(const uint8_t* code, size_t len);

// A part of an ELF file that holds code: the SHF_EXECINSTR sections, or
// the PF_X PT_LOAD segments of a file without section headers.
struct CodeRange {
  uint64_t file_offset;
  uint64_t size;
  uint64_t addr;  // its ELF virtual address
};
// Empty for a file that is not a 64-bit ELF file. Throws rrx::Error when it
// cannot be read.
std::vector<CodeRange> code_ranges(const std::string& path);

struct Site {
  std::string mnemonic;
  uint64_t file_offset;
  uint64_t elf_addr;  // as objdump and addr2line show it
};
// Every rdrand and rdseed in the file's code, by file offset.
std::vector<Site> scan_file(const std::string& path);
// Changes whenever scan_file may find other sites in the same file: what
// it found is remembered across recordings under this version
// (record/insn_site_cache.h).
constexpr unsigned kScanVersion = 1;

// The file offsets of every `0f a2` (cpuid) byte pair in the file's code:
// candidates only, since the pair may lie inside another instruction; the
// cpuid patcher (record/cpuid_sites.h) keeps those a decoding of their
// function confirms. Throws rrx::Error when the file cannot be read.
std::vector<uint64_t> cpuid_candidates(const std::string& path);

}  // namespace rrx::insn_scan
