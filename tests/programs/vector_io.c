// pread64, pwrite64, readv, writev (to a file and to stdout), preadv, pwritev.
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

static void show(const char* what, const char* buf, ssize_t n) {
  printf("%s = %zd \"", what, n);
  for (ssize_t i = 0; i < n; i++) putchar(buf[i] >= 32 && buf[i] < 127 ? buf[i] : '.');
  printf("\"\n");
}

int main(void) {
  const char* tmp = getenv("TMPDIR");
  char path[4096];
  snprintf(path, sizeof path, "%s/rrx-vector-io-XXXXXX", tmp && *tmp ? tmp : "/tmp");
  int fd = mkstemp(path);
  if (fd < 0) {
    perror("mkstemp");
    return 1;
  }

  char a[] = "Hello, ", b[] = "vectored ", c[] = "world!\n";
  struct iovec wv[3] = {{a, strlen(a)}, {b, strlen(b)}, {c, strlen(c)}};
  printf("writev(file) = %zd\n", writev(fd, wv, 3));
  printf("pwrite64(file, 16) = %zd\n", pwrite(fd, "0123456789ABCDEF", 16, 100));
  struct iovec pw[2] = {{"pw-one ", 7}, {"pw-two", 6}};
  printf("pwritev(file, 200) = %zd\n", pwritev(fd, pw, 2, 200));

  char buf[64];
  memset(buf, 0, sizeof buf);
  show("pread64(0, 23)", buf, pread(fd, buf, 23, 0));
  show("pread64(100, 64)", buf, pread(fd, buf, 64, 100));
  show("pread64(500, 10) past EOF", buf, pread(fd, buf, 10, 500));

  lseek(fd, 0, SEEK_SET);
  char r1[5], r2[3], r3[100];
  struct iovec rv[3] = {{r1, sizeof r1}, {r2, sizeof r2}, {r3, sizeof r3}};
  ssize_t n = readv(fd, rv, 3);
  printf("readv = %zd\n", n);
  show("  iov[0]", r1, sizeof r1);
  show("  iov[1]", r2, sizeof r2);
  show("  iov[2] first 12", r3, 12);

  char p1[4], p2[6];
  struct iovec prv[2] = {{p1, sizeof p1}, {p2, sizeof p2}};
  n = preadv(fd, prv, 2, 200);
  printf("preadv(200) = %zd\n", n);
  show("  iov[0]", p1, sizeof p1);
  show("  iov[1]", p2, sizeof p2);

  // writev to stdout and stderr: the replay must re-emit these.
  fflush(stdout);
  struct iovec ov[3] = {{"writev ", 7}, {"to ", 3}, {"stdout\n", 7}};
  writev(1, ov, 3);
  struct iovec ev[2] = {{"writev to ", 10}, {"stderr\n", 7}};
  writev(2, ev, 2);
  struct iovec empty[1] = {{buf, 0}};
  printf("writev(empty) = %zd\n", writev(1, empty, 1));

  close(fd);
  unlink(path);
  return 0;
}
