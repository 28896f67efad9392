// SIGALRM interrupts a blocking read: a handler installed without
// SA_RESTART, alarm(1), then read(2) on a pipe that nobody writes (this
// process holds the write end, so no EOF). The read must fail with EINTR
// after the handler ran. Prints the results.
//
// rrx-e2e: later (signal interrupting a blocked syscall; tests/e2e/signals.sh
// records it, so edge_programs.sh leaves it out)
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t handler_ran;

static void on_alarm(int sig) {
  (void)sig;
  handler_ran++;
}

int main(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_alarm;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: the read must fail with EINTR
  if (sigaction(SIGALRM, &sa, NULL) != 0) {
    perror("sigaction");
    return 1;
  }
  int fds[2];
  if (pipe(fds) != 0) {
    perror("pipe");
    return 1;
  }
  printf("blocking in read, alarm in 1 s\n");
  fflush(stdout);

  alarm(1);
  char c;
  ssize_t r = read(fds[0], &c, 1);
  int err = errno;
  printf("read returned %zd, errno %s\n", r, r < 0 && err == EINTR ? "EINTR" : strerror(err));
  printf("handler ran %d time(s)\n", (int)handler_ran);
  printf("alarm left: %u\n", alarm(0));
  return r < 0 && err == EINTR && handler_ran == 1 ? 0 : 1;
}
