// Several threads synchronizing with the usual pthread primitives:
//  - a start gate: the workers wait on a condition variable until main opens it;
//  - a mutex-protected counter and checksum, incremented by every worker;
//  - a pthread_barrier (workers + main) after that phase: every worker checks
//    it sees the whole count, exactly one gets PTHREAD_BARRIER_SERIAL_THREAD;
//  - a ping-pong between main and worker 0 over a condition variable.
// Prints only what does not depend on scheduling (the checksum is a sum).
// mt_pthreads [THREADS [ITERATIONS]] (default 4 and 500).
//
// rrx-e2e: later (multi-threaded; tests/e2e/threads.sh records it, so
// edge_programs.sh leaves it out)
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_THREADS 16
#define ROUNDS 10

static long n_threads = 4;
static long iterations = 500;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cond = PTHREAD_COND_INITIALIZER;
static int gate_open;
static long counter;
static uint64_t checksum;
static pthread_barrier_t barrier;
static int serial_count;          // threads that got PTHREAD_BARRIER_SERIAL_THREAD
static int saw_full_count;        // workers that saw counter == total after the barrier

// Ping-pong between main and worker 0: turn 0 = main's, 1 = the worker's.
static pthread_cond_t turn_cond = PTHREAD_COND_INITIALIZER;
static int turn;
static int rounds_done;
static char trail[2 * ROUNDS + 1];

static uint64_t mix(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  return x;
}

static void* worker(void* arg) {
  long id = (long)(intptr_t)arg;

  pthread_mutex_lock(&lock);
  while (!gate_open) pthread_cond_wait(&gate_cond, &lock);
  pthread_mutex_unlock(&lock);

  for (long i = 0; i < iterations; i++) {
    pthread_mutex_lock(&lock);
    counter++;
    checksum += mix((uint64_t)id * 1000003u + (uint64_t)i);
    pthread_mutex_unlock(&lock);
  }

  int r = pthread_barrier_wait(&barrier);
  pthread_mutex_lock(&lock);
  if (r == PTHREAD_BARRIER_SERIAL_THREAD) serial_count++;
  if (counter == n_threads * iterations) saw_full_count++;
  pthread_mutex_unlock(&lock);

  if (id == 0) {
    for (int k = 0; k < ROUNDS; k++) {
      pthread_mutex_lock(&lock);
      while (turn != 1) pthread_cond_wait(&turn_cond, &lock);
      trail[2 * rounds_done + 1] = 'o';
      rounds_done++;
      turn = 0;
      pthread_cond_broadcast(&turn_cond);
      pthread_mutex_unlock(&lock);
    }
  }
  return (void*)(intptr_t)(id + 100);
}

int main(int argc, char** argv) {
  if (argc > 1) n_threads = atol(argv[1]);
  if (argc > 2) iterations = atol(argv[2]);
  if (n_threads < 1 || n_threads > MAX_THREADS || iterations < 0) {
    fprintf(stderr, "usage: mt_pthreads [THREADS (1-%d) [ITERATIONS]]\n", MAX_THREADS);
    return 2;
  }
  pthread_barrier_init(&barrier, NULL, (unsigned)n_threads + 1);

  pthread_t threads[MAX_THREADS];
  for (long i = 0; i < n_threads; i++) {
    if (pthread_create(&threads[i], NULL, worker, (void*)(intptr_t)i) != 0) {
      perror("pthread_create");
      return 1;
    }
  }
  printf("started %ld threads\n", n_threads);
  fflush(stdout);

  pthread_mutex_lock(&lock);
  gate_open = 1;
  pthread_cond_broadcast(&gate_cond);
  pthread_mutex_unlock(&lock);

  int r = pthread_barrier_wait(&barrier);
  pthread_mutex_lock(&lock);
  if (r == PTHREAD_BARRIER_SERIAL_THREAD) serial_count++;
  long after_barrier = counter;
  pthread_mutex_unlock(&lock);

  for (int k = 0; k < ROUNDS; k++) {
    pthread_mutex_lock(&lock);
    while (turn != 0) pthread_cond_wait(&turn_cond, &lock);
    trail[2 * k] = 'p';
    turn = 1;
    pthread_cond_broadcast(&turn_cond);
    pthread_mutex_unlock(&lock);
  }
  pthread_mutex_lock(&lock);
  while (turn != 0) pthread_cond_wait(&turn_cond, &lock);
  pthread_mutex_unlock(&lock);

  long joined_sum = 0;
  for (long i = 0; i < n_threads; i++) {
    void* ret;
    pthread_join(threads[i], &ret);
    joined_sum += (long)(intptr_t)ret;
  }
  pthread_barrier_destroy(&barrier);

  uint64_t expected = 0;
  for (long id = 0; id < n_threads; id++)
    for (long i = 0; i < iterations; i++) expected += mix((uint64_t)id * 1000003u + (uint64_t)i);

  printf("counter = %ld (expected %ld)\n", counter, n_threads * iterations);
  printf("counter seen by main after the barrier = %ld\n", after_barrier);
  printf("checksum = %016llx (%s)\n", (unsigned long long)checksum,
         checksum == expected ? "matches" : "WRONG");
  printf("barrier: %d of %ld workers saw the full count, %d serial thread(s)\n", saw_full_count,
         n_threads, serial_count);
  printf("ping-pong: %d rounds, trail %s\n", rounds_done, trail);
  printf("joined %ld threads, return values sum to %ld\n", n_threads, joined_sum);
  return counter == n_threads * iterations && checksum == expected ? 0 : 1;
}
