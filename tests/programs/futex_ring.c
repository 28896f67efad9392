// A futex-heavy multi-threaded program (bench/desched.sh): THREADS threads
// pass a turn around a ring ROUNDS times with a pthread mutex and condition
// variable, so each turn is a futex wake and, for the thread whose turn it
// is not yet, a futex wait (that blocks, or finds the word changed). Prints
// the rounds and a checksum.
//   futex_ring [THREADS [ROUNDS]]    (default 4 threads, 500 rounds)
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static long turn, rounds, sum;
static int threads;

static void* run(void* arg) {
  const long me = (long)arg;
  for (long r = 0; r < rounds; ++r) {
    pthread_mutex_lock(&mu);
    while (turn % threads != me) pthread_cond_wait(&cv, &mu);
    sum += turn * (me + 1);
    ++turn;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
  }
  return NULL;
}

int main(int argc, char** argv) {
  threads = argc > 1 ? atoi(argv[1]) : 4;
  rounds = argc > 2 ? atol(argv[2]) : 500;
  if (threads < 1 || threads > 64 || rounds < 0) return 2;
  pthread_t t[64];
  for (long i = 0; i < threads; ++i) pthread_create(&t[i], NULL, run, (void*)i);
  for (int i = 0; i < threads; ++i) pthread_join(t[i], NULL);
  printf("%ld turns, checksum %ld\n", turn, sum);
  return 0;
}
