// A thread spins on an atomic flag with no system call in the loop, while
// the main thread does some work, sleeps a little and then sets the flag;
// then the roles swap: main spins (no system call) until the thread
// acknowledges. A recorder that serializes threads must preempt a spinner,
// or this never ends.
// Prints the work's result as seen by the spinner (published before the
// flag) and "done"; nothing that depends on how long anything spun.
//
// rrx-e2e: later (multi-threaded; tests/e2e/threads.sh records it, so
// edge_programs.sh leaves it out)
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

static atomic_int go;
static atomic_int ack;
static uint64_t work_result;   // written before go is set (release)
static uint64_t seen_by_spinner;

static void* spinner(void* arg) {
  (void)arg;
  unsigned long spins = 0;
  while (!atomic_load_explicit(&go, memory_order_acquire)) spins++;
  seen_by_spinner = work_result;
  (void)spins;
  atomic_store_explicit(&ack, 1, memory_order_release);
  return NULL;
}

int main(void) {
  pthread_t t;
  if (pthread_create(&t, NULL, spinner, NULL) != 0) {
    perror("pthread_create");
    return 1;
  }
  // Some work: a few million additions (a few ms).
  uint64_t x = 1;
  for (int i = 0; i < 3000000; i++) x = x * 6364136223846793005ULL + 1442695040888963407ULL;
  work_result = x;
  struct timespec d = {0, 20 * 1000 * 1000};
  nanosleep(&d, NULL);
  atomic_store_explicit(&go, 1, memory_order_release);

  unsigned long spins = 0;
  while (!atomic_load_explicit(&ack, memory_order_acquire)) spins++;
  (void)spins;
  pthread_join(t, NULL);

  printf("spinner saw the work result %016llx (%s)\n", (unsigned long long)seen_by_spinner,
         seen_by_spinner == x ? "same as main's" : "DIFFERENT");
  printf("done\n");
  return seen_by_spinner == x ? 0 : 1;
}
