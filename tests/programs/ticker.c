// ticker [COUNT [MS]]: prints "tick I" COUNT times (default 200), sleeping
// MS milliseconds (default 50) between lines, with one write(2) per line.
// For the tests that kill the recorder in the middle.
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char** argv) {
  long count = argc > 1 ? atol(argv[1]) : 200;
  long ms = argc > 2 ? atol(argv[2]) : 50;
  char line[64];
  int len = snprintf(line, sizeof line, "ticker pid %d\n", (int)getpid());
  write(1, line, (size_t)len);
  for (long i = 0; i < count; i++) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    len = snprintf(line, sizeof line, "tick %ld at %lld.%03ld\n", i, (long long)now.tv_sec,
                   now.tv_nsec / 1000000);
    if (write(1, line, (size_t)len) != len) return 1;
    struct timespec d = {ms / 1000, (ms % 1000) * 1000000};
    nanosleep(&d, NULL);
  }
  write(1, "ticker done\n", 12);
  return 0;
}
