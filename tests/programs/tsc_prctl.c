// prctl(PR_GET_TSC/PR_SET_TSC) as the program sees it under rrx, which keeps
// rdtsc trapped for itself: the default answer (PR_TSC_ENABLE), the
// program's own PR_TSC_SIGSEGV with a handler that catches its rdtsc fault
// (on machines where the trap works: elsewhere the prctl is accepted and
// rdtsc runs without a fault, under rrx as natively),
// the mode inherited by threads and forks and kept across exec, an invalid
// mode, and the fault with SIGSEGV blocked (the kernel kills the process).
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

static inline uint64_t rdtsc(void) {
  uint32_t lo, hi;
  __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
  return ((uint64_t)hi << 32) | lo;
}

static int get_tsc(void) {
  int mode = -1;
  if (prctl(PR_GET_TSC, &mode, 0, 0, 0) != 0) return -errno;
  return mode;
}

static volatile int faults;
static volatile int fault_code;

static void on_segv(int sig, siginfo_t* si, void* uc_) {
  (void)sig;
  ucontext_t* uc = uc_;
  faults++;
  fault_code = si->si_code;
  uc->uc_mcontext.gregs[REG_RIP] += 2;  // past the rdtsc (0f 31)
  uc->uc_mcontext.gregs[REG_RAX] = 7;
  uc->uc_mcontext.gregs[REG_RDX] = 0;
}

static void* thread_mode(void* arg) {
  (void)arg;
  printf("thread: PR_GET_TSC = %d\n", get_tsc());
  return NULL;
}

int main(int argc, char** argv) {
  if (argc > 1 && strcmp(argv[1], "after-exec") == 0) {
    printf("after exec: PR_GET_TSC = %d\n", get_tsc());
    return 0;
  }
  setvbuf(stdout, NULL, _IONBF, 0);
  printf("default: PR_GET_TSC = %d (PR_TSC_ENABLE = %d)\n", get_tsc(), PR_TSC_ENABLE);
  printf("rdtsc nonzero = %d\n", rdtsc() != 0);
  printf("PR_GET_TSC with a bad pointer: %s\n", prctl(PR_GET_TSC, (void*)8, 0, 0, 0) == 0 ? "ok" : strerror(errno));
  printf("PR_SET_TSC 5: %s\n", prctl(PR_SET_TSC, 5, 0, 0, 0) == 0 ? "ok" : strerror(errno));

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_segv;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGSEGV, &sa, NULL);
  printf("PR_SET_TSC SIGSEGV: %d\n", prctl(PR_SET_TSC, PR_TSC_SIGSEGV, 0, 0, 0));
  printf("PR_GET_TSC = %d\n", get_tsc());
  uint64_t v = rdtsc();
  printf("rdtsc gave %s after %d fault(s), si_code %d (SI_KERNEL %d)\n", v == 7 ? "7 (the handler's)" : "the TSC",
         faults, fault_code, SI_KERNEL);

  pthread_t th;
  pthread_create(&th, NULL, thread_mode, NULL);
  pthread_join(th, NULL);

  pid_t child = fork();
  if (child == 0) {
    printf("fork child: PR_GET_TSC = %d\n", get_tsc());
    // With SIGSEGV blocked, the kernel's fault unblocks it, resets its
    // action and kills the process.
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGSEGV);
    sigprocmask(SIG_BLOCK, &s, NULL);
    rdtsc();
    printf("fork child: not reached\n");
    _exit(0);
  }
  int status = 0;
  waitpid(child, &status, 0);
  printf("fork child killed by signal %d\n", WIFSIGNALED(status) ? WTERMSIG(status) : 0);

  child = fork();
  if (child == 0) {
    execl("/proc/self/exe", argv[0], "after-exec", (char*)NULL);
    _exit(127);
  }
  waitpid(child, &status, 0);
  // The mode survives the exec: the new program's loader reads the TSC
  // (glibc's rtld timing) and dies of the fault.
  printf("exec child: exit %d, signal %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1,
         WIFSIGNALED(status) ? WTERMSIG(status) : 0);

  printf("PR_SET_TSC ENABLE: %d\n", prctl(PR_SET_TSC, PR_TSC_ENABLE, 0, 0, 0));
  faults = 0;
  printf("rdtsc nonzero = %d, faults %d, PR_GET_TSC = %d\n", rdtsc() != 0, faults, get_tsc());
  return 0;
}
