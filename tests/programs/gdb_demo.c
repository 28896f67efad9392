// A small program for the gdb tests: functions, locals, globals, a struct,
// a loop and a write(2) through libc. Exits with status 2.
#include <stdio.h>
#include <string.h>
#include <unistd.h>

struct point {
  int x, y;
};

int global_counter = 0;
struct point origin = {1, 2};

int square(int v) {
  int r = v * v;
  global_counter += r;
  return r;
}

int sum_squares(int n) {
  int total = 0;
  for (int i = 1; i <= n; i++) {
    total += square(i);
  }
  return total;
}

int main(void) {
  char buf[96];
  int n = 4;
  int result = sum_squares(n);
  origin.x = result;
  snprintf(buf, sizeof buf, "result=%d counter=%d pid=%d\n", result, global_counter, getpid());
  write(1, buf, strlen(buf));
  return result % 7;
}
