// The calls the syscall buffer records in-process (getppid, clock_gettime,
// gettimeofday, time, getuid..., lseek, fstat, uname), enough of them to fill
// the buffer several times, from the main thread, a second thread and a
// forked child, and one unbuffered call made through the hook itself.
// Prints what it got: replay must print the same.
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

// The preload library's hook, when rrx record --syscallbuf loaded it.
extern long rrx_syscall_hook(long nr, long a0, long a1, long a2, long a3, long a4, long a5) __attribute__((weak));

static unsigned long mix(unsigned long h, unsigned long v) { return (h ^ v) * 1099511628211ul; }

static unsigned long calls(int n) {
  unsigned long h = 1469598103934665603ul;
  for (int i = 0; i < n; ++i) {
    struct timespec ts;
    struct timeval tv;
    h = mix(h, (unsigned long)getppid());
    clock_gettime(CLOCK_MONOTONIC, &ts);
    h = mix(h, (unsigned long)ts.tv_nsec);
    gettimeofday(&tv, NULL);
    h = mix(h, (unsigned long)tv.tv_usec);
    h = mix(h, (unsigned long)time(NULL));
    h = mix(h, getuid() ^ geteuid() ^ getgid() ^ getegid());
  }
  return h;
}

static void* worker(void* arg) {
  unsigned long h = calls(700);
  printf("thread: %lx\n", h);
  return arg;
}

int main(void) {
  int fd = open("/proc/self/exe", O_RDONLY);
  struct stat st;
  fstat(fd, &st);
  long end = lseek(fd, 0, SEEK_END);
  printf("size matches: %d\n", end == st.st_size);
  struct utsname u;
  uname(&u);
  printf("sysname: %s\n", u.sysname);
  struct timespec bad;
  printf("bad clock: %d\n", clock_gettime(12345, &bad));
  printf("main: %lx\n", calls(1500));
  fflush(stdout);
  pthread_t t;
  pthread_create(&t, NULL, worker, NULL);
  pthread_join(t, NULL);
  fflush(stdout);
  pid_t child = fork();
  if (child == 0) {
    printf("child: %lx\n", calls(300));
    fflush(stdout);
    _exit(0);
  }
  int status = 0;
  waitpid(child, &status, 0);
  printf("child exited %d\n", WEXITSTATUS(status));
  printf("main again: %lx\n", calls(50));
  if (rrx_syscall_hook) {
    // Not a buffered call: the hook makes it traced.
    long rl[2];
    long n = rrx_syscall_hook(SYS_getrlimit, 7 /* RLIMIT_NOFILE */, (long)rl, 0, 0, 0, 0);
    printf("getrlimit through the hook: %d\n", n == 0);
  } else {
    long rl[2];
    printf("getrlimit through the hook: %d\n", syscall(SYS_getrlimit, 7, rl) == 0);
  }
  close(fd);
  return 0;
}
