// The in-process cpuid answers of a recording with CPUID faulting: a table of
// rrx's answers (recorded_cpuid) that the recorder maps into each process at
// exec, and the lookup code that a patched cpuid site runs instead of the
// instruction (record/cpuid_sites.h). The replay only writes the recorded bytes.
//
// Table layout: entries of 32 bytes, little-endian u32 fields
//   -leaf, -subleaf, exact, more, eax, ebx, ecx, edx
// in the order the lookup scans them (negated keys and zero tests: the
// lookup compares with lea and jrcxz, which leave rflags alone); exact 0:
// the entry answers any subleaf (a leaf the CPU answers the same whatever
// ecx says); more 0: the end. The first matching entry wins; none: the
// sequence executes a real cpuid (which traps and is answered and recorded
// as before).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "core/cpuid_trap.h"

namespace rrx {

inline constexpr uint32_t kCpuidAnySubleaf = 1;  // CpuidTableEntry::flags
inline constexpr size_t kCpuidEntryBytes = 32;

struct CpuidTableEntry {
  uint32_t leaf = 0, subleaf = 0, flags = 0;
  CpuidRegs regs;
};

using CpuidSource = std::function<CpuidRegs(uint32_t leaf, uint32_t subleaf)>;

// The entries for every basic and extended leaf up to the CPU's maxima: one
// kCpuidAnySubleaf entry for a leaf whose answers do not depend on ecx, else
// one per subleaf up to the leaf's natural end (leaf 4 until its null cache
// type, leaf 7 up to the count it gives, 0xd up to 63...). `source` answers
// (recorded_cpuid for the recorder; a fake CPU in tests).
std::vector<CpuidTableEntry> build_cpuid_table(const CpuidSource& source);

// The table's bytes, end entry included.
std::vector<uint8_t> serialize_cpuid_table(const std::vector<CpuidTableEntry>& entries);

// The entries of table bytes, up to the end (for rrx dump).
std::vector<CpuidTableEntry> parse_cpuid_table(const uint8_t* table, size_t len);

// What the lookup code answers from table bytes (nullopt: it executes cpuid).
std::optional<CpuidRegs> cpuid_table_lookup(const uint8_t* table, size_t len, uint32_t leaf, uint32_t subleaf);

// The lookup sequence for a table at `table_addr`, position independent
// (kCpuidLookupBytes long). Contract of a patched cpuid (patcher.h's
// HookSequence for a cpuid site): on entry every register is as at the
// cpuid; it leaves rax, rbx, rcx, rdx as cpuid would (32-bit values,
// zero-extended), every other register and rflags unchanged, and falls
// through to its end. It uses 8 bytes of stack below the 128-byte red zone
// and no instruction that reads or writes rflags.
std::vector<uint8_t> cpuid_lookup_sequence(uint64_t table_addr);
inline constexpr size_t kCpuidLookupBytes = 89;
// The offset of the real cpuid in the sequence (the miss path).
inline constexpr size_t kCpuidLookupMissCpuid = 87;

}  // namespace rrx
