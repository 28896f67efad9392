// The program gdb debugs inside a recording (e2e gdb_inside.sh): a
// breakpoint in main, a backtrace, a local variable, `next` over a call.
#include <stdio.h>

int twice(int v) { return 2 * v; }

int main(void) {
  int x = 21;
  x = twice(x);
  printf("x is %d\n", x);
  return 0;
}
