// fatal_signal MODE: dies of a signal without a fault, for tests/gdb/fatal_signals.sh
// (gdb must stop at the delivery of the fatal signal):
//   abort    check() finds a bad value and calls abort()            (SIGABRT)
//   mt       a worker thread calls abort() while main waits in join (SIGABRT)
//   term     a child process sends SIGTERM to this one, which waits in sigsuspend() (SIGTERM)
//   kill     the same with SIGKILL (no delivery stop: gdb stops before it)
//
// rrx-e2e: later (multi-threaded and multi-process; tests/gdb/fatal_signals.sh records it)
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int values[4];

static void check(int v) {
  if (v > 5) {
    printf("fatal_signal: bad value %d\n", v);
    fflush(stdout);
    abort();
  }
}

static void* worker(void* arg) {
  int n = (int)(long)arg;
  for (int i = 0; i < 4; ++i) {
    values[i] = i * n;
    check(values[i]);
  }
  return NULL;
}

int main(int argc, char** argv) {
  const char* mode = argc > 1 ? argv[1] : "abort";
  if (strcmp(mode, "abort") == 0) {
    for (int i = 0; i < 4; ++i) {
      values[i] = i * 3;
      check(values[i]);
    }
  } else if (strcmp(mode, "mt") == 0) {
    pthread_t t;
    pthread_create(&t, NULL, worker, (void*)3L);
    pthread_join(t, NULL);
  } else if (strcmp(mode, "term") == 0 || strcmp(mode, "kill") == 0) {
    // SIGTERM stays blocked until sigsuspend(), so it always arrives there.
    int sig = mode[0] == 't' ? SIGTERM : SIGKILL;
    sigset_t block, none;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigemptyset(&none);
    sigprocmask(SIG_BLOCK, &block, NULL);
    pid_t parent = getpid();
    int fds[2];
    if (pipe(fds) != 0) return 3;
    pid_t child = fork();
    if (child == 0) {
      char c;
      if (read(fds[0], &c, 1) != 1) _exit(1);  // the parent is about to wait
      if (sig == SIGKILL) usleep(200000);
      kill(parent, sig);
      _exit(0);
    }
    printf("fatal_signal: waiting for %s\n", mode);
    fflush(stdout);
    if (write(fds[1], "x", 1) != 1) return 3;
    for (;;) sigsuspend(&none);
  }
  printf("fatal_signal: unknown mode %s\n", mode);
  return 2;
}
