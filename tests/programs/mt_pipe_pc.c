// Producer/consumer between two processes over a pipe: the forked child
// writes the lines "1" .. "N" (one write(2) each) and exits with status 3;
// the parent reads whatever read(2) returns (any split), sums the numbers,
// waits for the child and prints the count, the sum and the child's status.
// mt_pipe_pc [N] (default 300).
//
// rrx-e2e: later (multi-process; tests/e2e/processes.sh records it, so
// edge_programs.sh leaves it out)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char** argv) {
  long n = argc > 1 ? atol(argv[1]) : 300;
  int fds[2];
  if (pipe(fds) != 0) {
    perror("pipe");
    return 1;
  }
  printf("producer/consumer over a pipe, %ld lines\n", n);
  fflush(stdout);  // not twice: the child inherits the stdio buffer

  pid_t child = fork();
  if (child < 0) {
    perror("fork");
    return 1;
  }
  if (child == 0) {
    close(fds[0]);
    for (long i = 1; i <= n; i++) {
      char line[32];
      int len = snprintf(line, sizeof line, "%ld\n", i);
      if (write(fds[1], line, (size_t)len) != len) _exit(1);
    }
    close(fds[1]);
    _exit(3);
  }

  close(fds[1]);
  long lines = 0, sum = 0, current = 0, reads = 0;
  char buf[512];
  for (;;) {
    ssize_t got = read(fds[0], buf, sizeof buf);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      perror("read");
      return 1;
    }
    if (got == 0) break;
    reads++;
    for (ssize_t i = 0; i < got; i++) {
      if (buf[i] == '\n') {
        sum += current;
        current = 0;
        lines++;
      } else {
        current = current * 10 + (buf[i] - '0');
      }
    }
  }
  close(fds[0]);
  (void)reads;  // depends on scheduling: not printed

  int status;
  pid_t w;
  while ((w = waitpid(child, &status, 0)) < 0 && errno == EINTR) {
  }
  if (w != child) {
    perror("waitpid");
    return 1;
  }
  printf("lines = %ld, sum = %ld (expected %ld)\n", lines, sum, n * (n + 1) / 2);
  if (WIFEXITED(status))
    printf("child exited with status %d\n", WEXITSTATUS(status));
  else if (WIFSIGNALED(status))
    printf("child killed by signal %d\n", WTERMSIG(status));
  return sum == n * (n + 1) / 2 ? 0 : 1;
}
