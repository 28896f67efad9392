// Adds rrx's LD_PRELOAD entry to envp on the initial stack of a freshly
// exec'd image (see preload_env.h; the library removes it in its constructor).
#include "record/preload_env.h"

#include <cstring>
#include <vector>

#include "core/error.h"
#include "core/initial_stack.h"
#include "core/ptrace_task.h"
#include "core/syscallbuf_abi.h"

namespace rrx::record {

namespace {

uint64_t word_at(const std::string& bytes, size_t offset) {
  uint64_t w = 0;
  if (offset + 8 <= bytes.size()) std::memcpy(&w, bytes.data() + offset, 8);
  return w;
}

// The NUL-terminated string at `addr` when it lies in `bytes` (read from `sp`).
std::string string_at(const std::string& bytes, uint64_t sp, uint64_t addr) {
  if (addr < sp || addr - sp >= bytes.size()) return {};
  const char* s = bytes.data() + (addr - sp);
  return std::string(s, strnlen(s, bytes.size() - (addr - sp)));
}

}  // namespace

bool must_load_first(const std::string& name) {
  std::string base = name.substr(name.rfind('/') + 1);  // (npos + 1 == 0)
  return base.starts_with("libasan.so") || base.starts_with("libclang_rt.asan");
}

std::string preload_list(const std::string& library, const std::string& user_preload,
                         const std::vector<std::string>& needed) {
  std::vector<std::string> user;  // ld.so splits on spaces and colons, skips empty entries
  size_t start = 0;
  while (start <= user_preload.size()) {
    size_t end = user_preload.find_first_of(" :", start);
    if (end == std::string::npos) end = user_preload.size();
    if (end > start) user.push_back(user_preload.substr(start, end - start));
    start = end + 1;
  }
  std::string first;
  if (!user.empty()) {
    if (must_load_first(user.front())) {
      first = user.front();
      user.erase(user.begin());
    }
  } else if (!needed.empty() && must_load_first(needed.front()) &&
             needed.front().find_first_of(" :") == std::string::npos) {
    first = needed.front();  // loaded as a preload, then found again by name for DT_NEEDED
  }
  std::string out = first.empty() ? library : first + ":" + library;
  for (const auto& u : user) out += ":" + u;
  return out;
}

void add_preload_entry(Task& task, user_regs_struct& regs, const std::string& library,
                       const std::vector<std::string>& needed) {
  InitialStack stack = InitialStack::read(task, regs.rsp);
  const std::string& b = stack.bytes;
  uint64_t argc = word_at(b, 0);
  size_t envp = 8 * (argc + 2);  // offset of envp[0]
  size_t env_null = envp;
  std::string user_preload;
  for (; env_null < b.size(); env_null += 8) {
    uint64_t p = word_at(b, env_null);
    if (p == 0) break;
    std::string e = string_at(b, stack.sp, p);
    if (e.starts_with("LD_PRELOAD=")) user_preload = e.substr(11);  // ld.so takes the last
  }
  size_t table_end = stack.auxv_offset + stack.auxv_size;
  if (env_null + 8 != stack.auxv_offset || table_end > b.size()) {
    throw Error("unexpected initial stack layout at exec (argc " + std::to_string(argc) + ")");
  }
  std::string value = "LD_PRELOAD=" + preload_list(library, user_preload, needed);
  // The new table is one entry longer; after it the marker and the string.
  size_t shift = (8 + 8 + value.size() + 1 + 15) & ~size_t{15};
  uint64_t new_sp = stack.sp - shift;
  std::string block(table_end + shift, '\0');
  std::memcpy(block.data(), b.data(), env_null);
  uint64_t string_addr = new_sp + table_end + 8 + 8;
  std::memcpy(block.data() + env_null, &string_addr, 8);
  std::memcpy(block.data() + env_null + 8, b.data() + env_null, table_end - env_null);
  uint64_t marker = RRX_ENV_MARKER;
  std::memcpy(block.data() + table_end + 8, &marker, 8);
  std::memcpy(block.data() + table_end + 16, value.data(), value.size());
  if (!task.write_mem(new_sp, block.data(), block.size())) {
    throw Error("cannot write the syscall buffer's LD_PRELOAD entry into the new program's stack");
  }
  regs.rsp = new_sp;
  task.set_regs(regs);
}

}  // namespace rrx::record
