// Finding the instructions whose results rrx cannot record on a machine
// without CPUID faulting (rdrand, rdseed) in machine code, with the Zydis
// decoder. The recorder's fallback (random_insns.h) uses it on every
// executable file mapping; a library of its own so that only it needs Zydis.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/elf_file.h"

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

// rdtsc (0f 31) and rdtscp (0f 01 f9) instructions, for the recorder's
// patched sites where the rdtsc trap does not work (record/tsc_sites.h).
struct TscInsn {
  uint64_t file_offset;  // its first byte (prefixes included)
  uint64_t elf_addr;
  std::vector<uint8_t> bytes;  // the instruction as the file has it
  bool rdtscp;
};
struct TscScan {
  std::vector<TscInsn> found;
  // Byte pairs that no known function's decoding reaches (no function
  // extent holds them, or its decoding stops before them): perhaps an
  // rdtsc, perhaps data; left alone and reported. file_offset as for found.
  std::vector<TscInsn> unconfirmed;
};
// In `code` (whose first byte has ELF address `addr`), with the file's
// function extents `functions` (rrx::function_ranges: sorted by address):
// every candidate byte sequence is decoded from the start of the innermost
// extent holding it; an instruction that starts there (or at its prefixes)
// and is rdtsc/rdtscp is found, a candidate inside another instruction (an
// immediate, a displacement) is not. file_offset is left 0.
TscScan find_tsc_insns(const uint8_t* code, size_t len, uint64_t addr, const std::vector<ElfFunction>& functions);
// The same over an ELF file's code (code_ranges()). Throws rrx::Error when
// the file cannot be read.
TscScan scan_tsc_file(const std::string& path);

}  // namespace rrx::insn_scan
