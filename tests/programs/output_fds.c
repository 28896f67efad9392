// Writes to stdout and stderr through every kind of descriptor that refers
// to them: fds 1 and 2, dup(1), dup2(1, 7), fcntl(F_DUPFD), dup(2), writev
// on a duplicate, a child writing to an inherited duplicate, then two
// threads and two processes writing interleaved lines with no ordering
// between them. A write to a pipe must not show. tests/e2e/output_fds.sh
// checks that replay prints the same bytes, in the same order, to the same
// stream. argv[1]: lines per concurrent writer (default 40).
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

static int lines = 40;

static void say(int fd, const char* text) {
  size_t n = strlen(text);
  if (write(fd, text, n) != (ssize_t)n) _exit(3);
}

static void burst(int fd, const char* who) {
  char line[64];
  for (int i = 0; i < lines; i++) {
    snprintf(line, sizeof line, "%s line %d\n", who, i);
    say(fd, line);
  }
}

static void* thread_main(void* arg) {
  burst(*(int*)arg, "thread B (fd 7)");
  return NULL;
}

int main(int argc, char** argv) {
  if (argc > 1) lines = atoi(argv[1]);
  say(1, "a: fd 1\n");
  int d = dup(1);
  say(d, "b: dup(1)\n");
  if (dup2(1, 7) != 7) return 1;
  say(7, "c: dup2(1, 7)\n");
  int f = fcntl(1, F_DUPFD, 10);
  say(f, "d: fcntl(1, F_DUPFD, 10)\n");
  say(2, "e: fd 2\n");
  int e = dup(2);
  say(e, "f: dup(2)\n");
  struct iovec iov[3] = {{(void*)"g: ", 3}, {(void*)"writev on ", 10}, {(void*)"dup(1)\n", 7}};
  if (writev(d, iov, 3) != 20) return 1;
  int p[2];
  if (pipe(p) != 0) return 1;
  say(p[1], "not output: a pipe\n");
  char buf[64];
  if (read(p[0], buf, sizeof buf) <= 0) return 1;

  pid_t child = fork();
  if (child == 0) {
    say(7, "h: child, inherited fd 7\n");
    say(e, "i: child, inherited dup(2)\n");
    _exit(0);
  }
  waitpid(child, NULL, 0);

  // Two threads, no order between them.
  pthread_t t;
  int seven = 7;
  pthread_create(&t, NULL, thread_main, &seven);
  burst(1, "thread A (fd 1)");
  pthread_join(t, NULL);

  // Two processes, no order between them; stderr too.
  child = fork();
  if (child == 0) {
    burst(f, "child (F_DUPFD)");
    burst(e, "child (dup(2))");
    _exit(0);
  }
  burst(d, "parent (dup(1))");
  burst(2, "parent (fd 2)");
  waitpid(child, NULL, 0);
  say(1, "z: done\n");
  return 0;
}
