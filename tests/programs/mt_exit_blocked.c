// A process ends while its other threads are blocked in the kernel (read on
// a pipe, nanosleep, poll, futex wait, epoll_wait, a clock_gettime loop) or
// spinning in user code. The kernel kills every sibling wherever it is, in
// its syscall or its code; a replay must end each of them the same way,
// without letting one of them run on.
//
//   mt_exit_blocked MODE [NTHREADS]
//   MODE: main-exit (main calls exit(6)), worker-exit (a worker calls
//         exit_group(7)), main-return (main returns 5), exec (a worker execs
//         /bin/echo while the others block), abort (main calls abort()),
//         segv (a worker dereferences NULL)
//
// rrx-e2e: later (multi-threaded; tests/e2e/thread_exit.sh records it)
#include <pthread.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <linux/futex.h>

static int pipefd[2];
static int futex_word;
static int epfd;
static volatile int started;
static const char* mode;

static void* reader(void* a) { (void)a; char c; __atomic_add_fetch(&started, 1, __ATOMIC_SEQ_CST); return (void*)read(pipefd[0], &c, 1); }
static void* sleeper(void* a) { (void)a; __atomic_add_fetch(&started, 1, __ATOMIC_SEQ_CST); sleep(100); return 0; }
static void* poller(void* a) {
  (void)a;
  struct pollfd p = {pipefd[0], POLLIN, 0};
  __atomic_add_fetch(&started, 1, __ATOMIC_SEQ_CST);
  return (void*)(long)poll(&p, 1, 100000);
}
static void* futexer(void* a) {
  (void)a;
  __atomic_add_fetch(&started, 1, __ATOMIC_SEQ_CST);
  return (void*)syscall(SYS_futex, &futex_word, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
}
static void* epoller(void* a) {
  (void)a;
  struct epoll_event ev;
  __atomic_add_fetch(&started, 1, __ATOMIC_SEQ_CST);
  return (void*)(long)epoll_wait(epfd, &ev, 1, 100000);
}
static void* clocker(void* a) {
  (void)a;
  struct timespec ts;
  __atomic_add_fetch(&started, 1, __ATOMIC_SEQ_CST);
  for (;;) clock_gettime(CLOCK_MONOTONIC, &ts);
  return 0;
}
static void* spinner(void* a) {
  (void)a;
  __atomic_add_fetch(&started, 1, __ATOMIC_SEQ_CST);
  for (;;) __asm__ volatile("pause");  // same registers every pass
  return 0;
}
static void* ender(void* a) {
  (void)a;
  while (__atomic_load_n(&started, __ATOMIC_SEQ_CST) < 7) usleep(1000);
  usleep(20000);
  printf("worker ends the process (%s)\n", mode);
  fflush(stdout);
  if (strcmp(mode, "worker-exit") == 0) syscall(SYS_exit_group, 7);
  if (strcmp(mode, "exec") == 0) execl("/bin/echo", "echo", "exec'd over the blocked threads", (char*)NULL);
  if (strcmp(mode, "segv") == 0) *(volatile int*)0 = 1;
  return 0;
}

int main(int argc, char** argv) {
  mode = argc > 1 ? argv[1] : "main-exit";
  int rounds = argc > 2 ? atoi(argv[2]) : 1;
  if (pipe(pipefd) != 0) return 1;
  epfd = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLIN, .data.fd = pipefd[0]};
  epoll_ctl(epfd, EPOLL_CTL_ADD, pipefd[0], &ev);
  void* (*fns[])(void*) = {reader, sleeper, poller, futexer, epoller, clocker, spinner};
  pthread_t t;
  for (int r = 0; r < rounds; r++) {
    for (unsigned i = 0; i < sizeof fns / sizeof fns[0]; i++) pthread_create(&t, NULL, fns[i], NULL);
  }
  int worker_ends = strcmp(mode, "worker-exit") == 0 || strcmp(mode, "exec") == 0 || strcmp(mode, "segv") == 0;
  if (worker_ends) {
    pthread_create(&t, NULL, ender, NULL);
    for (;;) pause();
  }
  while (__atomic_load_n(&started, __ATOMIC_SEQ_CST) < 7) usleep(1000);
  usleep(20000);
  printf("main ends the process (%s)\n", mode);
  fflush(stdout);
  if (strcmp(mode, "abort") == 0) abort();
  if (strcmp(mode, "main-return") == 0) return 5;
  exit(6);
}
