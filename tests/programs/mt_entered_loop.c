// CPU-bound threads whose hot loop is entered in its middle at every outer
// pass, as gdb's name comparator (strcmp_iw_ordered) is: its entry jumps to
// the loop's second instruction. A preemption recorded at the loop's first
// instruction (3 bytes: the replay's PreemptStub patch covers the second
// too) has a branch landing inside the patch at every outer pass; the replay
// must still find the recorded pass at native speed (the branch is routed
// to a jmp of its own), not trap at each one. Usage: mt_entered_loop
// THREADS MILLIONS (inner passes per thread). Prints each thread's result.
//
// rrx-e2e: later (tests/e2e/preemption.sh records it)
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define MAX_THREADS 8

static long passes;
static uint64_t results[MAX_THREADS];

// rax counts the passes of the loop's first instruction up to rcx; each
// outer pass enters the loop at its second instruction and leaves it after
// three passes; r8 sums rax at each outer pass.
__attribute__((noinline)) static uint64_t entered_loop(uint64_t n, uint64_t seed) {
  uint64_t out;
  asm volatile(
      "mov %1, %%rcx\n"
      "mov %2, %%rax\n"
      "add %%rax, %%rcx\n"
      "xor %%r8d, %%r8d\n"
      "1:\n"
      "mov $4, %%edx\n"
      "add %%rax, %%r8\n"
      "jmp 3f\n"
      "2:\n"
      "inc %%rax\n"  // the site: 3 bytes, then the entry
      "3:\n"
      "dec %%edx\n"
      "jnz 2b\n"
      "cmp %%rcx, %%rax\n"
      "jb 1b\n"
      "mov %%r8, %0\n"
      : "=r"(out)
      : "r"(n), "r"(seed)
      : "rax", "rcx", "rdx", "r8", "cc");
  return out;
}

static void* worker(void* arg) {
  long id = (long)arg;
  results[id] = entered_loop((uint64_t)passes, (uint64_t)id * 7);
  return NULL;
}

int main(int argc, char** argv) {
  int n = argc > 1 ? atoi(argv[1]) : 2;
  passes = (argc > 2 ? atol(argv[2]) : 100) * 1000000L;
  if (n < 1 || n > MAX_THREADS || passes <= 0) {
    fprintf(stderr, "usage: mt_entered_loop THREADS(1-%d) MILLIONS\n", MAX_THREADS);
    return 2;
  }
  pthread_t t[MAX_THREADS];
  for (long i = 0; i < n; i++) {
    if (pthread_create(&t[i], NULL, worker, (void*)i) != 0) {
      perror("pthread_create");
      return 1;
    }
  }
  for (int i = 0; i < n; i++) pthread_join(t[i], NULL);
  for (int i = 0; i < n; i++) printf("thread %d: %016llx\n", i, (unsigned long long)results[i]);
  printf("done\n");
  return 0;
}
