// rrx's own heap on transparent huge pages, where the kernel gives them to
// memory that asks (THP "madvise" mode, the default of many distributions).
// A replay decodes every event into a fresh heap object and each trace
// chunk into a fresh buffer, a page fault per 4 KiB touched; in a VM a
// fault costs ~10 us (a 2 MiB page: one fault). `rrx replay` of
// `find /usr -maxdepth 3`: 2,629 -> ~750 faults, 57 -> 40 ms.
#pragma once

#include <cstddef>

namespace rrx {

// Call first thing in main, before any thread starts. Blocks up to 16 MiB
// come from the heap and freed memory stays there (no trimming). Where the
// kernel has THP for madvised memory (RRX_HUGE_HEAP=0: not used), it also
// grows the heap by `reserve` bytes (under 32 MiB, the largest block glibc
// takes from the heap; address space only, nothing is touched), asks for
// huge pages over it and leaves it as the heap's top, with one arena for
// every thread.
void heap_on_huge_pages(size_t reserve = size_t{30} << 20);

}  // namespace rrx
