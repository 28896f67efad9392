// Buffered calls that block (tests/e2e/desched.sh): threads and a child
// process that wait in read (pipe, socket), futex wait, poll and epoll_wait
// with a timeout, while the others run and wake them. Under rrx's desched
// event these calls are buffered and taken over when they block; none may
// hang the serialized tree, and the replay must print the same.
#define _GNU_SOURCE
#include <linux/futex.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ROUNDS 40

static int ping[2], pong[2];

static void nap_us(long us) {
  struct timespec t = {us / 1000000, (us % 1000000) * 1000};
  nanosleep(&t, NULL);
}

static void read_all(int fd, void* buf, size_t n) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = read(fd, (char*)buf + got, n - got);
    if (r <= 0) {
      perror("read");
      exit(1);
    }
    got += (size_t)r;
  }
}

// Ping-pong through two pipes (or a socket pair: both ends in ping[]/pong[]).
static void* echo_thread(void* arg) {
  (void)arg;
  for (int i = 0; i < ROUNDS; ++i) {
    int v;
    read_all(ping[0], &v, sizeof v);  // blocks: the main thread writes after a nap
    v = v * 2 + 1;
    if (write(pong[1], &v, sizeof v) != sizeof v) exit(1);
  }
  return NULL;
}

static long ping_pong(const char* what, int nap_every) {
  pthread_t t;
  pthread_create(&t, NULL, echo_thread, NULL);
  long sum = 0;
  for (int i = 0; i < ROUNDS; ++i) {
    if (i % nap_every == 0) nap_us(2000);  // the reader is asleep in its read by now
    if (write(ping[1], &i, sizeof i) != sizeof i) exit(1);
    int v;
    read_all(pong[0], &v, sizeof v);
    sum += v;
  }
  pthread_join(t, NULL);
  printf("%s ping-pong: %d rounds, sum %ld\n", what, ROUNDS, sum);
  return sum;
}

static atomic_int futex_word;
static atomic_int woken;

static void* futex_waiter(void* arg) {
  (void)arg;
  for (int i = 0; i < 10; ++i) {
    // Wait while the word is even; the main thread makes it odd and wakes us.
    while ((atomic_load(&futex_word) & 1) == 0) {
      syscall(SYS_futex, &futex_word, FUTEX_WAIT_PRIVATE, atomic_load(&futex_word) & ~1, NULL, NULL, 0);
    }
    atomic_fetch_add(&woken, 1);
    atomic_fetch_add(&futex_word, 1);  // even again: the main thread goes on
    syscall(SYS_futex, &futex_word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
  }
  return NULL;
}

static void futex_rounds(void) {
  pthread_t t;
  pthread_create(&t, NULL, futex_waiter, NULL);
  for (int i = 0; i < 10; ++i) {
    nap_us(2000);
    atomic_fetch_add(&futex_word, 1);  // odd
    syscall(SYS_futex, &futex_word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
    while (atomic_load(&futex_word) & 1) {
      syscall(SYS_futex, &futex_word, FUTEX_WAIT_PRIVATE, atomic_load(&futex_word) | 1, NULL, NULL, 0);
    }
  }
  pthread_join(t, NULL);
  printf("futex: woken %d times\n", atomic_load(&woken));
}

static int poll_pipe[2];

static void* late_writer(void* arg) {
  (void)arg;
  for (int i = 0; i < 10; ++i) {
    nap_us(3000);
    char c = (char)('a' + i);
    if (write(poll_pipe[1], &c, 1) != 1) exit(1);
  }
  return NULL;
}

static void poll_rounds(void) {
  if (pipe(poll_pipe) != 0) exit(1);
  pthread_t t;
  pthread_create(&t, NULL, late_writer, NULL);
  char got[11] = {0};
  int timeouts = 0;
  for (int i = 0; i < 10; ++i) {
    struct pollfd p = {poll_pipe[0], POLLIN, 0};
    int n;
    while ((n = poll(&p, 1, 10000)) == 0) ++timeouts;  // waits for the writer
    if (n != 1 || !(p.revents & POLLIN)) exit(1);
    read_all(poll_pipe[0], &got[i], 1);
  }
  pthread_join(t, NULL);
  // A poll whose timeout expires with nothing to read.
  struct pollfd p = {poll_pipe[0], POLLIN, 0};
  int n = poll(&p, 1, 5);
  printf("poll: read %s, %d early timeouts, then %d (timed out)\n", got, timeouts, n);

  // epoll_wait with a timeout, the same way.
  int ep = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event ev = {.events = EPOLLIN, .data.u32 = 7};
  epoll_ctl(ep, EPOLL_CTL_ADD, poll_pipe[0], &ev);
  pthread_create(&t, NULL, late_writer, NULL);
  int seen = 0;
  for (int i = 0; i < 10; ++i) {
    struct epoll_event out;
    if (epoll_wait(ep, &out, 1, 10000) != 1 || out.data.u32 != 7) exit(1);
    char c;
    read_all(poll_pipe[0], &c, 1);
    seen += c == 'a' + i;
  }
  pthread_join(t, NULL);
  struct epoll_event out;
  n = epoll_wait(ep, &out, 1, 5);
  printf("epoll_wait: %d in order, then %d (timed out)\n", seen, n);
  close(ep);
}

// A child process blocked in a read of a pipe its parent fills later (its
// own desched event: not its parent's).
static void child_rounds(void) {
  int down[2], up[2];
  if (pipe(down) != 0 || pipe(up) != 0) exit(1);
  pid_t pid = fork();
  if (pid == 0) {
    for (int i = 0; i < 10; ++i) {
      int v;
      read_all(down[0], &v, sizeof v);
      v += 100;
      if (write(up[1], &v, sizeof v) != sizeof v) _exit(1);
    }
    _exit(0);
  }
  long sum = 0;
  for (int i = 0; i < 10; ++i) {
    nap_us(2000);
    if (write(down[1], &i, sizeof i) != sizeof i) exit(1);
    int v;
    read_all(up[0], &v, sizeof v);
    sum += v;
  }
  int status = 0;
  waitpid(pid, &status, 0);
  printf("child ping-pong: sum %ld, child exit %d\n", sum, WEXITSTATUS(status));
}

// The reader blocks every signal (rrx's desched signal too) before it reads:
// its blocked reads are taken over when rrx preempts it instead.
static void* masked_echo(void* arg) {
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, NULL);
  return echo_thread(arg);
}

static void masked_rounds(void) {
  if (pipe(ping) != 0 || pipe(pong) != 0) exit(1);
  pthread_t t;
  pthread_create(&t, NULL, masked_echo, NULL);
  long sum = 0;
  for (int i = 0; i < ROUNDS; ++i) {
    if (i < 3) nap_us(5000);  // (each such wait costs the reader a preemption)
    if (write(ping[1], &i, sizeof i) != sizeof i) exit(1);
    int v;
    read_all(pong[0], &v, sizeof v);
    sum += v;
  }
  pthread_join(t, NULL);
  printf("masked ping-pong: sum %ld\n", sum);
}

int main(int argc, char** argv) {
  const char* only = argc > 1 ? argv[1] : "all";
  int all = strcmp(only, "all") == 0;
  if (all || strcmp(only, "pipe") == 0) {
    if (pipe(ping) != 0 || pipe(pong) != 0) return 1;
    ping_pong("pipe", 4);
  }
  if (all || strcmp(only, "socket") == 0) {
    int a[2], b[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, a) != 0 || socketpair(AF_UNIX, SOCK_STREAM, 0, b) != 0) return 1;
    ping[0] = a[0];
    ping[1] = a[1];
    pong[0] = b[0];
    pong[1] = b[1];
    ping_pong("socket", 4);
  }
  if (all || strcmp(only, "futex") == 0) futex_rounds();
  if (all || strcmp(only, "poll") == 0) poll_rounds();
  if (all || strcmp(only, "fork") == 0) child_rounds();
  if (strcmp(only, "masked") == 0) masked_rounds();
  if (strcmp(only, "closeall") == 0) {
    // A daemon's start: close every fd above stderr. None from 512 is open
    // here (what the caller left open is below), so none of those closes
    // (rrx's desched events are not the program's); the pipe ping-pong
    // after it blocks as before, under the event it still has.
    int closed = 0;
    for (int fd = 3; fd < 1024; ++fd) closed += close(fd) == 0 && fd >= 512;
    printf("closeall: %d closed from 512\n", closed);
    if (pipe(ping) != 0 || pipe(pong) != 0) return 1;
    ping_pong("pipe", 4);
  }
  return 0;
}
