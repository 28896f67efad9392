// A process-directed signal wakes the one thread that can take it, a reader
// blocked in read() (the main thread has it blocked), so the read ends with
// -ERESTARTSYS; then the main thread unblocks the signal and takes it first.
// The reader finds nothing left to deliver, and the kernel restarts its read
// by itself (ip back onto the syscall instruction, rax = the syscall number):
// the restart code never reaches the program. A replay that injects the
// recorded -ERESTARTSYS must restart the call the same way.
// Prints which thread ran the handler and what the reader read; the output
// does not depend on which of the two happened.
//
// rrx-e2e: later (multi-threaded; tests/e2e/threads.sh records it, so
// edge_programs.sh leaves it out)
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int fds[2];
static atomic_int handled;
static atomic_int reading;

static void on_usr1(int sig) {
  (void)sig;
  atomic_fetch_add(&handled, 1);
}

static void* reader(void* arg) {
  (void)arg;
  char buf[16] = {0};
  atomic_store(&reading, 1);
  ssize_t n;
  int eintr = 0;
  while ((n = read(fds[0], buf, sizeof buf - 1)) < 0 && errno == EINTR) eintr++;
  if (n < 0) {
    printf("reader: read failed: %s\n", strerror(errno));
    return NULL;
  }
  printf("reader: read \"%s\"\n", buf);
  (void)eintr;
  return NULL;
}

int main(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_usr1;
  sa.sa_flags = SA_RESTART;
  sigaction(SIGUSR1, &sa, NULL);
  if (pipe(fds) != 0) return 1;

  sigset_t usr1;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &usr1, NULL);  // main cannot take it...
  // ...the reader, created with it unblocked, can.
  pthread_t t;
  pthread_sigmask(SIG_UNBLOCK, &usr1, NULL);
  pthread_create(&t, NULL, reader, NULL);
  pthread_sigmask(SIG_BLOCK, &usr1, NULL);

  while (!atomic_load(&reading)) {
    struct timespec ts = {0, 1000000};
    nanosleep(&ts, NULL);
  }
  struct timespec ts = {0, 20000000};
  nanosleep(&ts, NULL);  // the reader is blocked in read() by now

  for (int i = 0; i < 3; i++) {
    kill(getpid(), SIGUSR1);  // only the reader can take it: it is woken
    pthread_sigmask(SIG_UNBLOCK, &usr1, NULL);  // main takes it first (or not)
    pthread_sigmask(SIG_BLOCK, &usr1, NULL);
    struct timespec d = {0, 2000000};
    nanosleep(&d, NULL);
  }
  if (write(fds[1], "hello", 5) != 5) return 1;
  pthread_join(t, NULL);
  printf("main: the handler ran %d times\n", atomic_load(&handled));
  return 0;
}
