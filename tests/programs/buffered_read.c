// For the gdb test of calls the fast path buffered (tests/gdb/buffered_site.sh):
// three read()s of a regular file through load(), each into `data` after the
// bytes already read. The first call at glibc's read site is traced (the
// recorder patches the site then); the next two are buffered in-process.
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

static char data[64];

static long load(int fd, char* to, int n) {
  long r = read(fd, to, n);
  return r;
}

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  int fd = open(argv[1], O_RDONLY);
  if (fd < 0) return 2;
  long got = load(fd, data, 4);
  got += load(fd, data + got, 8);
  got += load(fd, data + got, 8);
  close(fd);
  printf("got %ld: %s\n", got, data);
  return 0;
}
