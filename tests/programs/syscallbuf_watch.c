// For tests/gdb/syscallbuf.sh: a variable written only by a buffered call
// (clock_gettime into `when`), between runs of other buffered calls.
#include <stdio.h>
#include <time.h>
#include <unistd.h>

struct timespec when;
volatile long sink;

int main(void) {
  for (int i = 0; i < 100; ++i) sink += getppid();
  clock_gettime(CLOCK_REALTIME, &when);
  for (int i = 0; i < 100; ++i) sink += getppid();
  printf("ns %ld\n", (long)when.tv_nsec);  // line 14
  return 0;
}
