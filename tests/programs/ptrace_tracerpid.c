// /proc/PID/status's TracerPid and /proc/PID/stat's state as a tracer and
// its tracee inside the recorded tree see them: 0 for an untraced process
// (rrx, the real tracer, does not show), the tracer's pid for its tracee
// (PTRACE_SEIZE, then PTRACE_TRACEME), as the tracee itself and as others
// read it, state 't' while it is stopped for its tracer, and 0 again after
// PTRACE_DETACH. Read with stdio (one read of the whole file) and with
// read(2) into a buffer just large enough. The output does not depend on
// timing: e2e ptrace_stops.sh compares it with a native run.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

// TracerPid of /proc/PID/status (pid 0: self), read with stdio.
static long tracer_pid(pid_t pid) {
  char path[64];
  if (pid == 0) {
    snprintf(path, sizeof path, "/proc/self/status");
  } else {
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
  }
  FILE* f = fopen(path, "r");
  if (!f) return -1;
  char line[256];
  long v = -2;
  while (fgets(line, sizeof line, f)) {
    if (strncmp(line, "TracerPid:", 10) == 0) v = strtol(line + 10, NULL, 10);
  }
  fclose(f);
  return v;
}

// The same with one read(2) of the whole file into a buffer of its size.
static long tracer_pid_raw(pid_t pid) {
  char path[64], buf[8192];
  snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
  int fd = open(path, O_RDONLY);
  if (fd < 0) return -1;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  char more;
  ssize_t rest = read(fd, &more, 1);  // at the end
  close(fd);
  if (n <= 0 || rest != 0) return -3;
  buf[n] = 0;
  char* at = strstr(buf, "\nTracerPid:");
  if (!at || buf[n - 1] != '\n') return -2;
  return strtol(at + 11, NULL, 10);
}

static char state_of(pid_t pid) {
  char path[64], buf[512];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  int fd = open(path, O_RDONLY);
  if (fd < 0) return '?';
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return '?';
  buf[n] = 0;
  char* p = strrchr(buf, ')');
  return p && p[1] == ' ' ? p[2] : '?';
}

static const char* who(long v, pid_t tracer) {
  return v == 0 ? "none" : v == tracer ? "the tracer" : v < 0 ? "unreadable" : "another process";
}

static void check(long r, const char* what) {
  if (r != 0) {
    perror(what);
    exit(1);
  }
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  const pid_t me = getpid();
  printf("tracer: own TracerPid: %s\n", who(tracer_pid(0), me));

  int go[2], done[2];
  check(pipe(go), "pipe");
  check(pipe(done), "pipe");
  pid_t child = fork();
  if (child == 0) {
    char c;
    if (read(go[0], &c, 1) != 1) _exit(2);
    printf("child: own TracerPid: %s\n", who(tracer_pid(0), getppid()));
    printf("child: own TracerPid (read): %s\n", who(tracer_pid_raw(getpid()), getppid()));
    if (write(done[1], "y", 1) != 1) _exit(2);
    kill(getpid(), SIGSTOP);
    printf("child: after the stop, TracerPid: %s\n", who(tracer_pid(0), getppid()));
    _exit(0);
  }
  printf("tracer: child's TracerPid before: %s\n", who(tracer_pid(child), me));
  check(ptrace(PTRACE_SEIZE, child, 0, 0), "PTRACE_SEIZE");
  printf("tracer: child's TracerPid seized: %s\n", who(tracer_pid(child), me));
  printf("tracer: child's TracerPid seized (read): %s\n", who(tracer_pid_raw(child), me));
  check(write(go[1], "x", 1) != 1, "write");
  char c;
  check(read(done[0], &c, 1) != 1, "read");
  int status = 0;
  check(waitpid(child, &status, 0) != child, "waitpid");
  printf("tracer: child stopped by %s; state %c\n", strsignal(WSTOPSIG(status)), state_of(child));
  check(ptrace(PTRACE_DETACH, child, 0, 0), "PTRACE_DETACH");
  check(waitpid(child, &status, 0) != child, "waitpid");
  printf("tracer: child exited %d; own TracerPid: %s\n", WEXITSTATUS(status), who(tracer_pid(0), me));

  // PTRACE_TRACEME: the parent is the tracer from then on.
  pid_t second = fork();
  if (second == 0) {
    check(ptrace(PTRACE_TRACEME, 0, 0, 0), "PTRACE_TRACEME");
    printf("second: own TracerPid: %s\n", who(tracer_pid(0), getppid()));
    _exit(0);
  }
  check(waitpid(second, &status, 0) != second, "waitpid");
  printf("tracer: second exited %d\n", WEXITSTATUS(status));
  return 0;
}
