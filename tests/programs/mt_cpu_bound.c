// CPU-bound threads with no system call in their loops: each runs a fixed
// amount of arithmetic (a register-only LCG, then passes over an array in
// memory), so a serializing recorder must preempt them inside hot loops
// whose registers differ at every pass; replay has to find those passes
// again. Usage: mt_cpu_bound THREADS MILLIONS (LCG steps per thread).
// Prints each thread's results (fixed by the arguments) after joining them.
//
// rrx-e2e: later (tests/e2e/preemption.sh and tests/gdb/preemption.sh record it)
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define MAX_THREADS 16
#define ARRAY_LEN 4096

static long steps;
static uint64_t results[MAX_THREADS][2];
static uint64_t arrays[MAX_THREADS][ARRAY_LEN];

// The loop gdb tests break in.
__attribute__((noinline)) static uint64_t lcg_run(uint64_t x, long n) {
  for (long i = 0; i < n; i++) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL + (uint64_t)i;  // lcg body
  }
  return x;
}

static uint64_t array_passes(uint64_t* a, long passes) {
  uint64_t sum = 0;
  for (long p = 0; p < passes; p++) {
    for (int i = 0; i < ARRAY_LEN; i++) {
      a[i] = a[i] * 31 + (uint64_t)p + sum;
      sum += a[i] >> 7;
    }
  }
  return sum;
}

static void* worker(void* arg) {
  long id = (long)arg;
  results[id][0] = lcg_run((uint64_t)id + 1, steps);
  for (int i = 0; i < ARRAY_LEN; i++) arrays[id][i] = (uint64_t)(i * (id + 3));
  results[id][1] = array_passes(arrays[id], steps / (ARRAY_LEN * 4) + 1);
  return NULL;
}

int main(int argc, char** argv) {
  int n = argc > 1 ? atoi(argv[1]) : 2;
  steps = (argc > 2 ? atol(argv[2]) : 100) * 1000000L;
  if (n < 1 || n > MAX_THREADS || steps <= 0) {
    fprintf(stderr, "usage: mt_cpu_bound THREADS(1-%d) MILLIONS\n", MAX_THREADS);
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
  for (int i = 0; i < n; i++) {
    printf("thread %d: %016llx %016llx\n", i, (unsigned long long)results[i][0], (unsigned long long)results[i][1]);
  }
  printf("done\n");
  return 0;
}
