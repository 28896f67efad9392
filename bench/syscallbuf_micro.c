// Micro-benchmark of one syscall's cost under the recorder: getppid N times
// (through libc, which the preload library interposes), printing ns per call.
// bench/syscallbuf_micro.sh runs it natively, under `rrx record -n` and under
// `rrx record --syscallbuf`.
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char** argv) {
  long n = argc > 1 ? atol(argv[1]) : 100000;
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  long sum = 0;
  for (long i = 0; i < n; ++i) sum += getppid();
  clock_gettime(CLOCK_MONOTONIC, &b);
  double ns = (b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec);
  printf("%ld calls, %.1f ns per call (sum %ld)\n", n, n ? ns / n : 0.0, sum != 0);
  return 0;
}
