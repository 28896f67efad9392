// mt_sigint_wait PIDFILE: installs a SIGINT handler, prints "ready", writes
// its pid to PIDFILE (atomically: to PIDFILE.tmp, then rename) and blocks in
// read(2) on a pipe that nobody writes. The handler prints "got SIGINT" and
// exits 0. A test sends SIGINT to the pid in PIDFILE from outside; another
// signals the recorder instead and checks the whole tree is killed.
//
// rrx-e2e: later (never in edge_programs.sh: it blocks until a signal comes
// from outside; tests/e2e/recorder_signals.sh runs it)
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void on_sigint(int sig) {
  (void)sig;
  static const char msg[] = "got SIGINT\n";
  write(1, msg, sizeof msg - 1);
  _exit(0);
}

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: mt_sigint_wait PIDFILE\n");
    return 2;
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_sigint;
  sigemptyset(&sa.sa_mask);
  if (sigaction(SIGINT, &sa, NULL) != 0) {
    perror("sigaction");
    return 1;
  }
  int fds[2];
  if (pipe(fds) != 0) {
    perror("pipe");
    return 1;
  }
  printf("ready\n");
  fflush(stdout);

  char tmp[4096];
  snprintf(tmp, sizeof tmp, "%s.tmp", argv[1]);
  FILE* f = fopen(tmp, "w");
  if (f == NULL || fprintf(f, "%d\n", (int)getpid()) < 0 || fclose(f) != 0 ||
      rename(tmp, argv[1]) != 0) {
    perror(argv[1]);
    return 1;
  }

  char c;
  for (;;) {
    ssize_t r = read(fds[0], &c, 1);
    if (r < 0 && errno == EINTR) continue;
    printf("read returned %zd: unexpected\n", r);
    return 1;
  }
}
