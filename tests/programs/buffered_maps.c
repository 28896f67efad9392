// Address-space calls the syscall buffer records in-process when recording
// (mmap of private anonymous memory and munmap, brk, mprotect without
// PROT_EXEC, madvise that changes no byte) and getrandom, many times from
// their libc sites (patched at the first call). Replay runs the address-space
// ones for real at their stop: what the program sees afterwards must be what
// it saw when recorded (an address freed by munmap is free again, the break
// moves back and forth, a page made read-only faults on a write, and the
// fault's handler sees it), and the random bytes are the recorded ones.
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <unistd.h>

static sigjmp_buf fault_jump;
static volatile sig_atomic_t faults;

static void on_segv(int sig) {
  (void)sig;
  ++faults;
  siglongjmp(fault_jump, 1);
}

int main(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_segv;
  sigaction(SIGSEGV, &sa, NULL);
  const size_t page = (size_t)sysconf(_SC_PAGESIZE);
  uint64_t hash = 1469598103934665603ull;
  int same_place = 0, brk_back = 0, readonly_faults = 0;
  for (int i = 0; i < 200; ++i) {
    // munmap frees the place: a hinted mmap gets it back.
    char* a = mmap(NULL, 4 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (a == MAP_FAILED) return 1;
    a[0] = (char)i;
    munmap(a, 4 * page);
    char* b = mmap(a, 4 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    same_place += b == a && b[0] == 0;
    // A read-only page faults on a write; read-write again, it does not.
    mprotect(b, page, PROT_READ);
    if (sigsetjmp(fault_jump, 1) == 0) {
      b[1] = 1;
    } else {
      ++readonly_faults;
    }
    mprotect(b, page, PROT_READ | PROT_WRITE);
    b[1] = 2;
    // Advice that changes no byte (buffered), and one that does (traced: the
    // zeros it leaves are recorded where it drops file pages).
    madvise(b, 4 * page, MADV_DONTFORK);
    madvise(b, 4 * page, MADV_DOFORK);
    madvise(b, page, MADV_DONTNEED);
    same_place += b[1] == 0 ? 0 : 1000;
    munmap(b, 4 * page);
    // The break grows and shrinks back.
    void* before = sbrk(0);
    if (sbrk((intptr_t)(8 * page)) == (void*)-1) return 2;
    ((char*)before)[8 * page - 1] = 1;
    if (brk(before) != 0) return 3;
    brk_back += sbrk(0) == before;
    unsigned char r[16];
    if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r) return 4;
    for (size_t k = 0; k < sizeof r; ++k) hash = (hash ^ r[k]) * 1099511628211ull;
  }
  printf("same place %d, read-only faults %d (handler %d), break back %d, random %016llx\n", same_place,
         readonly_faults, (int)faults, brk_back, (unsigned long long)hash);
  return 0;
}
