// Racy program: a lost update without syscalls. Two threads each add 1 to a
// shared counter 3000 times as `t = counter; <window>; counter = t + 1`. If
// one thread is preempted inside the window while the other adds, its write
// loses the other's additions. Prints the final count; exits 1 ("lost
// update") when it is short. Under plain `rrx record` (serialized threads,
// 100 ms slices) this never fails; `rrx record --chaos` finds it.
//
// rrx-e2e: later (racy; tests/e2e/chaos.sh records it)
#include <pthread.h>
#include <stdio.h>

#include "race_window.h"

// The workers start together (the last to arrive wakes the other).
static pthread_barrier_t start;

#define N 3000

static volatile long counter;

static void* worker(void* arg) {
  (void)arg;
  pthread_barrier_wait(&start);
  for (long i = 0; i < N; i++) {
    long t = counter;
    long acc = 0;
    RACE_WINDOW(acc, i + 1, t);
    counter = t + 1;
  }
  return NULL;
}

int main(void) {
  pthread_t a, b;
  pthread_barrier_init(&start, NULL, 2);
  pthread_create(&a, NULL, worker, NULL);
  pthread_create(&b, NULL, worker, NULL);
  pthread_join(a, NULL);
  pthread_join(b, NULL);
  printf("counter %ld of %d\n", counter, 2 * N);
  if (counter != 2 * N) {
    printf("lost update: %ld increments lost\n", 2 * N - counter);
    return 1;
  }
  return 0;
}
