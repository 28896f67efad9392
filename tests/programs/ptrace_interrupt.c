// PTRACE_INTERRUPT inside the recorded tree, as the kernel does it: a seized
// tracee blocked in a call is stopped at its PTRACE_EVENT_STOP with the call
// cut short (under PTRACE_SYSCALL its syscall-exit stop with -ERESTARTSYS
// comes first) and restarted when the tracer lets it go (a new syscall-entry
// stop); a tracer that writes the registers at that stop (PTRACE_SETREGS,
// PTRACE_POKEUSER orig_rax = -1) makes the call return EINTR instead. The
// same at the attach stop of PTRACE_ATTACH (the SIGSTOP's delivery stop) of
// a tracee blocked in a read. The output does not depend on timing: e2e
// ptrace_stops.sh compares it with a native run.
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void check(long r, const char* what) {
  if (r != 0) {
    perror(what);
    exit(1);
  }
}

static int wait_one(pid_t child, const char* what) {
  int status = 0;
  check(waitpid(child, &status, __WALL) != child, "waitpid");
  if (WIFSTOPPED(status)) {
    printf("%s: stopped by %s%s, event %d\n", what, strsignal(WSTOPSIG(status) & 0x7f),
           (WSTOPSIG(status) & 0x80) ? " (syscall)" : "", status >> 16);
  } else if (WIFEXITED(status)) {
    printf("%s: exited %d\n", what, WEXITSTATUS(status));
  } else {
    printf("%s: killed by %s\n", what, strsignal(WTERMSIG(status)));
  }
  return status;
}

static void show_syscall(pid_t child, const char* what) {
  struct __ptrace_syscall_info info;
  memset(&info, 0, sizeof info);
  if (ptrace(PTRACE_GET_SYSCALL_INFO, child, sizeof info, &info) <= 0) {
    printf("%s: PTRACE_GET_SYSCALL_INFO: %s\n", what, strerror(errno));
  } else if (info.op == PTRACE_SYSCALL_INFO_ENTRY) {
    printf("%s: entry of %s\n", what, info.entry.nr == SYS_read ? "read" : "another call");
  } else if (info.op == PTRACE_SYSCALL_INFO_EXIT) {
    printf("%s: exit, result %lld\n", what, (long long)info.exit.rval);
  } else {
    printf("%s: syscall info op %d\n", what, info.op);
  }
}

static void show_siginfo(pid_t child, const char* what) {
  siginfo_t si;
  memset(&si, 0, sizeof si);
  if (ptrace(PTRACE_GETSIGINFO, child, 0, &si) != 0) {
    printf("%s: PTRACE_GETSIGINFO: %s\n", what, strerror(errno));
    return;
  }
  printf("%s: siginfo %s, code 0x%x, from %s\n", what, strsignal(si.si_signo), (unsigned)si.si_code,
         si.si_pid == child ? "the tracee" : "another");
}

// /proc/PID/stat's state.
static char state_of(pid_t pid) {
  char path[64], buf[512];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  FILE* f = fopen(path, "r");
  if (!f) return '?';
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  char* p = strrchr(buf, ')');
  return p && p[1] == ' ' ? p[2] : '?';
}

// PTRACE_ATTACH to a child blocked in a read: its SIGSTOP cuts the read
// short; the tracer makes it fail with EINTR (rax, orig_rax -1) and
// suppresses the signal.
static void attach_blocked(void) {
  int go[2], ready[2];
  check(pipe(go), "pipe");
  check(pipe(ready), "pipe");
  pid_t child = fork();
  if (child == 0) {
    char c = 0;
    if (write(ready[1], "r", 1) != 1) _exit(2);
    ssize_t n = read(go[0], &c, 1);
    printf("attached child: read returned %zd (%s)\n", n, n < 0 ? strerror(errno) : "data");
    _exit(0);
  }
  char c;
  check(read(ready[0], &c, 1) != 1, "read");
  while (state_of(child) != 'S') usleep(1000);  // in its read
  check(ptrace(PTRACE_ATTACH, child, 0, 0), "PTRACE_ATTACH");
  wait_one(child, "attach");
  show_siginfo(child, "attach");
  struct user_regs_struct regs;
  check(ptrace(PTRACE_GETREGS, child, 0, &regs), "PTRACE_GETREGS");
  printf("attach: rax %lld, orig_rax is read: %d\n", (long long)regs.rax, regs.orig_rax == SYS_read);
  regs.rax = (unsigned long long)-EINTR;
  regs.orig_rax = (unsigned long long)-1;
  check(ptrace(PTRACE_SETREGS, child, 0, &regs), "PTRACE_SETREGS");
  check(ptrace(PTRACE_CONT, child, 0, 0), "PTRACE_CONT");
  wait_one(child, "attach: end");
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  int go[2], ready[2];
  check(pipe(go), "pipe");
  check(pipe(ready), "pipe");
  pid_t child = fork();
  if (child == 0) {
    char c = 0;
    if (write(ready[1], "r", 1) != 1) _exit(2);
    ssize_t n = read(go[0], &c, 1);
    printf("child: read %zd byte '%c'\n", n, c);
    struct timespec ts = {30, 0};
    int r = nanosleep(&ts, NULL);
    printf("child: nanosleep returned %d (%s)\n", r, r == 0 ? "slept" : strerror(errno));
    _exit(0);
  }
  char c;
  check(read(ready[0], &c, 1) != 1, "read");
  check(ptrace(PTRACE_SEIZE, child, 0, PTRACE_O_TRACESYSGOOD), "PTRACE_SEIZE");
  check(ptrace(PTRACE_INTERRUPT, child, 0, 0), "PTRACE_INTERRUPT");
  wait_one(child, "1 (interrupt)");
  show_siginfo(child, "1");
  check(ptrace(PTRACE_SYSCALL, child, 0, 0), "PTRACE_SYSCALL");
  wait_one(child, "2");
  show_syscall(child, "2");
  // Into the read, which blocks; the interrupt cuts it short.
  check(ptrace(PTRACE_SYSCALL, child, 0, 0), "PTRACE_SYSCALL");
  check(ptrace(PTRACE_INTERRUPT, child, 0, 0), "PTRACE_INTERRUPT");
  wait_one(child, "3");
  show_syscall(child, "3");
  check(ptrace(PTRACE_SYSCALL, child, 0, 0), "PTRACE_SYSCALL");
  wait_one(child, "4 (interrupt)");
  struct user_regs_struct regs;
  check(ptrace(PTRACE_GETREGS, child, 0, &regs), "PTRACE_GETREGS");
  printf("4: rax %lld, orig_rax is read: %d\n", (long long)regs.rax, regs.orig_rax == SYS_read);
  check(write(go[1], "z", 1) != 1, "write");
  check(ptrace(PTRACE_SYSCALL, child, 0, 0), "PTRACE_SYSCALL");
  wait_one(child, "5 (restarted)");
  show_syscall(child, "5");
  check(ptrace(PTRACE_SYSCALL, child, 0, 0), "PTRACE_SYSCALL");
  wait_one(child, "6");
  show_syscall(child, "6");
  // On to the entry of the sleep, then PTRACE_CONT: it sleeps, cut short.
  for (;;) {
    check(ptrace(PTRACE_SYSCALL, child, 0, 0), "PTRACE_SYSCALL");
    int status = 0;
    check(waitpid(child, &status, __WALL) != child || !WIFSTOPPED(status), "waitpid");
    struct __ptrace_syscall_info info;
    if (ptrace(PTRACE_GET_SYSCALL_INFO, child, sizeof info, &info) > 0 && info.op == PTRACE_SYSCALL_INFO_ENTRY &&
        info.entry.nr == SYS_clock_nanosleep) {
      break;
    }
  }
  printf("7: at the entry of clock_nanosleep\n");
  check(ptrace(PTRACE_CONT, child, 0, 0), "PTRACE_CONT");
  check(ptrace(PTRACE_INTERRUPT, child, 0, 0), "PTRACE_INTERRUPT");
  wait_one(child, "8 (interrupt)");
  check(ptrace(PTRACE_GETREGS, child, 0, &regs), "PTRACE_GETREGS");
  printf("8: rax %lld, orig_rax is clock_nanosleep: %d\n", (long long)regs.rax, regs.orig_rax == SYS_clock_nanosleep);
  regs.rax = (unsigned long long)-EINTR;
  check(ptrace(PTRACE_SETREGS, child, 0, &regs), "PTRACE_SETREGS");
  check(ptrace(PTRACE_POKEUSER, child, offsetof(struct user_regs_struct, orig_rax), -1L), "PTRACE_POKEUSER");
  check(ptrace(PTRACE_CONT, child, 0, 0), "PTRACE_CONT");
  wait_one(child, "9");
  attach_blocked();
  return 0;
}
