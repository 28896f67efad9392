// Prints a line, then writes to NULL: killed by SIGSEGV (exit status 139).
#include <stdio.h>
#include <unistd.h>

int main(void) {
  printf("segv: about to write to NULL\n");
  fflush(stdout);  // a crash does not flush stdio buffers
  volatile int* p = NULL;
  *p = 42;
  printf("segv: still alive?\n");
  return 0;
}
