// Two threads write to stdout with no order between them: thread B short
// lines, as fast as it can; the main thread, in each round, computes for
// longer than rrx's in-kernel slice (no syscall) and then writes a large
// block, which keeps the kernel busy for a while. tests/e2e/output_order.sh
// checks that replay prints B's lines exactly where they fell between the
// blocks in the recording. argv[1]: rounds (default 12), argv[2]: block
// bytes (default 4 MiB), argv[3]: compute loop passes (default 40 million).
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static atomic_int done;

static void say(const char* text, size_t n) {
  while (n > 0) {
    ssize_t w = write(1, text, n);
    if (w <= 0) _exit(3);
    text += w;
    n -= (size_t)w;
  }
}

static void* writer_b(void* arg) {
  (void)arg;
  char line[32];
  for (int i = 0; !atomic_load(&done); i++) {
    int n = snprintf(line, sizeof line, "B %d\n", i);
    say(line, (size_t)n);
  }
  return NULL;
}

int main(int argc, char** argv) {
  int rounds = argc > 1 ? atoi(argv[1]) : 12;
  size_t bytes = argc > 2 ? (size_t)atol(argv[2]) : 4u << 20;
  long passes = argc > 3 ? atol(argv[3]) : 40000000L;
  char* block = malloc(bytes);
  if (!block) return 1;
  pthread_t t;
  if (pthread_create(&t, NULL, writer_b, NULL) != 0) return 1;
  volatile unsigned long sink = 0;
  for (int r = 0; r < rounds; r++) {
    for (long i = 0; i < passes; i++) sink += (unsigned long)i;
    memset(block, 'a' + r % 26, bytes);
    int n = snprintf(block, 32, "\nA block %d\n", r);
    block[n] = 'a' + r % 26;  // (over snprintf's NUL)
    block[bytes - 1] = '\n';
    say(block, bytes);
  }
  atomic_store(&done, 1);
  pthread_join(t, NULL);
  say("A done\n", 7);
  return 0;
}
