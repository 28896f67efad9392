#include "core/initial_stack.h"

#include <elf.h>

#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "core/error.h"
#include "core/proc_maps.h"
#include "core/ptrace_task.h"

namespace rrx {

uint64_t mapping_end(int pid, uint64_t addr) {
  auto m = proc_mapping_bounds(pid, addr);
  return m ? m->second : 0;
}

InitialStack InitialStack::read(Task& task, uint64_t sp) {
  InitialStack s;
  s.sp = sp;
  uint64_t top = mapping_end(task.tid(), sp);
  if (top == 0 || top - sp > (64u << 20)) throw Error("cannot find the stack of the new program");
  s.bytes.resize(top - sp);
  if (!task.read_exact(sp, s.bytes.data(), s.bytes.size())) throw Error("cannot read the initial stack");
  auto word = [&](size_t off) -> uint64_t {
    if (off + 8 > s.bytes.size()) throw Error("malformed initial stack");
    uint64_t v;
    std::memcpy(&v, s.bytes.data() + off, 8);
    return v;
  };
  auto str_at = [&](uint64_t addr) -> std::string {
    if (addr < sp || addr >= top) return {};
    const char* p = s.bytes.data() + (addr - sp);
    return std::string(p, strnlen(p, static_cast<size_t>(top - addr)));
  };
  uint64_t argc = word(0);
  size_t off = 8;
  for (uint64_t i = 0; i < argc; ++i, off += 8) s.argv.push_back(str_at(word(off)));
  off += 8;                         // argv NULL
  while (word(off) != 0) off += 8;  // envp
  off += 8;
  s.auxv_offset = off;
  for (;;) {
    uint64_t type = word(off);
    uint64_t val = word(off + 8);
    off += 16;
    if (type == AT_RANDOM) s.at_random = val;
    if (type == AT_NULL) break;
  }
  s.auxv_size = off - s.auxv_offset;
  return s;
}

std::string InitialStack::at_random_bytes() const {
  if (at_random < sp || at_random + 16 > sp + bytes.size()) return {};
  return bytes.substr(at_random - sp, 16);
}

}  // namespace rrx
