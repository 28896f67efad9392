// Prints the last digit of getuid() through the call named in argv[1]:
// write (default), writev, pwritev (to a file, then copied to stdout) or
// sendmsg (to a socketpair, then copied to stdout). tests/e2e/output_digest.sh
// edits the recorded getuid result so that the replayed program computes
// other bytes of the same length: only the data checksum can tell.
// write-second and writev-second write a first line through the same call
// (the same syscall site in libc), so that under the fast path the digit
// goes out through a patched site: a buffered call, whose record holds the
// checksum (core/syscallbuf_abi.h, RRX_RECORD_DATA_CRC).
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

int main(int argc, char** argv) {
  const char* how = argc > 1 ? argv[1] : "write";
  if (strcmp(how, "write-second") == 0) {
    if (write(1, "first\n", 6) != 6) return 1;
    how = "write";
  } else if (strcmp(how, "writev-second") == 0) {
    struct iovec first[1] = {{(void*)"first\n", 6}};
    if (writev(1, first, 1) != 6) return 1;
    how = "writev";
  }
  long uid = syscall(SYS_getuid);
  char digit[8];
  snprintf(digit, sizeof digit, "%ld\n", uid % 10);
  char line[32];
  int n = snprintf(line, sizeof line, "uid digit %s", digit);
  if (strcmp(how, "write") == 0) {
    if (write(1, line, (size_t)n) != n) return 1;
  } else if (strcmp(how, "writev") == 0) {
    struct iovec iov[2] = {{(void*)"uid digit ", 10}, {digit, strlen(digit)}};
    if (writev(1, iov, 2) != n) return 1;
  } else if (strcmp(how, "pwritev") == 0 || strcmp(how, "sendmsg") == 0) {
    int fds[2];
    char path[4096];
    if (strcmp(how, "pwritev") == 0) {
      const char* tmp = getenv("TMPDIR");
      snprintf(path, sizeof path, "%s/rrx-uid-digit-XXXXXX", tmp && *tmp ? tmp : "/tmp");
      fds[0] = fds[1] = mkstemp(path);
      if (fds[0] < 0) return 1;
      unlink(path);
      struct iovec iov[2] = {{(void*)"uid digit ", 10}, {digit, strlen(digit)}};
      if (pwritev(fds[0], iov, 2, 0) != n) return 1;
    } else {
      if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0) return 1;
      struct iovec iov[2] = {{(void*)"uid digit ", 10}, {digit, strlen(digit)}};
      struct msghdr msg = {.msg_iov = iov, .msg_iovlen = 2};
      if (sendmsg(fds[0], &msg, 0) != n) return 1;
    }
    char buf[64];
    ssize_t got = pread(fds[1], buf, sizeof buf, 0);
    if (got < 0) got = read(fds[1], buf, sizeof buf);
    if (got != n || write(1, buf, (size_t)got) != got) return 1;
  } else {
    fprintf(stderr, "usage: uid_digit [write|writev|pwritev|sendmsg|write-second|writev-second]\n");
    return 2;
  }
  if (write(1, "done\n", 5) != 5) return 1;
  return 0;
}
