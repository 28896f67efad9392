// compute_loop [SCALE]: about half a second of pure computation (SCALE 1,
// default) with almost no syscalls; prints the result. For the benchmarks.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char** argv) {
  double scale = argc > 1 ? atof(argv[1]) : 1.0;
  uint64_t iters = (uint64_t)(scale * 3.0e8);
  uint64_t x = 88172645463325252ull, acc = 0;
  for (uint64_t i = 0; i < iters; i++) {  // xorshift64
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    acc += x >> 60;
  }
  printf("compute_loop: %llu iterations, result %llu\n", (unsigned long long)iters,
         (unsigned long long)acc);
  return 0;
}
