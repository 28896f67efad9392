#include "core/heap_pages.h"

#include <malloc.h>
#include <sys/mman.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "core/whole_file.h"

namespace rrx {

namespace {

// THP for madvised memory: "[always]" or "[madvise]" in the kernel's setting.
bool kernel_offers_huge_pages() {
  auto mode = read_whole_file("/sys/kernel/mm/transparent_hugepage/enabled");
  return mode && (mode->find("[always]") != std::string::npos || mode->find("[madvise]") != std::string::npos);
}

// The heap grown over `reserve` bytes, marked for huge pages, and left as
// its top for later allocations (see heap_pages.h).
void reserve_huge_heap(size_t reserve) {
  // Threads allocate from the same heap (the trace writer's and reader's
  // chunk buffers): a thread's own arena would be ordinary pages.
  ::mallopt(M_ARENA_MAX, 1);
  ::mallopt(M_MMAP_THRESHOLD, 32 << 20);  // (for the reserve: the most glibc takes from the heap)
  void* block = std::malloc(reserve);
  if (block == nullptr) return;
  constexpr uintptr_t kHuge = uintptr_t{2} << 20;
  const uintptr_t from = (reinterpret_cast<uintptr_t>(block) + kHuge - 1) & ~(kHuge - 1);
  const uintptr_t to = (reinterpret_cast<uintptr_t>(block) + reserve) & ~(kHuge - 1);
  if (to > from) ::madvise(reinterpret_cast<void*>(from), to - from, MADV_HUGEPAGE);
  std::free(block);  // (no trimming: it stays the heap's top)
}

}  // namespace

void heap_on_huge_pages(size_t reserve) {
  // Freed memory stays in the heap: the pages once faulted in are used
  // again (a flush of a full syscall buffer, then thousands of event
  // messages; a chunk's buffer), rather than given back to the kernel and
  // faulted in anew. (Growing the heap later makes a range without the
  // huge-page mark: hence the reserve, first.)
  ::mallopt(M_TRIM_THRESHOLD, 256 << 20);
  const char* off = std::getenv("RRX_HUGE_HEAP");
  if (!(off && std::strcmp(off, "0") == 0) && kernel_offers_huge_pages()) reserve_huge_heap(reserve);
  // Blocks up to 16 MiB come from the heap.
  ::mallopt(M_MMAP_THRESHOLD, 16 << 20);
}

}  // namespace rrx
