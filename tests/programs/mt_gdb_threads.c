// Two worker threads run worker(void*) (a short loop with a sleep); main
// joins them. For tests/gdb/threads.sh: `break worker` is hit once per
// thread. The workers wait at a barrier (with main) before calling worker(),
// so when the first one reaches worker() all three threads exist.
// Exits with the total number of iterations (6).
//
// rrx-e2e: later (multi-threaded; tests/gdb/threads.sh records it, so
// edge_programs.sh leaves it out)
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#define LOOPS 3

static pthread_barrier_t start_gate;
static int iterations[2];

void* worker(void* arg) {
  int id = (int)(intptr_t)arg;
  for (int i = 0; i < LOOPS; i++) {
    iterations[id]++;
    struct timespec d = {0, 1000 * 1000};
    nanosleep(&d, NULL);
  }
  return NULL;
}

static void* thread_start(void* arg) {
  pthread_barrier_wait(&start_gate);
  return worker(arg);
}

int main(void) {
  pthread_t threads[2];
  pthread_barrier_init(&start_gate, NULL, 3);
  for (int i = 0; i < 2; i++) pthread_create(&threads[i], NULL, thread_start, (void*)(intptr_t)i);
  pthread_barrier_wait(&start_gate);
  for (int i = 0; i < 2; i++) pthread_join(threads[i], NULL);
  printf("iterations %d %d\n", iterations[0], iterations[1]);
  return iterations[0] + iterations[1];
}
