// Forks a child that tells the parent it is ready (one byte on a pipe) and
// then sleeps in pause(2) forever; the parent kills it with SIGKILL, waits
// and prints how it ended (WIFSIGNALED, WTERMSIG).
//
// rrx-e2e: later (multi-process; tests/e2e/processes.sh and signals.sh
// record it, so edge_programs.sh leaves it out)
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
  int fds[2];
  if (pipe(fds) != 0) {
    perror("pipe");
    return 1;
  }
  printf("forking a child that pauses\n");
  fflush(stdout);
  pid_t child = fork();
  if (child < 0) {
    perror("fork");
    return 1;
  }
  if (child == 0) {
    close(fds[0]);
    write(fds[1], "r", 1);
    for (;;) pause();
  }
  close(fds[1]);
  char c;
  ssize_t r;
  while ((r = read(fds[0], &c, 1)) < 0 && errno == EINTR) {
  }
  printf("child is ready: %s\n", r == 1 && c == 'r' ? "yes" : "no");
  fflush(stdout);
  if (kill(child, SIGKILL) != 0) {
    perror("kill");
    return 1;
  }
  int status;
  pid_t w;
  while ((w = waitpid(child, &status, 0)) < 0 && errno == EINTR) {
  }
  if (w != child) {
    perror("waitpid");
    return 1;
  }
  printf("WIFSIGNALED = %d, WTERMSIG = %d\n", WIFSIGNALED(status) ? 1 : 0,
         WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  return 0;
}
