// getrandom with several sizes and flags; prints the bytes.
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

static void hex(const char* what, ssize_t n, const unsigned char* p) {
  printf("%s = %zd ", what, n);
  for (ssize_t i = 0; i < n && i < 64; i++) printf("%02x", p[i]);
  printf("\n");
}

int main(void) {
  unsigned char buf[4096];
  memset(buf, 0, sizeof buf);
  hex("getrandom(16)", getrandom(buf, 16, 0), buf);
  hex("getrandom(1)", getrandom(buf, 1, 0), buf);
  hex("getrandom(0)", getrandom(buf, 0, 0), buf);
  hex("getrandom(32, GRND_NONBLOCK)", getrandom(buf, 32, GRND_NONBLOCK), buf);
  hex("getrandom(8, GRND_INSECURE)", getrandom(buf, 8, GRND_INSECURE), buf);
  ssize_t n = getrandom(buf, sizeof buf, 0);
  uint64_t h = 1469598103934665603ull;
  for (ssize_t i = 0; i < n; i++) h = (h ^ buf[i]) * 1099511628211ull;
  printf("getrandom(4096) = %zd checksum %016llx\n", n, (unsigned long long)h);
  errno = 0;
  n = getrandom(buf, 8, 0x4000);  // invalid flag
  printf("getrandom(bad flags) = %zd %s\n", n, n < 0 ? strerrorname_np(errno) : "");
  return 0;
}
