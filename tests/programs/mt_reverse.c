// Four worker threads run rounds handed out by main: each waits on a
// condition variable, does a burst of CPU work (keeping a thread-local sum
// and using the FP unit), then adds to shared totals under a mutex and
// signals main. For tests/gdb/mt_reverse.sh: reverse execution that starts
// from checkpoints taken while all five threads run. main calls
// all_running() once every worker has finished a round and finished_all()
// at the end; `total` and `rounds_done[]` are the watched variables.
//
// rrx-e2e: later (multi-threaded; tests/gdb/mt_reverse.sh records it)
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#define NT 4
#define ROUNDS 24

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t go = PTHREAD_COND_INITIALIZER;
static pthread_cond_t done_cv = PTHREAD_COND_INITIALIZER;
static int round_no;
static int finished;
volatile uint64_t total;
volatile int last_writer = -1;
uint64_t rounds_done[NT];
double scale[NT];
static __thread uint64_t tls_sum;

static uint64_t work(uint64_t seed) {
  uint64_t x = seed * 2654435761u + 1;
  for (int i = 0; i < 20000; i++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
  }
  return x;
}

void all_running(int round) { printf("all running at round %d\n", round); }
void finished_all(void) { printf("finished\n"); }

static void* worker(void* arg) {
  int id = (int)(intptr_t)arg;
  double f = 1.0 + id;
  for (int r = 1; r <= ROUNDS; r++) {
    pthread_mutex_lock(&mu);
    while (round_no < r) pthread_cond_wait(&go, &mu);
    pthread_mutex_unlock(&mu);
    uint64_t v = work((uint64_t)id * 1000 + r);
    tls_sum += v % 1000;
    f = f * 1.5 + (double)(v % 7);  // lives in an xmm register across the lock
    getppid();
    pthread_mutex_lock(&mu);
    total += v % 1000;
    last_writer = id;
    rounds_done[id]++;
    scale[id] = f;
    finished++;
    pthread_cond_signal(&done_cv);
    pthread_mutex_unlock(&mu);
  }
  printf("worker %d: sum %llu\n", id, (unsigned long long)tls_sum);
  return NULL;
}

int main(void) {
  pthread_t t[NT];
  setvbuf(stdout, NULL, _IONBF, 0);
  for (int i = 0; i < NT; i++) pthread_create(&t[i], NULL, worker, (void*)(intptr_t)i);
  for (int r = 1; r <= ROUNDS; r++) {
    pthread_mutex_lock(&mu);
    round_no = r;
    finished = 0;
    pthread_cond_broadcast(&go);
    while (finished < NT) pthread_cond_wait(&done_cv, &mu);
    pthread_mutex_unlock(&mu);
    if (r == 8) all_running(r);
  }
  finished_all();
  for (int i = 0; i < NT; i++) pthread_join(t[i], NULL);
  printf("total %llu\n", (unsigned long long)total);
  return (int)(total % 100);
}
