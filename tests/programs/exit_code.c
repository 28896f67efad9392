// exit_code N: prints a line on each stream and exits with status N.
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char** argv) {
  int code = argc > 1 ? atoi(argv[1]) : 0;
  printf("exit_code: exiting with %d\n", code);
  fprintf(stderr, "exit_code: stderr line\n");
  return code;
}
