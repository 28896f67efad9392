// A tracer inside the recorded tree that changes its tracee (e2e
// gdb_inside.sh): each mode forks a child that stops itself with SIGSTOP
// right before the call or instruction the tracer works on, then
//   setregs: makes getpid return 4242 (PTRACE_SETREGS at its syscall-exit stop);
//   sysemu:  skips a write with PTRACE_SYSEMU, its result 77 set with SETREGS;
//   setinfo: skips a write with PTRACE_SET_SYSCALL_INFO (nr -1 at the entry,
//            the result 99 at the exit stop);
//   int3:    swallows the SIGTRAP of an int3 (resumed with signal 0) and
//            moves the tracee's ip with POKEUSER;
//   sigmask: blocks SIGUSR1 in the tracee with PTRACE_SETSIGMASK, which then
//            raises it: it stays pending;
//   fpregs:  sets the tracee's xmm0 with PTRACE_SETFPREGS, and its xmm1 with
//            PTRACE_SETREGSET NT_X86_XSTATE.
// The child prints what it saw; the output does not depend on timing.
#define _GNU_SOURCE
#include <elf.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef PTRACE_SET_SYSCALL_INFO
#define PTRACE_SET_SYSCALL_INFO 0x4212
#endif
#ifndef PTRACE_GET_SYSCALL_INFO
#define PTRACE_GET_SYSCALL_INFO 0x420e
#endif
#ifndef PTRACE_SYSEMU
#define PTRACE_SYSEMU 31
#endif

struct syscall_info {
  uint8_t op, reserved;
  uint16_t flags;
  uint32_t arch;
  uint64_t ip, sp;
  union {
    struct { uint64_t nr, args[6]; } entry;
    struct { int64_t rval; uint8_t is_error; } exit;
    struct { uint64_t nr, args[6]; uint32_t ret_data, reserved2; } seccomp;
  };
};

static void check(long r, const char* what) {
  if (r < 0) {
    perror(what);
    exit(1);
  }
}

static int wait_stop(pid_t child) {
  int status = 0;
  check(waitpid(child, &status, __WALL), "waitpid");
  if (!WIFSTOPPED(status)) {
    fprintf(stderr, "tracer: child not stopped (status 0x%x)\n", status);
    exit(1);
  }
  return WSTOPSIG(status);
}

static void stop_self(void) { syscall(SYS_kill, syscall(SYS_getpid), SIGSTOP); }

static void child(const char* mode) {
  check(ptrace(PTRACE_TRACEME, 0, 0, 0), "PTRACE_TRACEME");
  char line[128];
  if (!strcmp(mode, "setregs")) {
    stop_self();
    long pid = syscall(SYS_getpid);
    snprintf(line, sizeof line, "child: getpid returned %ld\n", pid);
  } else if (!strcmp(mode, "sysemu") || !strcmp(mode, "setinfo")) {
    stop_self();
    long r = syscall(SYS_write, 1, "child: this write ran\n", 22);
    snprintf(line, sizeof line, "child: write returned %ld\n", r);
  } else if (!strcmp(mode, "int3")) {
    stop_self();
    __asm__ volatile("int3\n\tud2");  // the tracer moves the ip past the ud2
    snprintf(line, sizeof line, "child: went on after int3\n");
  } else if (!strcmp(mode, "fpregs")) {
    uint64_t x0 = 0, x1 = 0;
    stop_self();
    __asm__ volatile("movq %%xmm0, %0\n\tmovq %%xmm1, %1" : "=r"(x0), "=r"(x1));
    snprintf(line, sizeof line, "child: xmm0 0x%llx xmm1 0x%llx\n", (unsigned long long)x0, (unsigned long long)x1);
  } else {
    stop_self();
    syscall(SYS_kill, syscall(SYS_getpid), SIGUSR1);
    sigset_t pending;
    sigpending(&pending);
    snprintf(line, sizeof line, "child: SIGUSR1 pending %d\n", sigismember(&pending, SIGUSR1));
  }
  syscall(SYS_write, 1, line, strlen(line));
  syscall(SYS_exit_group, 0);
}

static void tracer(pid_t c, const char* mode) {
  if (wait_stop(c) != SIGSTOP) exit(2);
  struct user_regs_struct r;
  if (!strcmp(mode, "setregs")) {
    check(ptrace(PTRACE_SYSCALL, c, 0, 0), "PTRACE_SYSCALL");  // getpid's entry
    wait_stop(c);
    check(ptrace(PTRACE_SYSCALL, c, 0, 0), "PTRACE_SYSCALL");  // its exit
    wait_stop(c);
    check(ptrace(PTRACE_GETREGS, c, 0, &r), "PTRACE_GETREGS");
    if (r.orig_rax != SYS_getpid) exit(3);
    r.rax = 4242;
    check(ptrace(PTRACE_SETREGS, c, 0, &r), "PTRACE_SETREGS");
  } else if (!strcmp(mode, "sysemu")) {
    check(ptrace(PTRACE_SYSEMU, c, 0, 0), "PTRACE_SYSEMU");  // the write's entry: it will not run
    wait_stop(c);
    check(ptrace(PTRACE_GETREGS, c, 0, &r), "PTRACE_GETREGS");
    if (r.orig_rax != SYS_write) exit(3);
    r.rax = 77;
    check(ptrace(PTRACE_SETREGS, c, 0, &r), "PTRACE_SETREGS");
  } else if (!strcmp(mode, "setinfo")) {
    struct syscall_info info;
    // (Syscall info needs the SIGTRAP|0x80 of TRACESYSGOOD syscall stops.)
    check(ptrace(PTRACE_SETOPTIONS, c, 0, PTRACE_O_TRACESYSGOOD), "PTRACE_SETOPTIONS");
    check(ptrace(PTRACE_SYSCALL, c, 0, 0), "PTRACE_SYSCALL");
    wait_stop(c);
    memset(&info, 0, sizeof info);
    check(ptrace(PTRACE_GET_SYSCALL_INFO, c, sizeof info, &info), "PTRACE_GET_SYSCALL_INFO");
    if (info.op != 1 || info.entry.nr != SYS_write) exit(3);
    info.entry.nr = (uint64_t)-1;
    check(ptrace(PTRACE_SET_SYSCALL_INFO, c, sizeof info, &info), "PTRACE_SET_SYSCALL_INFO entry");
    check(ptrace(PTRACE_SYSCALL, c, 0, 0), "PTRACE_SYSCALL");
    wait_stop(c);
    memset(&info, 0, sizeof info);
    check(ptrace(PTRACE_GET_SYSCALL_INFO, c, sizeof info, &info), "PTRACE_GET_SYSCALL_INFO");
    if (info.op != 2) exit(4);
    printf("tracer: the skipped write's result was %lld\n", (long long)info.exit.rval);
    fflush(stdout);
    info.exit.rval = 99;
    info.exit.is_error = 0;
    check(ptrace(PTRACE_SET_SYSCALL_INFO, c, sizeof info, &info), "PTRACE_SET_SYSCALL_INFO exit");
  } else if (!strcmp(mode, "int3")) {
    check(ptrace(PTRACE_CONT, c, 0, 0), "PTRACE_CONT");
    int sig = wait_stop(c);
    siginfo_t si;
    check(ptrace(PTRACE_GETSIGINFO, c, 0, &si), "PTRACE_GETSIGINFO");
    printf("tracer: child stopped by signal %d (code %d)\n", sig, si.si_code);
    fflush(stdout);
    long ip = ptrace(PTRACE_PEEKUSER, c, offsetof(struct user_regs_struct, rip), 0);
    check(ptrace(PTRACE_POKEUSER, c, offsetof(struct user_regs_struct, rip), ip + 2), "PTRACE_POKEUSER");
  } else if (!strcmp(mode, "fpregs")) {
    struct user_fpregs_struct fp;
    check(ptrace(PTRACE_GETFPREGS, c, 0, &fp), "PTRACE_GETFPREGS");
    uint64_t v0 = 0x1122334455667788ull;
    memcpy(&fp.xmm_space[0], &v0, 8);  // xmm0's low half
    check(ptrace(PTRACE_SETFPREGS, c, 0, &fp), "PTRACE_SETFPREGS");
    // The XSAVE area starts with the FXSAVE one: xmm1 at byte 160 + 16.
    static char xsave[65536];  // (the whole area, AMX state too: SETREGSET wants it all)
    struct iovec iov = {xsave, sizeof xsave};
    check(ptrace(PTRACE_GETREGSET, c, NT_X86_XSTATE, &iov), "PTRACE_GETREGSET");
    uint64_t v1 = 0x99aabbccddeeff00ull;
    memcpy(xsave + 160 + 16, &v1, 8);
    check(ptrace(PTRACE_SETREGSET, c, NT_X86_XSTATE, &iov), "PTRACE_SETREGSET");
  } else {
    uint64_t mask = 1ull << (SIGUSR1 - 1);
    check(ptrace(0x420b /* PTRACE_SETSIGMASK */, c, 8, &mask), "PTRACE_SETSIGMASK");
  }
  check(ptrace(PTRACE_CONT, c, 0, 0), "PTRACE_CONT");
  int status = 0;
  check(waitpid(c, &status, __WALL), "waitpid");
  printf("tracer: child exit status %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

int main(int argc, char** argv) {
  const char* mode = argc > 1 ? argv[1] : "setregs";
  fflush(stdout);
  pid_t c = fork();
  check(c, "fork");
  if (c == 0) child(mode);
  tracer(c, mode);
  return 0;
}
