// The stack the kernel builds at exec: argc, argv, envp, auxv, strings.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace rrx {

class Task;

struct InitialStack {
  uint64_t sp = 0;         // address of argc
  std::string bytes;       // memory from sp to the top of the stack mapping
  std::vector<std::string> argv;
  size_t auxv_offset = 0;  // offset of auxv in bytes
  size_t auxv_size = 0;    // bytes, including AT_NULL
  uint64_t at_random = 0;  // address of the 16 AT_RANDOM bytes, 0 if absent

  // Reads the stack of a task stopped right after exec. Throws rrx::Error.
  static InitialStack read(Task& task, uint64_t sp);
  std::string auxv() const { return bytes.substr(auxv_offset, auxv_size); }
  std::string at_random_bytes() const;
};

// End address of the mapping containing addr, from /proc/PID/maps; 0 if none.
uint64_t mapping_end(int pid, uint64_t addr);

}  // namespace rrx
