// Uses rdrand only when cpuid says the CPU has it (as careful programs
// do), in the main thread and in a second one; says which it used and
// prints the value. Also reports what cpuid says about rdseed.
#include <cpuid.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/random.h>

static int has_rdrand(void) {
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
  return (c >> 30) & 1;
}

static unsigned long long random_value(const char** how) {
  unsigned long long v = 0;
  if (has_rdrand()) {
    unsigned char ok = 0;
    __asm__ volatile("rdrand %0; setc %1" : "=r"(v), "=qm"(ok));
    *how = ok ? "rdrand" : "rdrand (failed)";
  } else {
    getrandom(&v, sizeof v, 0);
    *how = "getrandom (cpuid says no rdrand)";
  }
  return v;
}

static void* thread_main(void* arg) {
  (void)arg;
  const char* how;
  unsigned long long v = random_value(&how);
  printf("thread: %s %016llx\n", how, v);
  return NULL;
}

int main(void) {
  const char* how;
  unsigned long long v = random_value(&how);
  printf("main: %s %016llx\n", how, v);
  fflush(stdout);
  pthread_t t;
  pthread_create(&t, NULL, thread_main, NULL);
  pthread_join(t, NULL);
  unsigned a, b, c, d;
  __cpuid_count(7, 0, a, b, c, d);
  printf("rdseed in cpuid: %s\n", (b >> 18) & 1 ? "yes" : "no");
  return 0;
}
