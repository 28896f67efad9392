// The program mp_fork_exec's child execs (tests/gdb/multiprocess.sh): a
// function to break in, output, and exit status 7.
#include <stdio.h>

__attribute__((noinline)) int child_work(int x) {
  volatile int y = x * 3;
  return y + 1;
}

int main(int argc, char** argv) {
  int r = child_work(argc + 4);
  printf("exec'd child: %s %d\n", argc > 1 ? argv[1] : "-", r);
  return 7;
}
