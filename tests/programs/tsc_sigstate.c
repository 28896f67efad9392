// rdtsc and cpuid (trapped by rrx with a SIGSEGV it suppresses) must leave the
// program's signal state as it was: SIGSEGV still blocked, its handler still
// installed, SIG_IGN still ignored; also inside a handler whose sa_mask
// blocks SIGSEGV, inside a handler run from rt_sigsuspend's temporary mask,
// in a thread that inherited the mask, and after an SA_RESETHAND handler.
#define _GNU_SOURCE
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <cpuid.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

static inline uint64_t rdtsc(void) {
  uint32_t lo, hi;
  __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
  return ((uint64_t)hi << 32) | lo;
}

static void on_segv(int sig) { (void)sig; }

static int segv_blocked(void) {
  sigset_t cur;
  sigprocmask(SIG_BLOCK, NULL, &cur);
  return sigismember(&cur, SIGSEGV);
}

static const char* segv_action(void) {
  struct sigaction old;
  sigaction(SIGSEGV, NULL, &old);
  if (old.sa_handler == SIG_DFL) return "SIG_DFL";
  if (old.sa_handler == SIG_IGN) return "SIG_IGN";
  if (old.sa_handler == on_segv) return "on_segv";
  return "another handler";
}

static void report(const char* what) {
  uint64_t v = rdtsc();
  // cpuid too: trapped the same way where rrx uses CPUID faulting.
  unsigned a, b, c, d;
  __cpuid(0, a, b, c, d);
  (void)a, (void)b, (void)c, (void)d;
  printf("%-28s rdtsc nonzero %d, SIGSEGV blocked %d, action %s\n", what, v != 0, segv_blocked(), segv_action());
}

static void on_usr1(int sig) {
  (void)sig;
  report("in handler (sa_mask SEGV):");
}

static void on_usr2(int sig) {
  (void)sig;
  report("in handler from sigsuspend:");
}

static void* thread_main(void* arg) {
  (void)arg;
  report("thread:");
  return NULL;
}

static sigjmp_buf jump;
static void on_segv_once(int sig) {
  (void)sig;
  siglongjmp(jump, 1);
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  sigset_t segv;
  sigemptyset(&segv);
  sigaddset(&segv, SIGSEGV);

  report("start:");
  signal(SIGSEGV, on_segv);
  sigprocmask(SIG_BLOCK, &segv, NULL);
  report("blocked, handler:");
  report("again:");
  sigprocmask(SIG_UNBLOCK, &segv, NULL);
  report("unblocked, handler:");

  signal(SIGSEGV, SIG_IGN);
  report("ignored:");
  sigprocmask(SIG_BLOCK, &segv, NULL);
  report("ignored and blocked:");
  signal(SIGSEGV, SIG_DFL);
  report("blocked, default:");

  pthread_t th;
  signal(SIGSEGV, on_segv);
  pthread_create(&th, NULL, thread_main, NULL);
  pthread_join(th, NULL);
  sigprocmask(SIG_UNBLOCK, &segv, NULL);

  // A handler whose sa_mask blocks SIGSEGV while it runs.
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_usr1;
  sa.sa_mask = segv;
  sigaction(SIGUSR1, &sa, NULL);
  raise(SIGUSR1);
  report("after handler:");

  // A handler run from rt_sigsuspend, whose temporary mask blocks SIGSEGV.
  sigset_t usr2, wait_mask;
  sigemptyset(&usr2);
  sigaddset(&usr2, SIGUSR2);
  sigprocmask(SIG_BLOCK, &usr2, NULL);
  signal(SIGUSR2, on_usr2);
  raise(SIGUSR2);
  sigemptyset(&wait_mask);
  sigaddset(&wait_mask, SIGSEGV);
  sigsuspend(&wait_mask);
  report("after sigsuspend:");

  // An SA_RESETHAND handler for SIGSEGV, run by the program's own rdtsc
  // fault (PR_TSC_SIGSEGV): afterwards SIGSEGV is SIG_DFL.
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_segv_once;
  sa.sa_flags = SA_RESETHAND | SA_NODEFER;
  sigaction(SIGSEGV, &sa, NULL);
  prctl(PR_SET_TSC, PR_TSC_SIGSEGV, 0, 0, 0);
  if (sigsetjmp(jump, 1) == 0) rdtsc();
  prctl(PR_SET_TSC, PR_TSC_ENABLE, 0, 0, 0);
  report("after SA_RESETHAND fault:");
  sigprocmask(SIG_BLOCK, &segv, NULL);
  report("then blocked:");
  return 0;
}
