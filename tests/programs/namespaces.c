// Namespaces inside a recording (tests/e2e/namespaces.sh).
//   pidns   unshare(CLONE_NEWPID) (with CLONE_NEWUSER when not root), then a
//           raw clone with CLONE_CHILD_SETTID: the child is pid 1 of the new
//           namespace and the kernel writes 1 where it asked; it forks a
//           grandchild (pid 2) that writes into pid 1's memory with
//           process_vm_writev(1, ...): the write lands in the task the
//           namespace's pid 1 names.
//   ids     prints getpid, getppid and gettid (bwrap runs it as pid 2 of its namespace).
//   setns   unshare(CLONE_NEWUTS), sethostname, then setns back into the
//           first UTS namespace by its /proc/self/ns/uts fd: uname shows
//           each (root only: EPERM printed otherwise).
//   mountns DIR  in a new mount namespace, mounts a tmpfs over DIR (whose
//           DIR/prog outside is another program), copies itself there as
//           DIR/prog and execs it from a second thread's process (an exec
//           that waits for the other thread's end, which rrx records at
//           its entry) with "hello".
//   hello   prints a line naming the program (the mount namespace case runs
//           it in place of another file at the same path).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

static char g_buf[64] = "not written";
static volatile int g_ctid = -1;

static int grandchild(void) {
  printf("grandchild: getpid %d, getppid %d\n", (int)getpid(), (int)getppid());
  fflush(stdout);
  static const char msg[] = "written by pid 2";
  struct iovec local = {(void*)msg, sizeof msg};
  struct iovec remote = {g_buf, sizeof msg};
  ssize_t n = process_vm_writev(1, &local, 1, &remote, 1, 0);
  printf("grandchild: process_vm_writev(1) = %zd\n", n);
  return n == (ssize_t)sizeof msg ? 0 : 1;
}

static int init_child(void) {
  printf("child: getpid %d, gettid %d, CLONE_CHILD_SETTID wrote %d\n", (int)getpid(), (int)syscall(SYS_gettid),
         g_ctid);
  fflush(stdout);
  pid_t g = fork();
  if (g < 0) return 1;
  if (g == 0) {
    int rc = grandchild();
    fflush(stdout);
    _exit(rc);
  }
  int status = 0;
  if (waitpid(g, &status, 0) != g) return 1;
  printf("child: grandchild %d exited %d; g_buf \"%s\"\n", (int)g, WEXITSTATUS(status), g_buf);
  return 0;
}

static int pidns(void) {
  int flags = CLONE_NEWPID | (geteuid() == 0 ? 0 : CLONE_NEWUSER);
  if (unshare(flags) != 0) {
    printf("unshare: %s\n", strerror(errno));
    return 1;
  }
  fflush(stdout);
  long child = syscall(SYS_clone, (long)(SIGCHLD | CLONE_CHILD_SETTID), 0L, 0L, (long)&g_ctid, 0L);
  if (child < 0) {
    printf("clone: %s\n", strerror(errno));
    return 1;
  }
  if (child == 0) {
    int rc = init_child();
    fflush(stdout);
    _exit(rc);
  }
  int status = 0;
  if (waitpid((pid_t)child, &status, 0) != child) return 1;
  printf("parent: child exited %d, CLONE_CHILD_SETTID left %d here\n", WEXITSTATUS(status), g_ctid);
  return WEXITSTATUS(status);
}

static int uts(void) {
  struct utsname u;
  uname(&u);
  printf("hostname at start: %s\n", u.nodename);
  int first = open("/proc/self/ns/uts", O_RDONLY | O_CLOEXEC);
  if (unshare(CLONE_NEWUTS) != 0) {
    printf("unshare(CLONE_NEWUTS): %s\n", strerrorname_np(errno));
    return 0;
  }
  static const char name[] = "rrx-inner";
  sethostname(name, sizeof name - 1);
  uname(&u);
  printf("hostname in the new namespace: %s\n", u.nodename);
  int r = setns(first, CLONE_NEWUTS);
  uname(&u);
  printf("setns back = %d; hostname: %s\n", r, u.nodename);
  return 0;
}

static void* sleeper(void* arg) {
  (void)arg;
  for (;;) pause();
  return NULL;
}

static int mountns(const char* dir) {
  if (unshare(CLONE_NEWNS | (geteuid() == 0 ? 0 : CLONE_NEWUSER)) != 0 ||
      mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 || mount("tmpfs", dir, "tmpfs", 0, NULL) != 0) {
    printf("mount namespace: %s\n", strerror(errno));
    return 1;
  }
  char path[4096];
  snprintf(path, sizeof path, "%s/prog", dir);
  int in = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  int out = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
  char buf[65536];
  ssize_t n;
  while (in >= 0 && out >= 0 && (n = read(in, buf, sizeof buf)) > 0) {
    if (write(out, buf, (size_t)n) != n) return 1;
  }
  close(in);
  close(out);
  pthread_t t;
  pthread_create(&t, NULL, sleeper, NULL);
  char* args[] = {path, "hello", NULL};
  execv(path, args);
  printf("execv %s: %s\n", path, strerror(errno));
  return 1;
}

int main(int argc, char** argv) {
  const char* what = argc > 1 ? argv[1] : "";
  if (strcmp(what, "pidns") == 0) return pidns();
  if (strcmp(what, "setns") == 0) return uts();
  if (strcmp(what, "mountns") == 0 && argc > 2) return mountns(argv[2]);
  if (strcmp(what, "ids") == 0) {
    printf("getpid %d, getppid %d, gettid %d\n", (int)getpid(), (int)getppid(), (int)syscall(SYS_gettid));
    return 0;
  }
  if (strcmp(what, "hello") == 0) {
    printf("hello from the namespaces test program\n");
    return 0;
  }
  fprintf(stderr, "usage: %s pidns|setns|mountns DIR|ids|hello\n", argv[0]);
  return 2;
}
