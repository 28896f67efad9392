// Signal handlers and masks set through the syscall buffer (tests/e2e/
// sigbuf.sh): every sigaction and sigprocmask after the first at its libc
// site is made from a patched site, buffered; then signals come: handled,
// ignored, blocked then unblocked (delivered before sigprocmask returns),
// SA_RESETHAND, SA_RESTART around a blocking read, SA_ONSTACK on a
// sigaltstack; dispositions across fork and exec (handled -> default,
// ignored and the mask stay); and SIGSEGV ignored and blocked around rdtsc
// (whose forced SIGSEGV rrx suppresses and undoes), then a real SIGSEGV
// caught by a handler. Prints what it saw: the same natively, recorded and
// replayed. `sigbuf child` is the exec'd half.
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <x86intrin.h>

static volatile sig_atomic_t hits[65];
static char alt[64 * 1024] __attribute__((aligned(16)));
static volatile int on_alt;
static sigjmp_buf segv_jump;

static void count(int sig) { hits[sig]++; }
static void count_on_alt(int sig) {
  char here;
  on_alt = &here >= alt && &here < alt + sizeof alt;
  hits[sig]++;
}
static void segv_handler(int sig) {
  hits[sig]++;
  siglongjmp(segv_jump, 1);
}

static void set(int sig, void (*h)(int), int flags) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = h;
  sa.sa_flags = flags;
  sigemptyset(&sa.sa_mask);
  if (sigaction(sig, &sa, NULL) != 0) {
    perror("sigaction");
    exit(1);
  }
}

static void mask(int how, int sig) {
  sigset_t s;
  sigemptyset(&s);
  sigaddset(&s, sig);
  if (sigprocmask(how, &s, NULL) != 0) {
    perror("sigprocmask");
    exit(1);
  }
}

static const char* disposition(int sig) {
  struct sigaction old;
  sigaction(sig, NULL, &old);
  if (old.sa_handler == SIG_DFL) return "default";
  if (old.sa_handler == SIG_IGN) return "ignored";
  return "handled";
}

static int blocked(int sig) {
  sigset_t s;
  sigprocmask(SIG_BLOCK, NULL, &s);
  return sigismember(&s, sig);
}

static int child(void) {
  printf("child: SIGUSR1 %s, SIGUSR2 %s, SIGTERM blocked %d\n", disposition(SIGUSR1), disposition(SIGUSR2),
         blocked(SIGTERM));
  return 0;
}

int main(int argc, char** argv) {
  if (argc > 1 && strcmp(argv[1], "child") == 0) return child();
  setvbuf(stdout, NULL, _IONBF, 0);
  // Many calls from the same sites: all but the first buffered.
  for (int round = 0; round < 20; ++round) {
    set(SIGUSR1, count, 0);
    set(SIGUSR2, SIG_IGN, 0);
    mask(SIG_BLOCK, SIGTERM);
    mask(SIG_UNBLOCK, SIGTERM);
  }

  // Handled and ignored.
  raise(SIGUSR1);  // gdb: rounds done
  raise(SIGUSR2);
  printf("handled: %d, ignored: %d, %s\n", hits[SIGUSR1], hits[SIGUSR2], disposition(SIGUSR2));

  // Blocked, then unblocked: delivered before sigprocmask returns.
  mask(SIG_BLOCK, SIGUSR1);
  raise(SIGUSR1);
  int before = hits[SIGUSR1];
  mask(SIG_UNBLOCK, SIGUSR1);
  int after = hits[SIGUSR1];
  printf("blocked: %d then unblocked: %d\n", before, after);
  // The same where the unblock is the first call at its site (syscall()'s),
  // traced, and the site patched at its exit: the signal stops the thread
  // in the site's stub, still at the call's return.
  mask(SIG_BLOCK, SIGUSR1);
  raise(SIGUSR1);
  before = hits[SIGUSR1];
  const uint64_t usr1_bit = 1ull << (SIGUSR1 - 1);
  syscall(SYS_rt_sigprocmask, SIG_UNBLOCK, &usr1_bit, NULL, 8);
  printf("blocked: %d then unblocked at a new site: %d\n", before, hits[SIGUSR1]);
  // The same with SIG_SETMASK restoring an empty mask.
  sigset_t none, old;
  sigemptyset(&none);
  mask(SIG_BLOCK, SIGUSR1);
  raise(SIGUSR1);
  before = hits[SIGUSR1];
  sigprocmask(SIG_SETMASK, &none, &old);
  printf("blocked: %d then set mask: %d (old mask had it: %d)\n", before, hits[SIGUSR1], sigismember(&old, SIGUSR1));

  // SA_RESETHAND: the first one handled, the second takes the default (ignore for SIGWINCH).
  set(SIGWINCH, count, SA_RESETHAND);
  raise(SIGWINCH);
  printf("resethand: %d, then %s\n", hits[SIGWINCH], disposition(SIGWINCH));
  raise(SIGWINCH);
  printf("resethand again: %d\n", hits[SIGWINCH]);

  // SA_RESTART: a read waiting on a pipe goes on after the handler.
  int p[2];
  if (pipe(p) != 0) return 1;
  set(SIGUSR1, count, SA_RESTART);
  int hits_before = hits[SIGUSR1];
  pid_t writer = fork();
  if (writer == 0) {
    usleep(100 * 1000);
    kill(getppid(), SIGUSR1);
    usleep(100 * 1000);
    if (write(p[1], "restarted", 9) != 9) _exit(1);
    _exit(0);
  }
  char buf[16] = {0};
  ssize_t n = read(p[0], buf, sizeof buf - 1);
  waitpid(writer, NULL, 0);
  printf("restart: read %zd \"%s\", handler ran %d\n", n, buf, hits[SIGUSR1] - hits_before);

  // SA_ONSTACK on a sigaltstack.
  stack_t ss = {.ss_sp = alt, .ss_size = sizeof alt, .ss_flags = 0};
  if (sigaltstack(&ss, NULL) != 0) return 1;
  set(SIGUSR2, count_on_alt, SA_ONSTACK);
  raise(SIGUSR2);
  printf("altstack: %d, on it: %d\n", hits[SIGUSR2], on_alt);  // gdb: after the altstack handler

  // Across fork and exec: handled -> default, ignored stays, the mask stays.
  set(SIGUSR1, count, 0);
  set(SIGUSR2, SIG_IGN, 0);
  mask(SIG_BLOCK, SIGTERM);
  pid_t c = fork();
  if (c == 0) {
    printf("forked: SIGUSR1 %s, SIGUSR2 %s, SIGTERM blocked %d\n", disposition(SIGUSR1), disposition(SIGUSR2),
           blocked(SIGTERM));
    execl("/proc/self/exe", argv[0], "child", (char*)NULL);
    _exit(127);
  }
  int status = 0;
  waitpid(c, &status, 0);
  printf("child exit: %d\n", WEXITSTATUS(status));
  mask(SIG_UNBLOCK, SIGTERM);

  // SIGSEGV ignored, then blocked, around rdtsc: rrx suppresses the
  // SIGSEGV of its trapped or patched rdtsc and puts back what the kernel's
  // forced signal changed.
  set(SIGSEGV, SIG_IGN, 0);
  uint64_t t0 = __rdtsc();
  printf("rdtsc with SIGSEGV ignored: %s, blocked %d\n", disposition(SIGSEGV), blocked(SIGSEGV));
  set(SIGSEGV, SIG_DFL, 0);
  mask(SIG_BLOCK, SIGSEGV);
  uint64_t t1 = __rdtsc();
  printf("rdtsc with SIGSEGV blocked: %s, blocked %d, monotonic %d\n", disposition(SIGSEGV), blocked(SIGSEGV),
         t1 >= t0);
  set(SIGSEGV, SIG_IGN, 0);
  uint64_t t2 = __rdtsc();
  printf("rdtsc with SIGSEGV ignored and blocked: %s, blocked %d, monotonic %d\n", disposition(SIGSEGV),
         blocked(SIGSEGV), t2 >= t1);
  // EFAULT after the change (a bad oldact, oldset; through syscall(), as
  // glibc's wrappers copy them through their own): the state changed all
  // the same (buffered; traced with rrx record -n).
  struct {
    void* handler;
    unsigned long flags;
    void* restorer;
    uint64_t mask;
  } ignore = {SIG_IGN, 0, 0, 0};
  const uint64_t segv_bit = 1ull << (SIGSEGV - 1);
  for (int i = 0; i < 2; ++i) {
    set(SIGSEGV, SIG_DFL, 0);
    mask(SIG_UNBLOCK, SIGSEGV);
    long r1 = syscall(SYS_rt_sigaction, SIGSEGV, &ignore, (void*)8, 8);
    int e1 = errno;
    long r2 = syscall(SYS_rt_sigprocmask, SIG_BLOCK, &segv_bit, (void*)8, 8);
    int e2 = errno;
    uint64_t t = __rdtsc();
    printf("efault %d: %ld %s, %ld %s; rdtsc with SIGSEGV %s, blocked %d, monotonic %d\n", i, r1, strerror(e1), r2,
           strerror(e2), disposition(SIGSEGV), blocked(SIGSEGV), t >= t2);
  }

  // Then a real one, caught.
  set(SIGSEGV, segv_handler, SA_NODEFER);
  mask(SIG_UNBLOCK, SIGSEGV);
  for (int i = 0; i < 3; ++i) {
    if (sigsetjmp(segv_jump, 1) == 0) {
      *(volatile int*)(uintptr_t)(16 + i) = 1;
      printf("no fault?\n");
    }
  }
  uint64_t t3 = __rdtsc();
  printf("segv caught: %d, %s, monotonic %d\n", hits[SIGSEGV], disposition(SIGSEGV), t3 >= t2);
  return 0;
}
