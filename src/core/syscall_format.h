// strace-style rendering of recorded syscalls, for `rrx dump` and divergence reports.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/syscall_table.h"

namespace rrx::sys {

struct RecordedCall {
  int64_t nr = 0;
  uint64_t args[6] = {};
  int64_t ret = 0;
  bool has_ret = true;  // false for an entry without its exit yet
  bool i386 = false;    // made with `int $0x80`: nr is an i386 number, args the 32-bit registers
  std::vector<std::pair<int, std::string>> strings;       // arg index -> string read at entry
  std::vector<std::pair<uint64_t, std::string>> writes;   // addr -> bytes the kernel wrote
};

// "openat(AT_FDCWD, \"/etc/ld.so.cache\", O_RDONLY|O_CLOEXEC) = 3"
// "read(3, \"\\177ELF\\2\\1\\1\"..., 832) = 832"
// "openat(AT_FDCWD, \"/nope\", O_RDONLY) = -1 ENOENT (No such file or directory)"
std::string format_call(const RecordedCall& call);

// One argument as format_call shows it.
std::string format_arg(const RecordedCall& call, int index);

// "ENOENT"
std::string errno_name(int err);
// A C string literal of at most `max` bytes, strace-escaped, with "..." when cut.
std::string quote_bytes(const std::string& bytes, size_t max = 32);
// Name of a signal: "SIGSEGV".
std::string signal_name(int signo);

}  // namespace rrx::sys
