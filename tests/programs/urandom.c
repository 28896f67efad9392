// Reads /dev/urandom and a few /proc files whose contents change every run.
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void) {
  int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    perror("/dev/urandom");
    return 1;
  }
  unsigned char buf[32];
  ssize_t n = read(fd, buf, sizeof buf);
  printf("read(/dev/urandom, 32) = %zd:", n);
  for (ssize_t i = 0; i < n; i++) printf(" %02x", buf[i]);
  printf("\n");
  unsigned char big[100000];
  n = read(fd, big, sizeof big);
  unsigned long long h = 1469598103934665603ull;
  for (ssize_t i = 0; i < n; i++) h = (h ^ big[i]) * 1099511628211ull;
  printf("read(/dev/urandom, 100000) = %zd checksum %016llx\n", n, h);
  close(fd);

  char text[512];
  fd = open("/proc/uptime", O_RDONLY);
  n = read(fd, text, sizeof text - 1);
  close(fd);
  text[n > 0 ? n : 0] = 0;
  printf("/proc/uptime: %s", text);

  fd = open("/proc/self/stat", O_RDONLY);
  n = read(fd, text, sizeof text - 1);
  close(fd);
  text[n > 0 ? n : 0] = 0;
  char* nl = strchr(text, '\n');
  if (nl) *nl = 0;
  printf("/proc/self/stat: %.60s...\n", text);
  return 0;
}
