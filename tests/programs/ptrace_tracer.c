// A tracer inside the recorded tree: forks children and traces them with
// PTRACE_TRACEME, and with PTRACE_SEIZE + PTRACE_INTERRUPT, counting their
// syscalls with PTRACE_SYSCALL, and reading their memory and registers
// (PEEKDATA, GETREGS, GET_SYSCALL_INFO, GETSIGINFO, GETEVENTMSG). Its output
// does not depend on timing: e2e ptrace.sh compares it with a native run.
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile uint64_t marker = 0;

// The traced child's work: raw syscalls only, so that their number is fixed.
static void child_work(void) {
  marker = 0x1234abcd5678ef00ull;
  for (int i = 0; i < 5; ++i) syscall(SYS_getppid);
  syscall(SYS_write, 1, "child: done\n", 12);
  syscall(SYS_exit_group, 0);
}

// Resumes with PTRACE_SYSCALL until the child exits; prints what it saw.
// `all`: print every count; otherwise only the child's own calls (after an
// interrupt, the stops around the call it was blocked in depend on timing).
static void count_syscalls(pid_t child, const char* how, int all) {
  int stops = 0, getppid_entries = 0, entries = 0, exits = 0, status = 0;
  for (;;) {
    if (ptrace(PTRACE_SYSCALL, child, 0, 0) != 0) {
      perror("PTRACE_SYSCALL");
      exit(1);
    }
    if (waitpid(child, &status, __WALL) != child) {
      perror("waitpid");
      exit(1);
    }
    if (WIFEXITED(status)) break;
    if (!WIFSTOPPED(status)) continue;
    if (WSTOPSIG(status) != (SIGTRAP | 0x80)) {
      printf("%s: other stop, signal %d\n", how, WSTOPSIG(status));
      continue;
    }
    ++stops;
    struct __ptrace_syscall_info info;
    memset(&info, 0, sizeof info);
    long n = ptrace(PTRACE_GET_SYSCALL_INFO, child, sizeof info, &info);
    if (n <= 0) {
      perror("PTRACE_GET_SYSCALL_INFO");
      exit(1);
    }
    if (info.op == PTRACE_SYSCALL_INFO_ENTRY) {
      ++entries;
      struct user_regs_struct regs;
      if (ptrace(PTRACE_GETREGS, child, 0, &regs) != 0) {
        perror("PTRACE_GETREGS");
        exit(1);
      }
      if (regs.orig_rax != info.entry.nr) printf("%s: GETREGS and GET_SYSCALL_INFO disagree\n", how);
      if (regs.orig_rax == SYS_getppid) ++getppid_entries;
    } else if (info.op == PTRACE_SYSCALL_INFO_EXIT) {
      ++exits;
    }
  }
  if (all) printf("%s: %d syscall stops (%d entries, %d exits)\n", how, stops, entries, exits);
  printf("%s: %d getppid, exit status %d\n", how, getppid_entries, WEXITSTATUS(status));
}

static void peek_marker(pid_t child, const char* how) {
  errno = 0;
  long word = ptrace(PTRACE_PEEKDATA, child, (void*)&marker, 0);
  if (errno != 0) {
    perror("PTRACE_PEEKDATA");
    exit(1);
  }
  printf("%s: marker in the child = %#lx\n", how, (unsigned long)word);
}

static void traceme(void) {
  pid_t child = fork();
  if (child == 0) {
    if (ptrace(PTRACE_TRACEME, 0, 0, 0) != 0) {
      perror("PTRACE_TRACEME");
      _exit(1);
    }
    marker = 0x1234abcd5678ef00ull;
    raise(SIGSTOP);
    child_work();
  }
  int status = 0;
  if (waitpid(child, &status, 0) != child || !WIFSTOPPED(status)) {
    printf("traceme: no stop (status %#x)\n", status);
    exit(1);
  }
  siginfo_t si;
  if (ptrace(PTRACE_GETSIGINFO, child, 0, &si) != 0) {
    perror("PTRACE_GETSIGINFO");
    exit(1);
  }
  printf("traceme: first stop by signal %d, siginfo signal %d\n", WSTOPSIG(status), si.si_signo);
  peek_marker(child, "traceme");
  if (ptrace(PTRACE_SETOPTIONS, child, 0, PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL) != 0) {
    perror("PTRACE_SETOPTIONS");
    exit(1);
  }
  count_syscalls(child, "traceme", 1);
}

static void seize(void) {
  int go[2];
  if (pipe(go) != 0) exit(1);
  pid_t child = fork();
  if (child == 0) {
    char c;
    close(go[1]);
    marker = 0x1234abcd5678ef00ull;
    if (syscall(SYS_read, go[0], &c, 1) != 1) _exit(2);
    child_work();
  }
  close(go[0]);
  if (ptrace(PTRACE_SEIZE, child, 0, PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL) != 0) {
    perror("PTRACE_SEIZE");
    exit(1);
  }
  if (ptrace(PTRACE_INTERRUPT, child, 0, 0) != 0) {
    perror("PTRACE_INTERRUPT");
    exit(1);
  }
  int status = 0;
  if (waitpid(child, &status, __WALL) != child || !WIFSTOPPED(status)) {
    printf("seize: no stop (status %#x)\n", status);
    exit(1);
  }
  unsigned long msg = 1;
  ptrace(PTRACE_GETEVENTMSG, child, 0, &msg);
  printf("seize: interrupted, event %d, signal %d\n", status >> 16, WSTOPSIG(status));
  // The child sits in read(): let it have its byte, then count from there.
  if (write(go[1], "x", 1) != 1) exit(1);
  count_syscalls(child, "seize", 0);
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  traceme();
  seize();
  // Errors a tracer may meet: a pid that is not its tracee.
  errno = 0;
  long r = ptrace(PTRACE_PEEKDATA, getpid(), (void*)&marker, 0);
  printf("peek at a non-tracee: %ld, %s\n", r, strerror(errno));
  return 0;
}
