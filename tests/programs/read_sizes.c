// Reads of every size: 0, 1, 7, 4096, 65536 bytes, the rest of the file,
// then reads at end of file. Also lseek and a read into a buffer at an odd
// address. Prints each result and a checksum of the bytes read.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static uint64_t fnv(const unsigned char* p, size_t n) {
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 1099511628211ull;
  return h;
}

int main(void) {
  const char* tmp = getenv("TMPDIR");
  char path[4096];
  snprintf(path, sizeof path, "%s/rrx-read-sizes-XXXXXX", tmp && *tmp ? tmp : "/tmp");
  int fd = mkstemp(path);
  if (fd < 0) {
    perror("mkstemp");
    return 1;
  }
  // 100000 bytes of a fixed pattern (the program's own content is deterministic).
  static unsigned char data[100000];
  for (size_t i = 0; i < sizeof data; i++) data[i] = (unsigned char)(i * 7 + (i >> 8));
  if (write(fd, data, sizeof data) != (ssize_t)sizeof data) {
    perror("write");
    return 1;
  }
  if (lseek(fd, 0, SEEK_SET) != 0) {
    perror("lseek");
    return 1;
  }

  static unsigned char buf[65536 + 1];
  size_t sizes[] = {0, 1, 7, 4096, 65536};
  size_t total = 0;
  uint64_t sum = 1469598103934665603ull;
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    ssize_t n = read(fd, buf + 1, sizes[i]);  // odd address on purpose
    printf("read(%zu) = %zd checksum %016llx\n", sizes[i], n,
           (unsigned long long)fnv(buf + 1, n > 0 ? (size_t)n : 0));
    if (n > 0) {
      total += (size_t)n;
      sum ^= fnv(buf + 1, (size_t)n);
    }
  }
  // The rest, then end of file twice, then a zero-byte read at EOF.
  ssize_t n;
  while ((n = read(fd, buf, 10000)) > 0) {
    printf("read(10000) = %zd\n", n);
    total += (size_t)n;
    sum ^= fnv(buf, (size_t)n);
  }
  printf("read at EOF = %zd\n", n);
  printf("read at EOF again = %zd\n", read(fd, buf, 4096));
  printf("read(0) at EOF = %zd\n", read(fd, buf, 0));
  printf("total %zu bytes, matches pattern: %s\n", total,
         total == sizeof data ? "yes" : "no");

  // Seek into the middle and read across the end.
  printf("lseek(-100, SEEK_END) = %lld\n", (long long)lseek(fd, -100, SEEK_END));
  n = read(fd, buf, 4096);
  printf("read(4096) near EOF = %zd, same bytes: %s\n", n,
         n == 100 && memcmp(buf, data + sizeof data - 100, 100) == 0 ? "yes" : "no");

  // A read from a bad fd and into a bad address.
  errno = 0;
  n = read(12345, buf, 10);
  printf("read(bad fd) = %zd errno %d\n", n, errno);
  lseek(fd, 0, SEEK_SET);
  errno = 0;
  volatile uintptr_t bad_address = 8;  // volatile: keeps the compiler quiet
  n = read(fd, (void*)bad_address, 10);
  printf("read(bad address) = %zd errno %d\n", n, errno);

  fprintf(stderr, "read_sizes: checksum of everything %016llx\n", (unsigned long long)sum);
  close(fd);
  unlink(path);
  return 0;
}
