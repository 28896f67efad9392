// Process identity: getpid, getppid, gettid, ids, session, uname.
#define _GNU_SOURCE
#include <stdio.h>
#include <sys/utsname.h>
#include <unistd.h>

int main(void) {
  printf("getpid = %d\n", (int)getpid());
  printf("getppid = %d\n", (int)getppid());
  printf("gettid = %d (same as pid: %s)\n", (int)gettid(), gettid() == getpid() ? "yes" : "no");
  printf("getuid = %u geteuid = %u getgid = %u getegid = %u\n", getuid(), geteuid(), getgid(), getegid());
  printf("getpgrp = %d getsid = %d\n", (int)getpgrp(), (int)getsid(0));
  struct utsname u;
  uname(&u);
  printf("uname: %s %s %s\n", u.sysname, u.release, u.machine);
  fprintf(stderr, "pids: pid %d on stderr\n", (int)getpid());
  return 0;
}
