// Starts `ls -1 DIR` in a child process and waits for it; ls writes the
// listing to the shared stdout, then the parent prints the child's status.
// mt_fork_exec DIR [fork|vfork|spawn [PROG]]: the child is made with fork(2)
// and execvp (default), vfork(2) and execvp, or posix_spawnp (glibc: clone
// with CLONE_VM|CLONE_VFORK); it runs `PROG -1 DIR` (PROG default ls). With a
// PROG that does not exist the exec fails: the child exits 127 (fork, vfork)
// or posix_spawnp returns ENOENT.
//
// rrx-e2e: later (multi-process; tests/e2e/processes.sh records it, so
// edge_programs.sh leaves it out)
#define _GNU_SOURCE
#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

static pid_t start(const char* mode, char* const argv[]) {
  pid_t pid;
  if (strcmp(mode, "spawn") == 0) {
    int err = posix_spawnp(&pid, argv[0], NULL, NULL, argv, environ);
    if (err == 0) return pid;
    // glibc reports a failed exec of the child as the error (the child exits 127).
    printf("posix_spawnp %s: %s\n", argv[0], strerror(err));
    return -1;
  }
  pid = strcmp(mode, "vfork") == 0 ? vfork() : fork();
  if (pid == 0) {
    execvp(argv[0], argv);
    _exit(127);
  }
  return pid;
}

static void report(const char* what, pid_t pid) {
  if (pid < 0) return;
  int status;
  pid_t w;
  while ((w = waitpid(pid, &status, 0)) < 0 && errno == EINTR) {
  }
  if (w != pid) {
    printf("%s: waitpid failed: %s\n", what, strerror(errno));
  } else if (WIFEXITED(status)) {
    printf("%s: exited with status %d\n", what, WEXITSTATUS(status));
  } else if (WIFSIGNALED(status)) {
    printf("%s: killed by signal %d\n", what, WTERMSIG(status));
  }
  fflush(stdout);
}

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: mt_fork_exec DIR [fork|vfork|spawn [PROG]]\n");
    return 2;
  }
  const char* mode = argc > 2 ? argv[2] : "fork";
  if (strcmp(mode, "fork") != 0 && strcmp(mode, "vfork") != 0 && strcmp(mode, "spawn") != 0) {
    fprintf(stderr, "mt_fork_exec: unknown mode %s\n", mode);
    return 2;
  }
  printf("%s: %s -1 %s\n", mode, argc > 3 ? argv[3] : "ls", argv[1]);
  fflush(stdout);  // before the fork: the child must not inherit buffered output

  char* prog = argc > 3 ? argv[3] : "ls";
  char* child_argv[] = {prog, "-1", argv[1], NULL};
  report(prog, start(mode, child_argv));
  return 0;
}
