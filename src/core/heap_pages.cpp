#include "core/heap_pages.h"

#include <malloc.h>
#include <sys/mman.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

namespace rrx {

namespace {

// THP for madvised memory: "[always]" or "[madvise]" in the kernel's setting.
bool kernel_offers_huge_pages() {
  std::ifstream f("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string line;
  if (!std::getline(f, line)) return false;
  return line.find("[always]") != std::string::npos || line.find("[madvise]") != std::string::npos;
}

}  // namespace

void heap_on_huge_pages(size_t reserve) {
  // Blocks up to 16 MiB come from the heap, and freed memory stays in it:
  // the pages once faulted in are used again (a flush of a full syscall
  // buffer, then thousands of event messages; a chunk's buffer), rather
  // than given back to the kernel and faulted in anew.
  ::mallopt(M_MMAP_THRESHOLD, 16 << 20);
  ::mallopt(M_TRIM_THRESHOLD, 256 << 20);
  if (const char* v = std::getenv("RRX_HUGE_HEAP"); v && std::strcmp(v, "0") == 0) return;
  if (!kernel_offers_huge_pages()) return;
  // Threads allocate from the same heap (the trace writer's and reader's
  // chunk buffers): a thread's own arena would be ordinary pages.
  ::mallopt(M_ARENA_MAX, 1);
  ::mallopt(M_MMAP_THRESHOLD, 32 << 20);  // (for the reserve: the most glibc takes from the heap)
  // The heap grows over `reserve` bytes now; the kernel marks that range
  // for huge pages, and free() leaves it to later allocations as the heap's
  // top. (Growing the heap later makes a new range without the mark.)
  void* block = std::malloc(reserve);
  if (block == nullptr) return;
  constexpr uintptr_t kHuge = uintptr_t{2} << 20;
  const uintptr_t from = (reinterpret_cast<uintptr_t>(block) + kHuge - 1) & ~(kHuge - 1);
  const uintptr_t to = (reinterpret_cast<uintptr_t>(block) + reserve) & ~(kHuge - 1);
  if (to > from) ::madvise(reinterpret_cast<void*>(from), to - from, MADV_HUGEPAGE);
  std::free(block);
  ::mallopt(M_MMAP_THRESHOLD, 16 << 20);
}

}  // namespace rrx
