// Lowers its stack limit (setrlimit, or prlimit64 with argv[1] = "prlimit")
// to 1 MiB and recurses until the stack overflows; the SIGSEGV handler, on an
// alternate stack, prints how deep it got. The depth depends on the limit the
// kernel applies, so a replay must apply the recorded limit too.
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static volatile unsigned long depth;
static volatile unsigned long deepest;

static void on_segv(int sig) {
  (void)sig;
  char line[64];
  int n = snprintf(line, sizeof line, "overflow at depth %lu\n", deepest);
  write(1, line, (size_t)n);
  _exit(0);
}

static unsigned long recurse(unsigned long n) {
  volatile char frame[1024];
  memset((char*)frame, (int)n, sizeof frame);
  depth = n;
  if (n > deepest) deepest = n;
  if (n == 0) return 0;  // never: the stack overflows first
  return recurse(n + 1) + frame[n % sizeof frame];
}

int main(int argc, char** argv) {
  struct rlimit lim = {1 << 20, RLIM_INFINITY};
  struct rlimit old;
  getrlimit(RLIMIT_STACK, &old);
  lim.rlim_max = old.rlim_max;
  int r = argc > 1 && strcmp(argv[1], "prlimit") == 0 ? prlimit(0, RLIMIT_STACK, &lim, NULL)
                                                        : setrlimit(RLIMIT_STACK, &lim);
  printf("stack limit set to 1 MiB: %s\n", r == 0 ? "ok" : "failed");
  fflush(stdout);
  static char altstack[1 << 16];
  stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack};
  sigaltstack(&ss, NULL);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_segv;
  sa.sa_flags = SA_ONSTACK;
  sigaction(SIGSEGV, &sa, NULL);
  return (int)recurse(1);
}
