// Syscall sites the recorder patches (the fast path): glibc's generic
// syscall() function is patched at its first buffered call (getppid), then
// makes buffered calls, calls the library does not buffer (getrlimit), and a
// fork through clone from that same patched site, whose child returns into
// the stub on its own stack; a second thread uses the site meanwhile. The
// output is the same natively and recorded.
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/resource.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void* worker(void* arg) {
  long n = 0;
  for (int i = 0; i < 2000; ++i) n += syscall(SYS_getppid) == getppid();
  *(long*)arg = n;
  return NULL;
}

int main(void) {
  long same = 0;
  pid_t parent = getppid();
  for (int i = 0; i < 3000; ++i) same += syscall(SYS_getppid) == parent;
  struct rlimit rl;
  long r = syscall(SYS_getrlimit, RLIMIT_NOFILE, &rl);
  printf("getppid through syscall(): %ld of 3000 agree; getrlimit %s\n", same, r == 0 ? "ok" : "failed");
  pthread_t t;
  long wn = 0;
  pthread_create(&t, NULL, worker, &wn);
  for (int i = 0; i < 2000; ++i) same += syscall(SYS_getpid) == getpid();
  pthread_join(t, NULL);
  printf("thread: %ld of 2000 agree\n", wn);
  fflush(stdout);
  long child = syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
  if (child == 0) {
    long ok = syscall(SYS_getppid) != 0 && syscall(SYS_gettid) == syscall(SYS_getpid);
    printf("child: %s\n", ok ? "ids ok" : "ids wrong");
    fflush(stdout);
    syscall(SYS_exit_group, 7);
  }
  int status = 0;
  waitpid((pid_t)child, &status, 0);
  printf("child exited %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  return 0;
}
