// clock_gettime (several clocks), clock_getres, gettimeofday, time(),
// nanosleep; prints the values.
#define _GNU_SOURCE
#include <stdio.h>
#include <sys/time.h>
#include <time.h>

static void show(const char* name, clockid_t id) {
  struct timespec ts = {0, 0};
  int rc = clock_gettime(id, &ts);
  printf("clock_gettime(%s) = %d %lld.%09ld\n", name, rc, (long long)ts.tv_sec, ts.tv_nsec);
}

int main(void) {
  show("CLOCK_REALTIME", CLOCK_REALTIME);
  show("CLOCK_MONOTONIC", CLOCK_MONOTONIC);
  show("CLOCK_BOOTTIME", CLOCK_BOOTTIME);
  show("CLOCK_MONOTONIC_RAW", CLOCK_MONOTONIC_RAW);
  show("CLOCK_REALTIME_COARSE", CLOCK_REALTIME_COARSE);
  show("CLOCK_PROCESS_CPUTIME_ID", CLOCK_PROCESS_CPUTIME_ID);
  show("CLOCK_THREAD_CPUTIME_ID", CLOCK_THREAD_CPUTIME_ID);

  struct timespec res;
  clock_getres(CLOCK_MONOTONIC, &res);
  printf("clock_getres(CLOCK_MONOTONIC) = %lld.%09ld\n", (long long)res.tv_sec, res.tv_nsec);

  struct timeval tv;
  gettimeofday(&tv, NULL);
  printf("gettimeofday = %lld.%06ld\n", (long long)tv.tv_sec, (long)tv.tv_usec);
  time_t t1 = time(NULL), t2;
  time(&t2);
  printf("time = %lld %lld\n", (long long)t1, (long long)t2);

  struct timespec a, b, d = {0, 2 * 1000 * 1000};
  clock_gettime(CLOCK_MONOTONIC, &a);
  nanosleep(&d, NULL);
  clock_gettime(CLOCK_MONOTONIC, &b);
  long long ns = (b.tv_sec - a.tv_sec) * 1000000000ll + (b.tv_nsec - a.tv_nsec);
  printf("nanosleep(2ms) took %lld ns (>= 2ms: %s)\n", ns, ns >= 2000000 ? "yes" : "no");

  struct timespec rem = {0, 0};
  d.tv_nsec = 1000;
  printf("clock_nanosleep(1us) = %d\n", clock_nanosleep(CLOCK_MONOTONIC, 0, &d, &rem));
  return 0;
}
