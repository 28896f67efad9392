// Two threads queue on one mutex's futex while main holds it, for
// tests/gdb/reverse_block.sh: `first` blocks in pthread_mutex_lock, then
// `second` (which waited for main's word on a pipe until then) enters
// pthread_mutex_lock and blocks behind it; main lets go, `first` (woken
// first: futex waiters are FIFO) takes the mutex, locks and unlocks another
// one while `second` still sleeps, and hands the mutex on. So `first`'s
// blocking futex wait spans `second`'s call of pthread_mutex_lock, and
// `first`'s second lock call comes while `second` sleeps; both threads exist
// throughout. Main waits for each thread to sleep in its futex wait
// (/proc/self/task/TID/syscall) before going on, so the order is the same
// in every recording.
//
// rrx-e2e: later (multi-threaded; tests/gdb/reverse_block.sh records it)
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t other = PTHREAD_MUTEX_INITIALIZER;
static volatile int tids[2];
static int go[2];  // main -> second: queue up
int order[2];
int turns;

// Until thread `tids[i]` sleeps in the kernel in a futex wait.
static void wait_in_futex(int i) {
  char path[64], buf[256];
  for (;;) {
    if (tids[i] != 0) {
      snprintf(path, sizeof path, "/proc/self/task/%d/syscall", tids[i]);
      int fd = open(path, O_RDONLY);
      ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
      if (fd >= 0) close(fd);
      if (n > 0) {
        buf[n] = 0;
        if (atoi(buf) == SYS_futex) return;
      }
    }
    usleep(1000);
  }
}

static void* first(void* arg) {
  (void)arg;
  tids[0] = (int)syscall(SYS_gettid);
  pthread_mutex_lock(&mu);
  pthread_mutex_lock(&other);  // while second sleeps in its futex wait
  order[turns++] = 1;
  pthread_mutex_unlock(&other);
  pthread_mutex_unlock(&mu);
  return NULL;
}

static void* second(void* arg) {
  (void)arg;
  tids[1] = (int)syscall(SYS_gettid);
  char c;
  read(go[0], &c, 1);
  pthread_mutex_lock(&mu);  // line LOCK of reverse_block.sh
  order[turns++] = 2;       // line AFTER
  pthread_mutex_unlock(&mu);
  return NULL;
}

int main(void) {
  pthread_t a, b;
  if (pipe(go) != 0) return 1;
  pthread_mutex_lock(&mu);
  pthread_create(&b, NULL, second, NULL);
  pthread_create(&a, NULL, first, NULL);
  wait_in_futex(0);
  write(go[1], "x", 1);
  wait_in_futex(1);
  pthread_mutex_unlock(&mu);
  pthread_join(a, NULL);
  pthread_join(b, NULL);
  printf("order %d %d\n", order[0], order[1]);
  return 0;
}
