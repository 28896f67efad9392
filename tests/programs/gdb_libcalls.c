// A short single-threaded program (a few dozen events, so the only
// checkpoint is at _start, before libc is mapped) that calls libc: printf,
// then write() through say(). For tests/gdb/shared_library.sh: breakpoints
// in libc found going backwards (break write + reverse-continue,
// reverse-next over printf).
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int counter;

static void say(const char* s) { write(1, s, strlen(s)); }

int main(void) {
  counter = 1;
  printf("counter %d\n", counter);
  fflush(stdout);
  counter = 2;
  say("said\n");
  counter = 3;
  return counter == 3 ? 0 : 1;
}
