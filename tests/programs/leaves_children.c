// leaves_children MODE SECONDS [PIDFILE]: the main process exits while a
// process it started keeps running for SECONDS, then prints "orphan done".
// With PIDFILE the orphan writes its pid there first (atomically).
//   double-fork  fork; the child forks the orphan and exits; the main
//                process reaps the child, prints "main done", exits 0
//   daemon       prints "main done", then daemon(1, 1): the main process
//                exits 0 at once, the daemon (own session) goes on
// tests/e2e/daemons.sh records it: by default rrx record waits for the
// orphan (and says so), with --wait=main it ends it.
//
// rrx-e2e: later (tests/e2e/daemons.sh runs it)
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char* pidfile;

static void orphan(unsigned seconds) {
  if (pidfile) {
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", pidfile);
    FILE* f = fopen(tmp, "w");
    if (!f) _exit(2);
    fprintf(f, "%d\n", (int)getpid());
    fclose(f);
    rename(tmp, pidfile);
  }
  sleep(seconds);
  printf("orphan done\n");
  fflush(stdout);
  _exit(0);
}

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: leaves_children double-fork|daemon SECONDS [PIDFILE]\n");
    return 2;
  }
  unsigned seconds = (unsigned)atoi(argv[2]);
  if (argc > 3) pidfile = argv[3];
  if (strcmp(argv[1], "daemon") == 0) {
    printf("main done\n");
    fflush(stdout);
    if (daemon(1, 1) != 0) return 1;
    orphan(seconds);
  }
  pid_t child = fork();
  if (child == 0) {
    if (fork() == 0) orphan(seconds);
    _exit(0);
  }
  waitpid(child, NULL, 0);
  printf("main done\n");
  return 0;
}
