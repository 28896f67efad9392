// Calls io_uring_setup, which rrx does not support: while recording it fails
// with ENOSYS (and rrx warns). Prints the result.
#define _GNU_SOURCE
#include <errno.h>
#include <linux/io_uring.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void) {
  struct io_uring_params params;
  memset(&params, 0, sizeof params);
  errno = 0;
  long fd = syscall(SYS_io_uring_setup, 4, &params);
  if (fd < 0) {
    printf("io_uring_setup = -1 errno %s\n", strerrorname_np(errno));
  } else {
    printf("io_uring_setup = a file descriptor (io_uring works natively)\n");
    close((int)fd);
  }
  printf("still running after the unsupported call\n");
  return 0;
}
