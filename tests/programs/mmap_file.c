// mmap_file PATH: maps PATH read-only and prints its size, a checksum of the
// mapped bytes and the first line. The e2e test rewrites or deletes PATH
// before replay: the replay must still print what the recording printed.
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: mmap_file PATH\n");
    return 2;
  }
  int fd = open(argv[1], O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    perror(argv[1]);
    return 1;
  }
  struct stat st;
  if (fstat(fd, &st) != 0) {
    perror("fstat");
    return 1;
  }
  size_t size = (size_t)st.st_size;
  printf("size %zu\n", size);
  if (size == 0) {
    printf("empty file\n");
    return 0;
  }
  const unsigned char* p = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
  if (p == MAP_FAILED) {
    perror("mmap");
    return 1;
  }
  close(fd);  // the mapping stays valid
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < size; i++) h = (h ^ p[i]) * 1099511628211ull;
  printf("checksum %016llx\n", (unsigned long long)h);
  const unsigned char* nl = memchr(p, '\n', size);
  size_t len = nl ? (size_t)(nl - p) : size;
  if (len > 200) len = 200;
  printf("first line: %.*s\n", (int)len, (const char*)p);
  // Touch the last page too.
  printf("last byte: %d\n", p[size - 1]);
  munmap((void*)p, size);
  return 0;
}
