// Two processes for the gdb multiprocess tests (tests/gdb/multiprocess.sh):
// the parent forks; the child writes and execs the program argv[1]
// (mp_exec_child); the parent writes, waits for the child and writes its
// exit status as waitpid reported it.
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

__attribute__((noinline)) static int parent_step(int n) { return n * 2; }

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: mp_fork_exec PROGRAM\n");
    return 2;
  }
  pid_t pid = fork();
  if (pid < 0) {
    perror("fork");
    return 1;
  }
  if (pid == 0) {
    const char msg[] = "child: before exec\n";
    if (write(1, msg, sizeof msg - 1) < 0) _exit(126);
    execl(argv[1], argv[1], "from-child", (char*)NULL);
    _exit(127);
  }
  char buf[80];
  int n = snprintf(buf, sizeof buf, "parent: forked, %d\n", parent_step(21));
  if (write(1, buf, (size_t)n) < 0) return 1;
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return 1;
  n = snprintf(buf, sizeof buf, "parent: child exited with status %d\n", WEXITSTATUS(status));
  if (write(1, buf, (size_t)n) < 0) return 1;
  return 0;
}
