// Just enough ELF reading to vet a program before recording it, and to
// know where its functions are (the site patcher decodes whole functions).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace rrx {

struct ElfSummary {
  enum class Kind { Elf64X86_64, Elf32, OtherArch, Script, NotExecutable } kind;
  std::string interpreter;  // PT_INTERP, empty for static programs
  bool is_static = false;
  // DT_NEEDED of the program's dynamic section, in order: the libraries ld.so
  // loads first, after any LD_PRELOAD (empty for static programs, or when the
  // dynamic section cannot be read).
  std::vector<std::string> needed;
};

// Throws rrx::Error when the file cannot be read.
ElfSummary inspect_program(const std::string& path);

// Resolves PROG like execvp would ($PATH search when it has no '/').
// Returns empty when not found.
std::string find_program(const std::string& prog);

// One function's extent, in ELF virtual addresses (add the load bias for
// run-time addresses).
struct ElfFunction {
  uint64_t addr;
  uint64_t size;
  bool symbol;  // from a symbol table (else an FDE, or Go's function table)
};
// Every function extent the file states: STT_FUNC symbols with a size
// (.symtab and .dynsym) and the .eh_frame FDEs (present in stripped
// libraries too: Debian's libc has no .symtab, but an FDE for nearly every
// function, including static ones and the ".cold" parts). Sorted by address
// then size; one entry per extent (a symbol's where one states it: aliases
// and an FDE that repeats a symbol's extent are one), overlapping extents
// kept. (No names: reading ~10,000 of them was most of the cost, and the
// patchers need the extents only.) Empty for a file that is not a 64-bit ELF file; damaged
// tables are ignored, never trusted past the file's end. Throws rrx::Error
// when the file cannot be read.
std::vector<ElfFunction> function_ranges(const std::string& path);
// function_ranges, remembered across rrx runs: one small binary file per
// ELF file in the user's cache (~/.cache/rrx/functions/), named by the
// file's identity (device, inode, size, mtime: core/line_cache.h's
// file_identity_key). Parsing libc's symbols and FDEs, or a large
// program's, took ~1 ms of every recording that patched a site in it. A
// damaged or cut entry is parsed again (and rewritten); no cache (no HOME)
// only means parsing each time.
std::vector<ElfFunction> function_ranges_cached(const std::string& path);

// The STT_FUNC symbols with a size of .symtab and .dynsym, with their names,
// in table order (duplicates kept): for tests and messages.
struct NamedElfFunction {
  uint64_t addr;
  uint64_t size;
  std::string name;
};
std::vector<NamedElfFunction> function_symbols(const std::string& path);

}  // namespace rrx
