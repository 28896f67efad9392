// slot_calls: traced calls the recorder completes at their seccomp stop, with
// their result taken from the process's return slot (record/return_slot.h),
// under a fast interval timer whose SIGALRM often becomes pending while such
// a call runs (the thread then stops inside the return stub): private maps
// of a file, their munmap, close, access, and failing ones (a bad fd, an
// unaligned address), in a forked child too (the slot's page is copied).
// Prints what it saw; the replay must print the same.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t alarms;

static void on_alarm(int sig) {
  (void)sig;
  alarms++;
}

static int run(const char* who, int rounds) {
  int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    perror("open");
    return 1;
  }
  unsigned sum = 0, failures = 0;
  for (int i = 0; i < rounds; i++) {
    unsigned char* p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      perror("mmap");
      return 1;
    }
    sum += p[i % 4096];
    if (munmap(p, 4096) != 0) return 1;
    // Failing calls: their errors are results too.
    if (mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, 999, 0) == MAP_FAILED && errno == EBADF) failures++;
    if (munmap(p + 1, 4096) != 0 && errno == EINVAL) failures++;
    if (close(999) != 0 && errno == EBADF) failures++;
    if (access("/nonexistent/slot_calls", F_OK) != 0 && errno == ENOENT) failures++;
  }
  close(fd);
  printf("%s: %d rounds, sum %u, %u failures as expected, %s alarms\n", who, rounds, sum, failures,
         alarms > 0 ? "some" : "no");
  return 0;
}

int main(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_alarm;
  sa.sa_flags = SA_RESTART;
  sigaction(SIGALRM, &sa, NULL);
  struct itimerval it = {{0, 200}, {0, 200}};
  setitimer(ITIMER_REAL, &it, NULL);
  if (run("parent", 1500) != 0) return 1;
  pid_t child = fork();
  if (child == 0) _exit(run("child", 500));
  int status = 0;
  waitpid(child, &status, 0);
  struct itimerval off = {{0, 0}, {0, 0}};
  setitimer(ITIMER_REAL, &off, NULL);
  printf("child exited %d; alarms %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1, (int)alarms);
  return 0;
}
