// A SIGSTOP that reaches a child while it computes (no syscall for a
// while), after which the child blocks in read(2) on a pipe that the parent
// writes only once it has seen the child stopped and continued it. The
// kernel stops the child at once; a recorder that holds the signal until
// the child's next syscall returns must not let that read wait forever:
// the signal is due before the read blocks.
//
// rrx-e2e: later (multi-process; tests/e2e/job_control.sh records it)
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile unsigned long sink;

int main(void) {
  int ready[2], release[2];
  if (pipe(ready) != 0 || pipe(release) != 0) return 1;
  pid_t pid = fork();
  if (pid < 0) return 1;
  if (pid == 0) {
    close(ready[0]);
    close(release[1]);
    (void)!write(ready[1], "r", 1);
    // Half a second or more of computing natively: the parent's SIGSTOP comes in the middle.
    for (unsigned long i = 0; i < 300000000ul; i++) sink += i;
    char c;
    ssize_t n;
    while ((n = read(release[0], &c, 1)) < 0 && errno == EINTR) {
    }
    _exit(n == 1 ? 0 : 2);
  }
  close(ready[1]);
  close(release[0]);
  char c;
  if (read(ready[0], &c, 1) != 1) return 1;
  struct timespec t = {0, 150 * 1000 * 1000};
  nanosleep(&t, NULL);  // the child is computing by now
  kill(pid, SIGSTOP);
  int st = 0;
  while (waitpid(pid, &st, WUNTRACED) < 0 && errno == EINTR) {
  }
  printf("child %s\n", WIFSTOPPED(st) ? "stopped" : "not stopped");
  kill(pid, SIGCONT);
  (void)!write(release[1], "x", 1);
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  printf("child exited with %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
  return 0;
}
