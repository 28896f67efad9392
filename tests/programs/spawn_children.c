/* Children that run in their parent's memory until they exec: N vfork
 * children and N posix_spawn children (glibc: clone with CLONE_VM |
 * CLONE_VFORK on a stack of its own), each making buffered calls
 * (getppid, then rt_sigprocmask; posix_spawn's own signal resets) right before
 * its execve of /bin/true. Prints "children ok N" when all exited 0.
 * Usage: spawn_children [N] */
#define _GNU_SOURCE
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

int main(int argc, char** argv) {
  int n = argc > 1 ? atoi(argv[1]) : 5;
  int ok = 0;
  sigset_t all, old;
  sigfillset(&all);
  for (int i = 0; i < n; ++i) {
    sigprocmask(SIG_SETMASK, &all, &old);
    pid_t pid = vfork();
    if (pid == 0) {
      if (getppid() < 0) _exit(3);
      sigprocmask(SIG_SETMASK, &old, NULL);
      execl("/bin/true", "true", (char*)NULL);
      _exit(127);
    }
    sigprocmask(SIG_SETMASK, &old, NULL);
    int status = 0;
    if (pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0) ++ok;
  }
  for (int i = 0; i < n; ++i) {
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &none);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    char* args[] = {"true", NULL};
    pid_t pid = 0;
    int status = 0;
    if (posix_spawn(&pid, "/bin/true", NULL, &attr, args, environ) == 0 && waitpid(pid, &status, 0) == pid &&
        WIFEXITED(status) && WEXITSTATUS(status) == 0) {
      ++ok;
    }
    posix_spawnattr_destroy(&attr);
  }
  printf("children ok %d\n", ok);
  return ok == 2 * n ? 0 : 1;
}
