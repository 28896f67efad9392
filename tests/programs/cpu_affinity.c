// The CPU affinity a program sees of itself, its threads and its children:
// how many CPUs it may use, what it gets after setting one CPU, what a
// thread and a forked child inherit, and the kernel's refusals (a CPU
// beyond the machine's: EINVAL; an unreadable mask: EFAULT; a mask length
// too short for getaffinity: EINVAL). Its output is the same natively and
// under rrx, which binds the whole tree to one CPU and shows each thread
// its own mask (record/cpu_affinity.h).
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int count(pid_t pid) {
  cpu_set_t s;
  CPU_ZERO(&s);
  if (sched_getaffinity(pid, sizeof s, &s) != 0) return -errno;
  return CPU_COUNT(&s);
}

static int first_cpu(void) {
  cpu_set_t s;
  CPU_ZERO(&s);
  sched_getaffinity(0, sizeof s, &s);
  for (int c = 0; c < CPU_SETSIZE; ++c) {
    if (CPU_ISSET(c, &s)) return c;
  }
  return -1;
}

static void* thread_main(void* arg) {
  (void)arg;
  printf("thread: %d cpu(s), first is the parent's: %d\n", count(0), first_cpu() == *(int*)arg);
  return NULL;
}

int main(void) {
  const int all = count(0);
  printf("start: %d cpu(s)\n", all);
  printf("same as sysconf's online count: %d\n", all == sysconf(_SC_NPROCESSORS_ONLN));
  printf("parent process's mask readable: %d\n", count(getppid()) > 0);
  const int one = first_cpu();
  cpu_set_t s;
  CPU_ZERO(&s);
  CPU_SET(one, &s);
  printf("set one cpu: %d\n", sched_setaffinity(0, sizeof s, &s));
  printf("after: %d cpu(s), the one set: %d\n", count(0), first_cpu() == one);
  pthread_t th;
  int arg = one;
  pthread_create(&th, NULL, thread_main, &arg);
  pthread_join(th, NULL);
  fflush(stdout);
  pid_t child = fork();
  if (child == 0) {
    printf("child: %d cpu(s), the parent's: %d\n", count(0), first_cpu() == one);
    cpu_set_t all_set;
    CPU_ZERO(&all_set);
    for (int c = 0; c < CPU_SETSIZE; ++c) CPU_SET(c, &all_set);
    printf("child sets every cpu: %d, then %s\n", sched_setaffinity(0, sizeof all_set, &all_set),
           count(0) == all ? "all of them again" : "not all");
    fflush(stdout);
    _exit(0);
  }
  int status = 0;
  waitpid(child, &status, 0);
  printf("parent after the child: %d cpu(s)\n", count(0));
  CPU_ZERO(&s);
  CPU_SET(CPU_SETSIZE - 1, &s);  // no such CPU here
  errno = 0;
  printf("a cpu beyond the machine: %d %s\n", sched_setaffinity(0, sizeof s, &s), strerror(errno));
  errno = 0;
  printf("an unreadable mask: %ld %s\n", syscall(SYS_sched_setaffinity, 0, sizeof s, (void*)8), strerror(errno));
  errno = 0;
  printf("getaffinity, 1 byte: %ld %s\n", syscall(SYS_sched_getaffinity, 0, 1, &s), strerror(errno));
  printf("still: %d cpu(s)\n", count(0));
  CPU_ZERO(&s);
  for (int c = 0; c < CPU_SETSIZE; ++c) CPU_SET(c, &s);
  printf("back to all: %d, %s\n", sched_setaffinity(0, sizeof s, &s), count(0) == all ? "all of them" : "not all");
  return 0;
}
