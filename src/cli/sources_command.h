// `rrx sources [TRACE]`: the source files that the debug info (DWARF) of
// the recorded binaries names, marked present or missing on this machine,
// so a trace from CI can be debugged with the right sources at hand.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace rrx::cli {

// The source files one ELF file's DWARF names: each compilation unit's
// DW_AT_name and the file names of its line table, made absolute with its
// DW_AT_comp_dir (when that is absolute) and lexically normal. Looks for the DWARF in the file,
// then in the host's /usr/lib/debug/.build-id/ for its build id.
struct DebugSources {
  bool elf = false;         // false: not an ELF file (a data file the program mapped)
  bool has_dwarf = false;   // false: no debug info found for it
  std::vector<std::string> files;  // sorted, unique
};
DebugSources debug_sources(const std::filesystem::path& elf_file);

int list_sources(const std::string& trace);

}  // namespace rrx::cli
