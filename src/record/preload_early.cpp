// The recorder's early set-up of the syscall buffer: see preload_early.h.
#include "record/preload_early.h"

#include <sys/mman.h>
#include <sys/syscall.h>

#include <cstddef>
#include <cstring>

#include "core/elf_file.h"
#include "core/error.h"
#include "core/remote_syscall.h"
#include "core/syscallbuf_abi.h"
#include "record/site_patch.h"

namespace rrx::record {

std::optional<uint64_t> hook_table_address(const std::string& path) {
  try {
    for (const NamedElfFunction& f : function_symbols(path)) {
      if (f.name == "rrx_hook_table" && f.size == sizeof(rrx_hook_table)) return f.addr;
    }
  } catch (const Error&) {
  }
  return std::nullopt;
}

namespace {

template <typename T>
std::vector<uint8_t> bytes_of(const T& v) {
  std::vector<uint8_t> out(sizeof v);
  std::memcpy(out.data(), &v, sizeof v);
  return out;
}

}  // namespace

std::optional<EarlySetup> set_up_early(Task& task, uint64_t bias, uint64_t table, std::vector<siginfo_t>* signals) {
  rrx_hook_table t{};
  const uint64_t table_addr = bias + table;
  if (!task.read_exact(table_addr, &t, sizeof t) || t.magic != RRX_HOOK_TABLE_MAGIC || t.early != 0) return std::nullopt;
  EarlySetup e;
  e.inject_at = table_addr;  // (the library's code: remote_syscall puts its instruction back)
  e.map_addr = RRX_EARLY_MAP_ADDR;
  e.map_len = RRX_EARLY_MAP_BYTES;
  e.code_addr = RRX_PAGE_ADDR;
  e.code_len = RRX_PAGE_SIZE;
  const int64_t got = remote_syscall(task, e.inject_at, SYS_mmap,
                                     {e.map_addr, e.map_len, PROT_READ | PROT_WRITE,
                                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, static_cast<uint64_t>(-1), 0},
                                     nullptr, signals, true);
  if (got != static_cast<int64_t>(e.map_addr)) {
    if (got > 0) remote_syscall(task, e.inject_at, SYS_munmap, {static_cast<uint64_t>(got), e.map_len}, nullptr, signals);
    return std::nullopt;
  }
  if (remote_syscall(task, e.inject_at, SYS_mprotect, {e.code_addr, e.code_len, PROT_READ | PROT_EXEC}, nullptr,
                     signals, true) != 0) {
    remote_syscall(task, e.inject_at, SYS_munmap, {e.map_addr, e.map_len}, nullptr, signals);
    return std::nullopt;
  }
  // The rrx page as the library's constructor writes it.
  // (The recording-only instruction as the replay has it: the desched event comes at the constructor.)
  std::vector<uint8_t> page(RRX_ALT_STACK_SLOT_OFFSET + 8, 0);
  rrx_write_page_insns(page.data());
  const uint64_t slots[3] = {table_addr + t.entry, table_addr + t.entry_return, table_addr + t.entry_end};
  std::memcpy(&page[RRX_HOOK_ENTRY_SLOT_OFFSET], &slots[0], 8);
  std::memcpy(&page[RRX_HOOK_RETURN_SLOT_OFFSET], &slots[1], 8);
  std::memcpy(&page[RRX_HOOK_END_SLOT_OFFSET], &slots[2], 8);
  e.writes.emplace_back(RRX_PAGE_ADDR, std::move(page));
  // The thread's early thread-locals and buffer.
  rrx_thread_locals tl{};
  tl.buffer = RRX_EARLY_BUFFER_ADDR;
  tl.state = RRX_TL_BUFFERED;
  e.writes.emplace_back(RRX_EARLY_TL_ADDR, bytes_of(tl));
  rrx_buffer_header h;
  rrx_init_buffer_header(&h, RRX_BUFFER_BYTES);
  e.writes.emplace_back(RRX_EARLY_BUFFER_ADDR, bytes_of(h));
  e.buffer = RRX_EARLY_BUFFER_ADDR;
  const uint64_t early_tl = RRX_EARLY_TL_ADDR;
  e.writes.emplace_back(RRX_EARLY_TL_SLOT, bytes_of(early_tl));
  // Last: the library's constructor takes the pages as set up.
  const uint64_t yes = 1;
  e.writes.emplace_back(table_addr + offsetof(rrx_hook_table, early), bytes_of(yes));
  for (const auto& [addr, data] : e.writes) {
    if (!task.write_mem(addr, data.data(), data.size())) {
      throw Error("cannot write the syscall buffer's early set-up into thread " + std::to_string(task.tid()));
    }
  }
  return e;
}

std::optional<EarlySetup> end_early(Task& task) {
  uint64_t slot = 0;
  if (!task.read_exact(RRX_EARLY_TL_SLOT, &slot, sizeof slot) || slot == 0) return std::nullopt;
  EarlySetup e;
  const uint64_t zero = 0;
  e.writes.emplace_back(RRX_EARLY_TL_SLOT, bytes_of(zero));
  if (!task.write_mem(RRX_EARLY_TL_SLOT, &zero, sizeof zero)) return std::nullopt;
  return e;
}

void fill_preload_early(schema::PreloadEarly::Builder b, const EarlySetup& e) {
  b.setInjectAt(e.inject_at);
  b.setMapAddr(e.map_addr);
  b.setMapLen(e.map_len);
  b.setCodeAddr(e.code_addr);
  b.setCodeLen(e.code_len);
  b.setBuffer(e.buffer);
  fill_mem_writes(b.initWrites(static_cast<unsigned>(e.writes.size())), e.writes);
}

}  // namespace rrx::record
