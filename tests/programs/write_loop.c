// write_loop N: N small write(2) calls of one line each to stdout.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char** argv) {
  long n = argc > 1 ? atol(argv[1]) : 1000;
  char line[64];
  for (long i = 0; i < n; i++) {
    int len = snprintf(line, sizeof line, "line %ld\n", i);
    if (write(1, line, (size_t)len) != len) return 1;
  }
  return 0;
}
