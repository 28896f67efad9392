// Waits that install a temporary signal mask (ppoll, pselect6, epoll_pwait,
// epoll_pwait2, rt_sigsuspend) interrupted by a signal the normal mask
// blocks: the kernel delivers it under the temporary mask, runs the handler,
// and only then restores the old mask. Each wait is interrupted once by a
// timer signal (single thread), once by a signal from a child process, once
// by a child that goes on making calls after its kill (the wait's return
// and the signal's delivery are then often recorded with the child's
// events between them) and once by a signal from another thread.
//
//   masked_wait_signal [ROUNDS]
//
// rrx-e2e: later (tests/e2e/signals.sh records it)
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t hits;
static void on_signal(int sig) { (void)sig; hits++; }

static int pipefd[2];
static int epfd;

// Waits for a signal that the normal mask blocks, with `how`.
static int masked_wait(const char* how, sigset_t* during) {
  if (strcmp(how, "ppoll") == 0) {
    struct pollfd p = {pipefd[0], POLLIN, 0};
    return ppoll(&p, 1, NULL, during);
  }
  if (strcmp(how, "pselect") == 0) {
    fd_set r;
    FD_ZERO(&r);
    FD_SET(pipefd[0], &r);
    return pselect(pipefd[0] + 1, &r, NULL, NULL, NULL, during);
  }
  if (strcmp(how, "epoll_pwait") == 0) {
    struct epoll_event ev;
    return epoll_pwait(epfd, &ev, 1, -1, during);
  }
  if (strcmp(how, "epoll_pwait2") == 0) {
    struct epoll_event ev;
    return (int)syscall(SYS_epoll_pwait2, epfd, &ev, 1, NULL, during, 8);
  }
  return sigsuspend(during);
}

static pthread_t main_thread;
static void* send_later(void* a) {
  (void)a;
  usleep(5000);
  pthread_kill(main_thread, SIGUSR1);
  return NULL;
}

static void one(const char* how, const char* source) {
  sigset_t during;
  sigprocmask(SIG_SETMASK, NULL, &during);
  sigdelset(&during, SIGUSR1);
  sigdelset(&during, SIGALRM);
  int before = hits;
  pid_t child = 0;
  pthread_t thread;
  if (strcmp(source, "timer") == 0) {
    struct itimerval it = {{0, 0}, {0, 5000}};
    setitimer(ITIMER_REAL, &it, NULL);
  } else if (strcmp(source, "exit") == 0) {
    // A child whose exit signal is SIGUSR1: its exit wakes the wait.
    child = (pid_t)syscall(SYS_clone, SIGUSR1, 0, 0, 0, 0);
    if (child == 0) {
      usleep(5000);
      syscall(SYS_exit_group, 0);
    }
  } else if (strcmp(source, "child") == 0 || strcmp(source, "busy") == 0) {
    pid_t parent = getpid();
    child = fork();
    if (child == 0) {
      usleep(5000);
      kill(parent, SIGUSR1);
      // "busy": the child goes on making calls, so that the recording is
      // likely to show some of them between the wait's return and the
      // signal's delivery in the parent.
      if (strcmp(source, "busy") == 0)
        for (int i = 0; i < 200; i++) syscall(SYS_getppid);
      _exit(0);
    }
  } else {
    pthread_create(&thread, NULL, send_later, NULL);
  }
  int r = masked_wait(how, &during);
  int err = errno;
  sigset_t now;
  sigprocmask(SIG_SETMASK, NULL, &now);
  printf("%-13s from %-6s: returned %d (%s), handler ran %d time(s), mask restored: %s\n", how, source, r,
         r < 0 ? strerror(err) : "-", hits - before,
         sigismember(&now, SIGUSR1) && sigismember(&now, SIGALRM) ? "yes" : "no");
  if (child) waitpid(child, NULL, __WALL);
  else if (strcmp(source, "thread") == 0) pthread_join(thread, NULL);
}

int main(int argc, char** argv) {
  int rounds = argc > 1 ? atoi(argv[1]) : 1;
  main_thread = pthread_self();
  if (pipe(pipefd) != 0) return 1;
  epfd = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLIN, .data.fd = pipefd[0]};
  epoll_ctl(epfd, EPOLL_CTL_ADD, pipefd[0], &ev);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGUSR1, &sa, NULL);
  sigaction(SIGALRM, &sa, NULL);
  sigset_t block;
  sigemptyset(&block);
  sigaddset(&block, SIGUSR1);
  sigaddset(&block, SIGALRM);
  sigprocmask(SIG_BLOCK, &block, NULL);
  const char* hows[] = {"ppoll", "pselect", "epoll_pwait", "epoll_pwait2", "sigsuspend"};
  const char* sources[] = {"timer", "child", "busy", "exit", "thread"};
  for (int r = 0; r < rounds; r++)
    for (unsigned h = 0; h < 5; h++)
      for (unsigned s = 0; s < 5; s++) one(hows[h], sources[s]);
  return 0;
}
