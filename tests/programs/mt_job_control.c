// Job control: children stopped by SIGSTOP (raised by themselves, sent by
// the parent, sent to their whole process group), by SIGTSTP with its
// default action, and a multi-threaded child stopped as a whole; the parent
// sees each stop (waitpid WUNTRACED, waitid WSTOPPED), continues it with
// SIGCONT, sees that (WCONTINUED), and the child's SIGCONT handler runs.
// While a child is stopped none of its threads runs: the parent checks
// that nothing comes through the pipe a stopped thread would write to.
// Every line printed is deterministic.
//
// rrx-e2e: later (multi-process; tests/e2e/job_control.sh records it, so
// edge_programs.sh leaves it out)
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t g_conts;

static void on_cont(int sig) {
  (void)sig;
  g_conts++;
}

static void install_cont_handler(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_cont;
  sa.sa_flags = SA_RESTART;
  sigaction(SIGCONT, &sa, NULL);
}

// A byte through a pipe, retried on EINTR.
static void put(int fd) {
  while (write(fd, "x", 1) < 0 && errno == EINTR) {
  }
}
static void take(int fd) {
  char c;
  while (read(fd, &c, 1) < 0 && errno == EINTR) {
  }
}

struct Child {
  pid_t pid;
  int ready;    // the child writes a byte when it is set up
  int release;  // the parent writes a byte when the child may finish
  int progress; // the child writes bytes here whenever it runs
};

static int g_progress_fd;  // in the child: the write end of Child.progress

// Forks a child running body(ready_fd, release_fd).
static struct Child start(void (*body)(int, int)) {
  int up[2], down[2], prog[2];
  if (pipe(up) != 0 || pipe(down) != 0 || pipe(prog) != 0) {
    perror("pipe");
    exit(1);
  }
  pid_t pid = fork();
  if (pid < 0) {
    perror("fork");
    exit(1);
  }
  if (pid == 0) {
    close(up[0]);
    close(down[1]);
    close(prog[0]);
    g_progress_fd = prog[1];
    body(up[1], down[0]);
    _exit(0);
  }
  close(up[1]);
  close(down[0]);
  close(prog[1]);
  fcntl(prog[0], F_SETFL, O_NONBLOCK);
  struct Child c = {pid, up[0], down[1], prog[0]};
  return c;
}

// Called once the child is seen stopped: nothing of it may run for 50 ms.
// `drain`: it wrote progress before it stopped; forget that first.
static void check_still(struct Child c, int drain) {
  char buf[4096];
  while (drain && read(c.progress, buf, sizeof buf) > 0) {
  }
  struct timespec t = {0, 50 * 1000 * 1000};
  nanosleep(&t, NULL);
  ssize_t n = read(c.progress, buf, sizeof buf);
  printf("  ran while stopped: %s\n", n > 0 ? "yes" : "no");
  fflush(stdout);
}

static void report(const char* what, int st) {
  if (WIFSTOPPED(st)) {
    printf("  %s: stopped by %s\n", what, strsignal(WSTOPSIG(st)));
  } else if (WIFCONTINUED(st)) {
    printf("  %s: continued\n", what);
  } else if (WIFEXITED(st)) {
    printf("  %s: exited with %d\n", what, WEXITSTATUS(st));
  } else if (WIFSIGNALED(st)) {
    printf("  %s: killed by %s\n", what, strsignal(WTERMSIG(st)));
  } else {
    printf("  %s: status 0x%x\n", what, st);
  }
  fflush(stdout);
}

static void wait_report(pid_t pid, int options, const char* what) {
  int st = 0;
  pid_t r;
  while ((r = waitpid(pid, &st, options)) < 0 && errno == EINTR) {
  }
  if (r != pid) {
    printf("  %s: waitpid returned %d (%s)\n", what, (int)r, strerror(errno));
    fflush(stdout);
    return;
  }
  report(what, st);
}

// The end of every scenario: SIGCONT, WCONTINUED, release, exit status.
static void cont_and_finish(struct Child c, pid_t target) {
  kill(target, SIGCONT);
  wait_report(c.pid, WCONTINUED, "waitpid(WCONTINUED)");
  put(c.release);
  wait_report(c.pid, 0, "waitpid");
  close(c.ready);
  close(c.release);
  close(c.progress);
}

// 1. The child stops itself.
static void self_stop(int ready, int release) {
  install_cont_handler();
  put(ready);
  raise(SIGSTOP);
  put(g_progress_fd);
  take(release);
  printf("  child: SIGCONT handler ran %d time(s)\n", (int)g_conts);
  fflush(stdout);
  _exit(3);
}

// 2. The parent stops the child, which waits in read(2).
static void stopped_by_parent(int ready, int release) {
  install_cont_handler();
  put(ready);
  take(release);
  printf("  child: SIGCONT handler ran %d time(s)\n", (int)g_conts);
  fflush(stdout);
  _exit(4);
}

// 3. SIGTSTP with its default action stops the child (its own process group,
// so that the group is not orphaned: the kernel ignores SIGTSTP there).
static void tstp_default(int ready, int release) {
  setpgid(0, 0);
  put(ready);
  raise(SIGTSTP);
  take(release);
  printf("  child: went on after SIGTSTP\n");
  fflush(stdout);
  _exit(5);
}

// 4. A multi-threaded child: every thread stops; they go on afterwards.
static int g_release_fd;
static volatile int g_done;
static void* reader_thread(void* arg) {
  (void)arg;
  take(g_release_fd);
  g_done = 1;
  return NULL;
}
static void* sleeper_thread(void* arg) {
  (void)arg;
  struct timespec ms = {0, 1000000};
  while (!g_done) {
    nanosleep(&ms, NULL);
    put(g_progress_fd);
  }
  return NULL;
}
static void threads_stopped(int ready, int release) {
  install_cont_handler();
  g_release_fd = release;
  pthread_t a, b;
  pthread_create(&a, NULL, reader_thread, NULL);
  pthread_create(&b, NULL, sleeper_thread, NULL);
  put(ready);
  pthread_join(a, NULL);
  pthread_join(b, NULL);
  printf("  child: both threads finished, SIGCONT handled: %s\n", g_conts > 0 ? "yes" : "no");
  fflush(stdout);
  _exit(6);
}

// 5. A child and its own child in a process group of their own, stopped
// and continued together through kill(-pgid).
static void group_stopped(int ready, int release) {
  setpgid(0, 0);
  int gready[2], gdown[2];
  if (pipe(gready) != 0 || pipe(gdown) != 0) _exit(1);
  pid_t g = fork();
  if (g == 0) {
    close(gready[0]);
    close(gdown[1]);
    put(gready[1]);
    take(gdown[0]);
    _exit(8);
  }
  close(gready[1]);
  close(gdown[0]);
  take(gready[0]);
  put(ready);
  take(release);
  put(gdown[1]);
  int st = 0;
  while (waitpid(g, &st, 0) < 0 && errno == EINTR) {
  }
  printf("  child: grandchild exited with %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
  fflush(stdout);
  _exit(7);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);

  printf("1. the child raises SIGSTOP\n");
  struct Child c = start(self_stop);
  take(c.ready);
  wait_report(c.pid, WUNTRACED, "waitpid(WUNTRACED)");
  check_still(c, 0);
  cont_and_finish(c, c.pid);

  printf("2. the parent sends SIGSTOP (waitid)\n");
  c = start(stopped_by_parent);
  take(c.ready);
  kill(c.pid, SIGSTOP);
  siginfo_t si;
  memset(&si, 0, sizeof si);
  while (waitid(P_PID, (id_t)c.pid, &si, WSTOPPED) < 0 && errno == EINTR) {
  }
  printf("  waitid(WSTOPPED): %s, %s\n", si.si_code == CLD_STOPPED ? "CLD_STOPPED" : "other",
         strsignal(si.si_status));
  kill(c.pid, SIGCONT);
  memset(&si, 0, sizeof si);
  while (waitid(P_PID, (id_t)c.pid, &si, WCONTINUED) < 0 && errno == EINTR) {
  }
  printf("  waitid(WCONTINUED): %s\n", si.si_code == CLD_CONTINUED ? "CLD_CONTINUED" : "other");
  put(c.release);
  wait_report(c.pid, 0, "waitpid");
  close(c.ready);
  close(c.release);
  close(c.progress);

  printf("3. the child raises SIGTSTP (default action)\n");
  c = start(tstp_default);
  take(c.ready);
  wait_report(c.pid, WUNTRACED, "waitpid(WUNTRACED)");
  cont_and_finish(c, c.pid);

  printf("4. a multi-threaded child is stopped\n");
  c = start(threads_stopped);
  take(c.ready);
  kill(c.pid, SIGSTOP);
  wait_report(c.pid, WUNTRACED, "waitpid(WUNTRACED)");
  check_still(c, 1);
  cont_and_finish(c, c.pid);

  printf("5. SIGSTOP to a process group\n");
  c = start(group_stopped);
  take(c.ready);
  kill(-c.pid, SIGSTOP);
  wait_report(c.pid, WUNTRACED, "waitpid(WUNTRACED)");
  cont_and_finish(c, -c.pid);
  return 0;
}
