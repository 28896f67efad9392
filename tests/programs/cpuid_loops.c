// cpuid from the program's own code, in loops, in two threads: basic leaves
// with ecx left as it is (leaf 0, 1), subleaf-indexed leaves (4, 7, 0xb,
// 0xd), extended leaves, and a leaf past the highest (whose answer is no
// table's: the patched site traps for it). Prints a digest of every answer
// (per thread), the highest leaves and what leaf 1 says of rdrand: the same
// under rrx's trap and rrx's in-process table, and in the replay.
#include <cpuid.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

static __thread uint64_t digest = 1469598103934665603ull;  // per thread: no race
static int verbose;  // argv[1] "-v": every answer, for comparing two runs

static void mix(unsigned v) {
  for (int i = 0; i < 4; ++i) digest = (digest ^ ((v >> (8 * i)) & 0xff)) * 1099511628211ull;
}

// Leaf and subleaf as given, ecx set.
static void ask(unsigned leaf, unsigned subleaf) {
  unsigned a, b, c, d;
  __cpuid_count(leaf, subleaf, a, b, c, d);
  mix(a), mix(b), mix(c), mix(d);
  if (verbose) printf("%x.%x: %x %x %x %x\n", leaf, subleaf, a, b, c, d);
}

// ecx whatever it holds: glibc's __cpuid, as ld.so's own code does it.
static unsigned plain(unsigned leaf, unsigned junk) {
  unsigned a, b, c, d;
  __asm__ volatile("mov %4, %%ecx\n\tcpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "r"(junk), "0"(leaf));
  mix(a), mix(b), mix(c), mix(d);
  if (verbose) printf("%x.any: %x %x %x %x\n", leaf, a, b, c, d);
  return a;
}

static void* worker(void* arg) {
  unsigned rounds = (unsigned)(uintptr_t)arg;
  for (unsigned r = 0; r < rounds; ++r) {
    for (unsigned s = 0; s < 4; ++s) ask(4, s);
    ask(7, 0);
    ask(0xb, r & 1);
    ask(0xd, r % 3);
  }
  return (void*)(uintptr_t)digest;
}

int main(int argc, char** argv) {
  verbose = argc > 1 && argv[1][0] == '-' && argv[1][1] == 'v';
  unsigned max = plain(0, 0x1234), ext = plain(0x80000000, 77);
  unsigned a, b, c, d;
  __cpuid_count(1, 0, a, b, c, d);
  for (unsigned r = 0; r < 200; ++r) {
    plain(1, r * 0x10001);  // leaf 1 with a different ecx each time
    for (unsigned leaf = 0; leaf <= max && leaf < 0x20; ++leaf) ask(leaf, 0);
    ask(0x80000001, 0);
    ask(0x80000008, 0);
  }
  pthread_t t;
  void* other;
  pthread_create(&t, NULL, worker, (void*)(uintptr_t)300);
  worker((void*)(uintptr_t)300);
  pthread_join(t, &other);
  // Past the highest basic leaf: no table entry, the real instruction traps.
  for (int i = 0; i < 3; ++i) ask(max + 1, 0);
  printf("max leaf %#x, max extended leaf %#x, rdrand %s\n", max, ext, (c >> 30) & 1 ? "yes" : "no");
  printf("digest %016llx, thread's %016llx\n", (unsigned long long)digest, (unsigned long long)(uintptr_t)other);
  return 0;
}
