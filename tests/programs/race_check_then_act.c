// Racy program: check-then-act with a syscall in between. Two threads sell
// from a shared stock of 200: `if (stock > 0) { log (a syscall); stock--; }`.
// A switch between the check and the act (at the syscall) lets both sell the
// last item: the stock ends negative. Exits 1 ("oversold") then.
//
// rrx-e2e: later (racy; tests/e2e/chaos.sh records it)
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

// The workers start together (the last to arrive wakes the other).
static pthread_barrier_t start;

static volatile long stock = 200;
static volatile long sold[2];

static void* seller(void* arg) {
  long me = (long)arg;
  pthread_barrier_wait(&start);
  for (;;) {
    if (stock <= 0) break;
    (void)getppid();  // the "log line" between the check and the act
    stock = stock - 1;
    sold[me]++;
  }
  return NULL;
}

int main(void) {
  pthread_t a, b;
  pthread_barrier_init(&start, NULL, 2);
  pthread_create(&a, NULL, seller, (void*)0);
  pthread_create(&b, NULL, seller, (void*)1);
  pthread_join(a, NULL);
  pthread_join(b, NULL);
  printf("stock %ld, sold %ld + %ld\n", stock, sold[0], sold[1]);
  if (stock < 0) {
    printf("oversold by %ld\n", -stock);
    return 1;
  }
  return 0;
}
