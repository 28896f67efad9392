// For the reverse-execution gdb tests: a value corrupted by a stray write,
// a buffer filled by read(), a call to step back over, and a loop of
// syscalls.
#include <stdio.h>
#include <string.h>
#include <unistd.h>

struct record {
  int id;
  int value;
};

static struct record table[8];
static int counter;
static int* stray;
static char buf[32];

static int square(int x) {
  int r = x * x;
  return r;
}

static void fill(void) {
  for (int i = 0; i < 8; ++i) {
    table[i].id = i;
    table[i].value = square(i);
  }
}

static void corrupt(void) {
  stray = &table[3].value;
  *stray = -1;  /* the stray write */
}

static void receive(void) {
  int fds[2];
  if (pipe(fds) != 0) return;
  if (write(fds[1], "hello from a pipe", 17) != 17) return;
  if (read(fds[0], buf, sizeof buf - 1) <= 0) return;  /* the kernel writes buf */
  close(fds[0]);
  close(fds[1]);
}

static void report(int v) {
  printf("table[3] = %d, counter = %d, buf = %s\n", v, counter, buf);
}

int main(void) {
  fill();
  receive();
  corrupt();
  for (int i = 0; i < 3; ++i) {
    counter += square(i);
    getppid();
  }
  int v = table[3].value;
  report(v);
  return v == -1 ? 1 : 0;
}
