// For bench/reverse.sh: writes `target` once, then makes N syscalls (one
// recorded event each), then calls done(). A reverse-continue from done()
// with a watchpoint on `target` goes back N events.
//
// rrx-e2e: later (bench/reverse.sh only)
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

volatile int target;

void done(long n) { printf("%ld syscalls after the write\n", n); }

int main(int argc, char** argv) {
  long n = argc > 1 ? atol(argv[1]) : 10000;
  target = 42;
  for (long i = 0; i < n; ++i) getppid();
  done(n);
  return 0;
}
