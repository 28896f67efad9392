// Unmaps its vDSO, maps anonymous memory filled with a pattern in its place,
// then maps a file and checks the pattern. The replay writes the return
// stub of an mmap completed at its seccomp stop into the spare bytes past the
// vDSO's ELF image (replay/mmap_return.h): it must see that the vDSO is gone
// and not write into the program's memory there. (No clock or time call
// after the unmap: glibc would call into the vDSO.)
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int main(void) {
  char maps[16384];
  int fd = open("/proc/self/maps", O_RDONLY);
  if (fd < 0) return 1;
  ssize_t n = 0, r;
  while ((r = read(fd, maps + n, sizeof maps - 1 - (size_t)n)) > 0) n += r;
  close(fd);
  maps[n] = 0;
  char* line = strstr(maps, "[vdso]");
  if (!line) {
    printf("no vdso\n");
    return 0;
  }
  while (line > maps && line[-1] != '\n') --line;
  unsigned long start = 0, end = 0;
  if (sscanf(line, "%lx-%lx", &start, &end) != 2 || end <= start) return 1;
  size_t len = end - start;
  if (munmap((void*)start, len) != 0) return 1;
  unsigned char* p = mmap((void*)start, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  if (p != (void*)start) return 1;
  memset(p, 0x5a, len);
  // Mappings of a file, each a traced mmap the replay makes with its own arguments.
  int self = open("/proc/self/exe", O_RDONLY);
  if (self < 0) return 1;
  for (int i = 0; i < 4; ++i) {
    void* m = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, self, 0);
    if (m == MAP_FAILED) return 1;
    if (memcmp(m, "\177ELF", 4) != 0) return 1;
  }
  close(self);
  for (size_t i = 0; i < len; ++i) {
    if (p[i] != 0x5a) {
      printf("pattern broken at offset %zu\n", i);
      return 0;
    }
  }
  printf("pattern intact over %zu bytes\n", len);
  return 0;
}
