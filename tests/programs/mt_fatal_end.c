// mt_fatal_end MODE [PIDFILE]: starts five threads that stay busy while the
// program ends: blocked in read(2) on a pipe nobody writes, in nanosleep, in
// poll, in a futex wait, and spinning on a flag. Then, after "ready":
//   abort  the main thread calls abort()                      (exit 134)
//   segv   a sixth thread writes through a null pointer       (exit 139)
//   exit   the main thread calls exit(6)                      (exit 6)
//   pthread_exit  the main thread calls pthread_exit; a sixth thread
//          prints, then calls exit(7) 50 ms later              (exit 7)
//   wait   writes its pid to PIDFILE and blocks in pthread_join for ever
//          (a test signals the recorder)
// tests/e2e/fatal_end.sh records it: a process that dies while its threads
// wait in the kernel or in rrx's run queue must not hang the recorder.
//
// rrx-e2e: later (tests/e2e/fatal_end.sh runs it with each MODE)
#include <linux/futex.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static int pipefd[2];
static int futex_word;
static volatile int stop_spinning;

static void* reader(void* arg) {
  char c;
  read(pipefd[0], &c, 1);
  return arg;
}
static void* sleeper(void* arg) {
  sleep(1000);
  return arg;
}
static void* poller(void* arg) {
  struct pollfd p = {pipefd[0], POLLIN, 0};
  poll(&p, 1, 1000000);
  return arg;
}
static void* futex_waiter(void* arg) {
  syscall(SYS_futex, &futex_word, FUTEX_WAIT, 0, NULL, NULL, 0);
  return arg;
}
// Spins on a flag: the same registers on every pass, so that a recorded
// preemption inside the loop is found again at once on replay.
static void* spinner(void* arg) {
  while (!stop_spinning) {
  }
  return arg;
}
static void* ender(void* arg) {
  usleep(50000);
  printf("thread ends the process\n");
  fflush(stdout);
  exit(7);
  return arg;
}
static void* crasher(void* arg) {
  usleep(20000);
  printf("thread crashing\n");
  fflush(stdout);
  *(volatile int*)arg = 1;  // arg is NULL
  return arg;
}

int main(int argc, char** argv) {
  if (argc < 2 || (strcmp(argv[1], "wait") == 0 && argc < 3)) {
    fprintf(stderr, "usage: mt_fatal_end abort|segv|exit|pthread_exit|wait [PIDFILE]\n");
    return 2;
  }
  const char* mode = argv[1];
  if (pipe(pipefd) != 0) return 2;
  void* (*fns[])(void*) = {reader, sleeper, poller, futex_waiter, spinner};
  pthread_t t;
  for (unsigned i = 0; i < sizeof fns / sizeof fns[0]; i++) pthread_create(&t, NULL, fns[i], NULL);
  usleep(20000);  // they are in their blocking calls (or spinning)
  printf("ready\n");
  fflush(stdout);
  if (strcmp(mode, "abort") == 0) abort();
  if (strcmp(mode, "pthread_exit") == 0) {
    pthread_create(&t, NULL, ender, NULL);
    pthread_exit(NULL);
  }
  if (strcmp(mode, "segv") == 0) {
    pthread_create(&t, NULL, crasher, NULL);
    pthread_join(t, NULL);
  }
  if (strcmp(mode, "wait") == 0) {
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", argv[2]);
    FILE* f = fopen(tmp, "w");
    if (!f) return 2;
    fprintf(f, "%d\n", (int)getpid());
    fclose(f);
    rename(tmp, argv[2]);
    pthread_join(t, NULL);  // the spinner never ends
  }
  exit(6);
}
