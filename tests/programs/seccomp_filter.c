// A program that installs seccomp filters of its own (tests/e2e/seccomp.sh):
// MODE is errno (ERRNO verdicts for getpid, uname, openat and an mmap,
// mprotect, brk, clone, setrlimit, arch_prctl, munmap), tsync (a filter for
// every thread), trace (RET_TRACE with no seccomp-aware tracer),
// trap (RET_TRAP and a SIGSYS handler that sets the result), kill-process
// (also kill-process-mt, with another thread blocked in read),
// kill-thread (one thread of several killed), kill-last (KILL_THREAD of
// the only thread), strict, strict-exit, listener (a user-notification
// filter: refused by rrx), allowlist (default KILL_PROCESS, then a thread
// is created: glibc registers rseq in it, a call rrx refuses).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/ucontext.h>
#include <sys/utsname.h>
#include <unistd.h>

#define LOAD_NR BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr))
#define LOAD_ARG_LO(i) BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[i]))
#define CHECK_ARCH                                                                 \
  BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),         \
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),                \
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS)
// If nr == NR, return RET (two instructions).
#define ON(NR, RET) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (NR), 0, 1), BPF_STMT(BPF_RET | BPF_K, (RET))
#define ALLOW BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)

static int install(struct sock_filter* f, unsigned short n, unsigned flags) {
  struct sock_fprog prog = {n, f};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    perror("PR_SET_NO_NEW_PRIVS");
    exit(2);
  }
  return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
}

static void show(const char* what, long r) {
  printf("%-28s = %ld%s%s\n", what, r, r < 0 ? " " : "", r < 0 ? strerrorname_np(errno) : "");
}

#define MAGIC_LEN (7 * 4096)

static void errno_mode(void) {
  struct sock_filter f[] = {
      CHECK_ARCH,
      LOAD_NR,
      ON(SYS_getpid, SECCOMP_RET_ERRNO | EPERM),
      ON(SYS_uname, SECCOMP_RET_ERRNO | EACCES),
      ON(SYS_openat, SECCOMP_RET_ERRNO | ENOENT),
      ON(SYS_mprotect, SECCOMP_RET_ERRNO | EPERM),
      ON(SYS_brk, SECCOMP_RET_ERRNO | ENOMEM),
      ON(SYS_clone, SECCOMP_RET_ERRNO | EAGAIN),
      ON(SYS_setrlimit, SECCOMP_RET_ERRNO | EPERM),
      ON(SYS_arch_prctl, SECCOMP_RET_ERRNO | EPERM),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_munmap, 0, 3),
      LOAD_ARG_LO(1),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 5 * 4096, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EINVAL),
      LOAD_NR,
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_mmap, 0, 3),
      LOAD_ARG_LO(1),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, MAGIC_LEN, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
      ALLOW,
  };
  show("seccomp(SET_MODE_FILTER)", install(f, sizeof f / sizeof f[0], SECCOMP_FILTER_FLAG_TSYNC));
  show("prctl(PR_GET_SECCOMP)", prctl(PR_GET_SECCOMP));
  uint32_t action = SECCOMP_RET_KILL_PROCESS;
  show("seccomp(GET_ACTION_AVAIL)", syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action));
  show("getpid", syscall(SYS_getpid));
  struct utsname u;
  show("uname", uname(&u));
  show("open /etc/passwd", open("/etc/passwd", O_RDONLY));
  errno = 0;
  void* p = mmap(NULL, MAGIC_LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  show("mmap 7 pages", p == MAP_FAILED ? -1 : 0);
  p = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  show("mmap 2 pages", p == MAP_FAILED ? -1 : 0);
  show("mprotect", mprotect(p, 4096, PROT_READ));
  show("brk(0)", syscall(SYS_brk, 0) < 0 ? -1 : 0);
  show("raw clone", syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0));
  struct rlimit_ { unsigned long cur, max; } rl = {1 << 20, 1 << 20};
  show("setrlimit(STACK)", syscall(SYS_setrlimit, 3 /* RLIMIT_STACK */, &rl));
  show("arch_prctl(ARCH_SET_GS)", syscall(SYS_arch_prctl, 0x1001 /* ARCH_SET_GS */, 0x1234));
  p = mmap(NULL, 5 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  show("munmap 5 pages", munmap(p, 5 * 4096));
  ((volatile char*)p)[4 * 4096] = 1;  // still mapped
  show("getppid (allowed)", syscall(SYS_getppid) > 0 ? 1 : -1);
}

// A filter given to every thread (SECCOMP_FILTER_FLAG_TSYNC) refuses the
// other thread's mprotect.
static int tsync_go[2];
static void* tsync_thread(void* arg) {
  char c;
  read(tsync_go[0], &c, 1);
  void* p = arg;
  show("thread: mprotect", mprotect(p, 4096, PROT_READ));
  return NULL;
}

static void tsync_mode(void) {
  void* p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  pipe(tsync_go);
  pthread_t t;
  pthread_create(&t, NULL, tsync_thread, p);
  struct sock_filter f[] = {
      CHECK_ARCH,
      LOAD_NR,
      ON(SYS_mprotect, SECCOMP_RET_ERRNO | EACCES),
      ALLOW,
  };
  show("seccomp(TSYNC)", install(f, sizeof f / sizeof f[0], SECCOMP_FILTER_FLAG_TSYNC));
  write(tsync_go[1], "x", 1);
  pthread_join(t, NULL);
  *(volatile char*)p = 1;  // still writable
  show("main: still writable", 1);
}

static void trace_mode(void) {
  struct sock_filter f[] = {
      CHECK_ARCH,
      LOAD_NR,
      ON(SYS_getppid, SECCOMP_RET_TRACE | 5),
      ON(SYS_munmap, SECCOMP_RET_TRACE),
      ALLOW,
  };
  show("seccomp(SET_MODE_FILTER)", install(f, sizeof f / sizeof f[0], 0));
  show("getppid (RET_TRACE)", syscall(SYS_getppid));
  void* p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  show("munmap (RET_TRACE)", munmap(p, 4096));
  *(volatile char*)p = 1;  // still mapped
  show("still mapped", 1);
}

static void on_sigsys(int sig, siginfo_t* si, void* ctx) {
  ucontext_t* uc = ctx;
  char buf[200];
  int n = snprintf(buf, sizeof buf,
                   "SIGSYS: sig %d code %d si_syscall %d si_errno %d si_arch %#x rax %lld\n", sig,
                   si->si_code, si->si_syscall, si->si_errno, si->si_arch,
                   (long long)uc->uc_mcontext.gregs[REG_RAX]);
  write(1, buf, n);
  uc->uc_mcontext.gregs[REG_RAX] = 1000 + si->si_errno;  // the emulated result
}

static void trap_mode(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_sigsys;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGSYS, &sa, NULL);
  struct sock_filter f[] = {
      CHECK_ARCH,
      LOAD_NR,
      ON(SYS_getppid, SECCOMP_RET_TRAP | 7),
      ON(SYS_uname, SECCOMP_RET_TRAP | 8),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_mmap, 0, 3),
      LOAD_ARG_LO(1),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, MAGIC_LEN, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP | 9),
      ALLOW,
  };
  show("seccomp(SET_MODE_FILTER)", install(f, sizeof f / sizeof f[0], 0));
  show("getppid (RET_TRAP)", syscall(SYS_getppid));
  struct utsname u;
  show("uname (RET_TRAP)", syscall(SYS_uname, &u));
  show("mmap (RET_TRAP)", syscall(SYS_mmap, 0, MAGIC_LEN, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  // Blocked SIGSYS: the kernel unblocks it to deliver the trap.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGSYS);
  sigprocmask(SIG_BLOCK, &set, NULL);
  show("getppid (SIGSYS blocked)", syscall(SYS_getppid));
  sigprocmask(SIG_BLOCK, NULL, &set);
  show("SIGSYS still blocked", sigismember(&set, SIGSYS));
}

static void kill_mode(unsigned action) {
  struct sock_filter f[] = {
      CHECK_ARCH,
      LOAD_NR,
      ON(SYS_getppid, action),
      ALLOW,
  };
  show("seccomp(SET_MODE_FILTER)", install(f, sizeof f / sizeof f[0], 0));
  fflush(stdout);
  syscall(SYS_getppid);
  printf("not reached\n");
}

// KILL_PROCESS in a process whose other thread waits in read(): the whole
// process dies by SIGSYS.
static int blocked_pipe[2];
static void* blocked_thread(void* arg) {
  (void)arg;
  char c;
  read(blocked_pipe[0], &c, 1);
  printf("blocked thread: not reached\n");
  return NULL;
}

static void kill_process_mt_mode(void) {
  pipe(blocked_pipe);
  pthread_t t;
  pthread_create(&t, NULL, blocked_thread, NULL);
  usleep(20000);
  kill_mode(SECCOMP_RET_KILL_PROCESS);
}

static void* killed_thread(void* arg) {
  (void)arg;
  struct sock_filter f[] = {
      CHECK_ARCH,
      LOAD_NR,
      ON(SYS_getppid, SECCOMP_RET_KILL_THREAD),
      ALLOW,
  };
  show("thread: seccomp", install(f, sizeof f / sizeof f[0], 0));
  fflush(stdout);
  syscall(SYS_getppid);
  printf("thread: not reached\n");
  return NULL;
}

static void kill_thread_mode(void) {
  pthread_t t;
  pthread_create(&t, NULL, killed_thread, NULL);
  pthread_join(t, NULL);
  printf("main: the thread is gone; getppid here %s\n", syscall(SYS_getppid) > 0 ? "works" : "fails");
}

static void strict_mode(int exit_cleanly) {
  printf("entering strict mode\n");
  fflush(stdout);
  show("prctl(PR_SET_SECCOMP, STRICT)", prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT));
  fflush(stdout);
  static const char msg[] = "in strict mode: write works\n";
  syscall(SYS_write, 1, msg, sizeof msg - 1);
  if (exit_cleanly) syscall(SYS_exit, 3);
  syscall(SYS_getpid);  // SIGKILL
  syscall(SYS_write, 1, "not reached\n", 12);
}

static void listener_mode(void) {
  struct sock_filter f[] = {
      LOAD_NR,
      ON(SYS_getppid, SECCOMP_RET_USER_NOTIF),
      ALLOW,
  };
  int fd = install(f, sizeof f / sizeof f[0], SECCOMP_FILTER_FLAG_NEW_LISTENER);
  show("seccomp(NEW_LISTENER)", fd < 0 ? -1 : 0);
}

static void* rseq_thread(void* arg) {
  (void)arg;
  static const char msg[] = "thread runs\n";
  syscall(SYS_write, 1, msg, sizeof msg - 1);
  return NULL;
}

static void allowlist_mode(void) {
  struct sock_filter f[] = {
      CHECK_ARCH,
      LOAD_NR,
      ON(SYS_read, SECCOMP_RET_ALLOW), ON(SYS_write, SECCOMP_RET_ALLOW),
      ON(SYS_mmap, SECCOMP_RET_ALLOW), ON(SYS_munmap, SECCOMP_RET_ALLOW),
      ON(SYS_mprotect, SECCOMP_RET_ALLOW), ON(SYS_madvise, SECCOMP_RET_ALLOW),
      ON(SYS_brk, SECCOMP_RET_ALLOW), ON(SYS_clone, SECCOMP_RET_ALLOW),
      ON(SYS_clone3, SECCOMP_RET_ALLOW), ON(SYS_futex, SECCOMP_RET_ALLOW),
      ON(SYS_rt_sigprocmask, SECCOMP_RET_ALLOW), ON(SYS_set_robust_list, SECCOMP_RET_ALLOW),
      ON(SYS_rseq, SECCOMP_RET_ALLOW), ON(SYS_exit, SECCOMP_RET_ALLOW),
      ON(SYS_exit_group, SECCOMP_RET_ALLOW), ON(SYS_newfstatat, SECCOMP_RET_ALLOW),
      ON(SYS_fstat, SECCOMP_RET_ALLOW), ON(SYS_getrandom, SECCOMP_RET_ALLOW),
      ON(SYS_gettid, SECCOMP_RET_ALLOW), ON(SYS_sched_yield, SECCOMP_RET_ALLOW),
      ON(SYS_rt_sigaction, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
  };
  show("seccomp(SET_MODE_FILTER)", install(f, sizeof f / sizeof f[0], 0));
  fflush(stdout);
  pthread_t t;
  pthread_create(&t, NULL, rseq_thread, NULL);
  pthread_join(t, NULL);
  printf("joined\n");
}

int main(int argc, char** argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  const char* mode = argc > 1 ? argv[1] : "errno";
  if (!strcmp(mode, "errno")) errno_mode();
  else if (!strcmp(mode, "trace")) trace_mode();
  else if (!strcmp(mode, "tsync")) tsync_mode();
  else if (!strcmp(mode, "trap")) trap_mode();
  else if (!strcmp(mode, "kill-process")) kill_mode(SECCOMP_RET_KILL_PROCESS);
  else if (!strcmp(mode, "kill-last")) kill_mode(SECCOMP_RET_KILL_THREAD);
  else if (!strcmp(mode, "kill-process-mt")) kill_process_mt_mode();
  else if (!strcmp(mode, "kill-thread")) kill_thread_mode();
  else if (!strcmp(mode, "strict")) strict_mode(0);
  else if (!strcmp(mode, "strict-exit")) strict_mode(1);
  else if (!strcmp(mode, "listener")) listener_mode();
  else if (!strcmp(mode, "allowlist")) allowlist_mode();
  else {
    fprintf(stderr, "usage: seccomp_filter errno|trace|tsync|trap|kill-process|kill-process-mt|kill-last|kill-thread|strict|strict-exit|listener|allowlist\n");
    return 2;
  }
  return 0;
}
