// Racy program: an unsynchronized "ready" flag that hides an initialization
// order bug. The initializer sets `ready` before it computes the
// configuration (about 2 ms); the main thread waits for the flag, does 4 ms
// of its own work, then uses the configuration. Natively the initializer
// always wins; if it is preempted between the flag and the value, the main
// thread reads the size as 0: exits 1 ("used before initialization").
//
// rrx-e2e: later (racy; tests/e2e/chaos.sh records it)
#include <pthread.h>
#include <stdio.h>

#include "race_window.h"

static volatile int ready;
static volatile long config_size;

static void* initializer(void* arg) {
  (void)arg;
  ready = 1;  // the bug: published before the value
  long acc = 0;
  for (long i = 0; i < 2000; i++) RACE_WINDOW(acc, i + 1, i);
  config_size = 4096 + (acc & 1);
  return NULL;
}

int main(void) {
  pthread_t t;
  pthread_create(&t, NULL, initializer, NULL);
  while (!ready) {
  }
  long acc = 0;
  for (long i = 0; i < 4000; i++) RACE_WINDOW(acc, i + 3, i);
  long size = config_size;
  pthread_join(t, NULL);
  printf("configuration size %ld\n", size);
  if (size == 0) {
    printf("used before initialization\n");
    return 1;
  }
  return 0;
}
