// The demo's sample: prints values that differ on every native run (time,
// random bytes, pid, TSC) but are identical in every replay of a recording.
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

int main(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  char when[64];
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
  printf("time:   %s.%09ld UTC\n", when, ts.tv_nsec);

  uint64_t r = 0;
  if (getrandom(&r, sizeof r, 0) != sizeof r) {
    perror("getrandom");
    return 1;
  }
  printf("random: %016llx\n", (unsigned long long)r);
  printf("pid:    %d\n", (int)getpid());
  printf("rdtsc:  %llu\n", (unsigned long long)__rdtsc());
  return 0;
}
