// Just enough ELF reading to vet a program before recording it.
#pragma once

#include <string>

namespace rrx {

struct ElfSummary {
  enum class Kind { Elf64X86_64, Elf32, OtherArch, Script, NotExecutable } kind;
  std::string interpreter;  // PT_INTERP, empty for static programs
  bool is_static = false;
};

// Throws rrx::Error when the file cannot be read.
ElfSummary inspect_program(const std::string& path);

// Resolves PROG like execvp would ($PATH search when it has no '/').
// Returns empty when not found.
std::string find_program(const std::string& prog);

}  // namespace rrx
