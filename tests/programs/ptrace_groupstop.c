// A tracer inside the recorded tree and the group-stops of its tracees (man 2
// ptrace, "Group-stop", PTRACE_LISTEN): a seized child stopped by SIGSTOP
// reports PTRACE_EVENT_STOP with the signal; PTRACE_LISTEN leaves it stopped
// (PTRACE_INTERRUPT makes it trap again) until SIGCONT, which its tracer sees
// as a PTRACE_EVENT_STOP with SIGTRAP, then as SIGCONT's signal-delivery
// stop. A PTRACE_TRACEME child's group-stop is the plain stop signal
// (PTRACE_GETSIGINFO fails with EINVAL) and PTRACE_CONT lets it run on; one
// detached in its group-stop stays stopped until SIGCONT. The output does not
// depend on timing: e2e ptrace_stops.sh compares it with a native run.
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

static void say(const char* s) { syscall(SYS_write, 1, s, strlen(s)); }

static int wait_one(pid_t child, const char* what) {
  int status = 0;
  if (waitpid(child, &status, __WALL) != child) {
    perror("waitpid");
    exit(1);
  }
  if (WIFSTOPPED(status)) {
    printf("%s: stopped by %s, event %d\n", what, strsignal(WSTOPSIG(status)), status >> 16);
  } else if (WIFEXITED(status)) {
    printf("%s: exited %d\n", what, WEXITSTATUS(status));
  } else {
    printf("%s: killed by %s\n", what, strsignal(WTERMSIG(status)));
  }
  return status;
}

static void show_siginfo(pid_t child, const char* what) {
  siginfo_t si;
  memset(&si, 0, sizeof si);
  if (ptrace(PTRACE_GETSIGINFO, child, 0, &si) != 0) {
    printf("%s: PTRACE_GETSIGINFO: %s\n", what, strerror(errno));
    return;
  }
  printf("%s: siginfo %s, code 0x%x, from %s\n", what, strsignal(si.si_signo), (unsigned)si.si_code,
         si.si_pid == child ? "the tracee" : si.si_pid == getpid() ? "the tracer" : "another");
}

static void show(const char* what, long r) { printf("%s: %s\n", what, r == 0 ? "ok" : strerror(errno)); }

static void check(long r, const char* what) {
  if (r != 0) {
    perror(what);
    exit(1);
  }
}

// PTRACE_SEIZE: group-stop, PTRACE_LISTEN, PTRACE_INTERRUPT while
// listening, SIGCONT.
static void seized(void) {
  int go[2];
  check(pipe(go), "pipe");
  pid_t child = fork();
  if (child == 0) {
    char c;
    if (read(go[0], &c, 1) != 1) _exit(2);
    kill(getpid(), SIGSTOP);
    say("seized child: continued\n");
    _exit(0);
  }
  check(ptrace(PTRACE_SEIZE, child, 0, 0), "PTRACE_SEIZE");
  check(write(go[1], "x", 1) != 1, "write");
  wait_one(child, "seized: 1");
  show_siginfo(child, "seized: 1");
  show("seized: PTRACE_LISTEN at a signal-delivery stop", ptrace(PTRACE_LISTEN, child, 0, 0));
  check(ptrace(PTRACE_CONT, child, 0, SIGSTOP), "PTRACE_CONT");
  wait_one(child, "seized: 2 (group-stop)");
  show_siginfo(child, "seized: 2");
  struct user_regs_struct regs;
  check(ptrace(PTRACE_GETREGS, child, 0, &regs), "PTRACE_GETREGS");
  show("seized: PTRACE_SETREGS at the group-stop", ptrace(PTRACE_SETREGS, child, 0, &regs));
  show("seized: PTRACE_LISTEN", ptrace(PTRACE_LISTEN, child, 0, 0));
  show("seized: PTRACE_GETREGS while listening", ptrace(PTRACE_GETREGS, child, 0, &regs));
  int status = 0;
  printf("seized: waitpid WNOHANG while listening: %d\n", (int)waitpid(child, &status, __WALL | WNOHANG));
  show("seized: PTRACE_INTERRUPT while listening", ptrace(PTRACE_INTERRUPT, child, 0, 0));
  wait_one(child, "seized: 3 (interrupted)");
  show_siginfo(child, "seized: 3");
  show("seized: PTRACE_LISTEN again", ptrace(PTRACE_LISTEN, child, 0, 0));
  check(kill(child, SIGCONT), "kill");
  wait_one(child, "seized: 4 (after SIGCONT)");
  show_siginfo(child, "seized: 4");
  check(ptrace(PTRACE_CONT, child, 0, 0), "PTRACE_CONT");
  wait_one(child, "seized: 5");
  show_siginfo(child, "seized: 5");
  check(ptrace(PTRACE_CONT, child, 0, SIGCONT), "PTRACE_CONT");
  wait_one(child, "seized: 6");
}

// PTRACE_TRACEME: the plain group-stop; PTRACE_CONT lets the tracee run
// (the group still stopped).
static void traceme(void) {
  pid_t child = fork();
  if (child == 0) {
    check(ptrace(PTRACE_TRACEME, 0, 0, 0), "PTRACE_TRACEME");
    kill(getpid(), SIGSTOP);
    say("traceme child: running\n");
    _exit(0);
  }
  wait_one(child, "traceme: 1");
  show_siginfo(child, "traceme: 1");
  check(ptrace(PTRACE_CONT, child, 0, SIGSTOP), "PTRACE_CONT");
  wait_one(child, "traceme: 2 (group-stop)");
  show_siginfo(child, "traceme: 2");
  show("traceme: PTRACE_LISTEN", ptrace(PTRACE_LISTEN, child, 0, 0));
  check(ptrace(PTRACE_CONT, child, 0, SIGUSR1), "PTRACE_CONT");  // (the signal is ignored here)
  wait_one(child, "traceme: 3");
}

// Detached in its group-stop, a tracee stays stopped until SIGCONT.
static void detached(void) {
  pid_t child = fork();
  if (child == 0) {
    check(ptrace(PTRACE_TRACEME, 0, 0, 0), "PTRACE_TRACEME");
    kill(getpid(), SIGSTOP);
    say("detached child: continued\n");
    _exit(0);
  }
  wait_one(child, "detached: 1");
  check(ptrace(PTRACE_CONT, child, 0, SIGSTOP), "PTRACE_CONT");
  wait_one(child, "detached: 2 (group-stop)");
  check(ptrace(PTRACE_DETACH, child, 0, 0), "PTRACE_DETACH");
  int status = 0;
  printf("detached: waitpid WUNTRACED: %s\n",
         waitpid(child, &status, WUNTRACED) == child && WIFSTOPPED(status) ? "stopped" : "not stopped");
  check(kill(child, SIGCONT), "kill");
  wait_one(child, "detached: 3");
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  seized();
  traceme();
  detached();
  return 0;
}
