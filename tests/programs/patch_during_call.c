// Threads blocked in a call at a syscall site that another thread's call
// patches while they are inside (raw_syscall below: one site for every
// caller, first used by the readers' blocking reads). The kernel brings
// a thread back right after its syscall instruction, or, for a restart,
// onto it (ip - 2); both places are inside the jump a patch writes. Reader
// 0 returns normally, reader 1 is restarted after a SA_RESTART handler,
// reader 2 gets EINTR after a handler without SA_RESTART.
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

enum { kReaders = 3 };
static int pfd[kReaders][2];
static volatile pid_t tids[kReaders];
static long got[kReaders];
static int err[kReaders];
static char data[kReaders][16];
static volatile int handled;

__attribute__((noinline)) static long raw_syscall(long nr, long a, long b, long c) {
  long ret;
  __asm__ volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
  return ret;
}

static void on_sig(int s) {
  (void)s;
  handled++;
}

static void* reader(void* arg) {
  long i = (long)arg;
  tids[i] = (pid_t)syscall(SYS_gettid);
  got[i] = raw_syscall(SYS_read, pfd[i][0], (long)data[i], sizeof data[i]);
  err[i] = got[i] < 0 ? (int)-got[i] : 0;
  if (got[i] < 0) got[i] = -1;
  return NULL;
}

// Whether thread `tid` sleeps (in its read: nothing else is left to it).
static int sleeping(pid_t tid) {
  char path[64], buf[256];
  snprintf(path, sizeof path, "/proc/self/task/%d/stat", (int)tid);
  FILE* f = fopen(path, "r");
  if (!f) return 0;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  const char* p = strrchr(buf, ')');
  return p && p[1] == ' ' && p[2] == 'S';
}

int main(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_sig;
  sa.sa_flags = SA_RESTART;
  sigaction(SIGUSR1, &sa, NULL);
  sa.sa_flags = 0;
  sigaction(SIGUSR2, &sa, NULL);
  pthread_t t[kReaders];
  for (long i = 0; i < kReaders; ++i) {
    if (pipe(pfd[i])) return 1;
    pthread_create(&t[i], NULL, reader, (void*)i);
  }
  for (int i = 0; i < kReaders; ++i) {
    while (tids[i] == 0 || !sleeping(tids[i])) usleep(1000);
  }
  long sum = 0;
  for (int i = 0; i < 5; ++i) sum += raw_syscall(SYS_getppid, 0, 0, 0) > 0;  // the same site: patched now
  pthread_kill(t[1], SIGUSR1);                                  // restarted
  pthread_kill(t[2], SIGUSR2);                                  // EINTR
  while (handled < 2) usleep(1000);
  if (write(pfd[0][1], "zero", 4) != 4 || write(pfd[1][1], "one", 3) != 3) return 1;
  for (int i = 0; i < kReaders; ++i) pthread_join(t[i], NULL);
  for (int i = 0; i < kReaders; ++i) {
    printf("reader %d: read %ld errno %d '%.*s'\n", i, got[i], err[i], (int)(got[i] > 0 ? got[i] : 0), data[i]);
  }
  printf("main: %ld getppids, %d handled\n", sum, handled);
  return 0;
}
