// group_signal MODE: sends a signal to its own process group, as programs
// do to stop or wake their whole tree. Under rrx record it must reach only
// the recorded tree, never rrx itself.
//   usr1    a child waits in sigsuspend; kill(0, SIGUSR1) reaches both
//           (handlers), then the parent reaps the child       (exit 0)
//   killpg  the same with killpg(getpgrp(), SIGUSR1)          (exit 0)
//   abort   kill(0, SIGABRT)                                  (exit 134)
//   trap    kill(0, SIGTRAP)                                  (exit 133)
//
// rrx-e2e: later (tests/e2e/group_signals.sh runs it with each MODE)
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t got;
static void on_usr1(int sig) { got = sig; }

int main(int argc, char** argv) {
  const char* mode = argc > 1 ? argv[1] : "";
  if (strcmp(mode, "abort") == 0 || strcmp(mode, "trap") == 0) {
    int sig = mode[0] == 'a' ? SIGABRT : SIGTRAP;
    printf("sending SIG%s to my process group\n", mode[0] == 'a' ? "ABRT" : "TRAP");
    fflush(stdout);
    kill(0, sig);
    printf("still alive\n");
    return 1;
  }
  if (strcmp(mode, "usr1") != 0 && strcmp(mode, "killpg") != 0) {
    fprintf(stderr, "usage: group_signal usr1|killpg|abort|trap\n");
    return 2;
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_usr1;
  sigaction(SIGUSR1, &sa, NULL);
  sigset_t usr1, old;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  sigprocmask(SIG_BLOCK, &usr1, &old);
  int ready[2];
  if (pipe(ready) != 0) return 2;
  pid_t child = fork();
  if (child == 0) {
    close(ready[0]);
    close(ready[1]);  // tells the parent it runs (EOF)
    while (!got) sigsuspend(&old);
    printf("child got SIGUSR1\n");
    fflush(stdout);
    _exit(0);
  }
  close(ready[1]);
  char c;
  read(ready[0], &c, 1);  // the child runs: the group has two processes
  if (mode[0] == 'u') {
    kill(0, SIGUSR1);
  } else {
    killpg(getpgrp(), SIGUSR1);
  }
  sigprocmask(SIG_SETMASK, &old, NULL);  // delivered here
  int status = 0;
  waitpid(child, &status, 0);
  printf("parent got %s; child exited %d\n", got == SIGUSR1 ? "SIGUSR1" : "nothing",
         WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  return 0;
}
