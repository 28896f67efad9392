// For bench/reverse.sh, the 4-thread row: four threads make PREFIX syscalls
// between them, thread 0 writes `target`, then the four make N more
// syscalls, and main calls done(). A reverse-continue from done() with a
// watchpoint on `target` goes back N events, all of them with four threads.
//
// rrx-e2e: later (bench/reverse.sh, tests/e2e/thread_sites.sh run it)
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define NT 4

volatile int target;
static long prefix, n;
static pthread_barrier_t gate;

void done(long count) { printf("%ld syscalls after the write\n", count); }

static void* worker(void* arg) {
  int id = (int)(intptr_t)arg;
  for (long i = 0; i < prefix / NT; ++i) getppid();
  pthread_barrier_wait(&gate);
  if (id == 0) target = 42;
  pthread_barrier_wait(&gate);
  for (long i = 0; i < n / NT; ++i) getppid();
  return NULL;
}

int main(int argc, char** argv) {
  n = argc > 1 ? atol(argv[1]) : 10000;
  prefix = argc > 2 ? atol(argv[2]) : n;
  pthread_t t[NT];
  pthread_barrier_init(&gate, NULL, NT);
  for (int i = 0; i < NT; ++i) pthread_create(&t[i], NULL, worker, (void*)(intptr_t)i);
  for (int i = 0; i < NT; ++i) pthread_join(t[i], NULL);
  done(n);
  return 0;
}
